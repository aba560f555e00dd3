"""`report.html` of a run or sweep folder: one self-contained page (figures inlined as base64 PNG or as
SVG, no scripts or styles fetched from anywhere) that opens offline in any browser.

A run report has the scenario in words, warnings derived from the summary, the summary table per
series with 95 % intervals, every figure (site map included), the energy and battery breakdown and the
manifest. A sweep report has its parameters, the aggregate table with intervals, failed runs and every
gallery figure. The page's one inline script marks a figure that failed to decode, visibly.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cosim import __version__
from cosim.errors import CosimError
from cosim.plots.style import FigureFormat

GENERATOR = f"cosim {__version__} report"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.02em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.5em 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d4d4d4;padding:.25em .55em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}td{white-space:nowrap}
.warn{background:#fff4e5;border-left:4px solid #e8590c;padding:.5em .8em;margin:.4em 0}
.ok{background:#ebfbee;border-left:4px solid #2f9e44;padding:.5em .8em}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:.4em 1.2em}
.figs .wide{grid-column:1/-1}figure{margin:.3em 0 1em}
figure img,figure svg{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.92em}.broken{color:#c92a2a;font-weight:bold}
pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:12px}small{color:#666}
"""
SCRIPT = """window.addEventListener("load",function(){var n=0;document.querySelectorAll("figure img").forEach(
function(i){var ok=i.complete&&i.naturalWidth>0;i.dataset.loaded=ok?"yes":"no";if(!ok){n++;var p=document.
createElement("p");p.className="broken";p.textContent="This figure failed to load.";i.after(p);}});
document.body.dataset.brokenFigures=String(n);});"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _num(v, spec: str = ".3g") -> str:
    if v is None:
        return "–"
    if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) >= 1000:
        return f"{v:,.0f}"
    return format(v, spec) if isinstance(v, (int, float)) else _e(v)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _width_in(data: bytes, svg: bool, dpi: int) -> float:
    """A figure's width in inches: SVG's `width="…pt"`, PNG's IHDR pixels over the dpi."""
    if svg:
        m = re.search(rb'<svg[^>]*\swidth="([0-9.]+)pt"', data)
        return float(m.group(1)) / 72 if m else 0.0
    return int.from_bytes(data[16:20], "big") / dpi if data[:4] == b"\x89PNG" else 0.0


def figure_html(path: Path, caption: str, title: str | None = None, dpi: int = 150) -> str:
    """A figure file inlined (SVG as markup without its XML prologue, PNG as a base64 data URI) in a
    grid cell; page-wide figures (over 5 in) span the row."""
    data = path.read_bytes()
    svg = path.suffix == ".svg"
    wide = " wide" if _width_in(data, svg, dpi) > 5.0 else ""
    if svg:
        text = data.decode("utf-8")
        body = text[text.index("<svg"):]
    else:
        body = f'<img alt="{_e(caption)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
    head = f"<h3>{_e(title)}</h3>" if title else ""
    return f'<div class="fig{wide}">{head}<figure>{body}<figcaption>{_e(caption)}</figcaption></figure></div>'


def figures_html(paths: Sequence[Path], captions: dict[str, str], dpi: int) -> str:
    """The figures section: a responsive grid, one cell per figure titled by its file stem."""
    cells = "".join(figure_html(p, captions.get(p.stem, p.stem.replace("_", " ")), p.stem.replace("_", " "), dpi)
                    for p in paths)
    return f'<div class="figs">{cells}</div>' if cells else ""


def page(title: str, sections: Sequence[str]) -> str:
    """The whole document."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="generator" content="{_e(GENERATOR)}">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            + "".join(sections) + f"<script>{SCRIPT}</script></body></html>\n")


def write_page(path: Path, text: str) -> Path:
    """Write the report, refusing to replace a report.html that cosim did not write."""
    from cosim.results.records import atomic_write_text

    if path.exists():
        head = path.read_text(errors="replace")[:2000]
        if 'content="cosim ' not in head or "report" not in head:
            raise CosimError(f"{path}: exists and was not written by cosim; not overwriting it")
    atomic_write_text(path, text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # a page to share: readable like any file the user creates
    return path


def report_format(fmt: str | None, dpi: int | None) -> FigureFormat:
    """Figures of a report: PNG (default) or SVG; PDF cannot be shown inline."""
    fmt = fmt or "png"
    if fmt not in ("png", "svg"):
        raise CosimError(f"--format {fmt!r}: a report inlines png or svg figures")
    return FigureFormat(fmt, dpi or 150)


CAPTIONS = {
    "latency_cdf": "End-to-end latency ECDF over all sensed inferences; the dashed line is the deadline.",
    "ber_accuracy_over_time": "Channel BER per time bin from every frame attempt (lost inferences "
                              "included) and the task metric per bin with its 95 % Wilson band.",
    "energy_breakdown": "Device energy per inference by phase.",
    "device_accuracy": "Per-device accuracy (lost or late = wrong), devices weighted by their inferences: "
                       "the mean is the summary's value.",
    "accuracy_vs_distance": "Task metric and delivery ratio per distance bin, 95 % Wilson intervals.",
    "site_map": "Where devices and gateways are, coloured by per-device accuracy and delivery ratio.",
    "group_comparison": "Headline metrics side by side.",
}


def _load_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise CosimError(f"{path.parent}: no {path.name}; give a finished run or sweep folder ({what})")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise CosimError(f"{path}: not valid JSON ({exc})") from None


def write_report(outdir: Path, form: FigureFormat | None = None) -> Path:
    """Write OUTDIR/report.html for a run folder (summary.json) or a sweep folder (results.parquet)."""
    outdir = Path(outdir)
    if not outdir.is_dir():
        raise CosimError(f"{outdir}: no such folder")
    form = form or report_format(None, None)
    if (outdir / "summary.json").is_file():
        text = run_page(outdir, form)
    elif (outdir / "results.parquet").is_file():
        from cosim.report.sweep_html import sweep_page

        text = sweep_page(outdir, form)
    else:
        raise CosimError(f"{outdir}: neither a run folder (summary.json) nor a sweep folder (results.parquet)")
    return write_page(outdir / "report.html", text)


def run_page(outdir: Path, form: FigureFormat) -> str:
    """The HTML of a run's report."""
    from cosim.plots.records import load_records
    from cosim.plots.run import run_figures
    from cosim.plots.series import series_stats
    from cosim.report.warnings import run_warnings
    from cosim.report.words import describe_scenario

    summary = _load_json(outdir / "summary.json", "summary")
    manifest = _load_json(outdir / "manifest.json", "manifest") if (outdir / "manifest.json").is_file() else {}
    packets = outdir / "packets.parquet"
    if not packets.is_file():
        raise CosimError(f"{outdir}: no packets.parquet; the figures need the records")
    rec = load_records(packets, summary, manifest)
    stats = series_stats(rec, summary)
    name = summary.get("scenario") or manifest.get("scenario", {}).get("name", outdir.name)
    sections = [f"<h1>Run report: {_e(name)}</h1><p><small>{_e(outdir.resolve())} · {_e(GENERATOR)}</small></p>"]
    sections.append("<h2>Scenario</h2>" + "".join(f"<p>{_e(s)}</p>" for s in
                                                   describe_scenario(manifest.get("scenario", {}))))
    warns = run_warnings(summary, manifest)
    sections.append("<h2>Warnings</h2>" + ("".join(f'<div class="warn">{_e(w)}</div>' for w in warns)
                                          or '<div class="ok">None: no overload, backlog or budget problem '
                                             "found in the summary.</div>"))
    sections.append("<h2>Summary</h2>" + _summary_table(stats, summary, rec.detection))
    with tempfile.TemporaryDirectory(prefix="cosim-report-") as tmp:
        paths = run_figures(packets, summary, None, Path(tmp), form, manifest)
        sections.append("<h2>Figures</h2>" + figures_html(paths, CAPTIONS, form.dpi))
    sections.append("<h2>Energy and battery</h2>" + _energy_tables(summary))
    sections.append("<h2>Manifest</h2>" + _manifest_html(manifest, summary))
    return page(f"cosim run report: {name}", sections)


def _interval(v, lo, hi) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" + (f" <small>[{lo:.3f}, {hi:.3f}]</small>" if lo is not None and hi is not None else "")


def _summary_table(stats, summary: dict, detection: bool) -> str:
    metric = "mAP@0.5" if detection else "accuracy [95 % Wilson]"
    header = ["series", "inferences", metric, "delivered [95 % Wilson]", "lost or late", "p50 latency (ms)",
              "p95 latency (ms)", "energy / inference (mJ)", "battery life (days)"]
    rows = [[_e(s.name), f"{s.inferences:,}", _interval(s.metric, s.metric_lo, s.metric_hi),
             _interval(s.delivered_ratio, s.delivered_lo, s.delivered_hi), _num(s.miss_ratio, ".3f"),
             _num(s.p50_ms), _num(s.p95_ms), _num(s.energy_mj), _num(s.battery_days, ".1f")] for s in stats]
    if len(stats) > 1:
        from cosim.plots.intervals import wilson

        n = summary.get("inferences") or 0
        acc = summary.get("map50" if detection else "accuracy")
        lo, hi = (float(v) for v in wilson((acc or 0) * n, n)) if n and not detection else (None, None)
        dlo, dhi = (float(v) for v in wilson(summary.get("delivered") or 0, n)) if n else (None, None)
        lat = summary.get("latency_ms") or {}
        rows.append(["<b>all</b>", f"{n:,}", _interval(acc, lo, hi),
                     _interval((summary.get("delivered") or 0) / n if n else None, dlo, dhi),
                     _num(summary.get("deadline_miss_ratio"), ".3f"), _num(lat.get("p50")), _num(lat.get("p95")),
                     _num(summary.get("device_energy_mj_per_inference")), _num(summary.get("battery_life_days"), ".1f")])
    note = ("<p><small>Accuracy counts an inference right only if it was delivered before the deadline and "
            "classified correctly. Intervals: 95 % Wilson score intervals over the inferences.</small></p>"
            if not detection else "<p><small>mAP@0.5 over every sensed inference (lost or late ones count "
            "their objects as missed).</small></p>")
    return table(header, rows) + note


def _energy_tables(summary: dict) -> str:
    groups = summary.get("groups") or {}
    phases: list[str] = []
    for g in groups.values():
        phases += [p for p in (g.get("device_energy_mj_by_phase") or {}) if p not in phases]
    rows = []
    for name, g in groups.items():
        by = g.get("device_energy_mj_by_phase") or {}
        total = g.get("device_energy_mj_per_inference") or 0
        cells = [f"{_num(by.get(p))} <small>({(by.get(p) or 0) / total:.0%})</small>" if total else _num(by.get(p))
                 for p in phases]
        rows.append([_e(name), *cells, _num(total), _num(g.get("device_avg_power_mw")),
                     _num(g.get("battery_life_days"), ".1f")])
    out = "<h3>Device energy per inference by phase (mJ, share of the total)</h3>" + table(
        ["group", *[_e(p) for p in phases], "total (mJ)", "average power (mW)", "battery life (days)"], rows)
    edge = summary.get("edge_energy_j") or {}
    util = summary.get("edge_utilization") or {}
    if edge or util:
        out += "<h3>Edge servers</h3>" + table(
            ["server", "utilisation", "energy (J)"],
            [[_e(s), f"{util[s]:.1%}" if util.get(s) is not None else "–", _num(edge.get(s))]
             for s in sorted({*edge, *util})])
    return out


def _manifest_html(manifest: dict, summary: dict) -> str:
    if not manifest:
        return "<p>No manifest.json in the folder.</p>"
    rows = [["cosim", _e(manifest.get("cosim_version"))], ["python", _e(manifest.get("python"))],
            ["seed", _e(manifest.get("seed"))]]
    rows += [[_e(k), _e(v)] for k, v in (manifest.get("packages") or {}).items()]
    for spec, h in (manifest.get("codecs") or {}).items():
        rows.append([f"codec {_e(spec)}", f"<code>{_e(h.get('sha256') or '–')}</code>"
                     + (f"<br><small>file {_e(h['file_sha256'])}</small>" if h.get("file_sha256") else "")])
    rows.append(["simulated / wall time", f"{_num(summary.get('sim_time_s'))} s / {_num(summary.get('wall_time_s'))} s"])
    scenario = json.dumps(manifest.get("scenario", {}), indent=2)
    return (table(["what", "value"], rows)
            + f"<details><summary>Full scenario (as run)</summary><pre>{_e(scenario)}</pre></details>")
