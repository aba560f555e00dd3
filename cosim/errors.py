"""User-facing errors: each message names the file or field and what is wrong.

The CLI turns any `CosimError` into one line on stderr and exit status 2.
"""


class CosimError(Exception):
    """Base class of errors caused by user input (scenarios, profiles, data, checkpoints)."""


class ScenarioError(CosimError):
    """A scenario or sweep file is invalid."""


class ProfileError(CosimError):
    """A hardware profile is missing or invalid."""


class DataError(CosimError):
    """A data set is unknown, missing or malformed."""


class CheckpointError(CosimError):
    """A codec checkpoint is missing, corrupt, tampered with or foreign."""
