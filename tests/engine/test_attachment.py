"""Devices attach to a named server, the first one, or (area placement) the nearest one."""

import numpy as np
import pytest

from cosim.config.scenario import validate_scenario
from cosim.engine.placement import _attachments
from cosim.errors import ScenarioError


def scenario(server="nearest", placement=None) -> dict:
    return {
        "name": "t", "seed": 2, "duration_s": 5.0,
        "devices": [{"name": "g", "count": 400, "server": server,
                     "placement": placement or {"kind": "area", "x_m": [0, 100], "y_m": [-10, 10]}}],
        "edge": [{"name": "west", "position_m": [0, 0], "channel": {"kind": "constant", "ber": 0}},
                 {"name": "east", "position_m": [100, 0], "channel": {"kind": "constant", "ber": 1e-3}}],
    }


def test_nearest_server_and_distance_to_it():
    sc = validate_scenario(scenario(), "t.yaml")
    server, dist = _attachments(sc, sc.devices[0], np.random.default_rng(0))
    server = np.array(server)
    assert set(server.tolist()) == {0, 1}
    assert 0.4 < server.mean() < 0.6  # the split line is x = 50
    assert np.all(dist <= np.hypot(50, 10) + 1e-9)
    assert np.all(dist >= 1.0)


def test_named_server_and_area_distance_to_its_position():
    sc = validate_scenario(scenario(server="east"), "t.yaml")
    server, dist = _attachments(sc, sc.devices[0], np.random.default_rng(0))
    assert set(server) == {1}
    assert dist.max() <= np.hypot(100, 10) and dist.max() > 80


def test_nearest_needs_positions():
    with pytest.raises(ScenarioError, match=r"devices\.0\.server: `nearest` needs placement kind `area`"):
        validate_scenario(scenario(placement={"kind": "disc", "radius_m": 10}), "t.yaml")


def test_nearest_fleet_runs_and_uses_both_servers(tmp_path):
    from cosim.engine.run import run_scenario

    data = scenario()
    data["devices"][0]["count"] = 40
    res = run_scenario(validate_scenario(data, "t.yaml"), tmp_path / "o")
    util = res.summary["edge_utilization"]
    assert util["west"] > 0 and util["east"] > 0
