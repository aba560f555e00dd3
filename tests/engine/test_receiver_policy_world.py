"""Receiver policy per group: the strategies' defaults, overrides, refusals, and `drop` against theory."""

from __future__ import annotations

import math

import pytest
import torch
from test_world_theory import run, scenario

from cosim.codec.checkpoint import load_codec
from cosim.config.profiles import load_radio
from cosim.config.scenario import validate_scenario
from cosim.engine.world import World
from cosim.errors import ScenarioError
from cosim.net.frames import fragment

torch.set_num_threads(1)


def _groups(*specs) -> dict:
    data = scenario(duration_s=1.0)
    g = data["devices"][0]
    data["devices"] = [dict(g, name=f"g{i}", count=1, **spec) for i, spec in enumerate(specs)]
    return data


def test_defaults_per_strategy_and_overrides(tmp_path):
    data = _groups({"strategy": "semanticnn"}, {"strategy": "split-int8"},
                   {"strategy": "split-int8", "strategy_options": {"arq": False}},
                   {"strategy": "semanticnn", "receiver_policy": "drop"},
                   {"strategy": "split-int8", "receiver_policy": "deliver"},
                   {"strategy": "raw", "strategy_options": {"jpeg_quality": 50}})
    world = World(validate_scenario(data, "test"), tmp_path)
    world.recorder.close()
    assert world.receiver_policies == {"g0": "deliver", "g1": "drop", "g2": "deliver", "g3": "drop",
                                       "g4": "deliver", "g5": "drop"}
    assert [d.plan.exact for d in world.devices] == [False, True, False, True, False, True]


def test_a_strategy_that_needs_exact_bits_refuses_deliver(tmp_path):
    data = _groups({"strategy": "raw", "strategy_options": {"jpeg_quality": 50}, "receiver_policy": "deliver"})
    with pytest.raises(ScenarioError, match=r"devices\.0\.receiver_policy: .*bit-exact"):
        World(validate_scenario(data, "test"), tmp_path)


def test_drop_without_arq_loses_exactly_the_frames_whose_payload_fails(tmp_path):
    """One frame per inference at constant BER p: P(header hit) = 1-(1-p)^H; P(payload CRC failure)
    = (1-p)^H (1-(1-p)^B); the delivered rest are error-free. The policy is in the summary."""
    p = 2e-3
    data = scenario(duration_s=30.0)
    data["devices"][0].update(count=60, receiver_policy="drop")
    data["edge"][0]["channel"] = {"kind": "constant", "ber": p}
    summary, c = run(data, tmp_path)
    plan = fragment(load_codec("builtin:digits").meta.payload_bits, load_radio("ble-1m"))
    assert plan.n_frames == 1
    h, b = plan.header_bits, plan.payload_bits[0]
    n = summary["inferences"]
    expect = {"header": 1 - (1 - p) ** h, "payload": (1 - p) ** h * (1 - (1 - p) ** b)}
    for reason, q in expect.items():
        share = summary["lost"][reason] / n
        assert abs(share - q) <= 4.5 * math.sqrt(q * (1 - q) / n), (reason, share, q)
    assert (c["bit_errors"][c["lost"] == 0] == 0).all()
    assert summary["receiver_policy"] == {"g": "drop"} and summary["groups"]["g"]["receiver_policy"] == "drop"
