"""What a run depends on besides its scenario: the content of every file it reads, the cosim version and
(from a git checkout) the commit and whether the tree was dirty.

`inputs(scenario)` names every file a run of `scenario` reads (hardware profiles, codec checkpoints,
channel traces, data set files) with its SHA-256; the sweep's run key and the run manifest both include
it, so an edited profile or retrained checkpoint is never mistaken for the one a stored result used.
Digests are memoised per (path, size, mtime) within a process.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from cosim import __version__
from cosim.errors import CosimError

MAX_DATASET_FILES = 10_000
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (memoised by path, size and modification time)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def _trace_paths(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("kind") == "trace" and isinstance(node.get("path"), str):
            yield node["path"]
        for v in node.values():
            yield from _trace_paths(v)
    elif isinstance(node, list):
        for v in node:
            yield from _trace_paths(v)


def _codec_files(scenario) -> dict[str, Path]:
    from cosim.codec.checkpoint import BUILTIN_DIR, resolve

    specs = [scenario.codec] + [g.codec for g in scenario.devices if g.codec]
    for g in scenario.devices:
        specs += list(g.strategy_options.variants or ())
    out = {}
    for spec in dict.fromkeys(specs):
        try:
            out[f"codec:{spec}"] = resolve(spec)
        except CosimError:
            continue  # reported by the run itself
    if any(g.strategy == "adaptive" and not g.strategy_options.variants for g in scenario.devices):
        for p in sorted(BUILTIN_DIR.glob(f"{scenario.dataset}-*.pt")):  # its default variants
            out.setdefault(f"codec:builtin:{p.stem}", p)
    return out


def input_files(scenario) -> dict[str, Path]:
    """Every file a run of `scenario` reads, by a label saying what it is (sorted by label)."""
    from cosim.config.profiles import resolve as resolve_profile

    out: dict[str, Path] = {}
    for kind, specs in (("board", [g.board for g in scenario.devices]),
                        ("radio", [g.radio for g in scenario.devices]),
                        ("edge", [s.profile for s in scenario.edge])):
        for spec in dict.fromkeys(specs):
            try:
                out[f"{kind}:{spec}"] = resolve_profile(spec, kind)
            except CosimError:
                continue
    out.update(_codec_files(scenario))
    for path in dict.fromkeys(_trace_paths(scenario.model_dump(mode="json"))):
        out[f"trace:{path}"] = Path(path)
    if scenario.dataset_root:
        root = Path(scenario.dataset_root).expanduser()
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        if len(files) > MAX_DATASET_FILES:
            raise CosimError(f"dataset_root {root}: more than {MAX_DATASET_FILES} files; point it at the "
                             "folder holding just the data set")
        for p in files:
            out[f"dataset:{p.relative_to(root)}"] = p
    return dict(sorted(out.items()))


def inputs(scenario) -> dict[str, dict[str, str]]:
    """Label -> {path, sha256} of every input file that exists (a missing one fails the run itself)."""
    out = {}
    for label, path in input_files(scenario).items():
        try:
            out[label] = {"path": str(path), "sha256": file_sha256(path)}
        except OSError:
            continue
    return out


@lru_cache(maxsize=1)
def source_revision() -> dict[str, Any] | None:
    """{commit, dirty} of the git checkout cosim is imported from, or None (an installed wheel)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def provenance(scenario) -> dict[str, Any]:
    """The inputs, cosim version and source revision of a run (what its cache key and manifest cover)."""
    return {"cosim_version": __version__, "source": source_revision(), "inputs": inputs(scenario)}
