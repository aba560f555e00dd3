"""Figures of where devices are: the task metric and delivery against distance, and a site map of
devices and gateways (only for records with `distance_m` / `x_m`, `y_m`)."""

from __future__ import annotations

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
    colours = palette(len(rec.names))
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
