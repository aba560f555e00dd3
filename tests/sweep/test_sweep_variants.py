"""Sweeps over `compare:` variants: a `variant` path selects them; a base with variants is swept over all."""

from __future__ import annotations

import pytest
from sweep_fixtures import write_base, write_sweep

from cosim.errors import ScenarioError
from cosim.sweep.execute import load_sweep, run_sweep

COMPARE = [{"name": "sem"}, {"name": "int8", "set": {"devices.0.strategy": "split-int8"}},
           {"name": "drop", "set": {"devices.0.receiver_policy": "drop"}}]


def test_variants_times_grid_by_default(tmp_path):
    write_base(tmp_path, compare=COMPARE)
    sweep = load_sweep(write_sweep(tmp_path, "base: base.yaml\ngrid:\n  edge.0.max_batch: [8, 16]\n"))
    assert sweep.param_paths == ("edge.0.max_batch", "variant")
    assert len(sweep.runs) == 2 * 3
    for run in sweep.runs:
        p = dict(run.params)
        assert [v.name for v in run.scenario.compare] == [p["variant"]]
        (name, resolved), = run.scenario.variants()
        assert name == p["variant"] and resolved.edge[0].max_batch == p["edge.0.max_batch"]
        assert resolved.devices[0].strategy == ("split-int8" if name == "int8" else "semanticnn")
    assert len({r.key for r in sweep.runs}) == 6


def test_a_grid_over_chosen_variants(tmp_path):
    write_base(tmp_path, compare=COMPARE)
    sweep = load_sweep(write_sweep(tmp_path, "base: base.yaml\ngrid:\n  variant: [drop, sem]\n"))
    assert sweep.param_paths == ("variant",)
    assert sorted(dict(r.params)["variant"] for r in sweep.runs) == ["drop", "sem"]


@pytest.mark.parametrize("text, base_compare, message", [
    ("grid:\n  variant: [sem, nope]\n", COMPARE, r"sweep\.yaml:\d+: variant: no compare variant 'nope'"),
    ("grid:\n  variant: [sem]\n", None, r"variant: the base scenario has no compare: variants"),
])
def test_bad_variant_paths_are_named(tmp_path, text, base_compare, message):
    write_base(tmp_path, **({"compare": base_compare} if base_compare else {}))
    with pytest.raises(ScenarioError, match=message):
        load_sweep(write_sweep(tmp_path, "base: base.yaml\n" + text))


def test_a_variant_sweep_runs_and_tabulates_one_row_per_variant(tmp_path):
    write_base(tmp_path, compare=COMPARE[:2])
    sweep = load_sweep(write_sweep(tmp_path, "base: base.yaml\n"))
    res = run_sweep(sweep, tmp_path / "out", workers=0, figures=False)
    import pyarrow.parquet as pq

    table = pq.read_table(res.aggregate)
    assert sorted(table.column("variant").to_pylist()) == ["int8", "sem"]
    assert not [c for c in table.column_names if c.startswith("variants.")]
    bits = dict(zip(table.column("variant").to_pylist(), table.column("bits_on_air_per_inference.mean").to_pylist()))
    assert bits["int8"] > bits["sem"]
