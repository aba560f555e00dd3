"""The over-time figure of a run: channel BER from every frame attempt, the Gilbert-Elliott bad-state
share, and the task metric per time bin with its Wilson interval; lines for a few series, heat maps
(one row per series) for many."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from cosim.plots.intervals import wilson
from cosim.plots.records import Records, metric_name
from cosim.plots.style import (
    PAGE_IN,
    legend_outside,
    linestyle,
    new_figure,
    palette,
    tidy_axis,
    width_for,
)


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
    colours = palette(len(rec.names))
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
