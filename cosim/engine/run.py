"""Runs a Scenario: builds its World, runs it, summarises the records and writes the outputs."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cosim import __version__
from cosim.config.scenario import Scenario
from cosim.engine.world import World
from cosim.results.publish import publish, remove_stale_workdirs
from cosim.results.records import summarise, write_json


@dataclass(frozen=True)
class RunResult:
    """What a run produced: the summary and where its files are (if written)."""

    summary: dict
    outdir: Path | None


def _file_sha256(spec: str) -> str | None:
    p = Path(spec)
    if spec.startswith("builtin:") or not p.is_file():
        return None
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run_scenario(scenario: Scenario, outdir: Path | None = None,
                 progress: Callable[[float], None] | None = None) -> RunResult:
    """Simulate `scenario`; write outputs atomically into `outdir` (if given); return the summary.

    `progress(sim_time_s)` is called as the simulation advances (the command draws the bar).
    """
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
        world.run(progress=progress or None)
        server_time_s = max(world.env.now, scenario.duration_s)
        extra = {
            "edge_utilization": {
                name: q.busy_s / (q.workers * server_time_s) for name, q in world.servers.items()
            },
            "edge_energy_j": {
                name: world.server_profiles[name].idle_power_w * server_time_s
                + (world.server_profiles[name].active_power_w - world.server_profiles[name].idle_power_w)
                * q.busy_s
                for name, q in world.servers.items()
            },
            "collisions": {name: m.collisions for name, m in world.media.items() if hasattr(m, "collisions")},
            "decoder_calls": {k: getattr(e, "decoded", 0) for k, e in world.evaluators.items()},
            "decoder_cache_hits": {k: getattr(e, "cache_hits", 0) for k, e in world.evaluators.items()},
            "sim_time_s": world.env.now,
            "events": world.events(),
        }
        summary = summarise(workdir / "packets.parquet", world.group_facts, scenario.duration_s,
                            scenario.deadline_ms / 1000.0, extra)
        summary = {"scenario": scenario.name, "seed": scenario.seed, **summary}
        world.task_run.add_metrics(summary, workdir / "packets.parquet", [g.name for g in scenario.devices])
        summary["wall_time_s"] = time.perf_counter() - wall0
        if outdir is None:
            return RunResult(summary, None)
        manifest = {
            "scenario": scenario.model_dump(mode="json"),
            "seed": scenario.seed,
            "cosim_version": __version__,
            "python": platform.python_version(),
            "packages": _package_versions(),
            "codecs": {spec: {"sha256": getattr(c.meta, "sha256", None), "file_sha256": _file_sha256(spec)}
                       for spec, c in world.services.loaded().items()},
        }
        write_json(workdir / "summary.json", summary)
        write_json(workdir / "manifest.json", manifest)
        plotting.run_figures(workdir / "packets.parquet", summary, world.group_facts, workdir / "figures")
        publish(workdir, Path(outdir))
        return RunResult(summary, Path(outdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "simpy", "torch", "scipy", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
