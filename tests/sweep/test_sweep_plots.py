"""Sweep figures: the Pareto front, which parameters become lines, labels, and the figure gallery."""

from __future__ import annotations

from sweep_fixtures import FakeSimulate, write_base, write_sweep

from cosim.plots.sweep import _series_label, pareto_front, series_columns, short
from cosim.sweep.execute import load_sweep, run_sweep
from cosim.sweep.table import param_columns, points


def test_pareto_front_keeps_only_non_dominated_points():
    energy = [1.0, 2.0, 0.5, 3.0, 2.0, 0.5]
    accuracy = [0.8, 0.9, 0.6, 0.85, 0.95, 0.55]
    assert pareto_front(energy, accuracy) == [2, 0, 4]


def test_tied_parameters_do_not_split_lines(tmp_path):
    write_base(tmp_path)
    text = """
base: base.yaml
replications: 2
zip:
  - devices.0.count: [4, 40]
    duration_s: [8, 2]
  - devices.0.strategy: [semanticnn, raw, raw]
    devices.0.strategy_options: [{}, {}, {arq: false}]
"""
    sweep = load_sweep(write_sweep(tmp_path, text))
    out = tmp_path / "out"
    res = run_sweep(sweep, out, workers=0, simulate=FakeSimulate())
    import pyarrow.parquet as pq

    table = pq.read_table(out / "results.parquet")
    params = param_columns(table)
    pts = points(table, params, ["devices"])
    # fleet size on x: the group count and the zipped duration are x in disguise; options split raw
    cols = series_columns(pts, params, "devices", "devices.0.strategy")
    assert cols == ["devices.0.strategy", "devices.0.strategy_options"]
    assert series_columns(pts, params, "devices.0.count", None) == ["devices.0.strategy",
                                                                    "devices.0.strategy_options"]
    assert _series_label(("raw", '{"arq": false}'), cols) == "raw (arq=False)"
    assert _series_label(("raw", "{}"), cols) == "raw"
    assert (short("devices.0.count"), short("edge.0.channel.ber"), short("devices.0.strategy")) == (
        "devices", "BER", "strategy")
    assert sorted(p.name for p in res.figures) == ["fleet_accuracy.png", "fleet_edge_utilization.png",
                                                    "fleet_energy.png", "fleet_latency_p95.png",
                                                    "pareto_energy_accuracy.png"]


def test_strategy_only_sweep_plots_strategy_on_x(tmp_path):
    write_base(tmp_path)
    sweep = load_sweep(write_sweep(tmp_path, "base: base.yaml\ngrid:\n  devices.0.strategy: [semanticnn, raw]\n"))
    res = run_sweep(sweep, tmp_path / "out", workers=0, simulate=FakeSimulate())
    assert sorted(p.name for p in res.figures) == [
        "devices_0_strategy_accuracy.png", "devices_0_strategy_device_energy_mj_per_inference.png",
        "devices_0_strategy_latency_ms_p95.png", "pareto_energy_accuracy.png"]
