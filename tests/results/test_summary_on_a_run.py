"""A small ALOHA run: the summary's metrics equal what pandas computes from its records by hand."""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from cosim.results.summary import jain, wilson

ALOHA = {
    "name": "aloha", "seed": 5, "duration_s": 6, "deadline_ms": 50, "warmup_s": 1.0,
    "devices": [{"name": "a", "count": 12, "board": "stm32l476", "radio": "ble-1m", "strategy": "semanticnn",
                 "workload": {"kind": "poisson", "rate_hz": 20.0},
                 "placement": {"kind": "uniform", "min_m": 2, "max_m": 10}},
                {"name": "b", "count": 6, "board": "stm32l476", "radio": "ble-1m", "strategy": "raw",
                 "workload": {"kind": "poisson", "rate_hz": 5.0},
                 "placement": {"kind": "fixed", "distance_m": 4}}],
    "edge": [{"name": "gw", "profile": "rpi5", "medium": {"kind": "aloha"},
              "channel": {"kind": "constant", "ber": 1e-4}}],
}


@pytest.fixture(scope="module")
def run():
    return cosim.run(ALOHA)


def test_metrics_match_the_records(run):
    s, df = run.summary, run.packets
    window = 6.0 - 1.0
    kept = df[df["t_sense_s"] >= 1.0]
    delivered = kept["lost"] == "delivered"
    assert s.inferences == len(kept) and s.delivered == int(delivered.sum())
    assert s.lost["collision"] == int((kept["lost"] == "collision").sum()) > 0
    assert s.delivery_ratio == pytest.approx(delivered.mean())
    assert s.accuracy == pytest.approx(kept["correct"].mean())
    assert s.wilson95["accuracy"] == wilson(int(kept["correct"].sum()), len(kept))
    lat_ms = kept["latency_s"].dropna() * 1000.0
    assert s.latency_ms.count == len(lat_ms) == s.delivered
    assert s.latency_ms.p95 == pytest.approx(np.percentile(lat_ms, 95))
    late = (kept["latency_s"] > 0.050).sum()
    assert 0 < late < kept["correct"].sum()  # the deadline cuts some delivered ones, not most
    assert s.late_ratio == pytest.approx(late / len(kept))
    assert s.goodput.correct_per_s == pytest.approx(kept["correct"].sum() / window)
    assert s.offered_load_erlang == pytest.approx(kept["airtime_s"].sum() / window)
    per_device = kept.groupby("device")["correct"].mean()
    assert s.jain_fairness_accuracy == pytest.approx(jain(per_device.to_numpy()))
    air = kept.groupby("device")["airtime_s"].sum().reindex(range(18), fill_value=0.0)
    assert s.duty_cycle_occupancy.max == pytest.approx(air.max() / window)  # BLE: no duty-cycle limit
    energy = sum(kept[c].sum() for c in df.columns if c.endswith("_mj"))
    assert s.device_energy_mj_by_phase["tx"] == pytest.approx(kept["tx_mj"].sum() / len(kept))
    total = s.device_energy_mj_per_inference * s.inferences
    assert total > energy  # plus sleep
    assert s.device_energy_mj_per_correct_inference == pytest.approx(total / kept["correct"].sum())
    for name, m in s.groups.items():
        assert m.inferences == int((kept["group"] == name).sum())


def test_medium_metrics_match_the_device_counts(run):
    s, df = run.summary, run.packets
    gw = s.servers["gw"]
    assert gw.medium == "aloha" and gw.inferences == s.inferences
    # an inference sensed after the warm-up sends its frames after it: each one lost to a collision
    # had a counted collided frame; frames of the warm-up's last inferences may be counted too
    kept = df[df["t_sense_s"] >= 1.0]
    assert 0 < gw.collision_rate < 1 and s.collision_rate == gw.collision_rate
    assert gw.collided_frames >= (kept["lost"] == "collision").sum()
    assert gw.frames_on_air >= kept["tx_attempts"].sum()
    assert gw.airtime_utilisation <= gw.offered_load_erlang + 1e-12  # overlapping frames count once
    assert gw.airtime_utilisation > 0.5 * gw.offered_load_erlang


def test_without_warmup_the_medium_counts_every_frame_and_collision():
    run = cosim.run(ALOHA, overrides={"warmup_s": 0})
    s, gw = run.summary, run.summary.servers["gw"]
    assert s.window_s == 6.0
    assert gw.frames_on_air == int(run.packets["tx_attempts"].sum())
    assert gw.collided_frames == s.collisions["gw"] > 0  # the medium's count equals the devices' count
    assert gw.collision_rate == gw.collided_frames / gw.frames_on_air
