"""`cosim report OUTDIR`: write OUTDIR/report.html, one self-contained page (figures inlined, no network
needed to open it) for a run folder or a sweep folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="write a self-contained HTML report of a run or sweep folder",
                              description=__doc__)
    p.add_argument("outdir", help="a run folder (summary.json) or a sweep folder (results.parquet)")
    add_format_options(p, report=True)
    p.set_defaults(func=run)


def add_format_options(p: argparse.ArgumentParser, report: bool = False) -> None:
    """--format and --dpi (shared by run, sweep, plot and report)."""
    choices = ("png", "svg") if report else ("png", "pdf", "svg")
    p.add_argument("--format", choices=choices, default=None,
                   help="figure format (default png; pdf and svg are vector)" if not report else
                   "how figures are inlined (default png; svg keeps them vector)")
    p.add_argument("--dpi", type=int, default=None, metavar="N",
                   help="resolution of PNG figures (default 200; 150 in a report)")


def figure_format(args: argparse.Namespace):
    """The FigureFormat the --format/--dpi options ask for."""
    from cosim.plots.style import FigureFormat

    return FigureFormat(args.format or "png", args.dpi or FigureFormat().dpi)


def run(args: argparse.Namespace) -> int:
    from cosim.report.html import report_format, write_report

    path = write_report(Path(args.outdir), report_format(args.format, args.dpi))
    print(path)
    return 0
