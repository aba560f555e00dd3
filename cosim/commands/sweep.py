"""`cosim sweep SWEEP.yaml -o OUTDIR`: run a parameter sweep on Dask (or serially) and tabulate it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cosim.commands.report import add_format_options, figure_format


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="run a parameter sweep (grid x replications) on Dask",
                              description=__doc__)
    p.add_argument("sweep", help="sweep YAML file (base, grid, zip, replications, set)")
    p.add_argument("-o", "--out", default=None, help="output directory (default: out/sweeps/<sweep name>)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of the local Dask cluster (default: one per core; 0 = in-process)")
    p.add_argument("--serial", action="store_true", help="run in this process, one run after another")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://host:8786")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field of the base scenario in every run, e.g. duration_s=60 (repeatable)")
    p.add_argument("--force-outdir", action="store_true",
                   help="write into an output folder that holds files cosim did not write (they are kept)")
    p.add_argument("--no-figures", action="store_true", help="skip the default figures")
    p.add_argument("--force", action="store_true",
                   help="run even if the up-front estimate says a run is far too big for this machine")
    p.add_argument("--report", action="store_true", help="also write OUTDIR/report.html (self-contained)")
    add_format_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cosim.errors import CosimError

    form = figure_format(args)
    if args.workers is not None and args.workers < 0:
        raise CosimError(f"--workers {args.workers}: must be 0 (in-process) or a positive number")
    if args.serial and args.scheduler:
        raise CosimError("--serial and --scheduler exclude each other")
    workers = 0 if args.serial else args.workers if args.workers is not None else (os.cpu_count() or 1)
    pool = None
    if workers and not args.scheduler:  # start the workers now: they import the engine while the sweep loads
        from cosim.sweep.cluster import LocalPool

        pool = LocalPool(workers)
    try:
        return _sweep(args, form, workers, pool)
    finally:
        if pool is not None:
            pool.close()


def _sweep(args: argparse.Namespace, form, workers: int, pool) -> int:
    """Load, check and run the sweep (on `pool` if given), then write figures and the report."""
    from tqdm import tqdm

    from cosim.io import check_plain_name, check_user_path
    from cosim.sweep.execute import describe_record, load_sweep, run_sweep

    check_user_path(args.sweep, "SWEEP")
    sweep = load_sweep(args.sweep, args.overrides)
    from cosim.sweep import warm

    warm.prepare(pool, sweep)  # the workers load the data sets and codecs while the runs are checked here
    if not args.force:
        from cosim.engine.budget import check_budget

        for spec in {r.key: r for r in sweep.runs}.values():
            params = ", ".join(f"{p}={v!r}" for p, v in spec.params) or "base"
            check_budget(spec.scenario, f"{args.sweep}: run {params}")
    if args.out is not None:
        outdir = check_user_path(args.out, "-o")
    else:
        outdir = Path("out") / "sweeps" / check_plain_name(sweep.name, "sweep name")
    total = len(sweep.unique_keys)
    mode = (f"scheduler {args.scheduler}" if args.scheduler else
            "in-process" if workers == 0 else f"LocalCluster with {workers} worker processes")
    if not args.quiet:
        print(f"sweep {sweep.name}: {len(sweep.points)} parameter points x {len(sweep.seeds)} "
              f"replications = {total} runs ({mode})", file=sys.stderr)
    bar = None if args.quiet else tqdm(total=total, unit="run", desc=sweep.name)

    def progress(record: dict) -> None:
        if bar is not None:
            bar.update(1)

    try:
        result = run_sweep(sweep, outdir, workers=workers, scheduler=args.scheduler,
                           progress=progress, figures=False, force_outdir=args.force_outdir, pool=pool)
    finally:
        if bar is not None:
            bar.close()
    figures = []
    if not args.no_figures:
        from cosim.plots.sweep import sweep_figures
        from cosim.sweep.table import read_results

        figures = sweep_figures(read_results(result.results), list(sweep.param_paths), outdir / "figures", form)
    print(f"{result.runs} runs: {result.executed} executed, {result.cached} already finished, "
          f"{len(result.failed)} failed")
    for rec in result.failed:
        print(f"  failed: {describe_record(rec)}")
    print(f"results: {result.results} (+ .csv), aggregate: {result.aggregate} (+ .csv)")
    if figures:
        print(f"figures: {len(figures)} in {figures[0].parent}/")
    if args.report:
        from cosim.io import add_to_marker
        from cosim.report.html import report_format, write_report

        print(f"report: {write_report(outdir, report_format('svg' if form.fmt == 'svg' else 'png', args.dpi))}")
        add_to_marker(outdir, "sweep", ["report.html"])
    return 1 if result.failed else 0
