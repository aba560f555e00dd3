"""LoRa airtime statistics in the summary against pure-ALOHA theory, with the warm-up cut."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import torch

from cosim.config.profiles import load_radio

torch.set_num_threads(1)
WARMUP_S = 400.0


def _radio_without_duty_cycle(tmp_path) -> str:
    """lora-sf7 with no duty-cycle limit, so every device's frames stay a Poisson stream."""
    text = pathlib.Path(load_radio("lora-sf7").path).read_text()
    text = text.replace("duty_cycle:\n  value: 0.01\n", "duty_cycle:\n  value: 1.0\n", 1)
    assert "value: 1.0\n" in text
    path = tmp_path / "lora-sf7-nodc.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def aloha_run(tmp_path_factory, simulate):
    tmp = tmp_path_factory.mktemp("lora-aloha")
    n = 100
    data = {
        "name": "lora-aloha", "seed": 11, "duration_s": 2400.0, "warmup_s": WARMUP_S,
        "codec": "builtin:digits", "deadline_ms": 60_000,
        "devices": [{"name": "nodes", "count": n, "radio": _radio_without_duty_cycle(tmp),
                     "workload": {"kind": "poisson", "rate_hz": 0.025}}],
        "edge": [{"name": "gw", "channel": {"kind": "constant", "ber": 0.0},
                  "medium": {"kind": "lora", "capture": False}}],
    }
    summary, c = simulate(data, tmp)
    return n, data, summary, c


def test_collision_rate_is_pure_aloha_1_minus_exp_minus_2g(aloha_run):
    """Equal-length frames on one SF without capture: a frame is lost when another of the n - 1 other
    devices starts within its vulnerable window of two airtimes: 1 - exp(-2 G (n - 1) / n)."""
    n, data, summary, c = aloha_run
    server = summary["servers"]["gw"]
    air_s = float(np.unique(np.round(c["airtime_s"], 12))[0])
    assert np.allclose(c["airtime_s"], air_s)  # one frame per inference, all equally long
    window_s = data["duration_s"] - WARMUP_S
    frames = server["frames_on_air"]
    g = frames * air_s / window_s
    assert 0.15 < g < 0.4 and frames > 4000
    expected = 1 - math.exp(-2 * g * (n - 1) / n)
    rate = server["collision_rate"]
    assert rate == summary["collision_rate"] == server["collided_frames"] / frames
    # overlaps come in pairs, so allow twice the binomial variance
    sd = math.sqrt(2 * expected * (1 - expected) / frames)
    assert abs(rate - expected) < 4.5 * sd, (rate, expected, g)
    # the medium is busy when at least one frame is on the air: 1 - exp(-G) of the time (Poisson)
    assert server["airtime_utilisation"] == pytest.approx(1 - math.exp(-g), abs=0.02)
    assert server["wilson95"]["collision_rate"]["low"] < rate < server["wilson95"]["collision_rate"]["high"]


def test_airtime_stats_honour_the_warmup(aloha_run):
    """Frames on the air = frames that started at or after warmup_s (start = arrival - airtime, one
    frame without ARQ); the collided ones are exactly the lost-to-collision inferences among them."""
    _, _, summary, c = aloha_run
    server = summary["servers"]["gw"]
    start = c["t_arrive_s"] - c["airtime_s"]
    counted = start >= WARMUP_S
    assert server["frames_on_air"] == int(counted.sum())
    assert server["collided_frames"] == int((c["lost"][counted] == 2).sum())  # 2: collision
    assert summary["collisions"]["gw"] == int((c["lost"] == 2).sum()) > server["collided_frames"]
