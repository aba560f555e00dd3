"""The `cosim` command: parses arguments, calls the library, turns user errors into exit status 2.

Each command group lives in `cosim.commands.<name>` and exposes `register(subparsers)`, which adds its
parser and sets `func` to a callable taking the parsed namespace and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import unicodedata

from cosim import __version__
from cosim.errors import CosimError

COMMAND_MODULES = ("run", "validate", "schema", "hw", "data", "train", "codec", "sweep", "plot", "report")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="cosim",
        description="Discrete-event co-simulator of SemanticNN offloading from STM32 fleets.",
    )
    parser.add_argument("--version", action="version", version=f"cosim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"cosim.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"cosim.commands.{name}":
                continue
            raise
        module.register(subparsers)
    _add_verbosity(parser)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    """`-v/--verbose` and `-q/--quiet` on `parser` and every (sub)command below it.

    Defaults are suppressed so that a flag given before the command is not reset by the command's own.
    """
    options = parser._option_string_actions
    if "-v" not in options and "--verbose" not in options:
        parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                            help="log what the command does to stderr (-vv: debug details)")
    if "-q" not in options and "--quiet" not in options:
        parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                            help="no progress bars or summaries; only errors on stderr")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _add_verbosity(sub)


def one_line(text: str) -> str:
    """`text` with control, format and line-separator characters escaped: an error message quoting a
    user's key or value (say a stray carriage return) stays on one line and cannot rewrite the terminal."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


INTERRUPTED = "cosim: interrupted; outputs already written are complete, nothing partial was kept"


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    if argv is None:  # the console script: `kill` (SIGTERM) stops as cleanly as Ctrl-C
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        parser = build_parser()  # imports the command modules: Ctrl-C may land here
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("cosim: interrupted", file=sys.stderr)
        return 130
    verbose, quiet = getattr(args, "verbose", 0) or 0, bool(getattr(args, "quiet", False))
    args.verbose, args.quiet = verbose, quiet
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="cosim: %(message)s", force=True)
    for noisy in ("distributed", "matplotlib", "PIL", "asyncio", "fsspec", "tornado", "bokeh"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CosimError as exc:
        print(f"cosim: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a path with a NUL byte reached the OS layer (argv can carry one)
        if "embedded null" not in str(exc):
            raise
        print("cosim: error: a path given contains a NUL byte", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `cosim ... | head -1`: the reader is gone, end quietly
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except ImportError as exc:  # Ctrl-C or SIGTERM landed in a C extension's import: still an interrupt
        if not isinstance(exc.__context__, KeyboardInterrupt):
            raise
        print(INTERRUPTED, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
