"""Checks shared by `cosim validate` and `cosim run`, so both accept and refuse the same scenarios.

Beyond the schema, a scenario must build: profiles, data set, codecs (verified checkpoints), strategy
names and options, frames against the radio and TDMA slots, trace files. `check_scenario` builds the
real `World` with at most `CHECK_DEVICES` devices per group (the same code path a run takes, minus the
fleet), and `located` names the scenario file, line and field in any error raised while building or
running it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cosim.config.scenario import Scenario, load_scenario
from cosim.config.yamlio import Loc, line_for, load_yaml
from cosim.errors import CosimError

CHECK_DEVICES = 4


def load_checked(path: str | Path, overrides: list[str] = (), seed: int | None = None
                 ) -> tuple[Scenario, dict[Loc, int]]:
    """The validated scenario and the line of every key in its file."""
    scenario = load_scenario(path, overrides, seed)
    _, lines = load_yaml(path)
    return scenario, lines


def check_scenario(scenario: Scenario) -> None:
    """Build the scenario's World with a few devices per group; raises what a run would raise.

    A few devices of a `server: nearest` group may all land near one gateway, so such groups are also
    checked pinned to each server in turn (its channel, trace file, medium and TDMA slot).
    """
    for name, variant in scenario.variants():
        try:
            _check_one(variant)
        except CosimError as exc:
            if name is None:
                raise
            i = [v.name for v in scenario.compare].index(name)
            raise type(exc)(f"compare.{i} (variant {name!r}): {exc}") from None


def _check_one(scenario: Scenario) -> None:
    from cosim.engine.world import World

    few = [g.model_copy(update={"count": min(g.count, CHECK_DEVICES)}) for g in scenario.devices]
    variants = [few]
    if any(g.server == "nearest" for g in few):
        variants += [[g.model_copy(update={"server": s.name}) if g.server == "nearest" else g for g in few]
                     for s in scenario.edge]
    for groups in variants:
        with tempfile.TemporaryDirectory(prefix="cosim-check-") as tmp:
            world = World(scenario.model_copy(update={"devices": groups}), Path(tmp))
            world.recorder.close()


def scenario_loads(scenario: Scenario) -> list[tuple[list, list]]:
    """Per World the run builds (each `compare:` variant): what its groups ask of devices and servers
    (`cosim.engine.budget.GroupLoad`, `ServerLoad`), read from a World with a few devices per group."""
    from cosim.engine.world import World

    out = []
    for _, variant in scenario.variants():
        few = [g.model_copy(update={"count": min(g.count, CHECK_DEVICES)}) for g in variant.devices]
        try:
            with tempfile.TemporaryDirectory(prefix="cosim-check-") as tmp:
                world = World(variant.model_copy(update={"devices": few}), Path(tmp))
                world.recorder.close()
        except CosimError:  # the run (or `check_scenario`) reports it, with its place in the file
            continue
        out.append(_loads(variant, world))
    return out


def _loads(scenario: Scenario, world) -> tuple[list, list]:
    """The GroupLoads and ServerLoads of `scenario`, timed with the plans of `world` (few devices)."""
    from cosim.engine.budget import GroupLoad, ServerLoad

    names = [s.name for s in scenario.edge]
    candidates = [tuple(names.index(s.name) for s in scenario.servers_of(g)) for g in scenario.devices]
    attached = [0.0] * len(names)  # devices per server in the full fleet (shared evenly)
    for g, ks in zip(scenario.devices, candidates):
        for k in ks:
            attached[k] += g.count / len(ks)
    groups = []
    for gi, g in enumerate(scenario.devices):
        w = g.workload
        rate_hz = w.rate_hz if w.kind == "poisson" else 1.0 / w.period_s
        device_s = max((_device_s(plan, d.medium, attached[d.server]) for d in world.devices if d.group == gi
                        for plan in d.plans), default=0.0)
        groups.append(GroupLoad(g.count, rate_hz, candidates[gi], device_s, max(world._edge_macs[gi])))
    servers = []
    for s in scenario.edge:
        profile = world.server_profiles[s.name]
        servers.append(ServerLoad(s.workers, s.max_batch, s.queue_limit, profile.batch_t0_ms / 1000.0,
                                  profile.batch_t1_ms / 1000.0 / profile.reference_macs))
    return groups, servers


def _device_s(plan, medium, attached: float) -> float:
    """Least time a device needs per inference under `plan`: sensing, compute, access and every frame
    (airtime, ACK window, gap, schedule), or its airtime over the duty cycle, whichever is longer, s."""
    spacing_s = medium.frame_spacing_s(round(attached))
    gap_s = medium.gap_after_s(plan)
    ack_s = plan.ack_window_s if plan.arq else 0.0
    frames_s = sum(max(air + ack_s + gap_s, spacing_s) for air in plan.frame_airtime_s)
    busy_s = plan.sense_s + plan.compute_s + plan.access_s + frames_s
    return max(busy_s, sum(plan.frame_airtime_s) / plan.duty_cycle)


@contextmanager
def located(scenario: Scenario, source: str, lines: dict[Loc, int] | None = None) -> Iterator[None]:
    """Re-raise a CosimError from the body as `source:line: field: message` (same class, one line)."""
    try:
        yield
    except CosimError as exc:
        message = str(exc)
        if message.startswith((f"{source}:", f"{source} ")):
            raise
        loc, message = _locate(message, scenario)
        line = line_for(lines or {}, loc) if loc else None
        where = f"{source}:{line}" if line else source
        field = ".".join(str(p) for p in loc) if loc else ""
        if field and not message.startswith(field):
            message = f"{field}: {message}"
        raise type(exc)(f"{where}: {message}") from None


def _locate(message: str, scenario: Scenario) -> tuple[Loc | None, str]:
    """The key path a message is about, and the message without a group prefix it replaces: a leading
    `devices.N...` path, `devices 'NAME': field:`, or the field holding the longest value the message
    quotes or contains (a profile, codec, strategy or data set name)."""
    m = re.match(r"(devices|edge|compare)\.(\d+)((?:\.[A-Za-z_][\w-]*)*)", message)
    if m:
        return (m.group(1), int(m.group(2)), *[p for p in m.group(3).split(".") if p]), message
    m = re.match(r"devices '([^']*)'(?:: ((?:[A-Za-z_][\w-]*\.)*[A-Za-z_][\w-]*):)?", message)
    names = [g.name for g in scenario.devices]
    if m and m.group(1) in names:
        loc = ("devices", names.index(m.group(1)), *(m.group(2).split(".") if m.group(2) else ()))
        rest = message[m.end():].lstrip(": ")
        field = loc[2] if len(loc) == 3 else None
        if field in Scenario.model_fields and getattr(scenario.devices[loc[1]], field, 0) is None:
            return (field,), f"{field}: {rest}"  # the group inherits it: point at the scenario's own line
        return loc, f"{'.'.join(map(str, loc))} (group {m.group(1)!r}): {rest}"
    leaves = [(loc, v) for loc, v in _string_leaves(scenario.model_dump(mode="json"), ()) if loc[-1] != "name"]
    for hit in (lambda v: f"'{v}'" in message, lambda v: len(v) > 3 and v in message):
        found = [(len(v), -i, loc) for i, (loc, v) in enumerate(leaves) if hit(v)]
        if found:
            return max(found)[2], message
    return None, message


def _string_leaves(node: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _string_leaves(v, loc + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _string_leaves(v, loc + (i,))
    elif isinstance(node, str) and node:
        yield loc, node
