"""Crash safety of `cosim run`: an interrupted run (SIGINT, SIGKILL, or an interrupt while publishing)
leaves complete outputs or none that look complete (no summary.json), never partial files at the final
path, and never loses the previous outputs in OUTDIR. Ctrl-C ends with exit status 130 and one line.

The long runs are real child processes (`python -m cosim.cli run ...`) of the quickstart stretched to
3,000 simulated seconds (about 12 s of work), interrupted about a second into the simulation.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from reliability_fixtures import ROOT, cli, spawn_cli

QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
TINY = ["--set", "duration_s=2", "--set", "devices.0.count=5"]
INTERRUPTED = "cosim: interrupted; outputs already written are complete, nothing partial was kept"
# 130, or killed by SIGINT (which a shell also reports as 130): CPython 3.11 re-sends SIGINT to itself
# at exit when the KeyboardInterrupt passed through `exec` of a source string, e.g. while a module
# imported lazily was building its dataclasses, even though cosim caught it and printed its message.
EXIT_INTERRUPTED = (130, -signal.SIGINT)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _previous_run(out: Path) -> dict[str, bytes]:
    """A complete earlier run in `out`; returns its files."""
    assert cli(["run", str(QUICKSTART), "-o", str(out), "--quiet", *TINY]).rc == 0
    assert (out / "summary.json").is_file()
    return _snapshot(out)


def _start_long_runs(tmp_path: Path, outs: list[Path], quiet: list[bool]):
    """Start one long run per OUTDIR; return the processes once each is simulating (its temp dir exists)."""
    procs = []
    for out, q in zip(outs, quiet):
        out.parent.mkdir(parents=True, exist_ok=True)
        args = ["run", str(QUICKSTART), "-o", str(out), "--set", "duration_s=3000"] + (["--quiet"] if q else [])
        procs.append(spawn_cli(args, cwd=tmp_path))
    deadline = time.monotonic() + 120
    while not all(list(out.parent.glob(".cosim-run-*")) for out in outs):
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        assert time.monotonic() < deadline, "the runs never started"
        time.sleep(0.05)
    time.sleep(1.0)  # into the simulation (World built, devices running)
    assert all(p.poll() is None for p in procs), "a run finished before it could be interrupted"
    return procs


def _no_complete_output(out: Path) -> None:
    """OUTDIR holds no run that looks complete: no folder, or no summary.json in it."""
    assert not (out / "summary.json").exists()


def test_sigint_and_sigkill_leave_nothing_that_looks_complete(tmp_path):
    """Three long runs at once: SIGINT into a fresh OUTDIR (with progress bar), SIGINT and SIGKILL into
    OUTDIRs holding an earlier complete run."""
    fresh, previous, killed = tmp_path / "a" / "fresh", tmp_path / "b" / "previous", tmp_path / "c" / "killed"
    previous.parent.mkdir()
    killed.parent.mkdir()
    before = _previous_run(previous)
    shutil.copytree(previous, killed)
    procs = _start_long_runs(tmp_path, [fresh, previous, killed], [False, True, True])
    procs[0].send_signal(signal.SIGINT)
    procs[1].send_signal(signal.SIGINT)
    procs[2].kill()
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs[:2], results):
        assert p.returncode in EXIT_INTERRUPTED, (p.returncode, err)
        assert "Traceback" not in err, err
    assert [ln for ln in results[0][1].splitlines() if ln.strip()][-1].endswith(INTERRUPTED)
    assert [ln for ln in results[1][1].splitlines() if ln.strip()] == [INTERRUPTED]
    assert procs[2].returncode == -signal.SIGKILL
    # Ctrl-C: the temporary folders are gone, a fresh OUTDIR was never created, the earlier run is intact
    assert not list(fresh.parent.glob(".cosim-run-*")) and not list(previous.parent.glob(".cosim-run-*"))
    _no_complete_output(fresh)
    assert not fresh.exists()
    assert _snapshot(previous) == before, "the previous outputs changed"
    # SIGKILL: the earlier run is intact (a killed run can only leave its hidden .cosim-run-* folder)
    assert _snapshot(killed) == before, "the previous outputs changed"


@pytest.mark.slow
def test_sigkill_into_a_fresh_outdir_creates_nothing(tmp_path):
    fresh = tmp_path / "a" / "fresh"
    (proc,) = _start_long_runs(tmp_path, [fresh], [True])
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    _no_complete_output(fresh)
    assert not fresh.exists()


def test_interrupt_while_publishing_keeps_the_earlier_run_complete(tmp_path, monkeypatch):
    """Ctrl-C at the swap that publishes the new run: the earlier run is untouched and complete."""
    from cosim.results import publish

    out = tmp_path / "o"
    before = _previous_run(out)

    def swap(a, b):
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "exchange", swap)
    o = cli(["run", str(QUICKSTART), "-o", str(out), "--quiet", *TINY, "--seed", "5"])
    assert o.rc == 130 and o.err_lines == [INTERRUPTED]
    assert _snapshot(out) == before
    assert not list(tmp_path.glob(".cosim-run-*"))
    monkeypatch.undo()
    assert cli(["run", str(QUICKSTART), "-o", str(out), "--quiet", *TINY, "--seed", "5"]).rc == 0
    assert _snapshot(out) != before and (out / "summary.json").is_file()


@pytest.mark.parametrize("when", ["parse", "load"])
def test_ctrl_c_before_the_run_is_one_line_too(tmp_path, monkeypatch, when):
    import cosim.cli
    import cosim.commands.run

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    if when == "parse":
        monkeypatch.setattr(cosim.cli, "build_parser", boom)
    else:
        monkeypatch.setattr("cosim.engine.preflight.load_checked", boom)
    o = cli(["run", str(QUICKSTART), "-o", str(tmp_path / "o"), "--quiet"])
    assert o.rc == 130 and len(o.err_lines) == 1 and o.err_lines[0].startswith("cosim: interrupted")
    assert cosim.commands.run  # imported for the monkeypatch target


def test_sigterm_stops_like_ctrl_c(tmp_path):
    out = tmp_path / "d" / "termed"
    (proc,) = _start_long_runs(tmp_path, [out], [True])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in EXIT_INTERRUPTED, (proc.returncode, err)
    assert "Traceback" not in err and err.strip().endswith(INTERRUPTED)
    _no_complete_output(out)
    assert not list(out.parent.glob(".cosim-run-*"))


def test_next_run_removes_temp_folders_of_killed_runs_only(tmp_path):
    """A SIGKILLed run cannot clean up; the next run beside it removes the folder (marked, lock free,
    owner gone on this host) and leaves a live one (lock held), one of another host or container (lock
    free, but its PID means nothing here) and any folder cosim did not mark."""
    import json
    import subprocess
    import sys

    from cosim.io import MARKER, make_workdir

    code = ("import sys, os, time; from pathlib import Path; from cosim.io import make_workdir; "
            "w = make_workdir(Path(sys.argv[1])); print(w.path, flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    dead = Path(proc.stdout.readline().strip())
    proc.kill()
    proc.wait()
    alive = make_workdir(tmp_path)  # held by this (live) process
    other_host = make_workdir(tmp_path)
    marker = json.loads((other_host.path / MARKER).read_text())
    (other_host.path / MARKER).write_text(json.dumps({**marker, "host": "elsewhere", "pid": 4194999}))
    other_host.release(remove=False)  # lock free, owner on another machine
    unmarked = tmp_path / ".cosim-run-4194999-abcd"
    unmarked.mkdir()
    try:
        assert dead.is_dir()
        assert cli(["run", str(QUICKSTART), "-o", str(tmp_path / "out"), "--quiet", *TINY]).rc == 0
        assert not dead.exists()
        assert alive.path.exists() and other_host.path.exists() and unmarked.exists()
        assert (tmp_path / "out" / "summary.json").is_file()
    finally:
        alive.release()
