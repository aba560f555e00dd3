"""The benchmarks run (`--quick`, seconds) and judge the issue-16 targets right; they time nothing here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_scenario
import engine


def _run(script: str, *args: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(BENCH.parent))
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          env=env, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_engine_quick_measures_every_medium():
    out = _run("engine.py", "--quick", "--json")
    runs = {r["case"]: r for r in out["runs"]}
    assert set(runs) == {"dedicated", "tdma", "aloha", "csma"}
    for r in runs.values():
        assert "error" not in r, r
        assert r["devices"] == 1000
        assert 2700 <= r["inferences"] <= 3300  # 3,000 sensed, give or take the phases and jitter
        assert r["events_per_inference"] >= 1.0  # at least the arrival of each inference
        assert 0 < r["delivered"] <= r["inferences"]
        assert r["ratio_to_strict_floor"] > 0 and r["ratio_to_floor"] > 0
    # a contention medium costs more events per inference than a closed-form one
    assert runs["csma"]["events_per_inference"] > runs["dedicated"]["events_per_inference"]
    verdicts = {t["target"]: t for t in out["targets"]}
    assert verdicts["run / strict floor, dedicated 1k"]["value"] == runs["dedicated"]["ratio_to_strict_floor"]
    assert verdicts["dedicated 1M World build, s"]["met"] is None  # not measured in --quick


def test_sweep_quick_runs_both_modes_with_identical_records():
    out = _run("sweep.py", "--quick", "--json")
    modes = {r["mode"]: r for r in out["runs"]}
    assert set(modes) == {"serial", "dask"}
    for r in modes.values():
        assert "error" not in r, r
        assert r["runs"] == r["executed"] == 4 and r["failed"] == 0
        assert 0 < r["run_sweep_s"] <= r["wall_s"]  # the figure without start-up is part of the whole
    assert modes["serial"]["workers"] == 0 and modes["dask"]["workers"] == 2
    assert out["speedup"] == pytest.approx(modes["dask"]["runs_per_s"] / modes["serial"]["runs_per_s"])
    assert out["headline"] == "speedup"
    # every run stored the same record in both modes, the run's own wall time aside
    assert out["records"]["records"] == 4 and out["records"]["identical_masked"] == 4
    assert set(out["records"]["fields_differing_raw"]) <= {"summary.wall_time_s"}
    verdicts = {t["target"]: t for t in out["targets"]}
    assert verdicts["run records not identical, serial vs dask"] == {
        "target": "run records not identical, serial vs dask", "value": 0, "bound": "<= 0", "met": True}
    assert verdicts["dask 2 workers / serial runs per s, 20+ runs"]["met"] is None  # 4 runs judge nothing


def test_targets_are_judged_against_the_issue_bounds():
    runs = {
        ("dedicated", 1000): {"ratio_to_strict_floor": 2.5, "cpu_inferences_per_s": 50_000.0},
        ("dedicated", 1_000_000): {"peak_rss_mb": 5 * 1024.0, "build_s": 30.0, "cpu_inferences_per_s": 39_000.0},
        ("csma", 10_000): {"cpu_inferences_per_s": 40_000.0},
        ("csma", 100_000): {"cpu_inferences_per_s": 31_000.0},
        ("aloha", 10_000): {"error": "boom"},
    }
    got = {name: (value, met) for name, value, _, met in engine.targets(runs)}
    assert got["run / strict floor, dedicated 1k"] == (2.5, True)
    assert got["dedicated 1M peak RSS, GB"] == (5.0, False)
    assert got["dedicated 1M World build, s"] == (30.0, True)
    assert got["dedicated 1M / 1k throughput"] == (pytest.approx(0.78), False)
    assert got["csma 10k inferences/CPU-s"] == (40_000.0, True)  # the bound is inclusive
    assert got["csma 100k / 10k throughput"] == (pytest.approx(0.775), False)
    assert got["aloha 10k inferences/CPU-s"] == (None, None)  # a failed run judges nothing
    assert got["tdma 1M World build, s"] == (None, None)


def test_fleet_scaling_keeps_the_load_per_medium():
    # shared media: 10 ms of the medium per device, so 100 frames/s at any size; the channel stretches too
    small = bench_scenario.scenario_dict("csma", 10_000, 100_000)
    large = bench_scenario.scenario_dict("csma", 100_000, 200_000)
    assert small["devices"][0]["workload"]["period_s"] == pytest.approx(100.0)
    assert large["devices"][0]["workload"]["period_s"] == pytest.approx(1000.0)
    assert large["edge"][0]["channel"]["mean_good_s"] == pytest.approx(20.0 * 500)
    assert large["edge"][0]["channel"]["mean_bad_s"] == pytest.approx(2.0 * 500)
    assert large["duration_s"] == pytest.approx(2000.0)  # 200,000 inferences at 100 per simulated s
    # dedicated links keep the quickstart's 2 s period up to 10,000 devices
    base = bench_scenario.scenario_dict("dedicated", 1000, 105_000)
    assert base["devices"][0]["workload"] == {"kind": "periodic", "period_s": 2.0, "jitter_s": pytest.approx(0.2)}
    assert base["edge"][0]["channel"]["mean_good_s"] == 20.0
    assert bench_scenario.BASE["devices"][0]["workload"]["period_s"] == 2.0  # the copy is not modified
    # a TDMA superframe (devices x slot) fits in the period at every size
    for devices in (1000, 1_000_000):
        d = bench_scenario.scenario_dict("tdma", devices, 2 * devices)
        assert devices * d["edge"][0]["medium"]["slot_ms"] / 1000 <= d["devices"][0]["workload"]["period_s"]
