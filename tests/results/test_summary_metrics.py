"""Every summary metric against values worked out by hand on six inferences of three devices."""

from __future__ import annotations

import pytest
from results_fixtures import DEADLINE_S, DURATION_S, GROUPS, SERVERS, records

from cosim.results.summary import Interval, RunSummary, jain, summarise, wilson


@pytest.fixture
def scopes(tmp_path):
    records(tmp_path / "p.parquet")
    return summarise(tmp_path / "p.parquet", GROUPS, DURATION_S, DEADLINE_S, SERVERS)


def test_wilson_and_jain_against_textbook_values():
    lo, hi = wilson(8, 10).low, wilson(8, 10).high  # Wilson (1927) score interval, 8 of 10, z = 1.96
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) == Interval(None, None)
    assert wilson(0, 5).low == 0.0 and wilson(5, 5).high == 1.0
    assert jain([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert jain([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)  # one of n served: 1/n
    assert jain([]) is None and jain([0.0, 0.0]) is None


def test_overall_metrics_by_hand(scopes):
    m = scopes.overall
    assert (m.inferences, m.delivered, m.devices) == (6, 4, 3)
    assert m.delivery_ratio == pytest.approx(4 / 6)
    assert m.lost_ratio == pytest.approx(2 / 6) and m.late_ratio == pytest.approx(1 / 6)
    assert m.deadline_miss_ratio == pytest.approx(3 / 6)
    assert m.accuracy == pytest.approx(2 / 6) and m.delivered_accuracy == pytest.approx(3 / 4)
    assert m.lost == {"header": 1, "collision": 1, "queue": 0, "retries": 0, "access": 0, "payload": 0,
                      "drain": 0}
    # latency of the four delivered inferences only: 20, 50, 80, 300 ms
    assert m.latency_ms.over == "delivered" and m.latency_ms.count == 4
    assert m.latency_ms.p50 == pytest.approx(65.0) and m.latency_ms.mean == pytest.approx(112.5)
    # goodput: 2 correct on-time inferences in 10 s; payload bits delivered 3 x 96 + 200 = 488
    assert m.goodput.correct_per_s == pytest.approx(0.2) and m.goodput.app_bps == pytest.approx(48.8)
    assert m.offered_load_erlang == pytest.approx(0.13 / 10)  # all airtime / window
    # per device airtime / (duty x window): 0.03 / 5, 0.02 / 5, 0.08 / 10
    assert m.duty_cycle_occupancy.mean == pytest.approx(0.006) and m.duty_cycle_occupancy.max == pytest.approx(0.008)
    # per-device accuracy 1/2, 0/2, 1/2: (1)^2 / (3 x 0.5)
    assert m.jain_fairness_accuracy == pytest.approx(2 / 3)
    active_mj = 6 * 3.0 + 100.0 * 0.13
    sleep_mj = (2 * 1.0 + 1 * 2.0) / 3 * (3 * DURATION_S - (0.6 + 0.13))
    assert m.device_energy_mj_per_inference == pytest.approx((active_mj + sleep_mj) / 6)
    assert m.device_energy_mj_per_correct_inference == pytest.approx((active_mj + sleep_mj) / 2)
    assert m.device_energy_mj_by_phase["tx"] == pytest.approx(13.0 / 6)
    assert m.collision_rate == pytest.approx(1 / 2)  # shared media only
    for name, (k, n) in {"accuracy": (2, 6), "delivered_accuracy": (3, 4), "delivery_ratio": (4, 6),
                         "lost_ratio": (2, 6), "late_ratio": (1, 6), "deadline_miss_ratio": (3, 6),
                         "collision_rate": (1, 2)}.items():
        assert m.wilson95[name] == wilson(k, n), name


def test_lost_shares_and_their_wilson_intervals_by_hand(scopes):
    """1 of 6 lost to a header error: share 1/6, Wilson 95 % interval [0.0301, 0.5635] (p = 1/6, n = 6,
    z = 1.96: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n) = (0.4868 ± 0.4375) / 1.6402)."""
    m = scopes.overall
    assert m.lost_share["header"] == pytest.approx(1 / 6) and m.lost_share["collision"] == pytest.approx(1 / 6)
    assert m.lost_share["drain"] == 0.0 and sum(m.lost_share.values()) == pytest.approx(m.lost_ratio)
    ci = m.wilson95["lost_share.header"]
    assert ci.low == pytest.approx(0.0301, abs=1e-4) and ci.high == pytest.approx(0.5635, abs=1e-4)
    zero = m.wilson95["lost_share.queue"]  # 0 of 6: [0, z²/(n + z²)] = [0, 3.8415 / 9.8415]
    assert zero.low == 0.0 and zero.high == pytest.approx(0.3903, abs=1e-4)
    b = scopes.groups["b"]  # group b: 1 of 2 lost to a collision, none to a header error
    assert b.lost_share == {"header": 0.0, "collision": 0.5, "queue": 0.0, "retries": 0.0, "access": 0.0,
                            "payload": 0.0, "drain": 0.0}
    assert b.wilson95["lost_share.collision"] == wilson(1, 2)
    assert RunSummary(scenario="x", seed=0, overall=m, groups={}).flat()["wilson95.lost_share.header.low"] == ci.low


def test_group_and_server_metrics_by_hand(scopes):
    a = scopes.groups["a"]
    assert (a.inferences, a.delivered, a.devices) == (4, 3, 2)
    assert a.jain_fairness_accuracy == pytest.approx(0.5)  # accuracies 1/2 and 0
    assert a.duty_cycle_occupancy.mean == pytest.approx(0.005)
    assert a.goodput.app_bps == pytest.approx(3 * 96 / 10)
    assert a.collision_rate is None
    s0, s1 = scopes.servers["s0"], scopes.servers["s1"]
    assert s0.inferences == 4 and s1.inferences == 2 and s1.devices == 1
    assert s0.medium == "dedicated" and s0.edge_utilization == 0.25
    assert s0.airtime_utilisation == pytest.approx(0.05 / 2 / 10)  # dedicated: per link
    assert s0.collision_rate is None
    assert s1.airtime_utilisation == pytest.approx(0.08 / 10)  # the medium's busy time
    assert s1.collision_rate == pytest.approx(0.5) and s1.wilson95["collision_rate"] == wilson(1, 2)
    assert s1.offered_load_erlang == pytest.approx(0.08 / 10)
    assert s1.accuracy == pytest.approx(1 / 2)


def test_warmup_excludes_the_transient(tmp_path):
    records(tmp_path / "p.parquet")
    m = summarise(tmp_path / "p.parquet", GROUPS, DURATION_S, DEADLINE_S, SERVERS, warmup_s=3.5).overall
    assert (m.inferences, m.delivered) == (3, 1)  # sensed at 4, 5, 6 s
    assert m.goodput.correct_per_s == pytest.approx(1 / 6.5)
    assert m.offered_load_erlang == pytest.approx(0.09 / 6.5)
    assert m.latency_ms.p50 == pytest.approx(20.0)


def test_typed_summary_round_trips_and_keeps_the_legacy_keys(scopes):
    summary = RunSummary(scenario="t", seed=1, overall=scopes.overall, groups=scopes.groups,
                         servers=scopes.servers, edge_utilization={"s0": 0.25}, sim_time_s=10.0, events=5,
                         window_s=10.0, wall_time_s=0.5)
    summary = summary.with_task({"map50": 0.5}, {"a": {"map50": 0.4}})
    data = summary.to_dict()
    legacy = ["scenario", "seed", "devices", "inferences", "delivered", "lost", "accuracy", "delivered_accuracy",
              "latency_ms", "deadline_miss_ratio", "device_energy_mj_per_inference", "device_energy_mj_by_phase",
              "device_avg_power_mw", "battery_life_days", "bits_on_air_per_inference", "frames_per_inference",
              "mean_ber", "groups", "edge_utilization", "edge_energy_j", "collisions", "decoder_calls",
              "decoder_cache_hits", "sim_time_s", "events", "wall_time_s"]
    assert all(k in data for k in legacy)
    assert data["map50"] == 0.5 and data["groups"]["a"]["map50"] == 0.4
    assert set(data["latency_ms"]) >= {"mean", "p50", "p95", "p99"}
    again = RunSummary.from_dict(data)
    assert again == summary and again.to_dict() == data
    assert again.accuracy == summary.overall.accuracy and again.map50 == 0.5
    flat = summary.flat()
    assert flat["latency_ms.p95"] == data["latency_ms"]["p95"]
    assert flat["groups.a.accuracy"] == data["groups"]["a"]["accuracy"]
    assert flat["servers.s1.collision_rate"] == 0.5 and flat["wilson95.accuracy.low"] == wilson(2, 6).low
    assert flat["groups.a.collision_rate"] is None
