"""Per-run figures: readable for 1 to 20 series, consistent with the summary, every frame attempt counted,
detection labelled mAP; old (-1 sentinels, int codes) and tidy (nulls, names) packets both read."""

from __future__ import annotations

import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from figure_checks import problems
from synthetic_runs import DEADLINE_S, write_run

from cosim.plots import run as run_plots
from cosim.plots.records import load_records, read_manifest
from cosim.plots.series import series_stats
from cosim.plots.style import FigureFormat, paper_style

CASES = {
    "1 group": {"groups": 1},
    "4 groups": {"groups": 4},
    "13 groups": {"groups": 13, "devices_per_group": 4},
    "13 long names": {"groups": 13, "devices_per_group": 3, "prefix": "semanticnn-berunaware-header-arq"},
    "20 groups, old form": {"groups": 20, "devices_per_group": 3, "tidy": False},
    "3 variants": {"groups": 1, "variants": ("semanticnn", "raw-arq", "jpeg")},
    "2 variants x 2 groups": {"groups": 2, "variants": ("a", "b")},
    "detection": {"groups": 2, "detection": True},
}


def _load(folder):
    summary = json.loads((folder / "summary.json").read_text())
    manifest = read_manifest(folder)
    return load_records(folder / "packets.parquet", summary, manifest), summary, manifest


@pytest.fixture(scope="module", params=list(CASES))
def case(request, tmp_path_factory):
    folder = write_run(tmp_path_factory.mktemp("run"), **CASES[request.param])
    return (request.param, *_load(folder))


def test_every_figure_is_readable(case):
    """Unique, non-overlapping tick labels; no text cut off; legends inside the figure, off the data."""
    name, rec, summary, manifest = case
    with paper_style():
        builders = run_plots.figure_builders(rec, summary, manifest)
        assert {"latency_cdf", "ber_accuracy_over_time", "energy_breakdown", "device_accuracy"} <= {
            b for b, _ in builders}
        for fig_name, build in builders:
            fig = build()
            found = problems(fig)
            plt.close(fig)
            assert found == [], f"{name}: {fig_name}"


def test_series_are_groups_or_variants(tmp_path):
    rec, summary, _ = _load(write_run(tmp_path / "v", groups=2, variants=("b", "a")))
    assert rec.names == ("b / group-00", "b / group-01", "a / group-00", "a / group-01")  # compare: order
    stats = series_stats(rec, summary)  # each series' numbers from its variant's summary entry
    assert [s.energy_mj for s in stats] == [0.2, 0.2, 0.3, 0.3]
    with paper_style():
        assert run_plots.comparison(rec, summary)._suptitle.get_text() == "Variants side by side"
    rec, summary, _ = _load(write_run(tmp_path / "v1", groups=1, variants=("x", "y")))
    assert rec.names == ("x", "y") and [s.energy_mj for s in series_stats(rec, summary)] == [0.2, 0.3]
    rec, _, _ = _load(write_run(tmp_path / "g", groups=3, tidy=False))
    assert rec.names == ("group-00", "group-01", "group-02")  # int codes named by the summary's order


@pytest.mark.parametrize("tidy", [True, False])
def test_device_ecdf_mean_equals_summary_accuracy(tmp_path, tidy):
    """The per-device figure weights each device by its inferences: its mean is the summary's accuracy
    (lost or late count as wrong), in both packets forms."""
    rec, summary, _ = _load(write_run(tmp_path, groups=3, tidy=tidy))
    with paper_style():
        fig = run_plots.device_accuracy(rec, summary)
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 3
    for line, name in zip(lines, summary["groups"]):
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        mean = float((x[1:] * np.diff(y)).sum())  # each step's height is that device's weight
        assert mean == pytest.approx(summary["groups"][name]["accuracy"], abs=1e-12)


def test_device_figure_on_a_real_run_matches_the_summary(tmp_path):
    """The engine's own summary (not a synthetic one) against the figure: lost inferences count as wrong
    (the old figure ignored them; the synthetic runs above also have late ones)."""
    from cosim.config.scenario import Scenario
    from cosim.engine.run import run_scenario

    data = {
        "name": "tiny", "seed": 3, "duration_s": 6, "dataset": "digits", "codec": "builtin:digits",
        "deadline_ms": 1000,
        "devices": [{"name": "sensors", "count": 6, "board": "stm32l476", "radio": "ble-1m",
                     "strategy": "semanticnn", "workload": {"kind": "periodic", "period_s": 0.5,
                                                            "jitter_s": 0.1},
                     "placement": {"kind": "fixed", "distance_m": 5}}],
        "edge": [{"name": "gateway", "profile": "rpi5", "workers": 1, "max_batch": 16, "max_wait_ms": 5,
                  "medium": {"kind": "dedicated"}, "channel": {"kind": "constant", "ber": 0.003}}],
    }
    result = run_scenario(Scenario.model_validate(data), tmp_path / "out")
    rec, summary, _ = _load(tmp_path / "out")
    assert 0 < summary["accuracy"] < summary["delivered_accuracy"]
    score, weight = run_plots.per_device(rec, 0)
    assert float((score * weight).sum() / weight.sum()) == pytest.approx(result.summary["accuracy"], abs=1e-12)
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == [
        "ber_accuracy_over_time.png", "device_accuracy.png", "energy_breakdown.png", "latency_cdf.png"]


def test_ber_over_time_counts_lost_inferences(tmp_path):
    """Bad-state frames are mostly lost; the BER panel still shows the bad-state BER (1e-2) because it
    averages every frame attempt, not only delivered ones, and marks both Gilbert-Elliott levels."""
    rec, _, manifest = _load(write_run(tmp_path, groups=1))
    bad = rec.ber > 1e-3
    assert (~rec.delivered[bad]).mean() > 0.5
    with paper_style():
        fig = run_plots.over_time(rec, manifest)
    ax = fig.axes[0]
    series = next(ln for ln in ax.get_lines() if ln.get_label() == "group-00")
    assert np.nanmax(series.get_ydata()) == pytest.approx(1e-2)
    assert {"Gilbert-Elliott good state", "Gilbert-Elliott bad state"} <= {ln.get_label() for ln in ax.get_lines()}
    share = fig.axes[1]  # one Gilbert-Elliott configuration: the share of inferences in the bad state
    assert share.get_ylabel() == "share in\nbad state"
    y = share.get_lines()[0].get_ydata()
    assert set(np.round(y[np.isfinite(y)], 6)) == {0.0, 1.0}  # the synthetic bad spells: whole bins
    assert "2 s bin" in fig.axes[2].get_ylabel()  # the bin width is in the label
    assert "Wilson" in fig.axes[2].get_xlabel()


def test_latency_ecdf_marks_deadline_and_lost_and_late(tmp_path):
    rec, summary, _ = _load(write_run(tmp_path, groups=2))
    with paper_style():
        fig = run_plots.latency_ecdf(rec)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"deadline {DEADLINE_S * 1000:g} ms" in labels
    g = summary["groups"]["group-00"]
    lost = 1 - g["delivered"] / g["inferences"]
    assert any(t.startswith(f"group-00 (lost {lost:.1%}, late ") for t in labels)
    # curves end at the delivered fraction, not at 1
    top = max(np.max(ln.get_ydata()) for ln in fig.axes[0].get_lines() if ln.get_label().startswith("group-00"))
    assert top == pytest.approx(g["delivered"] / g["inferences"])


def test_narrow_latency_range_has_distinct_ticks(tmp_path):
    """lora-farm: every latency within 0.3 % of 721 ms printed `7.21094×10²` over itself on a log axis."""
    rec, _, _ = _load(write_run(tmp_path, groups=1))
    narrow = rec.latency_s.copy()
    narrow[np.isfinite(narrow)] = 0.72109 + np.linspace(0, 0.002, int(np.isfinite(narrow).sum()))
    rec = type(rec)(**{**rec.__dict__, "latency_s": narrow, "deadline_s": 0.7225})
    with paper_style():
        fig = run_plots.latency_ecdf(rec)
    assert problems(fig) == []
    assert fig.axes[0].get_xscale() == "linear"


def test_energy_phases_are_generic(tmp_path):
    """A new `wake_mj` column becomes a segment without code changes; sleep comes from the summary."""
    rec, summary, _ = _load(write_run(tmp_path, groups=2))
    assert "wake" in rec.energy_mj
    with paper_style():
        fig = run_plots.energy_by_phase(rec, summary)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["sensing", "on-device compute", "radio TX", "sleep", "wake-up"]  # rx is 0: left out


def test_detection_figures_say_map(tmp_path):
    rec, summary, _ = _load(write_run(tmp_path, groups=2, detection=True))
    with paper_style():
        comp = run_plots.comparison(rec, summary)
        dev = run_plots.device_accuracy(rec, summary)
    assert comp.axes[0].get_xlabel() == "mAP@0.5"
    assert "mAP@0.5 = 0.610" in dev.axes[0].get_title()
    assert "accuracy" not in dev.axes[0].get_xlabel()  # the per-device score is box recall, said so


def test_distance_and_site_map_when_positions_are_recorded(tmp_path):
    rec, summary, manifest = _load(write_run(tmp_path / "p", groups=2))
    names = [n for n, _ in run_plots.figure_builders(rec, summary, manifest)]
    assert "accuracy_vs_distance" in names and "site_map" in names
    with paper_style():
        fig = run_plots.site_map(rec, manifest)
    gw = [c for c in fig.axes[0].collections if c.get_label() == "gateway"]
    assert len(gw) == 1
    assert [t.get_text() for t in fig.axes[0].texts] == ["gw-a", "gw-b"]
    rec, summary, manifest = _load(write_run(tmp_path / "n", groups=2, positions=False))
    names = [n for n, _ in run_plots.figure_builders(rec, summary, manifest)]
    assert "accuracy_vs_distance" not in names and "site_map" not in names


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_formats(tmp_path, fmt, magic):
    folder = write_run(tmp_path, groups=2)
    summary = json.loads((folder / "summary.json").read_text())
    paths = run_plots.run_figures(folder / "packets.parquet", summary, None, tmp_path / "figs",
                                  FigureFormat(fmt, 100))
    assert paths and all(p.suffix == "." + fmt and p.read_bytes()[:len(magic)] == magic for p in paths)


def test_bad_format_is_a_user_error():
    from cosim.errors import CosimError

    with pytest.raises(CosimError, match="--format 'jpg'"):
        FigureFormat("jpg")
    with pytest.raises(CosimError, match="--dpi"):
        FigureFormat("png", 5)
    assert math.isfinite(FigureFormat().dpi)


@pytest.mark.parametrize("tidy", [True, False])
def test_a_run_without_inferences_still_gets_its_figures(tmp_path, tidy):
    import pyarrow.parquet as pq

    folder = write_run(tmp_path / "run", groups=2, tidy=tidy)
    pq.write_table(pq.read_table(folder / "packets.parquet").slice(0, 0), folder / "packets.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    paths = run_plots.run_figures(folder / "packets.parquet", summary, None, tmp_path / "figs")
    assert [p.name for p in paths] == ["latency_cdf.png", "ber_accuracy_over_time.png", "energy_breakdown.png",
                                       "device_accuracy.png"]


def test_distinct_formatter_adds_digits_until_labels_differ():
    from cosim.plots.style import DistinctFormatter

    fmt = DistinctFormatter()
    assert fmt.format_ticks([721.09, 721.10, 721.11]) == ["721.09", "721.1", "721.11"]
    assert fmt.format_ticks([0, 0.5, 1]) == ["0", "0.5", "1"]
    assert fmt.format_ticks([1e6, 2e6]) == ["$10^{6}$", "$2\\times10^{6}$"]
