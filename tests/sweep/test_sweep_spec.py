"""Sweep files: grid and zip expansion, replication seeds, run keys, and errors naming file and field."""

from __future__ import annotations

import pytest
from sweep_fixtures import write_base, write_sweep

from cosim.config.scenario import load_scenario
from cosim.config.yamlio import parse_override
from cosim.errors import ScenarioError
from cosim.sweep.execute import load_sweep, override_text, replication_seed, run_key

GRID = """
base: base.yaml
grid:
  devices.0.count: [4, 8]
  devices.0.strategy: [semanticnn, raw, local]
zip:
  edge.0.max_batch: [8, 16]
  edge.0.max_wait_ms: [1.0, 2.5]
replications: 3
"""


def test_grid_times_zip_times_replications(tmp_path):
    write_base(tmp_path)
    sweep = load_sweep(write_sweep(tmp_path, GRID))
    assert sweep.param_paths == ("devices.0.count", "devices.0.strategy", "edge.0.max_batch", "edge.0.max_wait_ms")
    assert len(sweep.points) == 2 * 3 * 2
    assert len(sweep.runs) == 2 * 3 * 2 * 3
    zipped = {(dict(p)["edge.0.max_batch"], dict(p)["edge.0.max_wait_ms"]) for p in sweep.points}
    assert zipped == {(8, 1.0), (16, 2.5)}  # advance together, never crossed
    run = next(r for r in sweep.runs if dict(r.params) == {
        "devices.0.count": 8, "devices.0.strategy": "local", "edge.0.max_batch": 16, "edge.0.max_wait_ms": 2.5})
    assert run.scenario.devices[0].count == 8
    assert run.scenario.devices[0].strategy == "local"
    assert run.scenario.edge[0].max_wait_ms == 2.5
    assert run.scenario.seed == run.seed


def test_replication_seeds_derive_from_base_seed(tmp_path):
    write_base(tmp_path)
    sweep = load_sweep(write_sweep(tmp_path, GRID))
    assert sweep.seeds == tuple(replication_seed(3, r) for r in range(3))
    assert len(set(sweep.seeds)) == 3 and all(0 <= s < 2**63 for s in sweep.seeds)
    for run in sweep.runs:  # the same seeds at every point: common random numbers across points
        assert run.seed == sweep.seeds[run.replication]
    write_base(tmp_path, seed=4)
    assert load_sweep(write_sweep(tmp_path, GRID)).seeds != sweep.seeds
    explicit = load_sweep(write_sweep(tmp_path, GRID + "seed: 3\n"))
    assert explicit.seeds == sweep.seeds


def test_keys_are_stable_and_match_the_resolved_scenario(tmp_path):
    base = write_base(tmp_path)
    path = write_sweep(tmp_path, GRID)
    a, b = load_sweep(path), load_sweep(path)
    assert [r.key for r in a.runs] == [r.key for r in b.runs]
    assert len({r.key for r in a.runs}) == len(a.runs)
    run = a.runs[5]
    texts = [override_text(p, v) for p, v in run.params]
    assert run.key == run_key(load_scenario(base, texts, run.seed))
    assert all(len(r.key) == 64 for r in a.runs)


def test_duplicate_scenarios_run_once(tmp_path):
    write_base(tmp_path)
    sweep = load_sweep(write_sweep(tmp_path, "base: base.yaml\ngrid:\n  devices.0.count: [4, 4, 5]\n"))
    assert len(sweep.runs) == 3
    assert len(sweep.unique_keys) == 2


def test_set_applies_fixed_overrides_before_the_grid(tmp_path):
    write_base(tmp_path)
    text = """
base: base.yaml
set:
  duration_s: 2.5
  edge.0.channel: {kind: constant, ber: 0.0}
grid:
  edge.0.channel.ber: [0.0, 1.0e-5, 0.1]
"""
    sweep = load_sweep(write_sweep(tmp_path, text))
    bers = [r.scenario.edge[0].channel.ber for r in sweep.runs]
    assert bers == [0.0, 1e-5, 0.1]
    assert {r.scenario.duration_s for r in sweep.runs} == {2.5}
    as_list = load_sweep(write_sweep(tmp_path, text.replace(
        "  duration_s: 2.5\n  edge.0.channel: {kind: constant, ber: 0.0}",
        '  - "duration_s=2.5"\n  - "edge.0.channel={kind: constant, ber: 0.0}"')))
    assert [r.key for r in as_list.runs] == [r.key for r in sweep.runs]


@pytest.mark.parametrize("value", [1e-5, 0.1, 3, "semanticnn", "1e-3", True, None, {"kind": "constant", "ber": 1e-4},
                                   [1, 2.5]])
def test_override_text_round_trips(value):
    assert parse_override(override_text("a.b", value))[1] == value


@pytest.mark.parametrize("text, expect", [
    ("base: base.yaml\ngrid:\n  devices.0.count: [4]\nbogus: 1\n", r"sweep\.yaml:4: bogus: Extra inputs"),
    ("base: base.yaml\ngrid:\n  devices.0.count: 4\n", r"sweep\.yaml:3: grid\.devices\.0\.count: Input should be a valid list"),
    ("base: base.yaml\ngrid:\n  devices.0.count: []\n", r"sweep\.yaml:3: grid\.devices\.0\.count: empty list"),
    ("base: base.yaml\nzip:\n  devices.0.count: [4, 5]\n  edge.0.workers: [1]\n", r"sweep\.yaml:2: zip: lists must have equal"),
    ("base: base.yaml\ngrid:\n  seed: [1, 2]\n", r"sweep\.yaml:3: grid\.seed: is reserved, use 'replications'"),
    ("base: base.yaml\ngrid:\n  devices.0.count: [4, 0]\n",
     r"sweep\.yaml:3: run devices\.0\.count=0: .*base\.yaml.*devices\.0\.count"),
    ("base: base.yaml\ngrid:\n  devices.3.count: [4]\n", r"sweep\.yaml:3: run devices\.3\.count=4: .*no list item"),
    ("base: nowhere.yaml\n", r"sweep\.yaml:1: base: no scenario file"),
    ("base: base.yaml\nreplications: 0\n", r"sweep\.yaml:2: replications: Input should be greater than or equal to 1"),
    ("base: base.yaml\nset: {duration_s: 1}\ngrid:\n  duration_s: [1, 2]\n", r"sweep\.yaml:2: set\.duration_s: .*also varied"),
    ("- a\n- b\n", r"sweep\.yaml: expected a mapping"),
    ("base: [unclosed\n", r"sweep\.yaml:2: invalid YAML"),
])
def test_bad_sweep_files_name_file_line_and_field(tmp_path, text, expect):
    write_base(tmp_path)
    with pytest.raises(ScenarioError, match=expect):
        load_sweep(write_sweep(tmp_path, text))


def test_runs_carry_the_scenario_with_its_set_fields(tmp_path):
    """Workers get the Scenario object, not a dump: strategies tell options a user set from defaults."""
    write_base(tmp_path)
    text = ("base: base.yaml\nzip:\n  devices.0.strategy: [semanticnn, adaptive]\n"
            "  devices.0.strategy_options: [{}, {accuracy_target: 0.85}]\n")
    runs = load_sweep(write_sweep(tmp_path, text)).runs
    assert runs[0].scenario.devices[0].strategy_options.model_fields_set == set()
    assert runs[1].scenario.devices[0].strategy_options.model_fields_set == {"accuracy_target"}
