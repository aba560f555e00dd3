"""`cosim validate FILE`: check a scenario without running it, with the same checks as `cosim run`.

Schema, profiles, data set, codecs, strategy names and options, frames, TDMA slots and trace files (the
run's own World is built with a few devices per group), then the up-front resource estimate.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="check a scenario without running it", description=__doc__)
    p.add_argument("scenario", help="scenario YAML file, or a run's manifest.json")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    p.add_argument("--force", action="store_true",
                   help="accept a scenario estimated to need more memory or time than this machine has")
    p.set_defaults(func=validate)


def validate(args: argparse.Namespace) -> int:
    from cosim.commands.run import _is_manifest, load_manifest
    from cosim.engine.budget import check_budget
    from cosim.engine.preflight import check_scenario, load_checked, located

    if _is_manifest(args.scenario, False) and not args.overrides:
        scenario, lines = load_manifest(args.scenario, args.force), {}
    else:
        scenario, lines = load_checked(args.scenario, args.overrides)
    with located(scenario, args.scenario, lines):
        check_scenario(scenario)
    est = check_budget(scenario, args.scenario, force=args.force)
    n = sum(g.count for g in scenario.devices)
    variants = f"{len(scenario.compare)} compare variants, " if scenario.compare else ""
    print(f"{args.scenario}: valid ({len(scenario.devices)} groups, {n} devices, {variants}"
          f"{len(scenario.edge)} edge servers, {scenario.duration_s:g} s; estimate: {est.describe()})")
    return 0
