"""Matplotlib figures of a sweep: any metric against a parameter (error bars from replications), a
default gallery for the parameters a sweep varies, and the energy-vs-accuracy Pareto front.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa

from cosim.errors import CosimError
from cosim.plots.intervals import wilson
from cosim.plots.style import (
    COLUMN_IN,
    DEFAULT_FORMAT,
    PAGE_IN,
    FigureFormat,
    legend_outside,
    linestyle,
    new_figure,
    palette,
    paper_style,
    save,
    tidy_axis,
)
from cosim.sweep.table import Point, metric_columns, param_columns, points

ENERGY = "device_energy_mj_per_inference"
LABELS = {
    "devices": "fleet size (devices)",
    "accuracy": "accuracy (correct and on time)",
    "delivered_accuracy": "accuracy of delivered inferences",
    "latency_ms.p50": "median latency (ms)",
    "latency_ms.p95": "p95 latency (ms)",
    "latency_ms.p99": "p99 latency (ms)",
    "latency_ms.mean": "mean latency (ms)",
    ENERGY: "device energy per inference (mJ)",
    "device_avg_power_mw": "device average power (mW)",
    "battery_life_days": "battery life (days)",
    "bits_on_air_per_inference": "bits on air per inference (bit)",
    "frames_per_inference": "frame attempts per inference",
    "deadline_miss_ratio": "deadline miss ratio (lost or late)",
    "mean_ber": "mean channel BER (every frame attempt)",
    "delivered_mean_ber": "mean channel BER (delivered frames)",
    "map50": "mAP@0.5",
    "delivered_map50": "mAP@0.5 of delivered inferences",
    "map50_95": "mAP@0.5:0.95",
    "box_recall50": "box recall@0.5 (on time)",
    "edge_energy_j": "edge energy (J)",
    "sim_time_s": "simulated time (s)",
}
UNITS = (("_ms", "ms"), ("_s", "s"), ("_mj", "mJ"), ("_j", "J"), ("_mw", "mW"), ("_w", "W"),
         ("_days", "days"), ("_m", "m"), ("_dbm", "dBm"), ("_db", "dB"), ("_bps", "bit/s"), ("_hz", "Hz"))
_NO_AUTO_LOG = ("accuracy", "ratio", "utilization")


def label(column: str) -> str:
    """Axis label of a column: a known metric's description, else a short form of the dotted path."""
    if column in LABELS:
        return LABELS[column]
    if column.startswith("edge_utilization."):
        return f"edge utilisation of {column.split('.', 1)[1]} (fraction of time)"
    parts = column.split(".")
    if parts[0] == "groups" and len(parts) >= 3:
        return _qualified(label(".".join(parts[2:])), parts[1])
    if len(parts) == 2 and parts[0] in LABELS:  # a per-server or per-medium map, e.g. edge_energy_j.gw
        return _qualified(LABELS[parts[0]], parts[1])
    if parts[-1] == "ber":
        return "channel BER"
    if parts[-1] == "count" and parts[0] == "devices":
        return f"devices in group {parts[1]}" if len(parts) == 3 else column
    if len(parts) >= 2 and parts[-1] in ("mean", "p50", "p95", "p99", "max", "min"):
        inner = label(parts[-2])
        return f"{parts[-1]} {inner}"
    leaf = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else column
    for suffix, unit in UNITS:
        if leaf.endswith(suffix):
            return f"{leaf[: -len(suffix)].replace('_', ' ')} ({unit})"
    return leaf


def _qualified(text: str, who: str) -> str:
    """`p95 latency (ms)` of group `sensors` -> `p95 latency, sensors (ms)`: the unit stays last."""
    name, sep, unit = text.rpartition(" (")
    return f"{name}, {who} ({unit}" if sep else f"{text}, {who}"


def resolve_column(name: str, table: pa.Table) -> str:
    """The column `name` names: exact, else the unique column ending in `.name` (parameters first)."""
    names = table.column_names
    if name in names:
        return name
    params = param_columns(table)
    for pool in (params, names):
        hits = [c for c in pool if c.endswith("." + name)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise CosimError(f"column {name!r} is ambiguous: {', '.join(hits[:8])}")
    sample = ", ".join([*params, *metric_columns(table)[:12]])
    raise CosimError(f"no column {name!r} in the results (have e.g. {sample}, ...)")


def short(column: str) -> str:
    """A compact name for legends and annotations: `devices.0.count` → devices, `…channel.ber` → BER."""
    parts = column.split(".")
    if parts[-1] == "ber":
        return "BER"
    if parts[0] == "devices" and parts[-1] == "count":
        return "devices"
    return parts[-1] if not parts[-1].isdigit() else column


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _key(v: Any) -> str:
    if _num(v):
        return format(float(v), ".12g")
    return json.dumps(v, sort_keys=True, default=str)


def _fmt(v: Any) -> str:
    if isinstance(v, str) and v[:1] == "{":  # options stored as JSON text in CSV/Parquet
        try:
            v = json.loads(v)
        except ValueError:
            pass
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return format(v, "g") if _num(v) else str(v)


def _x_value(pt: Point, x: str, params: Sequence[str]):
    if x in params:
        return dict(pt.params)[x], None
    s = pt.stats[x]
    return s.mean, s.ci95


def varying(pts: Sequence[Point], params: Sequence[str]) -> list[str]:
    """Parameters with more than one value across the points."""
    return [p for p in params if len({_key(dict(pt.params)[p]) for pt in pts}) > 1]


def _bijective(pts: Sequence[Point], x: str, p: str, params: Sequence[str]) -> bool:
    """Whether parameter `p` and column `x` determine each other across the points (e.g. group count
    and fleet size, or a strategy and its zipped options): such a parameter is `x` in disguise."""
    fwd: dict[str, str] = {}
    back: dict[str, str] = {}
    for pt in pts:
        xv, _ = _x_value(pt, x, params)
        if xv is None:
            continue
        a, b = _key(dict(pt.params)[p]), _key(xv)
        if fwd.setdefault(a, b) != b or back.setdefault(b, a) != a:
            return False
    return True


def series_columns(pts: Sequence[Point], params: Sequence[str], x: str | None, hue: str | None) -> list[str]:
    """Parameters that split points into lines: the hue, then every other varying one not tied to x
    or to a parameter already chosen."""
    out = [hue] if hue else []
    for p in varying(pts, params):
        if p in (x, hue) or (x is not None and _bijective(pts, x, p, params)):
            continue
        if any(_bijective(pts, q, p, params) for q in out):
            continue
        out.append(p)
    return out


def _is_mapping(v: Any) -> bool:
    """Options-like values: mappings, or their JSON text as read back from a results file."""
    return isinstance(v, dict) or (isinstance(v, str) and v[:1] == "{")


def series_label(values: tuple, cols: Sequence[str]) -> str:
    """A legend entry: the first column's value, then options as `(k=v)` (empty ones left out) and
    other columns as `name=value`; never a bare separator, `default` when everything is empty."""
    out = ""
    for i, (c, v) in enumerate(zip(cols, values)):
        text = _fmt(v)
        if not text:
            continue
        if _is_mapping(v):
            out += f" ({text})" if out else text
        else:
            piece = text if i == 0 else f"{short(c)}={text}"
            out += f", {piece}" if out else piece
    return out or "default"


_series_label = series_label


def _auto_scale(values: list[float], column: str) -> str:
    if any(t in column for t in _NO_AUTO_LOG) or not values:
        return "linear"
    pos = [v for v in values if v > 0]
    if len(pos) < 2 or any(v < 0 for v in values) or max(pos) / min(pos) < 100:
        return "linear"
    return "log" if len(pos) == len(values) else "symlog"


def _set_scale(ax, axis: str, scale: str, values: list[float]) -> None:
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if scale == "symlog":
        pos = [v for v in values if v > 0]
        setter("symlog", linthresh=min(pos) if pos else 1e-6)
    else:
        setter(scale)


def plot_xy(
    table: pa.Table,
    x: str,
    ys: str | Sequence[str],
    out: Path,
    hue: str | None = None,
    title: str | None = None,
    logx: bool | None = None,
    logy: bool | None = None,
    form: FigureFormat = DEFAULT_FORMAT,
) -> Path:
    """Mean of each y against x per parameter point, one series per hue (and other varied) value, 95 %
    intervals over replications (Wilson for proportions); lines over a numeric x, dodged points over a
    categorical one; written in `form`'s format."""
    ys = [ys] if isinstance(ys, str) else list(ys)
    params = param_columns(table)
    x = resolve_column(x, table)
    ys = [resolve_column(y, table) for y in ys]
    hue = resolve_column(hue, table) if hue else None
    if hue and hue not in params:
        raise CosimError(f"--hue {hue!r}: not a swept parameter (parameters: {', '.join(params)})")
    numeric = set(metric_columns(table))
    for c in ys + ([] if x in params else [x]):
        if c not in numeric:
            raise CosimError(f"column {c!r} is not a numeric metric")
    counts = [c for c in {count_column(y, table) for y in ys} if c]
    pts = [pt for pt in points(table, params, [c for c in (x, *ys, *counts) if c not in params]) if pt.runs]
    if not pts:
        raise CosimError("no successful runs to plot")
    pooled = {y: pooled_counts(table, params, y) for y in ys}
    scols = series_columns(pts, params, x, hue)
    categorical = x in params and not all(_num(dict(pt.params)[x]) for pt in pts)
    xcats: dict[str, int] = {}
    yscale_div, yunit = _unit_scale(table, ys)
    series: dict[tuple, list[tuple]] = {}
    for y in ys:
        for pt in pts:
            xv, xci = _x_value(pt, x, params)
            mean, lo, hi = interval(pt, y, pooled[y])
            if xv is None or mean is None:
                continue
            if categorical:
                xv = xcats.setdefault(_fmt(xv), len(xcats))
            key = (y, *(dict(pt.params)[c] for c in scols))
            series.setdefault(key, []).append((float(xv), mean / yscale_div, lo / yscale_div,
                                               hi / yscale_div, xci or 0.0))
    n = len(series)
    with paper_style():
        fig, ax = new_figure(COLUMN_IN if n <= 4 else PAGE_IN, 2.5)
        colours = palette(n)
        all_x: list[float] = []
        all_y: list[float] = []
        for j, (key, rows) in enumerate(series.items()):
            rows.sort()
            xs, ms, los, his, xcis = (np.array(v) for v in zip(*rows))
            name = series_label(key[1:], scols) if scols else None
            if len(ys) > 1:
                name = f"{name}: {label(key[0])}" if name else label(key[0])
            if categorical:
                xs = xs + (j - (n - 1) / 2) * min(0.8 / max(n, 1), 0.25)
            ax.errorbar(xs, ms, yerr=[ms - los, his - ms], xerr=xcis if xcis.any() else None, marker="o",
                        ms=3.5, capsize=2, lw=1.0, ls="none" if categorical else linestyle(j, n),
                        color=colours[j], label=name)
            all_x += list(xs)
            all_y += list(ms)
        if categorical:
            ax.set_xticks(list(xcats.values()), list(xcats), rotation=20 if len(xcats) > 3 else 0, ha="right"
                          if len(xcats) > 3 else "center")
            ax.grid(False, axis="x")
        else:
            _set_scale(ax, "x", ("log" if min(all_x, default=0) > 0 else "symlog") if logx
                       else "linear" if logx is False else _auto_scale(all_x, x), all_x)
            tidy_axis(ax, "x")
        _set_scale(ax, "y", ("log" if min(all_y, default=0) > 0 else "symlog") if logy
                   else "linear" if logy is False else _auto_scale(all_y, ys[0]), all_y)
        tidy_axis(ax, "y")
        ax.set_xlabel(label(x))
        ylab = label(ys[0]) if len(ys) == 1 else _common_unit_label(ys)
        ax.set_ylabel(ylab.replace("(ms)", "(s)") if yunit == "s" else ylab)
        if scols or len(ys) > 1:
            legend_outside(fig, ax, title=legend_title(scols))
        ax.set_title(title or f"{label(ys[0]) if len(ys) == 1 else ', '.join(ys)} vs {label(x)}")
        return save(fig, Path(out), form)


PROPORTIONS = ("accuracy", "delivered_accuracy", "deadline_miss_ratio", "box_recall50")


def count_column(y: str, table: pa.Table) -> str | None:
    """The trials behind a proportion metric (inferences, delivered, ground-truth boxes), same prefix."""
    prefix, _, leaf = y.rpartition(".")
    if leaf not in PROPORTIONS and not leaf.endswith("_ratio"):
        return None
    trials = {"delivered_accuracy": "delivered", "box_recall50": "gt_boxes"}.get(leaf, "inferences")
    col = f"{prefix}.{trials}" if prefix else trials
    return col if col in table.column_names else None


@dataclass(frozen=True)
class Pooled:
    """A proportion's replications at one point: successes and trials summed, the runs' count and the
    sample variance of their proportions (for the design effect)."""

    successes: float
    trials: float
    runs: int
    var_p: float


def pooled_counts(table: pa.Table, params: Sequence[str], y: str) -> dict[str, Pooled]:
    """Per parameter point (keyed like `points`): proportion `y` pooled over its successful
    replications; {} when `y` is not a proportion with a trials column."""
    count = count_column(y, table)
    if count is None:
        return {}
    data = {c: table.column(c).to_pylist() for c in {*params, y, count, "status"} if c in table.column_names}
    runs: dict[str, list[tuple[float, float]]] = {}
    for i in range(table.num_rows):
        if data.get("status", ["ok"] * table.num_rows)[i] != "ok" or data[y][i] is None or not data[count][i]:
            continue
        k = json.dumps(tuple((p, data[p][i]) for p in params), sort_keys=True, default=str)
        runs.setdefault(k, []).append((float(data[y][i]), float(data[count][i])))
    out = {}
    for k, rows in runs.items():
        ps = np.array([p for p, _ in rows])
        ns = np.array([n for _, n in rows])
        out[k] = Pooled(float((ps * ns).sum()), float(ns.sum()), len(rows),
                        float(ps.var(ddof=1)) if len(rows) > 1 else 0.0)
    return out


def interval(pt: Point, y: str, pooled: dict[str, Pooled]) -> tuple[float | None, float, float]:
    """(mean, low, high) of `y` at a point. A proportion with counts: the 95 % Wilson interval of the
    pooled counts, its sample size divided by the design effect (the replications' spread over the
    binomial one, at least 1: seeds that disagree widen it), so it stays in [0, 1]; other metrics: the
    Student-t interval over replications, clipped to [0, 1] for bounded ones and at 0 when non-negative."""
    s = pt.stats[y]
    if s.mean is None:
        return None, 0.0, 0.0
    pool = pooled.get(json.dumps(pt.params, sort_keys=True, default=str))
    if pool is not None and pool.trials > 0:
        p = pool.successes / pool.trials
        binomial = p * (1 - p) / (pool.trials / pool.runs)
        deff = max(1.0, pool.var_p / binomial) if binomial > 0 else 1.0
        n_eff = pool.trials / deff
        lo, hi = wilson(p * n_eff, n_eff)
        return s.mean, min(float(lo), s.mean), max(float(hi), s.mean)
    half = s.ci95 or 0.0
    lo, hi = s.mean - half, s.mean + half
    if _bounded(y):
        return s.mean, max(0.0, lo), min(1.0, hi)
    return s.mean, max(0.0, lo) if s.mean >= 0 else lo, hi


def _bounded(y: str) -> bool:
    leaf = y.rsplit(".", 1)[-1]
    return (leaf in PROPORTIONS or leaf.endswith("_ratio") or "map50" in leaf
            or y.startswith("edge_utilization."))


def _unit_scale(table: pa.Table, ys: Sequence[str]) -> tuple[float, str]:
    """(divisor, unit): millisecond metrics of 10 s or more are drawn in seconds."""
    if not all(label(y).endswith("(ms)") for y in ys):
        return 1.0, ""
    values = [abs(v) for y in ys for v in table.column(y).to_pylist() if v is not None]
    return (1000.0, "s") if values and max(values) >= 10_000 else (1.0, "ms")


def _common_unit_label(ys: Sequence[str]) -> str:
    units = {label(y).rpartition("(")[2] for y in ys if label(y).endswith(")")}
    return f"value ({units.pop()}" if len(units) == 1 else "value (see legend)"


def legend_title(cols: Sequence[str]) -> str | None:
    """The legend's title: the short names of the columns that make the series."""
    return ", ".join(short(c) for c in cols) if cols else None


def pareto_front(energy: Sequence[float], accuracy: Sequence[float]) -> list[int]:
    """Indices of the non-dominated points (no other point has lower-or-equal energy and higher-or-equal
    accuracy, one strictly), ordered by energy."""
    order = sorted(range(len(energy)), key=lambda i: (energy[i], -accuracy[i]))
    front, best = [], -math.inf
    for i in order:
        if accuracy[i] > best:
            front.append(i)
            best = accuracy[i]
    return front


def pareto_figure(table: pa.Table, out: Path, hue: str | None = None, max_panels: int = 12,
                  form: FigureFormat = DEFAULT_FORMAT) -> Path:
    """Energy per inference vs accuracy of every parameter point, coloured by `hue`, with the Pareto front.

    Points that differ in other varied parameters (fleet size, BER: the conditions, not the design
    choice) get one panel per condition, each with its own front; with more than `max_panels`
    conditions all points share one panel and the front's points are labelled. Accuracy error bars are
    Wilson-widened 95 % intervals (see `interval`).
    """
    params = param_columns(table)
    extra = [c for c in (count_column("accuracy", table),) if c]
    pts = [pt for pt in points(table, params, [ENERGY, "accuracy", *extra])
           if pt.runs and pt.stats[ENERGY].mean is not None and pt.stats["accuracy"].mean is not None]
    if not pts:
        raise CosimError("no successful runs with energy and accuracy to plot")
    pooled = pooled_counts(table, params, "accuracy")
    # design choices (the hue and other categorical parameters such as options) colour the points;
    # numeric parameters (fleet size, BER) are conditions: one panel each
    split = series_columns(pts, params, None, hue)
    numeric = {c for c in split if all(_num(dict(q.params)[c]) for q in pts)}
    design = [c for c in split if c == hue or c not in numeric]
    conds = [c for c in split if c not in design]
    panels: dict[tuple, list[Point]] = {}
    for pt in sorted(pts, key=lambda q: [_sort_value(dict(q.params)[c]) for c in conds]):
        panels.setdefault(tuple(dict(pt.params)[c] for c in conds), []).append(pt)
    if not 1 < len(panels) <= max_panels:
        panels = {(): pts}
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)

    def design_of(pt: Point) -> tuple:
        return tuple(dict(pt.params)[c] for c in design)

    keys: list[str] = []
    for pt in sorted(pts, key=lambda q: series_label(design_of(q), design)):
        if _key(design_of(pt)) not in keys:
            keys.append(_key(design_of(pt)))
    colours = dict(zip(keys, palette(len(keys))))
    all_e = [p.stats[ENERGY].mean for p in pts]
    with paper_style():
        fig, axes = new_figure(PAGE_IN if ncols > 1 or len(keys) > 4 else COLUMN_IN,
                               2.2 * nrows + 0.6 + (0.13 * len(keys) if ncols == 1 and len(keys) <= 4 else 0),
                               nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for ax, (cond, members) in zip(axes.flat, panels.items()):
            for pt in members:
                e = pt.stats[ENERGY]
                m, lo, hi = interval(pt, "accuracy", pooled)
                ax.errorbar(e.mean, m, xerr=e.ci95 or 0.0, yerr=[[m - lo], [hi - m]], fmt="o", ms=3.5,
                            capsize=2, alpha=0.9, color=colours[_key(design_of(pt))])
            e = [p.stats[ENERGY].mean for p in members]
            a = [p.stats["accuracy"].mean for p in members]
            front = pareto_front(e, a)
            ax.step([e[i] for i in front], [a[i] for i in front], where="post", color="k", lw=1.0)
            if cond:
                ax.set_title(", ".join(f"{short(c)}={_fmt(v)}" for c, v in zip(conds, cond)))
            elif conds:
                for i in front:
                    text = ", ".join(f"{short(c)}={_fmt(dict(members[i].params)[c])}" for c in conds)
                    ax.annotate(text, (e[i], a[i]), textcoords="offset points", xytext=(4, -10), fontsize=6)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        if all_e and min(all_e) > 0 and max(all_e) / min(all_e) >= 100:
            axes[0, 0].set_xscale("log")
        for ax in axes.flat:
            tidy_axis(ax, "x")
            tidy_axis(ax, "y")
        if ncols == 1 and nrows == 1:
            axes[0, 0].set_xlabel(label(ENERGY))
            axes[0, 0].set_ylabel(label("accuracy"))
        else:  # one label for the grid: per-panel labels would collide
            fig.supxlabel(label(ENERGY))
            fig.supylabel(label("accuracy"))
        handles = [plt.Line2D([], [], color="k", lw=1.0, label="Pareto front")]
        seen: set[str] = set()
        for pt in sorted(pts, key=lambda q: series_label(design_of(q), design)) if design else []:
            k = _key(design_of(pt))
            if k not in seen:
                seen.add(k)
                handles.append(plt.Line2D([], [], color=colours[k], marker="o", ls="",
                                          label=series_label(design_of(pt), design)))
        title = "Energy vs accuracy; Pareto front = lower energy, higher accuracy"
        fig.suptitle(title)
        below = ncols == 1 and len(handles) <= 5
        fig.legend(handles=handles, title=legend_title(design), loc="outside lower center" if below
                   else "outside right upper", ncol=1)
        return save(fig, Path(out), form)


def _sort_value(v: Any) -> tuple:
    return (0, float(v), "") if _num(v) else (1, 0.0, _key(v))


def _slug(column: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in column)


def sweep_figures(table: pa.Table, params: Sequence[str] | None = None, outdir: Path = Path("."),
                  form: FigureFormat = DEFAULT_FORMAT) -> list[Path]:
    """The default gallery, only for what the sweep varies: fleet size vs p95 latency, accuracy, energy
    and edge utilisation; BER vs accuracy and energy; other parameters vs the same metrics; and the
    energy-vs-accuracy Pareto front. Error bars are 95 % intervals over replications."""
    params = list(params) if params is not None else param_columns(table)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    metrics = metric_columns(table)
    util = [m for m in metrics if m.startswith("edge_utilization.")]
    pts = [pt for pt in points(table, params, [m for m in ("devices", ENERGY, "accuracy") if m in metrics])
           if pt.runs]
    if not pts:
        return []
    vary = varying(pts, params)
    hue = next((p for p in vary if p.split(".")[-1] in ("strategy", "variant")), None)
    if hue is None:
        hue = next((p for p in vary if not all(_num(dict(pt.params)[p]) for pt in pts)), None)
    paths: list[Path] = []
    covered = {hue} if hue else set()
    if hue:
        covered |= {p for p in vary if _bijective(pts, hue, p, params)}
    base_metrics = [m for m in ("latency_ms.p95", "accuracy", ENERGY) if m in metrics]

    fleet = "devices" in metrics and len({_key(pt.stats["devices"].mean) for pt in pts}) > 1
    if fleet:
        covered |= {p for p in vary if p != hue and _bijective(pts, "devices", p, params)}
        names = {"latency_ms.p95": "fleet_latency_p95", "accuracy": "fleet_accuracy", ENERGY: "fleet_energy"}
        for m in base_metrics:
            paths.append(plot_xy(table, "devices", m, outdir / f"{names[m]}.png", hue=hue,
                                 title=f"{label(m)} vs fleet size", logx=True, form=form))
        if util:
            paths.append(plot_xy(table, "devices", util, outdir / "fleet_edge_utilization.png", hue=hue,
                                 title="Edge utilisation vs fleet size", logx=True, logy=False, form=form))
    for p in vary:
        if p in covered or p.split(".")[-1] != "ber":
            continue
        covered.add(p)
        tag = "ber" if sum(q.split(".")[-1] == "ber" for q in vary) == 1 else _slug(p)
        for m, name in (("accuracy", "accuracy"), (ENERGY, "energy")):
            if m in metrics:
                paths.append(plot_xy(table, p, m, outdir / f"{tag}_{name}.png", hue=hue,
                                     title=f"{label(m)} vs channel BER", form=form))
    # other numeric parameters get their own x axis; categorical ones (options) only split lines
    rest = [p for p in vary if p not in covered and all(_num(dict(pt.params)[p]) for pt in pts)]
    if not rest and not paths and hue:
        rest = [hue]
    for p in rest:
        for m in base_metrics:
            paths.append(plot_xy(table, p, m, outdir / f"{_slug(p)}_{_slug(m)}.png",
                                 hue=hue if hue != p else None, form=form))
    if len(pts) >= 2 and ENERGY in metrics and "accuracy" in metrics:
        paths.append(pareto_figure(table, outdir / "pareto_energy_accuracy.png", hue=hue, form=form))
    return paths
