"""City-scale fleets: the compact per-device state draws the same as the full one, in bounded memory."""

from __future__ import annotations

import gc
import tracemalloc

import pyarrow.parquet as pq
import pytest
import torch
from test_world_theory import scenario

import cosim.rng
from cosim.config.scenario import validate_scenario
from cosim.engine.world import World

torch.set_num_threads(1)

GE = {"kind": "gilbert-elliott", "ber_good": 1e-4, "ber_bad": 2e-2, "mean_good_s": 2.0, "mean_bad_s": 1.0}


def _fleet(medium: dict) -> dict:
    """Two groups (periodic and Poisson, a device-scope bursty channel and an SNR one) on one medium."""
    data = scenario(duration_s=20.0)
    g = data["devices"][0]
    data["devices"] = [
        dict(g, name="a", count=40, workload={"kind": "periodic", "period_s": 1.0, "jitter_s": 0.2}),
        dict(g, name="b", count=30, channel={"kind": "snr", "exponent": 3.0, "sigma_db": 6.0, "fading": "rayleigh",
                                             "coherence_time_s": 0.5, "tx_power_dbm": -20},
             placement={"kind": "uniform", "min_m": 5, "max_m": 40}),
    ]
    data["edge"][0]["channel"] = GE
    data["edge"][0]["medium"] = medium
    return data


def _packets(data: dict, path, compact_from: int, monkeypatch) -> bytes:
    monkeypatch.setattr(cosim.rng, "COMPACT_FROM", compact_from)
    path.mkdir()
    world = World(validate_scenario(data, "t"), path)
    assert isinstance(world.devices[0].err_rng, cosim.rng.CompactStream) == (compact_from == 0)
    world.run()
    return pq.read_table(path / "packets.parquet")


@pytest.mark.parametrize("medium", [{"kind": "dedicated"}, {"kind": "tdma", "slot_ms": 1.0}, {"kind": "csma"}])
def test_compact_streams_give_the_same_records(tmp_path, monkeypatch, medium):
    """The streams of a large fleet (CompactStream) and of a small one (random.Random) are the same draws."""
    data = _fleet(medium)
    full = _packets(data, tmp_path / "full", 10**9, monkeypatch)
    compact = _packets(data, tmp_path / "compact", 0, monkeypatch)
    assert full.num_rows > 500
    assert full.equals(compact)


def test_a_20k_device_world_costs_under_2_5_kb_per_device(tmp_path):
    """Python memory of the per-device state (tracemalloc, build only): 13.8 KB per device before
    compact streams and columnar places, ~1.8 KB after; the bound leaves room, not for a regression."""
    data = scenario(duration_s=6.0)
    data["devices"][0].update(count=1, workload={"kind": "periodic", "period_s": 2.0, "jitter_s": 0.2})
    data["edge"][0]["channel"] = GE
    (tmp_path / "warm").mkdir()
    World(validate_scenario(data, "warm"), tmp_path / "warm")  # codec, data set, caches: not per device
    data["devices"][0]["count"] = n = 20_000
    sc = validate_scenario(data, "t")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        world = World(sc, tmp_path)
        per_device = (tracemalloc.get_traced_memory()[0] - before) / n
    finally:
        tracemalloc.stop()
    assert len(world.devices) == n
    assert per_device < 2_500, f"{per_device:.0f} B per device"
