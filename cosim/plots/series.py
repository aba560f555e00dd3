"""Per-series headline numbers (a group, or a variant) with their intervals, for the comparison figure and
the report table: the summary's values where it has the series, counts from the records for intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cosim.plots.intervals import wilson
from cosim.plots.records import Records


@dataclass(frozen=True)
class SeriesStats:
    """One series: counts, the task metric with its 95 % Wilson interval, latency, energy, battery."""

    name: str
    inferences: int
    metric: float | None  # accuracy (classification) or mAP@0.5 (detection)
    metric_lo: float | None  # Wilson bounds (classification only: mAP is not a proportion of counts)
    metric_hi: float | None
    delivered_ratio: float | None
    delivered_lo: float | None
    delivered_hi: float | None
    miss_ratio: float | None  # lost or later than the deadline
    p50_ms: float | None
    p95_ms: float | None
    energy_mj: float | None  # device energy per inference
    battery_days: float | None


def summary_entry(summary: dict, name: str) -> dict | None:
    """The summary's metrics of a series: a `compare:` variant (`variants` key), a variant's group
    (`variant / group`), or a group of a run without variants."""
    variants = summary.get("variants") or {}
    if len(variants) > 1:
        if isinstance(variants.get(name), dict):
            return variants[name]
        v, sep, g = name.partition(" / ")
        entry = ((variants.get(v) or {}).get("groups") or {}).get(g) if sep else None
        return entry if isinstance(entry, dict) else None
    entry = (summary.get("groups") or {}).get(name)
    return entry if isinstance(entry, dict) else None


def _f(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def series_stats(rec: Records, summary: dict) -> list[SeriesStats]:
    """One SeriesStats per series of `rec`, in order."""
    out = []
    for i, name in enumerate(rec.names):
        m = rec.series == i
        n = int(m.sum())
        entry = summary_entry(summary, name) or {}
        delivered = int(rec.delivered[m].sum())
        on_time = int(rec.on_time[m].sum())
        if rec.detection:
            metric, lo, hi = _f(entry.get("map50")), None, None
        else:
            k = float(rec.hits[m].sum())
            metric = k / n if n else None
            lo, hi = (_f(v) for v in wilson(k, n)) if n else (None, None)
        dlo, dhi = (_f(v) for v in wilson(delivered, n)) if n else (None, None)
        lat = rec.latency_s[m]
        lat = lat[np.isfinite(lat)] * 1000.0
        energy = entry.get("device_energy_mj_per_inference")
        if energy is None and n:  # a series the summary does not list: active energy from the records
            energy = float(sum(v[m].sum() for v in rec.energy_mj.values()) / n)
        out.append(SeriesStats(
            name=name, inferences=n, metric=metric, metric_lo=lo, metric_hi=hi,
            delivered_ratio=delivered / n if n else None, delivered_lo=dlo, delivered_hi=dhi,
            miss_ratio=1.0 - on_time / n if n else None,
            p50_ms=float(np.percentile(lat, 50)) if len(lat) else None,
            p95_ms=float(np.percentile(lat, 95)) if len(lat) else None,
            energy_mj=_f(energy), battery_days=_f(entry.get("battery_life_days")),
        ))
    return out
