"""Matplotlib figures of a run: latency CDF, energy per phase, BER and accuracy over time, per-device accuracy."""

from __future__ import annotations

import dataclasses
import operator
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pyarrow.parquet as pq

from cosim.results.records import codes

if TYPE_CHECKING:
    from cosim.results.summary import RunSummary


def run_figures(packets: Path, summary: RunSummary, groups, outdir: Path) -> list[Path]:
    """Write the run figures as PNG into `outdir` (+ a per-group comparison if there are several
    groups); return their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    cols = ["group", "device", "lost", "pred", "label", "t_sense_s", "t_done_s", "ber", "tx_attempts"]
    t = pq.read_table(packets, columns=cols + (["variant"] if summary.variants else []))
    d = {c: codes(t.column(c)) for c in cols}  # names as codes, nulls as NaN
    d["ber"] = np.nan_to_num(d["ber"])  # null without frame attempts (weight 0 below)
    names = [g.name for g in groups]
    if summary.variants:
        names, summary = _by_variant(d, t.column("variant"), names, summary)
    paths = [
        _latency_cdf(d, names, outdir / "latency_cdf.png"),
        _energy_breakdown(summary, names, outdir / "energy_breakdown.png"),
        _over_time(d, names, outdir / "ber_accuracy_over_time.png"),
        _device_accuracy(d, names, outdir / "device_accuracy.png"),
    ]
    if len(names) > 1:
        title = "Variants side by side" if summary.variants else "Groups side by side"
        paths.append(_group_comparison(summary, names, outdir / "group_comparison.png", title))
    return paths


def _by_variant(d: dict, variant, names: list[str], summary: RunSummary) -> tuple[list[str], RunSummary]:
    """A `compare:` run: one series per (variant, group), shown where groups are (`d["group"]` renumbered
    in place); returns the series' names and a summary whose `groups` are the series."""
    import pyarrow as pa
    import pyarrow.compute as pc

    variants = list(summary.variants)
    v = pc.index_in(variant.cast(pa.string()), value_set=pa.array(variants)).to_numpy(zero_copy_only=False)
    d["group"] = v.astype(np.int64) * len(names) + d["group"]
    series = [(vn, gn) for vn in variants for gn in names]
    labels = [vn if len(names) == 1 else f"{vn}/{gn}" for vn, gn in series]
    groups = {label: summary.variants[vn].groups[gn] for label, (vn, gn) in zip(labels, series)}
    return labels, dataclasses.replace(summary, groups=groups)


COMPARED = (  # (Metrics attribute path, axis label) of the per-group comparison figure
    ("accuracy", "accuracy (correct, on time)"),
    ("latency_ms.p95", "p95 latency (ms)"),
    ("device_energy_mj_per_inference", "energy / inference (mJ)"),
    ("bits_on_air_per_inference", "bits on air / inference"),
    ("battery_life_days", "battery life (days)"),
)


def _group_comparison(summary, names, path: Path, title: str = "Groups side by side") -> Path:
    """One horizontal bar panel per headline metric, one bar per group (e.g. strategies side by side)."""
    fig, axes = plt.subplots(1, len(COMPARED), figsize=(3.0 * len(COMPARED), 0.9 + 0.32 * len(names)),
                             sharey=True)
    y = np.arange(len(names))
    for ax, (keys, label) in zip(axes, COMPARED):
        values = [operator.attrgetter(keys)(summary.groups[n]) for n in names]
        vals = [np.nan if v is None else float(v) for v in values]
        ax.barh(y, vals, color=[f"C{i % 10}" for i in range(len(names))])
        for yi, v in zip(y, vals):
            if np.isfinite(v):
                text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
                ax.annotate(text, (v, yi), xytext=(2, 0), textcoords="offset points", va="center", fontsize=7)
        ax.set_xlabel(label)
        ax.margins(x=0.25)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    return _save(fig, path)


def _latency_cdf(d, names, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for gi, name in enumerate(names):
        m = (d["group"] == gi) & (d["t_done_s"] >= 0)
        lat = np.sort((d["t_done_s"][m] - d["t_sense_s"][m]) * 1000.0)
        if len(lat):
            ax.plot(lat, np.arange(1, len(lat) + 1) / len(lat), label=name)
    ax.set_xlabel("end-to-end latency (ms)")
    ax.set_ylabel("fraction of delivered inferences")
    ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    _legend(ax)
    ax.set_title("Latency CDF")
    return _save(fig, path)


def _energy_breakdown(summary, names, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    bottom = np.zeros(len(names))
    by_group = [summary.groups[n].device_energy_mj_by_phase for n in names]
    phases = [p for p in dict.fromkeys(k for g in by_group for k in g) if any(g.get(p) for g in by_group)]
    for phase in phases:  # every phase the summary reports that costs anything, in its order
        vals = np.array([g.get(phase) or 0.0 for g in by_group])
        ax.bar(names, vals, bottom=bottom, label=phase)
        bottom += vals
    ax.set_ylabel("device energy per inference (mJ)")
    ax.set_title("Energy per inference by phase")
    if phases:
        ax.legend()
    return _save(fig, path)


def _over_time(d, names, path: Path, bins: int = 50) -> Path:
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    t_end = float(d["t_sense_s"].max()) if len(d["t_sense_s"]) else 1.0
    edges = np.linspace(0.0, max(t_end, 1e-9), bins + 1)
    mid = (edges[:-1] + edges[1:]) / 2
    for gi, name in enumerate(names):
        m = d["group"] == gi
        idx = np.clip(np.digitize(d["t_sense_s"][m], edges) - 1, 0, bins - 1)
        count = np.bincount(idx, minlength=bins)
        delivered = d["lost"][m] == 0
        attempts = d["tx_attempts"][m].astype(np.float64)  # BER over every frame attempt, lost ones too
        ber = np.bincount(idx, weights=d["ber"][m] * attempts, minlength=bins)
        n_att = np.bincount(idx, weights=attempts, minlength=bins)
        correct = np.bincount(idx, weights=(delivered & (d["pred"][m] == d["label"][m])), minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            ax1.plot(mid, ber / n_att, label=name)
            ax2.plot(mid, correct / count, label=name)
    ax1.set_ylabel("mean BER (all attempts)")
    ax1.set_yscale("symlog", linthresh=1e-5)
    ax2.set_ylabel("accuracy (delivered & correct)")
    ax2.set_xlabel("simulated time (s)")
    ax1.legend()
    ax1.set_title("Channel BER and semantic accuracy over time")
    return _save(fig, path)


def _device_accuracy(d, names, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for gi, name in enumerate(names):
        m = d["group"] == gi
        dev = d["device"][m]
        if not len(dev):
            continue
        ok = (d["lost"][m] == 0) & (d["pred"][m] == d["label"][m])
        ids, inv = np.unique(dev, return_inverse=True)
        acc = np.bincount(inv, weights=ok) / np.bincount(inv)
        ax.scatter(ids, acc, s=6, label=name)
    ax.set_xlabel("device index")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Per-device accuracy")
    _legend(ax, markerscale=3)
    return _save(fig, path)


def _legend(ax, **kwargs) -> None:
    """A legend if anything was drawn (a run without inferences draws nothing; no warning then)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
