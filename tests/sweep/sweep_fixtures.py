"""Shared helpers of the sweep tests: a tiny base scenario, sweep files, and a fake simulation."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

TINY = {
    "name": "tiny",
    "seed": 3,
    "duration_s": 4,
    "dataset": "digits",
    "codec": "builtin:digits",
    "deadline_ms": 500,
    "devices": [{
        "name": "sensors", "count": 4, "board": "stm32l476", "radio": "ble-1m", "strategy": "semanticnn",
        "workload": {"kind": "periodic", "period_s": 1.0, "jitter_s": 0.1},
        "placement": {"kind": "fixed", "distance_m": 5},
    }],
    "edge": [{"name": "gateway", "profile": "rpi5", "workers": 1, "max_batch": 16, "max_wait_ms": 5,
              "medium": {"kind": "dedicated"}, "channel": {"kind": "constant", "ber": 0.001}}],
}


def write_base(folder: Path, **changes) -> Path:
    """The tiny scenario as folder/base.yaml."""
    data = {**TINY, **changes}
    path = folder / "base.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def write_sweep(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


class FakeSimulate:
    """Stands in for the engine: a summary shaped like the real one, derived from the scenario and seed;
    counts calls and fails for the strategies in `fail`."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self, scenario) -> dict:
        self.calls += 1
        group = scenario.devices[0]
        if group.strategy in self.fail:
            raise RuntimeError(f"strategy {group.strategy} exploded\nsecond line")
        rng = random.Random(scenario.seed * 1000 + group.count)
        ber = scenario.edge[0].channel.ber
        metrics = {
            "devices": group.count, "inferences": group.count * 4, "delivered": group.count * 4,
            "lost": {"collision": 0, "queue": 0},
            "accuracy": max(0.0, 0.9 - 3 * ber + rng.uniform(-0.01, 0.01)),
            "delivered_accuracy": 0.9,
            "latency_ms": {"mean": 10.0 + group.count, "p50": 9.0, "p95": 20.0 + group.count * rng.uniform(1, 1.1),
                           "p99": None},
            "deadline_miss_ratio": 0.0,
            "device_energy_mj_per_inference": 1.0 + (group.strategy == "semanticnn") + rng.random() * 0.01,
            "battery_life_days": 100.0,
        }
        return {"scenario": scenario.name, "seed": scenario.seed, **metrics,
                "groups": {group.name: dict(metrics)},
                "edge_utilization": {"gateway": min(1.0, group.count / 100)},
                "sim_time_s": scenario.duration_s, "wall_time_s": rng.random(), "events": 123}
