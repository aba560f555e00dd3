"""Finding a data file under a user-given root among accepted names and sub-folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cosim.errors import DataError


def find_file(root: Path, names: Sequence[str], subdirs: Sequence[str] = ("",), what: str = "") -> Path:
    """First existing root/subdir/name; DataError naming the expected file if none exists."""
    for sub in subdirs:
        for name in names:
            path = root / sub / name if sub else root / name
            if path.is_file():
                return path
    tried = ", ".join(names[1:])
    also = f" (also tried {tried}" if tried else " (also tried"
    folders = ", ".join(f"{sub}/" for sub in subdirs if sub)
    also += f" in {root}" + (f" and its {folders}" if folders else "") + ")"
    label = f" ({what})" if what else ""
    raise DataError(f"{root / names[0]}: missing file{label}{also}")
