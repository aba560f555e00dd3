"""Sweep figures: proportion intervals inside [0, 1], categorical x as points, legend titles, units, and
seconds instead of 1e6 ms."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from figure_checks import problems
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.plots import sweep as sp
from cosim.plots.intervals import wilson
from cosim.sweep.table import points, results_table

STRATEGY = "devices.0.strategy"
OPTIONS = "devices.0.strategy_options"


def _table(accuracies: dict, inferences: int = 40, p95_ms: float = 20.0, params=(STRATEGY, OPTIONS)):
    """A results table: per (strategy, options) the accuracy of each replication."""
    records = []
    for (strategy, options), accs in accuracies.items():
        for r, acc in enumerate(accs):
            summary = {"inferences": inferences, "delivered": inferences, "accuracy": acc,
                       "latency_ms": {"p95": p95_ms * (1 + 0.1 * r)}, "device_energy_mj_per_inference": 1.0 + r,
                       "edge_utilization": {"gateway": 0.5}}
            records.append({"params": {STRATEGY: strategy, OPTIONS: options}, "replication": r, "seed": r,
                            "status": "ok", "key": f"{strategy}{options}{r}", "summary": summary})
    return results_table(list(params), records)


def test_wilson_matches_hand_worked_values():
    lo, hi = wilson(0, 10)
    assert (float(lo), round(float(hi), 4)) == (0.0, 0.2775)
    lo, hi = wilson(5, 10)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.2366, 0.7634)
    assert np.isnan(wilson(0, 0)[0])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_wilson_bounds_within_unit_interval(k, n):
    k = min(k, n)
    lo, hi = wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_sweep_intervals_of_a_proportion_stay_in_unit_interval():
    """Two replications at 0.99 and 0.85: the Student-t half-width (12.7 × s/√2) ran to 1.8; the
    Wilson interval with the design effect stays inside [0, 1] and still widens for the spread."""
    table = _table({("semanticnn", "{}"): [0.99, 0.85], ("raw", "{}"): [1.0, 1.0], ("local", "{}"): [0.0, 0.0]})
    params = [STRATEGY, OPTIONS]
    pooled = sp.pooled_counts(table, params, "accuracy")
    pts = {dict(p.params)[STRATEGY]: p for p in points(table, params, ["accuracy", "inferences"])}
    assert pts["semanticnn"].stats["accuracy"].mean + pts["semanticnn"].stats["accuracy"].ci95 > 1.0
    for name, pt in pts.items():
        mean, lo, hi = sp.interval(pt, "accuracy", pooled)
        assert 0.0 <= lo <= mean <= hi <= 1.0, name
    _, lo, hi = sp.interval(pts["semanticnn"], "accuracy", pooled)
    w_lo, w_hi = wilson(0.92 * 80, 80)  # the plain pooled interval, without the spread between seeds
    assert lo < w_lo and hi > w_hi
    _, lo, hi = sp.interval(pts["raw"], "accuracy", pooled)
    assert hi == 1.0 and lo > 0.9  # all right: a one-sided interval below 1, not a zero-width bar


def test_categorical_x_is_points_with_a_titled_legend(tmp_path):
    """Strategies on x are not joined by lines; `--hue` on options gets a title and no ", strategy=…"."""
    table = _table({("semanticnn", "{}"): [0.9, 0.92], ("semanticnn", '{"arq": true}'): [0.95, 0.96],
                    ("raw", "{}"): [0.5, 0.55], ("local", "{}"): [0.99, 0.99]})
    out = sp.plot_xy(table, "strategy", "accuracy", tmp_path / "a.png", hue="strategy_options")
    assert out.is_file()
    fig = _last_figure(table, "strategy", "accuracy", hue="strategy_options")
    ax = fig.axes[0]
    assert all(ln.get_linestyle() == "None" for ln in ax.get_lines() if len(ln.get_xdata()) > 1)
    legend = fig.legends[0]
    assert legend.get_title().get_text() == "strategy_options"
    assert [t.get_text() for t in legend.get_texts()] == ["default", "arq=True"]
    assert problems(fig) == []
    plt.close(fig)
    assert sp.series_label(("{}", "local"), [OPTIONS, STRATEGY]) == "strategy=local"


def _last_figure(table, x, y, **kw):
    """Draw with plot_xy but keep the figure open (save is patched to hand it back)."""
    figs = []
    orig = sp.save
    sp.save = lambda fig, path, form: figs.append(fig) or path
    try:
        sp.plot_xy(table, x, y, "unused.png", **kw)
    finally:
        sp.save = orig
    return figs[0]


def test_long_latencies_are_drawn_in_seconds():
    """A saturated fleet's p95 of 1e6 ms is drawn as 1000 s, with the unit in the label."""
    table = _table({("semanticnn", "{}"): [0.9, 0.9], ("raw", "{}"): [0.5, 0.5]}, p95_ms=1.2e6)
    fig = _last_figure(table, "strategy", "latency_ms.p95")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "p95 latency (s)"
    means = np.concatenate([c.lines[0].get_ydata() for c in ax.containers])
    assert sorted(means) == pytest.approx([1.26e3, 1.26e3])
    assert problems(fig) == []
    plt.close(fig)


@pytest.mark.parametrize("column", ["accuracy", "latency_ms.p95", "latency_ms.p50", "device_energy_mj_per_inference",
                                    "device_avg_power_mw", "battery_life_days", "bits_on_air_per_inference",
                                    "edge_utilization.gateway", "edge_energy_j.gateway", "sim_time_s",
                                    "groups.sensors.latency_ms.p95", "wake_mj", "queue_wait_s.p95"])
def test_axis_labels_carry_units(column):
    text = sp.label(column)
    assert "(" in text and text.endswith(")"), text


def test_pareto_and_gallery_are_readable(tmp_path):
    table = _table({(s, "{}"): [0.5 + 0.1 * i, 0.52 + 0.1 * i] for i, s in enumerate(["a", "b", "c", "d", "e", "f"])})
    path = sp.pareto_figure(table, tmp_path / "p.svg", hue=STRATEGY, form=sp.FigureFormat("svg"))
    assert path.suffix == ".svg" and path.read_text().lstrip().startswith("<?xml")
