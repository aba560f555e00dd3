"""Where devices are (distance to their gateway, nearest-gateway attachment) and when they sense."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from cosim.config.scenario import DeviceGroup, Scenario


def _arrivals(workload, rng: random.Random) -> Callable[[float], float]:
    """Next sensing time after `now` for one device (first call: the first sensing time).

    Periodic: the first sensing time is the device's phase, uniform over its first period [0, period_s)
    (no synthetic burst at t = 0); the k-th later one is phase + k·period_s plus a uniform jitter in
    [-jitter_s, +jitter_s], never before the previous one.
    """
    if workload.kind == "poisson":
        return _Poisson(rng, workload.rate_hz)
    return _Periodic(rng, workload.period_s, workload.jitter_s)


# A slotted callable per device instead of a closure: 56-64 B where a closure, its cells and the
# periodic state dict took ~500 B (tracemalloc at 10,000 devices), the same draws in the same order.
class _Poisson:
    __slots__ = ("rate", "rng")

    def __init__(self, rng: random.Random, rate_hz: float) -> None:
        self.rng, self.rate = rng, rate_hz

    def __call__(self, now: float) -> float:
        return now + self.rng.expovariate(self.rate)


class _Periodic:
    __slots__ = ("base", "jitter", "period", "rng")

    def __init__(self, rng: random.Random, period_s: float, jitter_s: float) -> None:
        self.rng, self.period, self.jitter = rng, period_s, jitter_s
        self.base: float | None = None  # the latest nominal sensing time (None: not sensed yet)

    def __call__(self, now: float) -> float:
        if self.base is None:
            self.base = self.rng.random() * self.period
            return self.base
        self.base += self.period
        jitter = self.jitter
        t = self.base + (self.rng.uniform(-jitter, jitter) if jitter else 0.0)
        return max(t, now)


class Attachments(tuple):
    """(server index per device, distance to it per device, m); `xy_m` holds the positions (n x 2, m)
    where the placement gives them (`area`), else None."""

    xy_m: np.ndarray | None = None


def _attached(server: list[int], distance_m: np.ndarray, xy_m: np.ndarray | None = None) -> Attachments:
    out = Attachments((server, distance_m))
    out.xy_m = xy_m
    return out


def _attachments(scenario: Scenario, group: DeviceGroup, rng: np.random.Generator) -> Attachments:
    """Edge server index and distance to it (m) of each device of a group."""
    placement, n = group.placement, group.count
    names = [s.name for s in scenario.edge]
    candidates = [names.index(s.name) for s in scenario.servers_of(group)]
    if placement.kind == "fixed":
        return _attached([candidates[0]] * n, np.full(n, placement.distance_m))
    if placement.kind == "uniform":
        return _attached([candidates[0]] * n, rng.uniform(placement.min_m, placement.max_m, n))
    if placement.kind == "disc":
        r = np.sqrt(rng.uniform(0.0, 1.0, n)) * placement.radius_m
        return _attached([candidates[0]] * n, np.maximum(r, placement.min_m))
    xy = np.column_stack([rng.uniform(*placement.x_m, n), rng.uniform(*placement.y_m, n)])
    gateways = np.array([scenario.edge[c].position_m for c in candidates], dtype=np.float64)
    d = np.linalg.norm(xy[:, None, :] - gateways[None, :, :], axis=2)
    nearest = d.argmin(axis=1)
    server = [candidates[k] for k in nearest.tolist()]
    return _attached(server, np.maximum(d[np.arange(n), nearest], placement.min_m), xy)
