"""Up-front resource estimate of a run (inferences, memory, wall time), to refuse hopeless scenarios early.

The figures are conservative per-unit costs measured on the development machine (2 shared cores,
`torch.set_num_threads(1)`, `benchmarks/`-style timings of `run_scenario`):

- building a device (its four seeded random streams, link, SimPy process): 150 µs and 14 KB each
  (50,000 devices: 7.3 s, 0.7 GB); we count 200 µs and 20 KB;
- one inference end to end (events, frames, batched decoding, record, summary): 41-70 µs on a
  dedicated BLE link, 200-270 µs on a 1,000-device CSMA channel, up to 880 µs for bit-exact raw images
  with ARQ at BER 0.3; we count 300 µs;
- memory per inference: the summary and figures read the per-inference table back (about 600 B per
  row at 300,000 inferences); we count 700 B;
- a Gilbert-Elliott state change (every one is simulated, so that the realisation does not depend on
  when a link is queried): 0.34 µs; we count 0.5 µs;
- fixed cost: Python, torch, data set and codecs, about 0.45 GB and 1-2 s; we count 0.6 GB and 2 s;
- an inference waiting in a backlog when sensing ends (an `Inference` in a device's or server's queue):
  560 B measured with tracemalloc; we count 700 B.

The drain after `duration_s` (`drain_estimate`): a device whose every inference needs more time than
its sensing period allows (sense, compute, frames with their ACK windows and gaps, a TDMA slot per
frame, or airtime / duty cycle) falls behind by duration x (rate x time per inference - 1) seconds of
work; an edge server offered more than its full-batch capacity (workers x max_batch / batch time) ends
sensing with the excess queued (at most `queue_limit`). The drain is the longer of the two backlogs'
times to clear; the run simulates it up to `drain_limit_s`, and counts what is still unfinished then as
lost (`drain`). The drain adds the Gilbert-Elliott state changes of its simulated time and the memory
of the backlog to the estimate.

A run whose estimated memory exceeds half of this machine's RAM, or whose estimated wall time exceeds
`MAX_WALL_S`, is refused with the estimate (`cosim run --force` runs it anyway); a run whose backlog is
estimated to outlast `drain_limit_s` is run with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cosim.errors import ScenarioError

log = logging.getLogger(__name__)

US_PER_DEVICE = 200.0
BYTES_PER_DEVICE = 20_000
US_PER_INFERENCE = 300.0
US_PER_CHANNEL_CHANGE = 0.5
BYTES_PER_INFERENCE = 700
BYTES_PER_QUEUED = 700
BASE_BYTES = 600_000_000
BASE_S = 2.0
MAX_WALL_S = 24 * 3600.0
MAX_MEMORY_FRACTION = 0.5


@dataclass(frozen=True)
class GroupLoad:
    """What one device group asks of its devices and servers (from a World built with a few devices)."""

    count: int
    rate_hz: float  # sensing rate of one device, 1/s
    servers: tuple[int, ...]  # edge servers its devices may attach to (shared evenly)
    device_s: float  # least time one device needs per inference (its slowest plan), s
    edge_macs: float  # MACs an edge server runs per inference (its largest variant)


@dataclass(frozen=True)
class ServerLoad:
    """An edge server's batch service: t0 + t1_per_mac x MACs of the batch, with `workers` in parallel."""

    workers: int
    max_batch: int
    queue_limit: int
    t0_s: float
    t1_s_per_mac: float


@dataclass(frozen=True)
class Drain:
    """The estimated drain after duration_s: its length, the backlog it clears, what a limit cuts."""

    drain_s: float = 0.0  # time to clear the backlog after sensing ends, s (unbounded)
    backlog: float = 0.0  # inferences unfinished when sensing ends
    limit_s: float = float("inf")  # drain_limit_s

    @property
    def simulated_s(self) -> float:
        """Simulated time of the drain: the backlog's time, bounded by drain_limit_s."""
        return min(self.drain_s, self.limit_s)

    @property
    def cut(self) -> float:
        """Inferences still unfinished when drain_limit_s ends the run (cleared linearly), lost as `drain`."""
        return self.backlog * (1.0 - self.limit_s / self.drain_s) if self.drain_s > self.limit_s else 0.0

    def describe(self) -> str:
        """'' when nothing drains; else one clause: the backlog, its drain and what the limit cuts."""
        if self.drain_s <= 0.0:
            return ""
        text = f"; a backlog of ~{self.backlog:.3g} inferences draining ~{_duration(self.drain_s)} after duration_s"
        if self.cut:
            text += (f", cut at drain_limit_s={self.limit_s:g} s with ~{self.cut:.3g} inferences unfinished "
                     f"(lost, reason drain)")
        return text


@dataclass(frozen=True)
class Estimate:
    """Expected size of a run: inferences, peak memory (bytes) and wall time (s) on this machine."""

    devices: int
    inferences: float
    memory_bytes: float
    wall_s: float
    drain: Drain = Drain()

    def describe(self) -> str:
        """One line: devices, inferences, memory and time (and the drain, when there is a backlog)."""
        return (f"{self.devices:,} devices, about {self.inferences:.3g} inferences: "
                f"~{_size(self.memory_bytes)} of memory and ~{_duration(self.wall_s)} of run time"
                f"{self.drain.describe()}")


def drain_estimate(duration_s: float, limit_s: float, groups: Sequence[GroupLoad],
                   servers: Sequence[ServerLoad]) -> Drain:
    """The drain after `duration_s` of devices and edge servers offered more than they can serve."""
    drain_s = backlog = 0.0
    offered = [0.0] * len(servers)  # inferences sensed for each server during duration_s
    macs = [0.0] * len(servers)  # their edge MACs
    for g in groups:
        per_device = g.rate_hz * duration_s
        if g.rate_hz * g.device_s > 1.0:  # each device falls behind: (rate x time per inference - 1) x D
            drain_s = max(drain_s, duration_s * (g.rate_hz * g.device_s - 1.0))
            backlog += g.count * (per_device - duration_s / g.device_s)
        for k in g.servers:
            n = g.count * per_device / len(g.servers)
            offered[k] += n
            macs[k] += n * g.edge_macs
    for s, n, m in zip(servers, offered, macs):
        if n <= 0.0:
            continue
        batch_s = s.t0_s + s.t1_s_per_mac * s.max_batch * m / n  # a full batch of the mean inference
        capacity_hz = s.workers * s.max_batch / batch_s if batch_s > 0 else float("inf")
        queued = min(n - capacity_hz * duration_s, s.queue_limit)  # beyond the limit: lost as `queue`
        if queued > 0.0:
            drain_s = max(drain_s, queued / capacity_hz)
            backlog += queued
    return Drain(drain_s, backlog, limit_s)


def estimate(scenario, loads: Sequence[tuple[Sequence[GroupLoad], Sequence[ServerLoad]]] = ()) -> Estimate:
    """Devices x sensing rate x duration inferences, the drain after duration_s (from `loads`, one
    (groups, servers) per World the run builds), and the memory and time they take."""
    devices = sum(g.count for g in scenario.devices)
    drains = [drain_estimate(scenario.duration_s, scenario.drain_limit_s, g, s) for g, s in loads]
    drain = max(drains, key=lambda d: (d.drain_s, d.backlog), default=Drain(limit_s=scenario.drain_limit_s))
    simulated_s = scenario.duration_s + drain.simulated_s
    inferences = changes = 0.0
    for g in scenario.devices:
        w = g.workload
        rate_hz = w.rate_hz if w.kind == "poisson" else 1.0 / w.period_s
        inferences += g.count * rate_hz * scenario.duration_s
        changes += g.count * simulated_s * max(_change_rate_hz(c) for c in _channels(scenario, g))
    memory = (BASE_BYTES + devices * BYTES_PER_DEVICE + inferences * BYTES_PER_INFERENCE
              + drain.backlog * BYTES_PER_QUEUED)
    wall = (BASE_S + devices * US_PER_DEVICE * 1e-6 + inferences * US_PER_INFERENCE * 1e-6
            + changes * US_PER_CHANNEL_CHANGE * 1e-6)
    runs = max(len(getattr(scenario, "compare", ())), 1)  # `compare:` variants: one World after another
    return Estimate(devices, inferences * runs, memory, wall * runs, drain)


def _channels(scenario, group) -> list:
    """The channel configs a group's links may use (its own, or those of the servers it may attach to)."""
    if group.channel is not None:
        return [group.channel]
    servers = scenario.servers_of(group)
    return [s.channel for s in servers if s.channel is not None] or [None]


def _change_rate_hz(channel) -> float:
    """Simulated channel state changes per second of one link (Gilbert-Elliott: 2 per good+bad cycle)."""
    if channel is None or getattr(channel, "kind", None) != "gilbert-elliott":
        return 0.0
    return 2.0 / (channel.mean_good_s + channel.mean_bad_s)


def machine_memory_bytes() -> int | None:
    """Physical RAM of this machine, bytes (None where the OS does not tell)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_budget(scenario, source: str, force: bool = False, loads=None) -> Estimate:
    """The estimate; ScenarioError (one line, with the estimate) if it is far beyond this machine; a
    warning when the backlog is estimated to outlast drain_limit_s. `loads`: the scenario's
    (groups, servers) loads, default worked out from a World with a few devices per group."""
    if loads is None:
        from cosim.engine.preflight import scenario_loads

        loads = scenario_loads(scenario)
    est = estimate(scenario, loads)
    if est.drain.cut:
        log.warning("%s: estimate: %s", source, est.drain.describe().removeprefix("; "))
    if force:
        return est
    ram = machine_memory_bytes()
    fix = "shorten duration_s" + (", lower drain_limit_s" if est.drain.simulated_s > 0 else "")
    if ram and est.memory_bytes > MAX_MEMORY_FRACTION * ram:
        raise ScenarioError(f"{source}: too large for this machine: {est.describe()}, more than half of "
                            f"its {_size(ram)} RAM ({fix} or reduce devices; --force runs anyway)")
    if est.wall_s > MAX_WALL_S:
        raise ScenarioError(f"{source}: too long for this machine: {est.describe()}, more than "
                            f"{_duration(MAX_WALL_S)} ({fix} or reduce devices; --force runs anyway)")
    return est


def _size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def _duration(s: float) -> str:
    # (unit, seconds per unit, used from): days from 2 days on, so a day reads "24 h"
    for unit, per, start in (("years", 365 * 86400.0, 365 * 86400.0), ("days", 86400.0, 2 * 86400.0),
                             ("h", 3600.0, 3600.0), ("min", 60.0, 60.0)):
        if s >= start:
            return f"{s / per:.3g} {unit}"
    return f"{s:.3g} s"
