"""Runs a Scenario: builds its World, runs it, summarises the records and writes the outputs."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cosim import __version__
from cosim.config.scenario import Scenario
from cosim.engine.world import World
from cosim.errors import CosimError
from cosim.results.publish import check_outdir, publish, run_workdir
from cosim.results.records import write_json
from cosim.results.summary import (
    Goodput,
    GroupFacts,
    RunSummary,
    ServerFacts,
    summarise,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What a run produced: the summary and where its files are (if written)."""

    summary: dict  # summary.json's content
    outdir: Path | None
    typed: RunSummary | None = None  # the same, typed


@dataclass(frozen=True)
class _Simulated:
    """One World's results: its summary, group facts, records file and facts for the manifest."""

    name: str | None  # the `compare:` variant, None without variants
    scenario: Scenario
    summary: RunSummary
    facts: list[GroupFacts]
    servers: list[ServerFacts]
    packets: Path
    policies: dict[str, str]  # group name -> receiver policy
    codecs: dict[str, dict]
    erasure_codecs: dict[str, dict[str, bool]]  # on_frame_loss erase: group -> codec -> trained for erasures


Progress = Callable[[str, float, float], None]  # (label, simulated s so far, simulated s in all)


def _simulate(scenario: Scenario, variant: str | None, workdir: Path, progress: Progress | None) -> _Simulated:
    """Build and run one World into `workdir`; summarise its records."""
    world = World(scenario, workdir, variant)
    log.info("run %s: %d devices in %d groups, %d edge servers, %g s simulated", scenario.name,
             len(world.devices), len(scenario.devices), len(scenario.edge), scenario.duration_s)
    label = scenario.name if variant is None else f"{scenario.name}/{variant}"
    world.run(progress=None if progress is None else
              (lambda now: progress(label, now, scenario.duration_s)))
    log.info("run %s: simulated to t=%.3f s, %d events", scenario.name, world.env.now, world.events())
    packets = workdir / "packets.parquet"
    summary, servers = build_summary(world, scenario)
    summary = replace(summary, receiver_policy=dict(world.receiver_policies),
                      groups={k: replace(m, task={**m.task, "receiver_policy": world.receiver_policies[k]})
                              for k, m in summary.groups.items()})
    metrics = world.task_run.task_metrics(packets, [g.name for g in scenario.devices])
    if metrics is not None:
        summary = summary.with_task(*metrics)
    codecs = {spec: {"sha256": getattr(c.meta, "sha256", None)} for spec, c in world.services.loaded().items()}
    return _Simulated(variant, scenario, summary, world.group_facts, servers, packets,
                      dict(world.receiver_policies), codecs, dict(world.erasure_codecs))


def build_summary(world: World, scenario: Scenario) -> tuple[RunSummary, list[ServerFacts]]:
    """The typed summary of a finished World (record metrics plus the servers' and media's counters),
    and the server facts it used."""
    server_time_s = max(world.env.now, scenario.duration_s)
    util = {name: q.busy_s / (q.workers * server_time_s) for name, q in world.servers.items()}
    attached = world.recorder.servers_of_devices()
    servers = []
    for si, s in enumerate(scenario.edge):
        medium = world.media[s.name]
        frames = collided = busy_s = None
        if hasattr(medium, "airtime_stats"):
            frames, collided, busy_s = medium.airtime_stats()
        servers.append(ServerFacts(s.name, s.medium.kind, tuple(np.flatnonzero(attached == si).tolist()),
                                   frames, collided, busy_s, util[s.name]))
    scopes = summarise(world.recorder.path, world.group_facts, scenario.duration_s,
                       scenario.deadline_ms / 1000.0, servers, scenario.warmup_s)
    profiles = world.server_profiles
    summary = RunSummary(
        scenario=scenario.name, seed=scenario.seed, overall=scopes.overall, groups=scopes.groups,
        servers=scopes.servers, edge_utilization=util,
        edge_energy_j={name: profiles[name].idle_power_w * server_time_s
                       + (profiles[name].active_power_w - profiles[name].idle_power_w) * q.busy_s
                       for name, q in world.servers.items()},
        collisions={name: m.collisions for name, m in world.media.items() if hasattr(m, "collisions")},
        decoder_calls={k: getattr(e, "decoded", 0) for k, e in world.evaluators.items()},
        decoder_cache_hits={k: getattr(e, "cache_hits", 0) for k, e in world.evaluators.items()},
        sim_time_s=world.env.now, events=world.events(), drain=_drain_report(scenario, world),
        warmup_s=scenario.warmup_s,
        window_s=scenario.duration_s - scenario.warmup_s,
    )
    return summary, servers


def _drain_report(scenario: Scenario, world: World) -> dict:
    """Whether the drain after duration_s hit `drain_limit_s`, and how many inferences were then still
    unfinished (queued on a device or edge server, on the air, or not yet sensed by a busy device): each
    is a lost row in packets.parquet, reason `drain`."""
    unfinished = world.drain_unfinished
    reached = world.drain_limit_reached
    if reached:
        log.warning("run %s: stopped %g s after sensing ended (drain_limit_s) with %d inferences unfinished "
                    "(lost, reason drain)", scenario.name, scenario.drain_limit_s, unfinished)
    return {"limit_s": scenario.drain_limit_s, "limit_reached": bool(reached), "unfinished": int(unfinished)}


def run_scenario(scenario: Scenario, outdir: Path | None = None, progress: Progress | None = None,
                 force_outdir: bool = False, figures=None) -> RunResult:
    """Simulate `scenario` (each `compare:` variant in its own World from the same seed); publish the
    outputs atomically into `outdir` (if given), figures in the `figures` FigureFormat (default PNG);
    return the summary.

    An `outdir` holding files cosim did not write is refused before anything runs (`force_outdir`:
    write beside them); the earlier run in `outdir` stays complete until the new one replaces it.
    `progress(label, sim_time_s, duration_s)` is called as each World advances (the command draws it).
    """
    if outdir is None:
        with tempfile.TemporaryDirectory(prefix="cosim-run-") as tmp:
            summary, _, _ = _run_variants(scenario, Path(tmp), progress)
            return RunResult(summary.to_dict(), None, summary)
    outdir = Path(outdir)
    check_outdir(outdir, force_outdir)
    with run_workdir(outdir.parent) as work:
        log.info("run %s: temporary folder %s", scenario.name, work.path)
        workdir = work.path / "run"
        summary, runs, facts = _run_variants(scenario, workdir, progress)
        data = _write_outputs(scenario, runs, summary, facts, workdir, figures)
        publish(work, outdir, force_outdir)
    log.info("run %s: published %s", scenario.name, outdir)
    return RunResult(data, outdir, summary)


def _run_variants(scenario: Scenario, workdir: Path, progress: Progress | None
                  ) -> tuple[RunSummary, list[_Simulated], list[GroupFacts]]:
    """Run the scenario (or each of its `compare:` variants) into `workdir`: summary, runs, group facts."""
    wall0 = time.perf_counter()
    variants = scenario.variants()
    if variants[0][0] is None:
        runs = [_simulate(scenario, None, workdir, progress)]
        summary, facts = runs[0].summary, runs[0].facts
    else:
        runs = []
        for k, (name, sc) in enumerate(variants):
            part = workdir / f".variant-{k}"
            part.mkdir()
            try:
                runs.append(_simulate(sc, name, part, progress))
            except CosimError as exc:
                raise type(exc)(f"compare.{k} (variant {name!r}): {exc}") from None
        if len(runs) == 1:  # one variant (a sweep's run): its own summary, nothing to pool
            os.replace(runs[0].packets, workdir / "packets.parquet")
            summary, facts = replace(runs[0].summary, variants={runs[0].name: runs[0].summary}), runs[0].facts
        else:
            summary, facts = _pooled(scenario, runs, workdir / "packets.parquet")
    return replace(summary, wall_time_s=time.perf_counter() - wall0), runs, facts


def manifest_of(scenario: Scenario) -> dict:
    """The run manifest's provenance: the resolved scenario (only what was set, so `cosim run
    manifest.json` replays it), the content of every input file, the cosim version and source revision."""
    from cosim.provenance import provenance

    prov = provenance(scenario)
    return {
        "scenario": scenario.model_dump(mode="json", exclude_unset=True),
        "seed": scenario.seed,
        "cosim_version": __version__,
        "source": prov["source"],
        "inputs": prov["inputs"],
        "python": platform.python_version(),
        "packages": _package_versions(),
    }


def _write_outputs(scenario: Scenario, runs: list[_Simulated], summary: RunSummary, facts: list[GroupFacts],
                   workdir: Path, figures=None) -> dict:
    """summary.json, manifest.json and figures/ beside packets.parquet in `workdir`; summary.json's content."""
    from cosim.plots import run as plotting

    manifest = {**manifest_of(scenario), "codecs": {spec: c for r in runs for spec, c in r.codecs.items()},
                "receiver_policy": summary.receiver_policy}
    erasure_codecs: dict[str, dict[str, bool]] = {}
    for r in runs:
        for group, codecs in r.erasure_codecs.items():
            erasure_codecs.setdefault(group, {}).update(codecs)
    if erasure_codecs:  # only runs with on_frame_loss `erase` (others keep their manifest as it was)
        manifest["erasure_codecs"] = erasure_codecs
    if runs[0].name is not None:
        manifest["variants"] = {r.name: {"scenario": r.scenario.model_dump(mode="json"),
                                         "receiver_policy": r.policies} for r in runs}
        for r in runs:
            if r.packets.parent != workdir:
                shutil.rmtree(r.packets.parent)
    data = summary.to_dict()  # serialised once: the file, the figures, the caller
    write_json(workdir / "summary.json", data)
    write_json(workdir / "manifest.json", manifest)
    plotting.run_figures(workdir / "packets.parquet", data, facts, workdir / "figures",
                         **({"form": figures} if figures is not None else {}))
    return data


def _pooled(scenario: Scenario, runs: list[_Simulated], packets: Path) -> tuple[RunSummary, list[GroupFacts]]:
    """The summary of a `compare:` run: each variant's summary under `variants`, and the overall metrics
    pooled over every variant's records (a group's devices counted once per variant); the records of
    every variant merged into `packets` (column `variant`)."""
    _merge_records([r.packets for r in runs], packets)
    facts = []
    for gi, first in enumerate(runs[0].facts):  # variants keep the same groups (names and counts)
        fs = [r.facts[gi] for r in runs]
        facts.append(GroupFacts(
            name=first.name, devices=sum(f.devices for f in fs),
            sleep_mw=sum(f.sleep_mw for f in fs) / len(fs), battery_mwh=sum(f.battery_mwh for f in fs) / len(fs),
            payload_bits=round(sum(f.payload_bits for f in fs) / len(fs)),
            background_mw=first.background_mw, battery=first.battery,
            duty_cycle=sum(f.duty_cycle for f in fs) / len(fs)))
    servers = []
    for si, first in enumerate(runs[0].servers):  # the same servers and attachments in every variant
        ss = [r.servers[si] for r in runs]
        shared = all(x.frames is not None for x in ss)
        servers.append(ServerFacts(
            first.name, first.medium if all(x.medium == first.medium for x in ss) else "mixed", first.devices,
            sum(x.frames for x in ss) if shared else None, sum(x.collided for x in ss) if shared else None,
            sum(x.busy_s for x in ss) / len(ss) if shared else None,
            sum(x.edge_utilization for x in ss) / len(ss)))
    scopes = summarise(packets, facts, scenario.duration_s, scenario.deadline_ms / 1000.0, servers,
                       scenario.warmup_s, copies=len(runs))
    parts = [r.summary for r in runs]

    def app_bps(metrics, key=None):
        """Pooled application bit rate: the sum of the variants' (their payloads differ)."""
        rates = [(p.overall if key is None else p.groups[key]).goodput.app_bps for p in parts]
        rate = sum(rates) if all(r is not None for r in rates) else None
        return replace(metrics, goodput=Goodput(metrics.goodput.correct_per_s, rate))

    policies = {g.name: {r.policies[g.name] for r in runs} for g in facts}
    policy = {g: p.pop() if len(p) == 1 else None for g, p in policies.items()}
    summary = RunSummary(
        scenario=scenario.name, seed=scenario.seed, overall=app_bps(scopes.overall),
        groups={k: replace(app_bps(m, k), task={**m.task, "receiver_policy": policy[k]})
                for k, m in scopes.groups.items()},
        servers=scopes.servers,
        edge_utilization=_pool([p.edge_utilization for p in parts], mean=True),
        edge_energy_j=_pool([p.edge_energy_j for p in parts]),
        collisions=_pool([p.collisions for p in parts]),
        decoder_calls=_pool([p.decoder_calls for p in parts]),
        decoder_cache_hits=_pool([p.decoder_cache_hits for p in parts]),
        sim_time_s=max(p.sim_time_s for p in parts), events=sum(p.events for p in parts),
        drain={"limit_s": scenario.drain_limit_s, "limit_reached": any(p.drain["limit_reached"] for p in parts),
               "unfinished": sum(p.drain["unfinished"] for p in parts)},
        warmup_s=scenario.warmup_s, window_s=scenario.duration_s - scenario.warmup_s,
        receiver_policy=policy, variants={r.name: r.summary for r in runs},
    )
    return summary, facts


def _merge_records(parts: list[Path], out: Path) -> None:
    """Concatenate record files of one schema into `out`, one row group at a time."""
    import pyarrow.parquet as pq

    with pq.ParquetWriter(out, pq.read_schema(parts[0]), compression="zstd") as writer:
        for part in parts:
            pf = pq.ParquetFile(part)
            for i in range(pf.num_row_groups):
                writer.write_table(pf.read_row_group(i))


def _pool(dicts: list[dict], mean: bool = False) -> dict:
    """Per key, the sum (or mean) over the variants' values."""
    keys = dict.fromkeys(k for d in dicts for k in d)
    return {k: sum(d.get(k, 0) for d in dicts) / (len(dicts) if mean else 1) for k in keys}


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "simpy", "torch", "scipy", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
