"""Runs a Scenario: builds its World, runs it, summarises the records and writes the outputs."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from cosim import __version__
from cosim.config.scenario import Scenario
from cosim.engine.world import World
from cosim.results.publish import publish, remove_stale_workdirs
from cosim.results.records import write_json
from cosim.results.summary import RunSummary, ServerFacts, summarise


@dataclass(frozen=True)
class RunResult:
    """What a run produced: the summary and where its files are (if written)."""

    summary: dict  # summary.json's content
    outdir: Path | None
    typed: RunSummary | None = None  # the same, typed


def _file_sha256(spec: str) -> str | None:
    p = Path(spec)
    if spec.startswith("builtin:") or not p.is_file():
        return None
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run_scenario(scenario: Scenario, outdir: Path | None = None, progress: bool = False) -> RunResult:
    """Simulate `scenario`; write outputs atomically into `outdir` (if given); return the summary."""
    from cosim.plots import run as plotting

    wall0 = time.perf_counter()
    if outdir is not None:
        Path(outdir).parent.mkdir(parents=True, exist_ok=True)
    parent = Path(outdir).parent if outdir else None
    if parent is not None:
        remove_stale_workdirs(parent)
    workdir = Path(tempfile.mkdtemp(prefix=f".cosim-run-{os.getpid()}-", dir=parent))
    try:
        world = World(scenario, workdir)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=round(scenario.duration_s, 3), unit="sim-s", desc=scenario.name,
                       bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} sim-s [{elapsed}<{remaining}]")

            def tick(now: float) -> None:
                bar.update(now - bar.n)
        world.run(progress=tick if bar else None)
        if bar:
            bar.close()
        summary = build_summary(world, scenario)
        if world.detections is not None:
            from cosim.detection.engine import detection_metrics
            summary = summary.with_task(*detection_metrics(world.detections, workdir / "packets.parquet",
                                                           [g.name for g in scenario.devices]))
        summary = replace(summary, wall_time_s=time.perf_counter() - wall0)
        if outdir is None:
            return RunResult(summary.to_dict(), None, summary)
        manifest = {
            "scenario": scenario.model_dump(mode="json"),
            "seed": scenario.seed,
            "cosim_version": __version__,
            "python": platform.python_version(),
            "packages": _package_versions(),
            "codecs": {spec: {"sha256": getattr(c.meta, "sha256", None), "file_sha256": _file_sha256(spec)}
                       for spec, c in world._codecs.items()},
        }
        write_json(workdir / "summary.json", summary.to_dict())
        write_json(workdir / "manifest.json", manifest)
        plotting.run_figures(workdir / "packets.parquet", summary, world.group_facts, workdir / "figures")
        publish(workdir, Path(outdir))
        return RunResult(summary.to_dict(), Path(outdir), summary)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build_summary(world: World, scenario: Scenario) -> RunSummary:
    """The typed summary of a finished World: record metrics plus the servers' and media's counters."""
    server_time_s = max(world.env.now, scenario.duration_s)
    util = {name: q.busy_s / (q.workers * server_time_s) for name, q in world.servers.items()}
    attached = [p.server for p in world.recorder.places]
    servers = []
    for si, s in enumerate(scenario.edge):
        medium = world.media[s.name]
        frames = collided = busy_s = None
        if hasattr(medium, "airtime_stats"):
            frames, collided, busy_s = medium.airtime_stats()
        servers.append(ServerFacts(s.name, s.medium.kind, tuple(i for i, k in enumerate(attached) if k == si),
                                   frames, collided, busy_s, util[s.name]))
    scopes = summarise(world.recorder.path, world.group_facts, scenario.duration_s,
                       scenario.deadline_ms / 1000.0, servers, scenario.warmup_s)
    profiles = world.server_profiles
    return RunSummary(
        scenario=scenario.name, seed=scenario.seed, overall=scopes.overall, groups=scopes.groups,
        servers=scopes.servers, edge_utilization=util,
        edge_energy_j={name: profiles[name].idle_power_w * server_time_s
                       + (profiles[name].active_power_w - profiles[name].idle_power_w) * q.busy_s
                       for name, q in world.servers.items()},
        collisions={name: m.collisions for name, m in world.media.items() if hasattr(m, "collisions")},
        decoder_calls={k: getattr(e, "decoded", 0) for k, e in world.evaluators.items()},
        decoder_cache_hits={k: getattr(e, "cache_hits", 0) for k, e in world.evaluators.items()},
        sim_time_s=world.env.now, events=world.events(), warmup_s=scenario.warmup_s,
        window_s=scenario.duration_s - scenario.warmup_s,
    )


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "simpy", "torch", "scipy", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
