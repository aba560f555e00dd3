"""Matplotlib figures of a sweep: any metric against a parameter (error bars from replications), a
default gallery for the parameters a sweep varies, and the energy-vs-accuracy Pareto front.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pyarrow as pa

from cosim.errors import CosimError
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
    "bits_on_air_per_inference": "bits on air per inference",
    "frames_per_inference": "frames per inference",
    "deadline_miss_ratio": "deadline miss ratio",
    "mean_ber": "mean channel BER over every frame attempt",
    "delivered_mean_ber": "mean BER of delivered inferences",
}
_NO_AUTO_LOG = ("accuracy", "ratio", "utilization")


def label(column: str) -> str:
    """Axis label of a column: a known metric's description, else a short form of the dotted path."""
    if column in LABELS:
        return LABELS[column]
    if column.startswith("edge_utilization."):
        return f"edge utilisation ({column.split('.', 1)[1]})"
    parts = column.split(".")
    if parts[-1] == "ber":
        return "channel BER"
    if parts[-1] == "count" and parts[0] == "devices":
        return f"devices in group {parts[1]}" if len(parts) == 3 else column
    return parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else column


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


def _series_label(values: tuple, cols: Sequence[str]) -> str:
    """The first column's value, then the others: options as `(k=v)` (empty ones left out), else `name=value`."""
    out = _fmt(values[0])
    for c, v in zip(cols[1:], values[1:]):
        text = _fmt(v)
        if text:
            out += f" ({text})" if _is_mapping(v) else f", {short(c)}={text}"
    return out


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
) -> Path:
    """Mean of each y against x per parameter point, one line per series, 95 % CI error bars; a PNG."""
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
    pts = [pt for pt in points(table, params, [c for c in (x, *ys) if c not in params]) if pt.runs]
    if not pts:
        raise CosimError("no successful runs to plot")
    scols = series_columns(pts, params, x, hue)
    categorical = x in params and not all(_num(dict(pt.params)[x]) for pt in pts)
    xcats: dict[str, int] = {}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    all_x: list[float] = []
    all_y: list[float] = []
    for y in ys:
        lines: dict[tuple, list[tuple]] = {}
        for pt in pts:
            xv, xci = _x_value(pt, x, params)
            s = pt.stats[y]
            if xv is None or s.mean is None:
                continue
            if categorical:
                xv = xcats.setdefault(_fmt(xv), len(xcats))
            key = tuple(dict(pt.params)[c] for c in scols)
            lines.setdefault(key, []).append((float(xv), s.mean, s.ci95 or 0.0, xci or 0.0))
        for key, rows in lines.items():
            rows.sort()
            xs, ms, cis, xcis = zip(*rows)
            name = _series_label(key, scols) if scols else None
            if len(ys) > 1:
                name = f"{name}: {label(y)}" if name else label(y)
            ax.errorbar(xs, ms, yerr=cis, xerr=xcis if any(xcis) else None, marker="o", ms=4,
                        capsize=3, label=name)
            all_x += xs
            all_y += ms
    if categorical:
        ax.set_xticks(list(xcats.values()), list(xcats), rotation=20)
    else:
        _set_scale(ax, "x", ("log" if min(all_x, default=0) > 0 else "symlog") if logx
                   else "linear" if logx is False else _auto_scale(all_x, x), all_x)
    _set_scale(ax, "y", ("log" if min(all_y, default=0) > 0 else "symlog") if logy
               else "linear" if logy is False else _auto_scale(all_y, ys[0]), all_y)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(ys[0]) if len(ys) == 1 else "value")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0] and (scols or len(ys) > 1):
        extra_are_options = all(_is_mapping(dict(pt.params)[c]) for c in scols[1:] for pt in pts)
        ax.legend(title=short(scols[0]) if scols and extra_are_options else None, fontsize=8)
    ax.set_title(title or f"{label(ys[0]) if len(ys) == 1 else ', '.join(ys)} vs {label(x)}")
    return _save(fig, Path(out))


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


def pareto_figure(table: pa.Table, out: Path, hue: str | None = None, max_panels: int = 12) -> Path:
    """Energy per inference vs accuracy of every parameter point, coloured by `hue`, with the Pareto front.

    Points that differ in other varied parameters (fleet size, BER: the conditions, not the design
    choice) get one panel per condition, each with its own front; with more than `max_panels`
    conditions all points share one panel and the front's points are labelled.
    """
    params = param_columns(table)
    pts = [pt for pt in points(table, params, [ENERGY, "accuracy"])
           if pt.runs and pt.stats[ENERGY].mean is not None and pt.stats["accuracy"].mean is not None]
    if not pts:
        raise CosimError("no successful runs with energy and accuracy to plot")
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols + 2.2 if ncols > 1 else 6.4, 2.9 * nrows + 0.9
                             if nrows > 1 or ncols > 1 else 4.4), sharex=True, sharey=True, squeeze=False)
    def design_of(pt: Point) -> tuple:
        return tuple(dict(pt.params)[c] for c in design)

    colours: dict[str, str] = {}
    for pt in pts:
        colours.setdefault(_key(design_of(pt)), f"C{len(colours) % 10}")
    all_e = [p.stats[ENERGY].mean for p in pts]
    for ax, (cond, members) in zip(axes.flat, panels.items()):
        for pt in members:
            ax.errorbar(pt.stats[ENERGY].mean, pt.stats["accuracy"].mean,
                        xerr=pt.stats[ENERGY].ci95 or 0.0, yerr=pt.stats["accuracy"].ci95 or 0.0,
                        fmt="o", ms=5, capsize=2, alpha=0.85, color=colours[_key(design_of(pt))])
        e = [p.stats[ENERGY].mean for p in members]
        a = [p.stats["accuracy"].mean for p in members]
        front = pareto_front(e, a)
        ax.step([e[i] for i in front], [a[i] for i in front], where="post", color="k", lw=1.0)
        if cond:
            ax.set_title(", ".join(f"{short(c)}={_fmt(v)}" for c, v in zip(conds, cond)), fontsize=9)
        elif conds:
            for i in front:
                text = ", ".join(f"{short(c)}={_fmt(dict(members[i].params)[c])}" for c in conds)
                ax.annotate(text, (e[i], a[i]), textcoords="offset points", xytext=(4, -10), fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    if all_e and min(all_e) > 0 and max(all_e) / min(all_e) >= 100:
        axes[0, 0].set_xscale("log")
    for ax in axes[-1, :]:
        ax.set_xlabel(label(ENERGY) if ncols == 1 else "energy per inference (mJ)")
    for ax in axes[:, 0]:
        ax.set_ylabel(label("accuracy") if nrows == 1 else "accuracy")
    handles = [plt.Line2D([], [], color="k", lw=1.0, label="Pareto front")]
    if design:
        seen: set[str] = set()
        for pt in sorted(pts, key=lambda q: _series_label(design_of(q), design)):
            k = _key(design_of(pt))
            if k not in seen:
                seen.add(k)
                handles.append(plt.Line2D([], [], color=colours[k], marker="o", ls="",
                                          label=_series_label(design_of(pt), design)))
    title = "Energy vs accuracy; Pareto front = lower energy and higher accuracy"
    if len(panels) > 1:
        fig.suptitle(title, fontsize=11)
        fig.legend(handles=handles, title=short(hue) if hue else None, loc="center right", fontsize=8)
        fig.tight_layout(rect=(0, 0, 1 - 2.2 / fig.get_figwidth(), 1))
        fig.savefig(out, dpi=110)
        plt.close(fig)
        return Path(out)
    axes[0, 0].legend(handles=handles, title=short(hue) if hue else None, fontsize=8)
    axes[0, 0].set_title(title, fontsize=10)
    return _save(fig, Path(out))


def _sort_value(v: Any) -> tuple:
    return (0, float(v), "") if _num(v) else (1, 0.0, _key(v))


def _slug(column: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in column)


def sweep_figures(table: pa.Table, params: Sequence[str] | None = None, outdir: Path = Path(".")) -> list[Path]:
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
                                 title=f"{label(m)} vs fleet size", logx=True))
        if util:
            paths.append(plot_xy(table, "devices", util, outdir / "fleet_edge_utilization.png", hue=hue,
                                 title="Edge utilisation vs fleet size", logx=True, logy=False))
    for p in vary:
        if p in covered or p.split(".")[-1] != "ber":
            continue
        covered.add(p)
        tag = "ber" if sum(q.split(".")[-1] == "ber" for q in vary) == 1 else _slug(p)
        for m, name in (("accuracy", "accuracy"), (ENERGY, "energy")):
            if m in metrics:
                paths.append(plot_xy(table, p, m, outdir / f"{tag}_{name}.png", hue=hue,
                                     title=f"{label(m)} vs channel BER"))
    # other numeric parameters get their own x axis; categorical ones (options) only split lines
    rest = [p for p in vary if p not in covered and all(_num(dict(pt.params)[p]) for pt in pts)]
    if not rest and not paths and hue:
        rest = [hue]
    for p in rest:
        for m in base_metrics:
            paths.append(plot_xy(table, p, m, outdir / f"{_slug(p)}_{_slug(m)}.png",
                                 hue=hue if hue != p else None))
    if len(pts) >= 2 and ENERGY in metrics and "accuracy" in metrics:
        paths.append(pareto_figure(table, outdir / "pareto_energy_accuracy.png", hue=hue))
    return paths


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
