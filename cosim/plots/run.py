"""Matplotlib figures of a run: latency CDF, energy per phase, BER and accuracy over time, per-device accuracy."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cosim.results.records import read_columns

if TYPE_CHECKING:
    from cosim.results.summary import RunSummary


def run_figures(packets: Path, summary: RunSummary, groups, outdir: Path) -> list[Path]:
    """Write the run figures as PNG into `outdir` (+ a per-group comparison if there are several
    groups); return their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    d = read_columns(packets, ["group", "device", "lost", "pred", "label", "t_sense_s", "t_done_s", "ber"])
    names = [g.name for g in groups]
    paths = [
        _latency_cdf(d, names, outdir / "latency_cdf.png"),
        _energy_breakdown(summary, names, outdir / "energy_breakdown.png"),
        _over_time(d, names, outdir / "ber_accuracy_over_time.png"),
        _device_accuracy(d, names, outdir / "device_accuracy.png"),
    ]
    if len(names) > 1:
        paths.append(_group_comparison(summary, names, outdir / "group_comparison.png"))
    return paths


COMPARED = (  # (Metrics attribute path, axis label) of the per-group comparison figure
    ("accuracy", "accuracy (correct, on time)"),
    ("latency_ms.p95", "p95 latency (ms)"),
    ("device_energy_mj_per_inference", "energy / inference (mJ)"),
    ("bits_on_air_per_inference", "bits on air / inference"),
    ("battery_life_days", "battery life (days)"),
)


def _group_comparison(summary, names, path: Path) -> Path:
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
    fig.suptitle("Groups side by side")
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
    phases = list(summary.overall.device_energy_mj_by_phase)  # every phase the records hold, then sleep
    for phase in phases:
        vals = np.array([summary.groups[n].device_energy_mj_by_phase.get(phase) or 0.0 for n in names])
        ax.bar(names, vals, bottom=bottom, label=phase)
        bottom += vals
    ax.set_ylabel("device energy per inference (mJ)")
    ax.set_title("Energy per inference by phase")
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
        ber = np.bincount(idx[delivered], weights=d["ber"][m][delivered], minlength=bins)
        n_del = np.bincount(idx[delivered], minlength=bins)
        correct = np.bincount(idx, weights=(delivered & (d["pred"][m] == d["label"][m])), minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            ax1.plot(mid, ber / n_del, label=name)
            ax2.plot(mid, correct / count, label=name)
    ax1.set_ylabel("mean BER")
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
