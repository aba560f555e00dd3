"""The wheel holds every module and data file: each folder with Python code is a package, and every
other file under cosim/ matches setup.cfg's package_data (hardware profiles, built-in checkpoints).
(`.ci/run` builds the wheel and runs the quickstart and `cosim hw list` from a fresh venv.)"""

from __future__ import annotations

import configparser
from fnmatch import fnmatch
from pathlib import Path

import cosim

PKG = Path(cosim.__file__).resolve().parent
ROOT = PKG.parent


def _package_data() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return [p.strip() for p in cfg["options.package_data"]["cosim"].split(",")]


def test_every_folder_with_python_code_is_a_package():
    for py in PKG.rglob("*.py"):
        if "__pycache__" in py.parts:
            continue
        assert (py.parent / "__init__.py").is_file(), f"{py.parent} has no __init__.py: left out of the wheel"


def test_every_data_file_is_package_data():
    patterns = _package_data()
    data = [p.relative_to(PKG).as_posix() for p in PKG.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
            and not any(part.startswith(".") for part in p.relative_to(PKG).parts)]  # tool caches
    assert any(d.startswith("hw_profiles/boards/") for d in data) and any(d.startswith("builtin/") for d in data)
    missing = [d for d in data if not any(fnmatch(d, pat) for pat in patterns)]
    assert not missing, f"not in setup.cfg package_data: {missing}"


def test_profiles_found_through_the_package():
    from cosim.config.profiles import list_profiles, profiles_root

    assert profiles_root().resolve() == (PKG / "hw_profiles").resolve()
    kinds = {i.kind for i in list_profiles()}
    assert {"board", "radio", "edge"} <= kinds
