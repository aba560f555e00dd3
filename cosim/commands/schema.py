"""`cosim schema`: print the scenario JSON Schema (for editors and validators)."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser("schema", help="print the scenario JSON Schema", description=__doc__)
    p.set_defaults(func=schema)


def schema(args: argparse.Namespace) -> int:
    from cosim.config.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0
