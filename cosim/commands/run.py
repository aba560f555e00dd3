"""`cosim run SCENARIO -o OUTDIR`: simulate a scenario and write summary, records, manifest and figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from cosim.commands.report import add_format_options, figure_format


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="simulate a scenario", description=__doc__)
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("-o", "--out", default=None, help="output directory (default: out/<scenario name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field, e.g. devices.0.count=500 (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    p.add_argument("--force", action="store_true",
                   help="run even if the up-front estimate says it needs more memory or time than this "
                   "machine has")
    p.add_argument("--report", action="store_true", help="also write OUTDIR/report.html (self-contained)")
    add_format_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cosim.engine.budget import check_budget
    from cosim.engine.preflight import load_checked, located
    from cosim.engine.run import run_scenario
    from cosim.errors import CosimError
    from cosim.report.console import print_summary

    form = figure_format(args)
    scenario, lines = load_checked(args.scenario, args.overrides, args.seed)
    check_budget(scenario, args.scenario, force=args.force)
    outdir = Path(args.out) if args.out else Path("out") / scenario.name
    import torch

    torch.set_num_threads(1)
    if outdir.exists() and not outdir.is_dir():
        raise CosimError(f"-o {outdir}: exists and is not a directory")
    try:
        with located(scenario, args.scenario, lines):
            result = run_scenario(scenario, outdir, progress=not args.quiet, figures=form)
    except OSError as exc:  # disk full, read-only or missing folder: nothing partial was kept
        raise CosimError(f"-o {outdir}: cannot write outputs ({exc.strerror or exc})") from None
    if not args.quiet:
        print_summary(result.typed)
        print(f"outputs in {outdir}/ (summary.json, packets.parquet, manifest.json, figures/)")
    if args.report:
        from cosim.report.html import report_format, write_report

        path = write_report(outdir, report_format("svg" if form.fmt == "svg" else "png", args.dpi))
        if not args.quiet:
            print(f"report: {path}")
    return 0
