"""The benchmarks' own scenario: the quickstart as of issue 16, frozen here so figures stay comparable.

`scenarios/quickstart.yaml` may change (another data set, another fleet); the benchmarks must not follow
it, or a "speed-up" could be a cheaper scenario. This module holds a copy of its settings (digits, the
`builtin:digits` codec, semanticnn on STM32L476, Gilbert-Elliott BLE links to one Raspberry Pi 5) and
the medium cases of the engine benchmark.

Fleet scaling: a case gives each device a share of the medium's time, `share_s`; the sensing period is
`max(2 s, devices × share_s)`, and the jitter and the Gilbert-Elliott dwell times stretch with the
period (×period/2 s). So the offered load on the shared medium (or the edge server) and the channel
state changes per frame do not grow with the fleet: per-inference work should not either. At 1,000
devices (10,000 for dedicated links) every case has the quickstart's 2 s period.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from cosim.config.scenario import Scenario, validate_scenario

BASE = {
    "name": "bench",
    "seed": 1,
    "duration_s": 60,
    "dataset": "digits",
    "codec": "builtin:digits",
    "deadline_ms": 200,
    "devices": [{
        "name": "sensors", "count": 200, "board": "stm32l476", "radio": "ble-1m", "strategy": "semanticnn",
        "workload": {"kind": "periodic", "period_s": 2.0, "jitter_s": 0.2},
        "placement": {"kind": "uniform", "min_m": 2, "max_m": 15},
        "battery_mah": 1000, "battery_v": 3.0,
    }],
    "edge": [{
        "name": "gateway", "profile": "rpi5", "workers": 1, "max_batch": 32, "max_wait_ms": 5,
        "medium": {"kind": "dedicated"},
        "channel": {"kind": "gilbert-elliott", "ber_good": 1.0e-5, "ber_bad": 1.0e-2,
                    "mean_good_s": 20.0, "mean_bad_s": 2.0},
    }],
}
"""scenarios/quickstart.yaml at commit adf5426 (the issue-16 baseline)."""

BASE_PERIOD_S = 2.0


@dataclass(frozen=True)
class Case:
    """One medium of the engine benchmark: its radio, medium config and per-device share of time."""

    radio: str
    medium: dict = field(hash=False)
    share_s: float  # the sensing period is max(2 s, devices x share_s)


CASES = {
    # edge load 5,000 inferences/s (15 % of the rpi5) from 10,000 devices up
    "dedicated": Case("ble-1m", {"kind": "dedicated"}, 0.2e-3),
    # a 1.6 ms slot holds one BLE 1M frame; the superframe (devices x 1.6 ms) fits in the period
    "tdma": Case("ble-1m", {"kind": "tdma", "slot_ms": 1.6}, 2e-3),
    # 802.15.4 frames of ~1.9 ms at 100 frames/s: offered load ~0.19 Erlang at every size
    "aloha": Case("ieee802154", {"kind": "aloha"}, 10e-3),
    "csma": Case("ieee802154", {"kind": "csma", "backoff_max_ms": 5, "max_attempts": 5}, 10e-3),
}


def period_s(case: str, devices: int) -> float:
    """Sensing period of `case` at `devices` devices, s."""
    return max(BASE_PERIOD_S, devices * CASES[case].share_s)


def scenario_dict(case: str, devices: int, inferences: int) -> dict:
    """The benchmark scenario of `case` with `devices` devices sensing about `inferences` samples."""
    data = copy.deepcopy(BASE)
    spec = CASES[case]
    period = period_s(case, devices)
    scale = period / BASE_PERIOD_S
    group = data["devices"][0]
    group["count"] = devices
    group["radio"] = spec.radio
    group["workload"] = {"kind": "periodic", "period_s": period, "jitter_s": 0.2 * scale}
    edge = data["edge"][0]
    edge["medium"] = dict(spec.medium)
    edge["channel"]["mean_good_s"] *= scale
    edge["channel"]["mean_bad_s"] *= scale
    data["duration_s"] = inferences * period / devices
    return data


def scenario(case: str, devices: int, inferences: int) -> Scenario:
    """`scenario_dict` validated."""
    return validate_scenario(scenario_dict(case, devices, inferences), f"benchmark {case} with {devices} devices")
