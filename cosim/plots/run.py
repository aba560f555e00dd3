"""Figures of one run, sized for a two-column paper: latency ECDF, BER and accuracy over time, energy per
phase, per-device accuracy ECDF, accuracy and delivery against distance, a site map, and the series side
by side. Every figure reads right for 1 to 20 series (groups, or `compare:` variants).

`run_figures` writes them into a folder; `build_figures` returns them (name -> Figure) for the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cosim.plots.intervals import wilson
from cosim.plots.records import Records, load_records, read_manifest
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

PHASE_LABELS = {"sense": "sensing", "compute": "on-device compute", "tx": "radio TX", "rx": "radio RX",
                "sleep": "sleep"}


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


def metric_name(rec: Records) -> str:
    """What a record-level score means: accuracy, or box recall for detection (mAP needs detections)."""
    return "box recall@0.5" if rec.detection else "accuracy"


def _summary_metric(rec: Records, summary: dict) -> str:
    if rec.detection:
        v = summary.get("map50")
        return f"run mAP@0.5 = {v:.3f}" if v is not None else "run mAP@0.5 = n/a"
    v = summary.get("accuracy")
    return f"run accuracy = {v:.3f}" if v is not None else ""


def _colours(rec: Records) -> list:
    return palette(len(rec.names))


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
    colours = _colours(rec)
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


def nice_width(span: float, bins: int = 40) -> float:
    """A round bin width (1, 2, 2.5 or 5 × 10^k) giving about `bins` bins over `span`."""
    raw = max(span, 1e-9) / bins
    mag = 10 ** math.floor(math.log10(raw))
    return next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)


def gilbert_elliott_channels(manifest: dict) -> list[dict]:
    """The Gilbert-Elliott channel configs of the scenario (edges and per-group overrides)."""
    scenario = manifest.get("scenario", {})
    chans = [e.get("channel") for e in scenario.get("edge", [])]
    chans += [g.get("channel") for g in scenario.get("devices", [])]
    return [c for c in chans if isinstance(c, dict) and c.get("kind") == "gilbert-elliott"]


HEATMAP_FROM = 7  # series from which over-time lines would tangle: one heat-map row per series instead
WIDE_INTERVAL = 0.25  # heat-map cells whose 95 % Wilson interval is wider than this get a dot


@dataclass(frozen=True)
class Binned:
    """Per series (rows) and time bin (columns): mean BER over frame attempts, share of inferences in the
    Gilbert-Elliott bad state (None without one such channel), task metric and its Wilson bounds."""

    width_s: float
    mid_s: np.ndarray
    ber: np.ndarray
    bad: np.ndarray | None
    metric: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def bad_state_threshold(manifest: dict) -> float | None:
    """Geometric mean of the good and bad BER of the scenario's one Gilbert-Elliott configuration."""
    ge = {(c.get("ber_good"), c.get("ber_bad")) for c in gilbert_elliott_channels(manifest)}
    if len(ge) != 1:
        return None
    good, bad = next(iter(ge))
    return math.sqrt(good * bad) if good and bad else None


def binned(rec: Records, threshold: float | None) -> Binned:
    """Every series binned over sensing time (about 40 bins of a round width)."""
    t = rec.t_sense_s
    span = float(np.nanmax(t)) if len(t) and np.isfinite(t).any() else 1.0
    width = nice_width(span)
    nbins = max(1, math.ceil(span / width + 1e-9))
    idx = np.clip(np.nan_to_num(t // width, nan=0).astype(int), 0, nbins - 1)
    n = len(rec.names)
    ber, bad, metric, lo, hi = (np.full((n, nbins), np.nan) for _ in range(5))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(n):
            m = rec.series == i
            ok = m & np.isfinite(rec.ber) & (rec.attempts > 0)
            w = rec.attempts[ok]
            ber[i] = np.bincount(idx[ok], weights=rec.ber[ok] * w, minlength=nbins) / np.bincount(
                idx[ok], weights=w, minlength=nbins)
            if threshold is not None:
                bad[i] = np.bincount(idx[ok], weights=(rec.ber[ok] >= threshold).astype(float),
                                     minlength=nbins) / np.bincount(idx[ok], minlength=nbins)
            k = np.bincount(idx[m], weights=rec.hits[m], minlength=nbins)
            tr = np.bincount(idx[m], weights=rec.trials[m], minlength=nbins)
            metric[i] = k / tr
            lo[i], hi[i] = wilson(k, tr)
    return Binned(width, (np.arange(nbins) + 0.5) * width, ber, bad if threshold is not None else None,
                  metric, lo, hi)


def over_time(rec: Records, manifest: dict) -> Figure:
    """Channel BER per time bin from every frame attempt (lost inferences included: their frames saw the
    channel too), the Gilbert-Elliott state levels where the channel has them, and the task metric per
    bin with its 95 % Wilson band. With one Gilbert-Elliott configuration, a middle panel shows the share
    of inferences whose frames saw the bad state (BER above the geometric mean of the two levels): with
    independent per-device channels the mean BER mixes states, the share shows them. From HEATMAP_FROM
    series on, each panel is a heat map with one row per series."""
    n = len(rec.names)
    b = binned(rec, bad_state_threshold(manifest))
    if n >= HEATMAP_FROM:
        return _over_time_heatmap(rec, b)
    if b.bad is None:
        fig, (ax1, ax2) = new_figure(width_for(n), 3.4, 2, 1, sharex=True)
        axs = None
    else:
        fig, (ax1, axs, ax2) = new_figure(width_for(n), 4.4, 3, 1, sharex=True,
                                          gridspec_kw={"height_ratios": [2, 1.2, 2]})
    colours = _colours(rec)
    for i, name in enumerate(rec.names):
        ax1.step(b.mid_s, b.ber[i], where="mid", color=colours[i], ls=linestyle(i, n), label=name)
        if axs is not None:
            axs.step(b.mid_s, b.bad[i], where="mid", color=colours[i], ls=linestyle(i, n))
        ax2.plot(b.mid_s, b.metric[i], color=colours[i], ls=linestyle(i, n),
                 marker="." if len(b.mid_s) < 60 else None)
        ax2.fill_between(b.mid_s, b.lo[i], b.hi[i], color=colours[i], alpha=0.15 if n <= 4 else 0.07, lw=0)
    levels = []
    for j, ch in enumerate(gilbert_elliott_channels(manifest)[:2]):
        for state, key, ls in (("good", "ber_good", ":"), ("bad", "ber_bad", "--")):
            if ch.get(key):
                levels.append(float(ch[key]))
                ax1.axhline(float(ch[key]), color="0.35", ls=ls, lw=0.8,
                            label=f"Gilbert-Elliott {state} state" + (f" ({j + 1})" if j else ""))
    allber = np.concatenate([b.ber[np.isfinite(b.ber)], np.asarray(levels)])
    if (allber > 0).any():
        ax1.set_yscale("log")
        pos = allber[allber > 0]
        ax1.set_ylim(pos.min() / 1.5, pos.max() * 1.5)  # state levels off the frame
    tidy_axis(ax1, "y")
    ax1.set_ylabel("channel BER\n(mean over frame attempts)")
    ax1.set_title(f"Channel BER and {metric_name(rec)} over time")
    if axs is not None:
        axs.set_ylim(-0.02, 1.02)
        tidy_axis(axs, "y", nbins=3)
        axs.set_ylabel("share in\nbad state")
    ax2.set_ylim(-0.02, 1.02)
    tidy_axis(ax2, "y")
    tidy_axis(ax2, "x")
    ax2.set_ylabel(f"{metric_name(rec)}\nper {b.width_s:g} s bin")
    ax2.set_xlabel("simulated time (s); band: 95 % Wilson interval")
    legend_outside(fig, ax1)
    return fig


def _over_time_heatmap(rec: Records, b: Binned) -> Figure:
    """The over-time panels as heat maps, one row per series (readable for 20 series where 20 lines
    are not); a dot marks a cell whose 95 % Wilson interval is wider than WIDE_INTERVAL."""
    from matplotlib.colors import LogNorm

    n = len(rec.names)
    panels = [("ber", "channel BER (mean over\nframe attempts)")]
    if b.bad is not None:
        panels.append(("bad", "share in bad state"))
    panels.append(("metric", f"{metric_name(rec)} per {b.width_s:g} s bin"))
    row_in = 0.11 * n + 0.35
    fig, axes = new_figure(PAGE_IN, row_in * len(panels) + 0.6, len(panels), 1, sharex=True)
    edges = np.r_[b.mid_s - b.width_s / 2, b.mid_s[-1] + b.width_s / 2]
    rows = np.arange(n + 1) - 0.5
    for ax, (key, what) in zip(np.atleast_1d(axes), panels):
        data = getattr(b, key)
        if key == "ber":
            pos = data[np.isfinite(data) & (data > 0)]
            norm = LogNorm(pos.min(), max(pos.max(), pos.min() * 10)) if len(pos) else None
            mesh = ax.pcolormesh(edges, rows, np.where(data > 0, data, np.nan), cmap="magma_r", norm=norm)
        else:
            mesh = ax.pcolormesh(edges, rows, data, cmap="viridis" if key == "metric" else "Greys", vmin=0, vmax=1)
        if key == "metric":
            wide = (b.hi - b.lo) > WIDE_INTERVAL
            yy, xx = np.nonzero(wide)
            ax.scatter(b.mid_s[xx], yy, s=2, c="w", marker=".", linewidths=0)
        fig.colorbar(mesh, ax=ax, label=what, pad=0.01, fraction=0.04)
        ax.set_yticks(np.arange(n), list(rec.names))
        ax.set_ylim(n - 0.5, -0.5)
        ax.grid(False)
        tidy_axis(ax, "x")
    last = np.atleast_1d(axes)[-1]
    last.set_xlabel(f"simulated time (s); {b.width_s:g} s bins; dot: 95 % Wilson interval wider than "
                    f"{WIDE_INTERVAL:g}")
    np.atleast_1d(axes)[0].set_title(f"Channel BER and {metric_name(rec)} over time, one row per series")
    return fig


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
    colours = _colours(rec)
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


def distance_bins(d: np.ndarray, max_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(bin index per value, bin centre): the distinct distances when few, else quantile bins."""
    finite = d[np.isfinite(d)]
    uniq = np.unique(finite)
    if len(uniq) <= max_bins:
        idx = np.searchsorted(uniq, d)
        return np.where(np.isfinite(d), idx, -1), uniq
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, max_bins + 1)))
    idx = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, len(edges) - 2)
    centres = np.array([np.median(finite[idx[np.isfinite(d)] == b]) if (idx[np.isfinite(d)] == b).any()
                        else np.nan for b in range(len(edges) - 1)])
    return np.where(np.isfinite(d), idx, -1), centres


def vs_distance(rec: Records) -> Figure:
    """The task metric and the delivery ratio per distance bin, 95 % Wilson error bars."""
    n = len(rec.names)
    fig, (ax1, ax2) = new_figure(width_for(n), 3.2, 2, 1, sharex=True)
    d = rec.position["distance_m"]
    idx, centres = distance_bins(d)
    colours = _colours(rec)
    nb = len(centres)
    for i, name in enumerate(rec.names):
        m = (rec.series == i) & (idx >= 0)
        for ax, hits, trials in ((ax1, rec.hits[m], rec.trials[m]),
                                 (ax2, rec.delivered[m].astype(float), np.ones(int(m.sum())))):
            k = np.bincount(idx[m], weights=hits, minlength=nb)
            t = np.bincount(idx[m], weights=trials, minlength=nb)
            ok = t > 0
            p = k[ok] / t[ok]
            lo, hi = wilson(k[ok], t[ok])
            ax.errorbar(centres[ok], p, yerr=[p - lo, hi - p], color=colours[i], ls=linestyle(i, n),
                        marker="o", ms=3, capsize=2, label=name if ax is ax1 else None)
    for ax, what in ((ax1, metric_name(rec)), (ax2, "delivery ratio")):
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(what)
        tidy_axis(ax, "y")
    tidy_axis(ax2, "x")
    ax2.set_xlabel("distance to gateway (m)")
    ax1.set_title(f"{metric_name(rec).capitalize()} and delivery vs distance (95 % Wilson)")
    legend_outside(fig, ax1)
    return fig


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")


def gateways(manifest: dict) -> list[tuple[str, float, float]]:
    """(name, x_m, y_m) of every edge server with a position in the scenario."""
    out = []
    for e in manifest.get("scenario", {}).get("edge", []):
        pos = e.get("position_m")
        if isinstance(pos, (list, tuple)) and len(pos) >= 2:
            out.append((str(e.get("name", "")), float(pos[0]), float(pos[1])))
    return out


def site_map(rec: Records, manifest: dict) -> Figure:
    """Devices where they were placed, coloured by their accuracy (left) and delivery ratio (right);
    gateways as black triangles; one marker shape per series."""
    n = len(rec.names)
    fig, axes = new_figure(PAGE_IN, 3.2, 1, 2, sharex=True, sharey=True)
    x, y = rec.position["x_m"], rec.position["y_m"]
    sc = None
    for ax, what in zip(axes, (metric_name(rec), "delivery ratio")):
        for i, name in enumerate(rec.names):
            m = (rec.series == i) & np.isfinite(x) & np.isfinite(y)
            if not m.any():
                continue
            _, first, inv = np.unique(rec.device[m], return_index=True, return_inverse=True)
            if what == "delivery ratio":
                k, t = np.bincount(inv, weights=rec.delivered[m]), np.bincount(inv)
            else:
                k, t = np.bincount(inv, weights=rec.hits[m]), np.bincount(inv, weights=rec.trials[m])
            with np.errstate(invalid="ignore", divide="ignore"):
                value = k / t
            sc = ax.scatter(x[m][first], y[m][first], c=value, cmap="viridis", vmin=0, vmax=1, s=9,
                            marker=MARKERS[i % len(MARKERS)], linewidths=0.2, edgecolors="0.3",
                            label=name if n > 1 and ax is axes[0] else None)
        for gname, gx, gy in gateways(manifest):
            ax.scatter([gx], [gy], marker="^", s=40, c="k", zorder=3,
                       label="gateway" if ax is axes[0] and gname == gateways(manifest)[0][0] else None)
            ax.annotate(gname, (gx, gy), xytext=(3, 3), textcoords="offset points", fontsize=6)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("x (m)")
        ax.set_title(f"coloured by {what}")
        tidy_axis(ax, "x")
        tidy_axis(ax, "y")
    axes[0].set_ylabel("y (m)")
    if sc is not None:
        fig.colorbar(sc, ax=list(axes), label="per-device value (0 to 1)", shrink=0.8)
    fig.suptitle("Site map: devices and gateways")
    legend_outside(fig, axes[0])
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
    colours = _colours(rec)
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

