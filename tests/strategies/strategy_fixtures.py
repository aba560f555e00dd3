"""Shared helpers of the strategy tests: small scenarios with one group per strategy, runs, records."""

from __future__ import annotations

import math
from pathlib import Path

from cosim.config.scenario import validate_scenario
from cosim.engine.world import World


def group(name: str, strategy: str, count: int = 20, rate_hz: float = 1.0, **extra) -> dict:
    """One device group on STM32L476 + BLE 1M with Poisson sensing at `rate_hz`."""
    g = {"name": name, "count": count, "board": "stm32l476", "radio": "ble-1m", "strategy": strategy,
         "workload": {"kind": "poisson", "rate_hz": rate_hz}}
    g.update(extra)
    return g


def scenario(groups: list[dict], channel: dict | None = None, duration_s: float = 30.0, seed: int = 3,
             **over) -> dict:
    """A scenario dict: `groups` on one rpi5 gateway (dedicated medium) over `channel` (default BER 0)."""
    data = {
        "name": "strategies", "seed": seed, "duration_s": duration_s, "dataset": "digits",
        "codec": "builtin:digits", "deadline_ms": 10_000, "devices": groups,
        "edge": [{"name": "e", "profile": "rpi5", "max_batch": 64, "max_wait_ms": 1,
                  "channel": channel or {"kind": "constant", "ber": 0.0}}],
    }
    data.update(over)
    return data




def world(data: dict, tmp_path: Path) -> World:
    """A built (not run) World: the strategy context, with every group's setup done."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return World(validate_scenario(data, "test"), tmp_path)


def within(observed: float, expected: float, sd: float, n: int, sigmas: float = 4.5) -> bool:
    """|observed - expected| within `sigmas` standard errors of a mean of n draws with std dev `sd`."""
    return abs(observed - expected) <= sigmas * sd / math.sqrt(n) + 1e-9
