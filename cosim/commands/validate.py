"""`cosim validate FILE`: check a scenario (schema, profiles, channel files) without running it."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="check a scenario without running it", description=__doc__)
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    p.set_defaults(func=validate)


def validate(args: argparse.Namespace) -> int:
    from cosim.profiles import load_board, load_edge, load_radio
    from cosim.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    for g in scenario.devices:
        load_board(g.board)
        load_radio(g.radio)
    for s in scenario.edge:
        load_edge(s.profile)
    n = sum(g.count for g in scenario.devices)
    print(f"{args.scenario}: valid ({len(scenario.devices)} groups, {n} devices, "
          f"{len(scenario.edge)} edge servers, {scenario.duration_s:g} s)")
    return 0
