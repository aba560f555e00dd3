"""The report page of a sweep folder: what was swept, the per-point table with 95 % intervals (Wilson
for proportions), failed runs, and every gallery figure."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from cosim.plots.style import FigureFormat
from cosim.report.html import GENERATOR, _e, _num, figures_html, page, table

COLUMNS = (("accuracy", "accuracy"), ("map50", "mAP@0.5"), ("latency_ms.p95", "p95 latency (ms)"),
           ("device_energy_mj_per_inference", "energy / inference (mJ)"),
           ("battery_life_days", "battery life (days)"))


def sweep_page(outdir: Path, form: FigureFormat) -> str:
    """The HTML of a sweep's report."""
    from cosim.plots.sweep import _fmt, interval, pooled_counts, short, sweep_figures
    from cosim.sweep.table import metric_columns, param_columns, points, read_results

    results = read_results(outdir)
    meta = json.loads((outdir / "sweep.json").read_text()) if (outdir / "sweep.json").is_file() else {}
    params = param_columns(results)
    metrics = set(metric_columns(results))
    shown = [(c, t) for c, t in COLUMNS if c in metrics]
    counts = [c for c in ("inferences", "delivered") if c in metrics]
    pts = points(results, params, [c for c, _ in shown] + counts)
    pooled = {c: pooled_counts(results, params, c) for c, _ in shown}
    name = meta.get("sweep", outdir.name)
    sections = [f"<h1>Sweep report: {_e(name)}</h1><p><small>{_e(outdir.resolve())} · {_e(GENERATOR)}</small></p>"]
    seeds = meta.get("replication_seeds")
    sections.append(
        "<h2>Sweep</h2>" + f"<p>Base scenario {_e(meta.get('base', '?'))}; parameters "
        f"{_e(', '.join(params) or 'none')}; {len(pts)} parameter points × "
        f"{len(seeds) if seeds else '?'} replications = {results.num_rows} runs.</p>")
    rows = []
    for pt in pts:
        cells = [_e(_fmt(dict(pt.params)[p])) or "<small>default</small>" for p in params]
        cells.append(f"{pt.runs}" + (f" <small>({pt.failed} failed)</small>" if pt.failed else ""))
        for c, _ in shown:
            mean, lo, hi = interval(pt, c, pooled[c])
            cells.append("–" if mean is None else f"{_num(mean)} <small>[{_num(lo)}, {_num(hi)}]</small>")
        rows.append(cells)
    sections.append("<h2>Results per parameter point</h2>" + table(
        [_e(short(p)) for p in params] + ["runs"] + [_e(t) + " <small>[95 %]</small>" for _, t in shown], rows)
        + "<p><small>Mean over replications. Intervals: proportions use the Wilson interval of the pooled "
          "inferences with the spread between seeds as design effect; other metrics the Student-t interval "
          "over replications.</small></p>")
    status = results.column("status").to_pylist()
    errors = results.column("error").to_pylist()
    failed = [(i, e) for i, (s, e) in enumerate(zip(status, errors)) if s != "ok"]
    if failed:
        cols = {p: results.column(p).to_pylist() for p in params}
        sections.append("<h2>Failed runs</h2>" + table(
            [_e(short(p)) for p in params] + ["replication", "error"],
            [[_e(_fmt(cols[p][i])) for p in params] + [_e(results.column("replication")[i].as_py()), _e(e)]
             for i, e in failed]))
    with tempfile.TemporaryDirectory(prefix="cosim-report-") as tmp:
        paths = sweep_figures(results, params, Path(tmp), form)
        sections.append("<h2>Figures</h2>" + (figures_html(paths, {}, form.dpi)
                                              or "<p>No figures: nothing varied, or no run succeeded.</p>"))
    return page(f"cosim sweep report: {name}", sections)
