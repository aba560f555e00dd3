"""Figures of one run, sized for a two-column paper: latency ECDF, BER and accuracy over time, energy per
phase, per-device accuracy ECDF, accuracy and delivery against distance, a site map, and the series side
by side. Every figure reads right for 1 to 20 series (groups, or `compare:` variants).

`run_figures` writes them into a folder; `build_figures` returns them (name -> Figure) for the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cosim.plots.place import site_map, vs_distance
from cosim.plots.records import Records, load_records, metric_name, read_manifest
from cosim.plots.series import series_stats
from cosim.plots.style import (
    COLUMN_IN,
    DEFAULT_FORMAT,
    PAGE_IN,
    FigureFormat,
    legend_outside,
    linestyle,
    log_if_wide,
    new_figure,
    palette,
    paper_style,
    save,
    tidy_axis,
    width_for,
)
from cosim.plots.timeline import over_time

PHASE_LABELS = {"sense": "sensing", "compute": "on-device compute", "tx": "radio TX", "rx": "radio RX",
                "sleep": "sleep", "wake": "wake-up", "rx_window": "RX windows", "cca": "carrier sense",
                "setup": "radio set-up", "tail": "radio tail", "conn_events": "BLE connection events"}
# any other phase is labelled by its name with spaces (`foo_bar_mj` -> "foo bar")


def run_figures(packets: Path, summary: dict, groups=None, outdir: Path = Path("figures"),
                form: FigureFormat = DEFAULT_FORMAT, manifest: dict | None = None) -> list[Path]:
    """Write every figure of the run into `outdir` in `form`'s format; return the paths. The manifest
    (deadline, gateways, channels) is read from beside `packets` unless given; `groups` is unused (the
    summary names the groups) and kept for callers passing the run's GroupFacts."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(Path(packets).parent) if manifest is None else manifest
    rec = load_records(Path(packets), summary, manifest)
    paths = []
    with paper_style():
        for name, build in figure_builders(rec, summary, manifest):
            paths.append(save(build(), outdir / name, form))
    return paths


def build_figures(packets: Path, summary: dict, manifest: dict) -> list[tuple[str, Callable[[], Figure]]]:
    """(file stem, builder) of every figure of a run, for callers that encode figures themselves;
    call the builders inside `paper_style()`."""
    return figure_builders(load_records(Path(packets), summary, manifest), summary, manifest)


def figure_builders(rec: Records, summary: dict, manifest: dict) -> list[tuple[str, Callable[[], Figure]]]:
    """The figures that apply to this run: distance and site map only where positions are recorded,
    the comparison only with several series."""
    out = [
        ("latency_cdf", lambda: latency_ecdf(rec)),
        ("ber_accuracy_over_time", lambda: over_time(rec, manifest)),
        ("energy_breakdown", lambda: energy_by_phase(rec, summary)),
        ("device_accuracy", lambda: device_accuracy(rec, summary)),
    ]
    if "distance_m" in rec.position:
        out.append(("accuracy_vs_distance", lambda: vs_distance(rec)))
    if "x_m" in rec.position and "y_m" in rec.position:
        out.append(("site_map", lambda: site_map(rec, manifest)))
    if len(rec.names) > 1:
        out.append(("group_comparison", lambda: comparison(rec, summary)))
    return out


def _summary_metric(rec: Records, summary: dict) -> str:
    if rec.detection:
        v = summary.get("map50")
        return f"run mAP@0.5 = {v:.3f}" if v is not None else "run mAP@0.5 = n/a"
    v = summary.get("accuracy")
    return f"run accuracy = {v:.3f}" if v is not None else ""


ECDF_POINTS = 4000  # steps drawn per curve: finer than a printed figure resolves, small as a vector


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ECDF_POINTS evenly spaced steps of a sorted curve (first and last kept)."""
    if len(x) <= ECDF_POINTS:
        return x, y
    idx = np.unique(np.linspace(0, len(x) - 1, ECDF_POINTS).astype(int))
    return x[idx], y[idx]


def _time_unit(values_s: np.ndarray) -> tuple[float, str]:
    finite = values_s[np.isfinite(values_s)]
    return (1.0, "s") if len(finite) and finite.max() >= 10.0 else (1000.0, "ms")


def latency_ecdf(rec: Records) -> Figure:
    """ECDF of end-to-end latency over all sensed inferences (lost ones never arrive, so a curve ends at
    the delivered fraction), the deadline marked, lost and late shares in the legend."""
    n = len(rec.names)
    fig, ax = new_figure(width_for(n), 2.2)
    scale, unit = _time_unit(rec.latency_s)
    colours = palette(len(rec.names))
    all_lat = []
    for i, name in enumerate(rec.names):
        m = rec.series == i
        total = int(m.sum())
        lat = np.sort(rec.latency_s[m][np.isfinite(rec.latency_s[m])]) * scale
        lost = 1.0 - rec.delivered[m].sum() / total if total else 0.0
        late = (rec.delivered[m] & ~rec.on_time[m]).sum() / total if total else 0.0
        label = f"{name} (lost {lost:.1%}, late {late:.1%})"
        if len(lat):
            xs, y = _thin(lat, np.arange(1, len(lat) + 1) / total)
            ax.step(np.r_[xs[0], xs], np.r_[0.0, y], where="post", color=colours[i],
                    ls=linestyle(i, n), label=label)
            all_lat.append(lat)
        else:
            ax.plot([], [], color=colours[i], label=label + ", none delivered")
    lat_all = np.concatenate(all_lat) if all_lat else np.empty(0)
    deadline = rec.deadline_s * scale
    if math.isfinite(deadline):
        ax.axvline(deadline, color="k", ls="--", lw=0.9, label=f"deadline {_num(deadline)} {unit}")
        lat_all = np.r_[lat_all, deadline]
    ax.set_xscale(log_if_wide(lat_all))
    tidy_axis(ax, "x")
    tidy_axis(ax, "y")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"end-to-end latency ({unit})")
    ax.set_ylabel("fraction of sensed inferences")
    ax.set_title("Latency ECDF (a curve ends at its delivered share)")
    legend_outside(fig, ax)
    return fig


def _num(v: float) -> str:
    return f"{int(v):,}" if v >= 1000 and v == int(v) else f"{v:.3g}"


def energy_by_phase(rec: Records, summary: dict) -> Figure:
    """Device energy per inference, one stacked horizontal bar per series, one segment per phase (every
    `*_mj` column and the summary's phases such as sleep); values from the summary where it has them."""
    from cosim.plots.series import summary_entry

    n = len(rec.names)
    phases: list[str] = []
    for name in rec.names:
        phases += [p for p in (summary_entry(summary, name) or {}).get("device_energy_mj_by_phase", {})
                   if p not in phases]
    phases += [p for p in rec.energy_mj if p not in phases]
    values = np.zeros((n, len(phases)))
    for i, name in enumerate(rec.names):
        by_phase = (summary_entry(summary, name) or {}).get("device_energy_mj_by_phase", {})
        m = rec.series == i
        for j, p in enumerate(phases):
            v = by_phase.get(p)
            if v is None and p in rec.energy_mj and m.any():
                v = float(rec.energy_mj[p][m].mean())
            values[i, j] = v or 0.0
    keep = values.sum(axis=0) > 0
    phases = [p for p, k in zip(phases, keep) if k]
    values = values[:, keep]
    fig, ax = new_figure(COLUMN_IN if n <= 6 else PAGE_IN, 1.2 + 0.2 * n)
    y = np.arange(n)
    left = np.zeros(n)
    for j, (p, c) in enumerate(zip(phases, palette(len(phases)))):
        ax.barh(y, values[:, j], left=left, color=c, label=PHASE_LABELS.get(p, p.replace("_", " ")),
                height=0.7)
        left += values[:, j]
    for yi, total in zip(y, left):
        ax.annotate(_num(total), (total, yi), xytext=(2, 0), textcoords="offset points", va="center", fontsize=6)
    ax.set_yticks(y, list(rec.names))
    ax.invert_yaxis()
    ax.margins(x=0.12)
    ax.set_axisbelow(True)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
    tidy_axis(ax, "x")
    ax.set_xlabel("device energy per inference (mJ)")
    ax.set_title("Energy per inference by phase")
    legend_outside(fig, ax)
    return fig


def per_device(rec: Records, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(per-device score, per-device trials) of series `i`: hits / trials of each device's inferences."""
    m = rec.series == i
    ids, inv = np.unique(rec.device[m], return_inverse=True)
    hits = np.bincount(inv, weights=rec.hits[m], minlength=len(ids))
    trials = np.bincount(inv, weights=rec.trials[m], minlength=len(ids))
    keep = trials > 0
    return hits[keep] / trials[keep], trials[keep]


def device_accuracy(rec: Records, summary: dict) -> Figure:
    """ECDF of per-device accuracy with the summary's definition (lost or late = wrong), each device
    weighted by its inferences, so the ECDF's mean is the summary's accuracy (box recall for detection)."""
    n = len(rec.names)
    fig, ax = new_figure(width_for(n), 2.2)
    colours = palette(len(rec.names))
    for i, name in enumerate(rec.names):
        score, weight = per_device(rec, i)
        if not len(score):
            continue
        order = np.argsort(score, kind="stable")
        x, cum = score[order], np.cumsum(weight[order]) / weight.sum()
        mean = float((score * weight).sum() / weight.sum())
        ax.step(np.r_[x[0], x], np.r_[0.0, cum], where="post", color=colours[i], ls=linestyle(i, n),
                label=f"{name} (mean {mean:.3f}, {len(score)} devices)")
        if n <= 4:
            ax.axvline(mean, color=colours[i], lw=0.7, ls=":")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.02)
    tidy_axis(ax, "x")
    tidy_axis(ax, "y")
    what = metric_name(rec)
    ax.set_xlabel(f"per-device {what} (lost or late = wrong)")
    ax.set_ylabel("fraction of inferences\n(devices weighted)")
    ax.set_title(f"Per-device {what}; {_summary_metric(rec, summary)}")
    legend_outside(fig, ax)
    return fig


COMPARED: Sequence[tuple[str, str]] = (
    ("metric", ""),  # label filled in from the task
    ("p95_ms", "p95 latency (ms)"),
    ("energy_mj", "energy / inference (mJ)"),
    ("battery_days", "battery life (days)"),
)


def comparison(rec: Records, summary: dict) -> Figure:
    """One horizontal bar panel per headline metric, one bar per series; accuracy with its 95 % Wilson
    interval (detection: mAP@0.5 from the summary)."""
    stats = series_stats(rec, summary)
    n = len(stats)
    fig, axes = new_figure(PAGE_IN, 1.0 + 0.2 * n, 1, len(COMPARED), sharey=True)
    y = np.arange(n)
    colours = palette(len(rec.names))
    for ax, (key, label) in zip(axes, COMPARED):
        vals = np.array([np.nan if getattr(s, key) is None else getattr(s, key) for s in stats], dtype=float)
        ax.barh(y, np.nan_to_num(vals), color=colours, height=0.7)
        if key == "metric" and not rec.detection:
            lo = np.array([np.nan if s.metric_lo is None else s.metric_lo for s in stats])
            hi = np.array([np.nan if s.metric_hi is None else s.metric_hi for s in stats])
            ax.errorbar(vals, y, xerr=[vals - lo, hi - vals], fmt="none", ecolor="k", capsize=2, lw=0.8)
            label = "accuracy (95 % Wilson)"
        elif key == "metric":
            label = "mAP@0.5"
        for yi, v in zip(y, vals):
            if np.isfinite(v):
                ax.annotate(f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}", (v, yi), xytext=(2, 0),
                            textcoords="offset points", va="center", fontsize=6)
        ax.set_xlabel(label)
        ax.margins(x=0.3)
        ax.grid(False, axis="y")
        tidy_axis(ax, "x", nbins=3)  # narrow panels: three ticks never collide
    axes[0].set_yticks(y, [s.name for s in stats])
    axes[0].invert_yaxis()
    fig.suptitle("Variants side by side" if len(summary.get("variants") or {}) > 1 else "Groups side by side")
    return fig

