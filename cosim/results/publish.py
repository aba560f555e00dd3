"""Publishing a finished run: temporary run folders, the move into OUTDIR, cleanup after killed runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def remove_stale_workdirs(parent: Path) -> None:
    """Delete temporary run folders in `parent` left by runs that were killed (their process is gone)."""
    for path in parent.glob(".cosim-run-*-*"):
        try:
            pid = int(path.name.split("-")[2])
            os.kill(pid, 0)
        except (ValueError, IndexError, OverflowError):
            continue  # not named by this version: leave it
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue  # alive, someone else's


def publish(workdir: Path, outdir: Path) -> None:
    """Move finished outputs into `outdir`, summary.json last, so a complete summary means a complete run."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "summary.json").unlink(missing_ok=True)  # no stale summary beside new files
    figs = outdir / "figures"
    if (workdir / "figures").exists():
        if figs.exists():
            shutil.rmtree(figs)
        shutil.move(str(workdir / "figures"), str(figs))
    for name in ("packets.parquet", "manifest.json", "summary.json"):
        shutil.move(str(workdir / name), str(outdir / name))
