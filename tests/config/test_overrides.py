"""`--set`, sweep grids and `compare:` variants change exactly the path they name: YAML aliases are
expanded into independent copies before any override applies, and `apply_override` copies every
container on its path, so a shared object is never written through."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosim.config.scenario import load_scenario
from cosim.config.yamlio import apply_override, load_yaml
from cosim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
SHARED = """
duration_s: 10
devices:
  - {name: g0, count: 2, workload: &every2s {kind: periodic, period_s: 2.0, jitter_s: 0.2}}
  - {name: g1, count: 2, workload: *every2s}
  - {name: g2, count: 2, workload: *every2s}
  - {name: g3, count: 2, workload: *every2s}
edge:
  - {name: gateway, channel: {kind: constant, ber: 0.0}}
"""


@pytest.fixture()
def COMPARE(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    return path


def test_set_through_an_anchor_changes_one_group_only(COMPARE):
    """The four groups share `workload: &every2s` (as compare-strategies.yaml's 13 groups once did)."""
    scenario = load_scenario(COMPARE, ["devices.0.workload.period_s=0.5"])
    periods = [g.workload.period_s for g in scenario.devices]
    assert periods == [0.5, 2.0, 2.0, 2.0]


def test_aliases_load_as_independent_copies(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a: &x {k: [1, 2]}\nb: *x\nc: {<<: *x}\n")
    data, _ = load_yaml(path)
    assert data["a"] == data["b"] == {"k": [1, 2]}
    assert data["a"] is not data["b"] and data["a"]["k"] is not data["b"]["k"]
    data["a"]["k"].append(3)
    assert data["b"] == {"k": [1, 2]} and data["c"] == {"k": [1, 2]}


def test_apply_override_never_writes_through_a_shared_object():
    shared = {"period_s": 2.0, "inner": {"x": 1}}
    data = {"devices": [{"workload": shared}, {"workload": shared}]}
    apply_override(data, ["devices", "0", "workload", "inner", "x"], 5, "t")
    apply_override(data, ["devices", "0", "workload", "period_s"], 0.5, "t")
    assert data["devices"][0]["workload"] == {"period_s": 0.5, "inner": {"x": 5}}
    assert data["devices"][1]["workload"] == {"period_s": 2.0, "inner": {"x": 1}}
    assert shared == {"period_s": 2.0, "inner": {"x": 1}}


def test_override_value_is_a_fresh_copy():
    value = {"kind": "periodic", "period_s": 1.0}
    data = {"a": {}, "b": {}}
    apply_override(data, ["a", "w"], value, "t")
    apply_override(data, ["b", "w"], value, "t")
    data["a"]["w"]["period_s"] = 9.0
    assert data["b"]["w"]["period_s"] == 1.0 and value["period_s"] == 1.0


def test_sweep_grid_through_an_anchor_changes_one_group(tmp_path, COMPARE):
    from cosim.sweep.execute import load_sweep

    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"base: {COMPARE}\ngrid:\n  devices.1.workload.period_s: [0.5, 4.0]\n")
    runs = load_sweep(sweep).runs
    assert [r.scenario.devices[1].workload.period_s for r in runs] == [0.5, 4.0]
    for r in runs:
        assert {g.workload.period_s for i, g in enumerate(r.scenario.devices) if i != 1} == {2.0}


def test_no_list_item_names_the_length(COMPARE):
    with pytest.raises(ScenarioError, match="no list item 'devices.99' .the list has 4 items"):
        load_scenario(COMPARE, ["devices.99.count=3"])
