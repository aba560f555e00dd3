"""`cosim run SCENARIO -o OUTDIR`: simulate a scenario and write summary, records, manifest and figures.

SCENARIO is a scenario YAML file, or a run's manifest.json (or its folder with `--replay`), which
replays that run: same resolved scenario and seed, byte-identical packets.parquet and summary.json
(wall times aside), refused if an input file it read has changed since.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from cosim.commands.report import add_format_options, figure_format

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="simulate a scenario (or replay a run's manifest.json)",
                              description=__doc__)
    p.add_argument("scenario", help="scenario YAML file, or a run's manifest.json")
    p.add_argument("-o", "--out", default=None, help="output directory (default: out/<scenario name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field, e.g. devices.0.count=500 (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--replay", action="store_true",
                   help="SCENARIO is an earlier run's folder or manifest.json: run it again exactly")
    p.add_argument("--force", action="store_true",
                   help="run even if the up-front estimate says it needs more memory or time than this "
                   "machine has (or, replaying, an input file changed)")
    p.add_argument("--force-outdir", action="store_true",
                   help="write into an output folder that holds files cosim did not write (they are kept)")
    p.add_argument("--report", action="store_true", help="also write OUTDIR/report.html (self-contained)")
    add_format_options(p)
    p.set_defaults(func=run)


def _is_manifest(spec: str, replay: bool) -> bool:
    path = Path(spec)
    return replay or path.suffix == ".json" or (path.is_dir() and (path / "manifest.json").is_file())


def load_manifest(spec: str, force: bool = False):
    """The scenario of a run's manifest.json (or folder); refused if an input file changed since."""
    from cosim.config.scenario import validate_scenario
    from cosim.errors import ScenarioError
    from cosim.provenance import inputs

    path = Path(spec)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError(f"{path}: not a readable run manifest ({str(exc)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), dict):
        raise ScenarioError(f"{path}: not a run manifest (no 'scenario' mapping)")
    scenario = validate_scenario(data["scenario"], f"{path}: scenario")
    recorded = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
    now = inputs(scenario)
    for label, entry in sorted(recorded.items()):
        want = entry.get("sha256") if isinstance(entry, dict) else None
        have = now.get(label, {}).get("sha256")
        if want != have and not force:
            state = "is missing" if have is None else "changed since the run"
            raise ScenarioError(f"{path}: input {label} ({entry.get('path') if isinstance(entry, dict) else '?'}) "
                                f"{state}; --force replays anyway")
    return scenario


def run(args: argparse.Namespace) -> int:
    from cosim.engine.budget import check_budget
    from cosim.engine.preflight import load_checked, located
    from cosim.engine.run import run_scenario
    from cosim.errors import CosimError
    from cosim.io import check_plain_name, check_user_path
    from cosim.report.console import print_summary
    from cosim.results.publish import check_outdir

    check_user_path(args.scenario, "SCENARIO")
    if _is_manifest(args.scenario, args.replay):
        if args.overrides or args.seed is not None:
            raise CosimError("a replay runs the manifest's scenario as it was: no --set or --seed")
        scenario, lines = load_manifest(args.scenario, args.force), {}
        log.info("replaying %s (scenario %s, seed %d)", args.scenario, scenario.name, scenario.seed)
    else:
        scenario, lines = load_checked(args.scenario, args.overrides, args.seed)

    form = figure_format(args)
    check_budget(scenario, args.scenario, force=args.force)
    if args.out is not None:
        outdir = check_user_path(args.out, "-o")
    else:
        outdir = Path("out") / check_plain_name(scenario.name, "scenario name")
    check_outdir(outdir, args.force_outdir)
    import torch

    torch.set_num_threads(1)
    bars = None if args.quiet else _ProgressBars()
    try:
        with located(scenario, args.scenario, lines):
            result = run_scenario(scenario, outdir, progress=bars, force_outdir=args.force_outdir,
                                  figures=form)
    except OSError as exc:  # disk full, read-only or missing folder: nothing partial was kept
        raise CosimError(f"-o {outdir}: cannot write outputs ({exc.strerror or exc})") from None
    finally:
        if bars is not None:
            bars.close()
    if not args.quiet:
        print_summary(result.typed)
        print(f"outputs in {outdir}/ (summary.json, packets.parquet, manifest.json, figures/)")
    if args.report:
        from cosim.io import add_to_marker
        from cosim.report.html import report_format, write_report

        path = write_report(outdir, report_format("svg" if form.fmt == "svg" else "png", args.dpi))
        add_to_marker(outdir, "run", ["report.html"])  # cosim's file: replaced with the run, never refused
        if not args.quiet:
            print(f"report: {path}")
    return 0


class _ProgressBars:
    """The engine's progress callback: one tqdm bar in simulated seconds per World (compare variant)."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, label: str, now_s: float, duration_s: float) -> None:
        if self.bar is None or self.bar.desc != label:
            self.close()
            from tqdm import tqdm

            self.bar = tqdm(total=round(duration_s, 3), unit="sim-s", desc=label,
                            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} sim-s [{elapsed}<{remaining}]")
        self.bar.update(now_s - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
