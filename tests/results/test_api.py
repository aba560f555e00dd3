"""The Python API: `import cosim` stays light; run, load_run, load_sweep; the example script runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import cosim
from cosim.errors import DataError
from cosim.sweep.execute import load_sweep as load_sweep_spec
from cosim.sweep.execute import run_sweep

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "tiny", "seed": 3, "duration_s": 4, "deadline_ms": 500,
    "devices": [{"name": "sensors", "count": 4, "board": "stm32l476", "radio": "ble-1m",
                 "strategy": "semanticnn", "workload": {"kind": "periodic", "period_s": 1.0},
                 "placement": {"kind": "fixed", "distance_m": 5}}],
    "edge": [{"name": "gateway", "profile": "rpi5", "channel": {"kind": "constant", "ber": 0.001}}],
}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_import_cosim_is_light():
    code = "import sys, cosim; print(sorted(m for m in ('torch', 'pandas', 'simpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    assert out.stdout.strip() == "[]"


def test_run_in_memory_then_on_disk_and_load_run(tmp_path):
    mem = cosim.run(TINY, overrides={"devices.0.count": 3})
    assert mem.outdir is None and mem.summary.devices == 3
    assert isinstance(mem.packets, pd.DataFrame) and len(mem.packets) == mem.summary.inferences
    assert isinstance(mem.packets["group"].dtype, pd.CategoricalDtype)
    disk = cosim.run(TINY, overrides=["devices.0.count=3"], outdir=tmp_path / "r")
    assert disk.summary.accuracy == mem.summary.accuracy  # same scenario and seed
    loaded = cosim.load_run(tmp_path / "r")
    assert loaded.summary.to_dict() == disk.summary.to_dict()
    assert loaded.summary.groups["sensors"].latency_ms.p95 == disk.summary.groups["sensors"].latency_ms.p95
    pd.testing.assert_frame_equal(loaded.packets, mem.packets)
    assert str(loaded.packets["pred"].dtype) == "Int16"
    with pytest.raises(DataError, match="no summary.json"):
        cosim.load_run(tmp_path)


def test_load_sweep_wide_and_long(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(TINY))
    (tmp_path / "sweep.yaml").write_text("base: base.yaml\ngrid:\n  devices.0.count: [2, 3]\n")
    run_sweep(load_sweep_spec(tmp_path / "sweep.yaml"), tmp_path / "out", workers=0, figures=False)
    sweep = cosim.load_sweep(tmp_path / "out")
    assert sweep.params == ("devices.0.count",)
    assert list(sweep.wide["devices.0.count"]) == [2, 3]
    assert "latency_ms.p95" in sweep.wide and "groups.sensors.accuracy" in sweep.wide
    assert "servers.gateway.airtime_utilisation" in sweep.wide and "wilson95.accuracy.low" in sweep.wide
    assert sweep.aggregate is not None and "accuracy.mean" in sweep.aggregate
    acc = sweep.long[sweep.long["metric"] == "accuracy"].set_index("devices.0.count")["value"]
    assert acc.to_dict() == dict(zip(sweep.wide["devices.0.count"], sweep.wide["accuracy"]))
    assert set(sweep.long.columns) == {"devices.0.count", "replication", "seed", "metric", "value"}


def test_example_script_runs_and_plots(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook_quickstart.py"), str(tmp_path / "ex"), "4"],
                         capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    assert "accuracy" in out.stdout and (tmp_path / "ex-latency.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_run_summary_round_trips_typed(tmp_path):
    data = {**TINY, "compare": [{"name": "near", "set": {}},
                                {"name": "far", "set": {"devices.0.placement.distance_m": 9}}]}
    run = cosim.run(data, outdir=tmp_path / "c")
    s = run.summary
    assert set(s.variants) == {"near", "far"} and s.inferences == sum(v.inferences for v in s.variants.values())
    assert s.groups["sensors"].task["receiver_policy"] == "deliver" and s.receiver_policy == {"sensors": "deliver"}
    loaded = cosim.load_run(tmp_path / "c").summary
    assert loaded == s and loaded.to_dict() == s.to_dict()
    assert set(run.packets["variant"].cat.categories) == {"near", "far"}


def test_warmup_must_be_shorter_than_the_run():
    from cosim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="warmup_s: 4 must be shorter than duration_s=4"):
        cosim.api.load(TINY, overrides={"warmup_s": 4})
