"""Shared helpers of the reliability tests: the real CLI in-process with captured output and a time
guard, the one-line error check, the repository paths, and a subprocess runner for signal tests."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import cosim
from cosim.cli import main

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_PARENT = Path(cosim.__file__).resolve().parents[1]


@dataclass(frozen=True)
class Outcome:
    """What one CLI call did: exit status, stdout, stderr (warnings included as stderr lines)."""

    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()]


class Hang(Exception):
    """A CLI call ran past its time guard."""


def _alarm(signum, frame):
    raise Hang("the command did not finish in time")


def cli(argv: list[str], timeout_s: int = 120) -> Outcome:
    """Run `cosim ARGV` in-process like the console script: exit status, output, warnings as stderr."""
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            try:
                rc = main(argv)
            except SystemExit as exc:  # argparse usage errors
                rc = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    text = err.getvalue() + "".join(f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n"
                                    for w in caught)
    return Outcome(int(rc or 0), out.getvalue(), text)


def assert_one_line_error(o: Outcome, names: str | list[str]) -> str:
    """Exit status 2 and exactly one stderr line `cosim: error: ...` naming one of `names`."""
    names = [names] if isinstance(names, str) else names
    assert o.rc == 2, f"exit status {o.rc}, stderr: {o.err!r}"
    assert "Traceback" not in o.err, o.err
    lines = o.err_lines
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {o.err!r}"
    assert lines[0].startswith("cosim: error: "), lines[0]
    assert any(str(n) in lines[0] for n in names), f"{lines[0]!r} names none of {names}"
    return lines[0]


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for `python -m cosim.cli` in a child: this checkout first on the path, one thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_PARENT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def spawn_cli(args: list[str], cwd: Path) -> subprocess.Popen:
    """`cosim ARGS` as a child process (its own process group), stdout and stderr piped. A suite started
    in the background of a script (`pytest &`) has SIGINT ignored, which a child inherits through exec
    (Python then installs no Ctrl-C handler at all): the parent catches it while it spawns, and a caught
    signal is reset to its default in the child."""
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen([sys.executable, "-m", "cosim.cli", *args], cwd=cwd, env=subprocess_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
