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
- fixed cost: Python, torch, data set and codecs, about 0.45 GB and 1-2 s; we count 0.6 GB and 2 s.

A run whose estimated memory exceeds half of this machine's RAM, or whose estimated wall time exceeds
`MAX_WALL_S`, is refused with the estimate (`cosim run --force` runs it anyway).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cosim.errors import ScenarioError

US_PER_DEVICE = 200.0
BYTES_PER_DEVICE = 20_000
US_PER_INFERENCE = 300.0
US_PER_CHANNEL_CHANGE = 0.5
BYTES_PER_INFERENCE = 700
BASE_BYTES = 600_000_000
BASE_S = 2.0
MAX_WALL_S = 24 * 3600.0
MAX_MEMORY_FRACTION = 0.5


@dataclass(frozen=True)
class Estimate:
    """Expected size of a run: inferences, peak memory (bytes) and wall time (s) on this machine."""

    devices: int
    inferences: float
    memory_bytes: float
    wall_s: float

    def describe(self) -> str:
        """One line: devices, inferences, memory and time."""
        return (f"{self.devices:,} devices, about {self.inferences:.3g} inferences: "
                f"~{_size(self.memory_bytes)} of memory and ~{_duration(self.wall_s)} of run time")


def estimate(scenario) -> Estimate:
    """Devices x sensing rate x duration inferences, and the memory and time they take."""
    devices = sum(g.count for g in scenario.devices)
    inferences = changes = 0.0
    for g in scenario.devices:
        w = g.workload
        rate_hz = w.rate_hz if w.kind == "poisson" else 1.0 / w.period_s
        inferences += g.count * rate_hz * scenario.duration_s
        changes += g.count * scenario.duration_s * max(_change_rate_hz(c) for c in _channels(scenario, g))
    memory = BASE_BYTES + devices * BYTES_PER_DEVICE + inferences * BYTES_PER_INFERENCE
    wall = (BASE_S + devices * US_PER_DEVICE * 1e-6 + inferences * US_PER_INFERENCE * 1e-6
            + changes * US_PER_CHANNEL_CHANGE * 1e-6)
    runs = max(len(getattr(scenario, "compare", ())), 1)  # `compare:` variants: one World after another
    return Estimate(devices, inferences * runs, memory, wall * runs)


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


def check_budget(scenario, source: str, force: bool = False) -> Estimate:
    """The estimate; ScenarioError (one line, with the estimate) if it is far beyond this machine."""
    est = estimate(scenario)
    if force:
        return est
    ram = machine_memory_bytes()
    if ram and est.memory_bytes > MAX_MEMORY_FRACTION * ram:
        raise ScenarioError(f"{source}: too large for this machine: {est.describe()}, more than half of "
                            f"its {_size(ram)} RAM (shorten duration_s or reduce devices; --force runs anyway)")
    if est.wall_s > MAX_WALL_S:
        raise ScenarioError(f"{source}: too long for this machine: {est.describe()}, more than "
                            f"{_duration(MAX_WALL_S)} (shorten duration_s or reduce devices; --force runs anyway)")
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
