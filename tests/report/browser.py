"""Headless Chromium for the report tests: load a page offline, return its DOM after load and every
console message; take a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)?\]\s*(.*)")


def chromium() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass(frozen=True)
class Loaded:
    """A page after its load event: the serialised DOM and the console messages (errors, warnings, logs)."""

    dom: str
    console: list[str]
    returncode: int


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    exe = chromium()
    assert exe, "no Chromium on PATH"
    with tempfile.TemporaryDirectory(prefix="cosim-chromium-") as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout_s, check=False)


def load(page: Path, timeout_s: float = 120.0) -> Loaded:
    """Open `page` (a file) and dump its DOM once scripts have run (virtual time lets `load` fire)."""
    proc = _run(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
                 Path(page).resolve().as_uri()], timeout_s)
    console = [m.group(1) for line in proc.stderr.splitlines() if (m := CONSOLE.search(line))]
    return Loaded(proc.stdout, console, proc.returncode)


def screenshot(page: Path, out: Path, width: int = 1200, height: int = 1800, timeout_s: float = 120.0) -> Path:
    """A PNG of the top `height` pixels of the page rendered `width` wide."""
    out = Path(out).resolve()
    proc = _run([f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={out}",
                 Path(page).resolve().as_uri()], timeout_s)
    assert out.is_file(), proc.stderr[-2000:]
    return out
