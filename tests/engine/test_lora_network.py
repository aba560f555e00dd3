"""A LoRa network in the engine: extra gateways only add receptions, each uplink is delivered once."""

from __future__ import annotations

import numpy as np
import torch

from cosim.config.scenario import validate_scenario
from cosim.engine.run import run_scenario
from cosim.results.records import read_columns

torch.set_num_threads(1)

CHANNEL = {"kind": "snr", "exponent": 3.5, "sigma_db": 4.0, "fading": "rayleigh", "coherence_time_s": 5.0}


def farm(second_network: str, medium: dict | None = None) -> dict:
    """200 SF7 devices attached to gateway `a`; gateway `b` 2 km away is in `second_network`."""
    medium = medium or {}
    return {
        "name": "lora-net", "seed": 4, "duration_s": 600.0, "codec": "builtin:digits", "deadline_ms": 60_000,
        "devices": [{"name": "nodes", "count": 200, "radio": "lora-sf7", "server": "a",
                     "workload": {"kind": "poisson", "rate_hz": 1 / 20},
                     "placement": {"kind": "area", "x_m": [-1000, 3000], "y_m": [-1000, 1000], "min_m": 10}}],
        "edge": [{"name": "a", "position_m": [0, 0], "channel": CHANNEL,
                  "medium": {"kind": "lora", **medium}},
                 {"name": "b", "position_m": [2000, 0], "channel": CHANNEL,
                  "medium": {"kind": "lora", "network": second_network, **medium}}],
    }


def run(data, tmp_path, name):
    res = run_scenario(validate_scenario(data, "test"), tmp_path / name)
    return res.summary, read_columns(tmp_path / name / "packets.parquet")  # `lost` 0: delivered


def test_second_gateway_only_adds_receptions_and_each_uplink_is_delivered_once(tmp_path):
    one, c1 = run(farm("elsewhere"), tmp_path, "one")
    two, c2 = run(farm("lora"), tmp_path, "two")
    assert one["inferences"] == two["inferences"] > 3000  # same devices, same arrivals
    for c, s in ((c1, one), (c2, two)):  # one record per sensed sample: duplicates removed
        keys = set(zip(c["device"].tolist(), c["t_sense_s"].tolist(), strict=True))
        assert len(keys) == len(c["device"]) == s["inferences"]
    # without ARQ the frames' times do not depend on reception: gateway a sees the very same air
    assert np.array_equal(np.sort(c1["t_arrive_s"]), np.sort(c2["t_arrive_s"]), equal_nan=True)
    assert one["collisions"]["a"] == two["collisions"]["a"] > 0
    assert two["collisions"]["b"] > 0 and one["collisions"]["b"] == 0
    d1, d2 = (c1["lost"] == 0).mean(), (c2["lost"] == 0).mean()
    assert d2 > d1 + 0.1  # devices beyond a's range are heard by b, and b rescues some collisions
    # the `server` column names the gateway that received the inference (b only in the shared network)
    assert (c2["server"][c2["lost"] == 0] == 1).any() and not (c1["server"][c1["lost"] == 0] == 1).any()


def test_capture_delivers_more_than_without(tmp_path):
    off, c_off = run(farm("elsewhere", {"capture": False}), tmp_path, "off")
    on, c_on = run(farm("elsewhere", {"capture": True}), tmp_path, "on")
    assert on["inferences"] == off["inferences"]
    assert (c_on["lost"] == 0).mean() > (c_off["lost"] == 0).mean()
    assert on["collisions"]["a"] < off["collisions"]["a"]
