"""Publishing a finished run: a locked temporary folder beside OUTDIR, then an atomic swap into place.

A run is written into `<parent>/.cosim-run-<host>-<boot>-<pid>-<random>/run/` and, once complete,
exchanged with OUTDIR in one rename (Linux `renameat2(RENAME_EXCHANGE)`; two renames elsewhere): the
earlier run stays complete until the new one is. OUTDIR carries a marker listing what cosim wrote; a
folder holding anything else is refused (or, with `force`, written beside the user's files, entry by
entry, never taking over a name cosim did not write).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cosim import __version__
from cosim.io import (
    MARKER,
    WorkDir,
    claim_output,
    dir_mode,
    exchange,
    foreign_entries,
    make_workdir,
    read_marker,
    remove_stale_workdirs,
    write_marker,
    written_entries,
)

RUN_ENTRIES = ("packets.parquet", "manifest.json", "figures", "summary.json", "report.html")
"""What a run writes into OUTDIR, summary.json last (a complete summary means a complete run)."""
KIND = "run"

__all__ = ["RUN_ENTRIES", "check_outdir", "publish", "remove_stale_workdirs", "run_workdir"]


def check_outdir(outdir: Path, force: bool = False) -> None:
    """Refuse an OUTDIR a run may not be published into (before anything is simulated)."""
    claim_output(Path(outdir), KIND, "-o", force, RUN_ENTRIES)


@contextmanager
def run_workdir(parent: Path) -> Iterator[WorkDir]:
    """A locked temporary folder in `parent` (stale ones of dead runs are removed first); the run's
    files go in its `run/` subfolder. Removed on exit, whatever happens."""
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_workdirs(parent)
    work = make_workdir(parent)
    try:
        (work.path / "run").mkdir()
        yield work
    finally:
        work.release()


def publish(work: WorkDir, outdir: Path, force: bool = False) -> None:
    """Move the finished run in `work.path/run` to `outdir` atomically (see the module docstring)."""
    new = work.path / "run"
    entries = [e for e in RUN_ENTRIES if (new / e).exists()]
    write_marker(new, KIND, written_entries(new), cosim_version=__version__)
    os.chmod(new, dir_mode())
    check_outdir(outdir, force)  # again: the folder may have changed while the run ran
    if not outdir.exists():
        os.rename(new, outdir)
        return
    if not foreign_entries(outdir, KIND):
        if not exchange(new, outdir):  # no atomic exchange here: the shortest window of two renames
            old = work.path / "old"
            os.rename(outdir, old)
            os.rename(new, outdir)
        return
    _publish_beside(new, outdir, entries)


def _publish_beside(new: Path, outdir: Path, entries: list[str]) -> None:
    """`--force-outdir` into a folder with the user's files: replace cosim's own entries one by one."""
    marker = read_marker(outdir)
    ours = set(marker.get("entries", ())) if marker and marker.get("kind") == KIND else set()
    if "summary.json" in ours:  # no stale summary beside new files while they move in
        (outdir / "summary.json").unlink(missing_ok=True)
    write_marker(outdir, KIND, ours | set(written_entries(new)), cosim_version=__version__)
    for name in entries:
        src, dst = new / name, outdir / name
        if src.is_dir():
            if dst.exists() and not exchange(src, dst):
                shutil.rmtree(dst)
                os.rename(src, dst)
            elif not dst.exists():
                os.rename(src, dst)
        else:
            os.replace(src, dst)
    (new / MARKER).unlink(missing_ok=True)
