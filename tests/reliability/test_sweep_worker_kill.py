"""Sweeps survive failures: a Dask worker process killed mid-run (real LocalCluster, 2 worker processes)
costs nothing but time, every run ends in the results exactly once and equal to a serial sweep's rows;
1 and 2 workers give the same rows; an interrupted `cosim sweep` restarted finishes only what is missing.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from reliability_fixtures import cli, spawn_cli

from cosim.sweep.execute import RunStore, load_sweep, run_sweep
from cosim.sweep.table import is_wall_time

BASE = {
    "name": "tiny", "seed": 3, "duration_s": 30, "codec": "builtin:digits", "deadline_ms": 500,
    "devices": [{"name": "sensors", "count": 400,
                 "workload": {"kind": "periodic", "period_s": 1.0, "jitter_s": 0.1}}],
    "edge": [{"name": "gateway", "max_batch": 16, "channel": {"kind": "constant", "ber": 0.001}}],
}
SWEEP = """
base: base.yaml
grid:
  edge.0.channel.ber: [0.0, 0.001, 0.01, 0.05]
  devices.0.strategy: [semanticnn, raw]
replications: {reps}
"""


def _write(folder: Path, reps: int = 1, count: int = 400) -> Path:
    base = {**BASE, "devices": [{**BASE["devices"][0], "count": count}]}
    (folder / "base.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    path = folder / "sweep.yaml"
    path.write_text(SWEEP.format(reps=reps))
    return path


def _rows(path: Path):
    t = pq.read_table(path)
    return t.drop_columns([c for c in t.column_names if is_wall_time(c)])


def _summary_line(out: str) -> tuple[int, int, int, int]:
    m = re.search(r"(\d+) runs: (\d+) executed, (\d+) already finished, (\d+) failed", out)
    assert m, out
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


@pytest.mark.slow
def test_worker_killed_mid_run_every_run_once(tmp_path):
    from dask.distributed import Client, LocalCluster

    sweep = load_sweep(_write(tmp_path))
    n = len(sweep.unique_keys)
    serial = run_sweep(sweep, tmp_path / "serial", workers=0, figures=False)
    assert serial.executed == n and not serial.failed
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           scheduler_kwargs={"dashboard": False})
    client = Client(cluster)
    out = tmp_path / "cluster"
    outcome: dict = {}
    try:
        pids = client.run(os.getpid)
        thread = threading.Thread(target=lambda: outcome.update(
            result=run_sweep(sweep, out, scheduler=cluster.scheduler_address, figures=False)))
        thread.start()
        # kill a worker process while it is executing a run: after the first run finished (both
        # workers warm and busy), pick one that is processing a task
        deadline = time.monotonic() + 120
        while len(list((out / "runs").glob("*.json"))) < 1:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.05)
        busy = [w for w, tasks in client.processing().items() if tasks]
        assert busy, "no worker busy"
        victim = pids[busy[0]]
        done_before = len(list((out / "runs").glob("*.json")))
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
        assert victim not in client.run(os.getpid).values(), "the worker was not replaced"
    finally:
        client.close()
        cluster.close()
    assert done_before < n, "the sweep finished before the kill"
    res = outcome["result"]
    assert res.runs == n and not res.failed and res.executed == n
    rows = _rows(out / "results.parquet")
    keys = rows.column("key").to_pylist()
    assert len(keys) == n == len(set(keys)), "a run is missing or appears twice"
    assert sorted(p.stem for p in (out / "runs").glob("*.json")) == sorted(keys)
    assert rows.equals(_rows(tmp_path / "serial" / "results.parquet"))


@pytest.mark.slow
def test_one_and_two_workers_give_the_same_rows(tmp_path):
    path = _write(tmp_path)
    for w in (1, 2):
        o = cli(["sweep", str(path), "-o", str(tmp_path / f"w{w}"), "--workers", str(w), "--quiet", "--no-figures"],
                timeout_s=600)
        assert o.rc == 0, o.err
    assert _rows(tmp_path / "w1" / "results.parquet").equals(_rows(tmp_path / "w2" / "results.parquet"))


@pytest.mark.parametrize("how", [signal.SIGKILL, pytest.param(signal.SIGINT, marks=pytest.mark.slow)],
                         ids=["SIGKILL", "SIGINT"])
def test_interrupted_sweep_restarted_finishes_only_what_is_missing(tmp_path, how):
    path = _write(tmp_path, count=150)
    out = tmp_path / "out"
    n = len(load_sweep(path).unique_keys)
    proc = spawn_cli(["sweep", str(path), "-o", str(out), "--workers", "0", "--quiet", "--no-figures"],
                     cwd=tmp_path)
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("*.json"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    if how == signal.SIGINT:
        assert proc.returncode in (130, -signal.SIGINT) and "Traceback" not in err, err
        assert [ln for ln in err.splitlines() if ln.strip()][-1].startswith("cosim: interrupted")
    else:
        assert proc.returncode == -signal.SIGKILL
    finished = {p.stem for p in (out / "runs").glob("*.json")}
    assert 2 <= len(finished) < n
    assert not (out / "results.parquet").exists()
    assert all(RunStore(out).load(k) for k in finished), "a stored run is unreadable"
    o = cli(["sweep", str(path), "-o", str(out), "--workers", "0", "--quiet", "--no-figures"], timeout_s=600)
    assert o.rc == 0, o.err
    assert _summary_line(o.out) == (n, n - len(finished), len(finished), 0)
    keys = _rows(out / "results.parquet").column("key").to_pylist()
    assert len(keys) == n == len(set(keys))
