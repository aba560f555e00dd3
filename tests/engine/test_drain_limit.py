"""The drain limit: inferences unfinished when `drain_limit_s` ends the run are lost rows, reason `drain`."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import torch

from cosim.config.profiles import load_edge
from cosim.inference import LOST_DRAIN, LOST_REASONS
from cosim.results.records import LOST_NAMES

torch.set_num_threads(1)
SERVICE_S = 2.5  # the slowed edge server's time per inference (one per batch)


def _slow_edge(tmp_path) -> str:
    """An rpi5 profile that takes SERVICE_S (+ a negligible per-MAC term) per single-inference batch."""
    text = (pathlib.Path(load_edge("rpi5").path).read_text()
            .replace("value: 0.2\n", f"value: {SERVICE_S * 1000}\n", 1).replace("value: 16.7\n", "value: 1.0e-9\n", 1))
    path = tmp_path / "slow-edge.yaml"
    path.write_text(text)
    return str(path)


def _scenario(tmp_path, drain_limit_s: float) -> dict:
    return {
        "name": "drain", "seed": 3, "duration_s": 10.0, "codec": "builtin:digits", "deadline_ms": 100_000,
        "drain_limit_s": drain_limit_s,
        "devices": [{"name": "g", "count": 1, "board": "stm32l476", "radio": "ble-1m",
                     "workload": {"kind": "periodic", "period_s": 1.0}}],
        "edge": [{"name": "e", "profile": _slow_edge(tmp_path), "max_batch": 1, "max_wait_ms": 0,
                  "channel": {"kind": "constant", "ber": 0.0}}],
    }


def test_drain_is_a_loss_reason():
    assert LOST_REASONS[LOST_DRAIN] == "drain" and LOST_NAMES[LOST_DRAIN] == "drain"


def test_unfinished_backlog_becomes_drain_rows(tmp_path, simulate):
    """One device senses every 1 s for 10 s (10 inferences); the edge serves one per 2.5 s, FIFO, so the
    k-th inference (k = 1..10) is done at a0 + 2.5 k (a0: the first arrival). Stopped 3 s after sensing
    ended, those done after 13 s are the backlog: 10 - floor((13 - a0) / 2.5) drain rows."""
    summary, c = simulate(_scenario(tmp_path, 3.0), tmp_path)
    assert len(c["lost"]) == summary["inferences"] == 10  # every sensed inference has its row
    a0 = float(np.nanmin(c["t_arrive_s"]))
    assert 0.0 <= a0 < 1.0
    backlog = 10 - math.floor((13.0 - a0) / SERVICE_S)
    drain = c["lost"] == LOST_DRAIN
    assert backlog in (5, 6) and int(drain.sum()) == backlog
    assert summary["lost"]["drain"] == backlog == summary["drain"]["unfinished"]
    assert summary["drain"]["limit_reached"]
    assert summary["lost_ratio"] == backlog / 10
    assert summary["delivered"] == 10 - backlog
    # the one in service has started, the ones waiting have not; none has finished
    assert np.all(c["t_done_s"][drain] != c["t_done_s"][drain])  # null (NaN)
    started = ~np.isnan(c["t_service_s"][drain])
    assert int(started.sum()) == 1
    # every row in a defined order: the finished ones in end order, then the drain rows
    assert np.all(c["lost"][: 10 - backlog] == 0) and np.all(drain[10 - backlog:])


def test_closed_form_device_backlog_counts_sensing_times_still_due(tmp_path, simulate):
    """A device whose every inference takes longer than its period works its sensing out lazily: the
    drain rows include the sensing times before duration_s it never got to."""
    data = _scenario(tmp_path, 0.01)
    data["devices"][0]["workload"] = {"kind": "periodic", "period_s": 0.001}
    data["duration_s"] = 0.05
    data["edge"][0]["profile"] = "rpi5"
    summary, c = simulate(data, tmp_path)
    # period 1 ms, phase in [0, 1 ms): exactly 50 sensing times before 50 ms, each with its row
    assert len(c["lost"]) == summary["inferences"] == 50
    assert summary["drain"]["limit_reached"]
    drain = c["lost"] == LOST_DRAIN
    assert summary["lost"]["drain"] == summary["drain"]["unfinished"] == int(drain.sum()) > 10
    # never sent: no attempt booked
    assert int((c["tx_attempts"][drain] == 0).sum()) >= int(drain.sum()) - 1
    assert summary["delivered"] + int(drain.sum()) == 50


def test_no_drain_rows_when_the_limit_is_not_reached(tmp_path, simulate):
    summary, c = simulate(_scenario(tmp_path, 100.0), tmp_path)
    assert not summary["drain"]["limit_reached"] and summary["drain"]["unfinished"] == 0
    assert summary["lost"]["drain"] == 0 and summary["delivered"] == 10 == len(c["lost"])


def test_the_up_front_estimate_agrees_with_the_run(tmp_path):
    """10 inferences at 1 per 2.5 s: 4 served while sensing, 6 queued; the drain clears them in 15 s
    (the run: 25 s after the first arrival, a0 in [0, 1), minus the 10 s of sensing)."""
    from cosim.config.scenario import validate_scenario
    from cosim.engine.budget import estimate
    from cosim.engine.preflight import scenario_loads

    sc = validate_scenario(_scenario(tmp_path, 3.0), "test")
    drain = estimate(sc, scenario_loads(sc)).drain
    assert drain.drain_s == pytest.approx(15.0, rel=1e-6) and drain.backlog == pytest.approx(6.0, rel=1e-6)
    assert drain.cut == pytest.approx(6.0 * (1 - 3.0 / 15.0), rel=1e-6)  # the run: 5 or 6 (a0)
