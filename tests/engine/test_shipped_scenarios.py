"""Every shipped scenario validates and runs (shortened); the quickstart produces every output."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from cosim.cli import main
from cosim.config.scenario import load_scenario
from cosim.engine.run import run_scenario
from cosim.results.records import codes

torch.set_num_threads(1)
SCENARIOS = sorted(Path(__file__).parents[2].joinpath("scenarios").glob("*.yaml"))
SUMMARY_KEYS = {
    "inferences", "delivered", "accuracy", "delivered_accuracy", "latency_ms", "deadline_miss_ratio",
    "device_energy_mj_per_inference", "device_avg_power_mw", "battery_life_days", "bits_on_air_per_inference",
    "frames_per_inference", "mean_ber", "delivered_mean_ber", "receiver_policy", "edge_utilization", "sim_time_s",
    "wall_time_s", "events", "groups",
}


def test_the_shipped_set_is_there():
    names = {p.stem for p in SCENARIOS}
    assert {"quickstart", "ble-office", "lora-farm", "factory-802154", "nbiot-city"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs_shortened(path, tmp_path):
    full = load_scenario(path)
    sc = load_scenario(path, [f"duration_s={full.duration_s / 30:g}"])
    res = run_scenario(sc, tmp_path / "o")
    s = res.summary
    assert s["inferences"] > 0 and 0 <= s["accuracy"] <= s["delivered_accuracy"] <= 1
    assert set(s["groups"]) == {g.name for g in sc.devices}


def test_quickstart_as_a_user_runs_it(tmp_path, capsys):
    out = tmp_path / "quickstart"
    assert main(["run", "scenarios/quickstart.yaml", "-o", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["inferences"] >= 1000
    assert summary["accuracy"] > 0.8  # a clean-most-of-the-time BLE link: mostly right answers
    assert {"mean", "p50", "p95", "p99"} <= set(summary["latency_ms"])
    table = pq.read_table(out / "packets.parquet")
    assert table.num_rows == summary["inferences"]
    assert {"device", "group", "ber", "bit_errors", "frames", "pred", "label", "correct"} <= set(table.column_names)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "quickstart" and manifest["seed"] == 1
    assert len(list((out / "figures").glob("*.png"))) >= 4


def test_correct_column_agrees_with_the_summary_accuracy(tmp_path):
    out = tmp_path / "q"
    sc = load_scenario("scenarios/quickstart-digits.yaml", ["duration_s=10", "deadline_ms=33"])
    summary = run_scenario(sc, out).summary
    table = pq.read_table(out / "packets.parquet")
    correct = table.column("correct").to_numpy()
    assert 0 < correct.mean() < summary["delivered_accuracy"]  # 33 ms (25 ms mean wait for the BLE connection event + ~8 ms) makes some late
    assert correct.mean() == pytest.approx(summary["accuracy"], abs=1e-12)
    wait = table.column("queue_wait_s").to_numpy()
    assert (wait[codes(table.column("lost")) == 0] >= 0).all()
