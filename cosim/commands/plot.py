"""`cosim plot RESULTS --x PATH --y PATH [--hue PATH]`: a metric against a parameter from a sweep's results,
one series per hue value, error bars = 95 % intervals over replications (Wilson for proportions).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cosim.commands.report import add_format_options, figure_format


def register(subparsers) -> None:
    p = subparsers.add_parser("plot", help="plot a metric against a parameter from sweep results",
                              description=__doc__)
    p.add_argument("results", help="results.parquet, results.csv or a sweep output folder")
    p.add_argument("--x", required=True, help="x column: a parameter path or metric (e.g. devices, "
                   "devices.0.count, edge.0.channel.ber); a unique suffix such as 'ber' is enough")
    p.add_argument("--y", required=True, action="append",
                   help="y metric, e.g. latency_ms.p95, accuracy (repeatable: several on one axis)")
    p.add_argument("--hue", default=None, help="parameter that colours the lines (e.g. strategy)")
    p.add_argument("--out", default=None, help="figure file (default: <results folder>/figures/<y>_vs_<x>.<format>;"
                   " a .png/.pdf/.svg suffix sets the format when --format is not given)")
    p.add_argument("--logx", action=argparse.BooleanOptionalAction, default=None, help="log x axis (default: auto)")
    p.add_argument("--logy", action=argparse.BooleanOptionalAction, default=None, help="log y axis (default: auto)")
    p.add_argument("--title", default=None)
    add_format_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cosim.plots.sweep import plot_xy, resolve_column
    from cosim.sweep.table import read_results

    table = read_results(args.results)
    if args.out and args.format is None and Path(args.out).suffix[1:] in ("png", "pdf", "svg"):
        args.format = Path(args.out).suffix[1:]
    form = figure_format(args)
    if args.out is not None:
        out = Path(args.out)
    else:
        folder = Path(args.results) if Path(args.results).is_dir() else Path(args.results).parent
        x = resolve_column(args.x, table)
        ys = "+".join(resolve_column(y, table) for y in args.y)
        out = folder / "figures" / f"{ys}_vs_{x}.png".replace("/", "_")
    from cosim.io import check_user_path, probe_writable

    out = check_user_path(out, "--out")
    probe_writable(out, "--out")
    path = plot_xy(table, args.x, args.y, out, hue=args.hue, title=args.title, logx=args.logx, logy=args.logy,
                   form=form)
    print(path)
    return 0
