"""Runs a Scenario: builds its World, runs it, summarises the records and writes the outputs."""

from __future__ import annotations

import logging
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cosim import __version__
from cosim.config.scenario import Scenario
from cosim.engine.world import World
from cosim.results.publish import check_outdir, publish, run_workdir
from cosim.results.records import summarise, write_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What a run produced: the summary and where its files are (if written)."""

    summary: dict
    outdir: Path | None


def run_scenario(scenario: Scenario, outdir: Path | None = None, progress: bool = False,
                 force_outdir: bool = False) -> RunResult:
    """Simulate `scenario`; publish the outputs atomically into `outdir` (if given); return the summary.

    An `outdir` holding files cosim did not write is refused before anything runs (`force_outdir`:
    write beside them); the earlier run in `outdir` stays complete until the new one replaces it.
    """
    if outdir is None:
        with tempfile.TemporaryDirectory(prefix="cosim-run-") as tmp:
            summary, _ = _simulate(scenario, Path(tmp), progress)
            return RunResult(summary, None)
    outdir = Path(outdir)
    check_outdir(outdir, force_outdir)
    with run_workdir(outdir.parent) as work:
        log.info("run %s: temporary folder %s", scenario.name, work.path)
        summary, world = _simulate(scenario, work.path / "run", progress)
        _write_outputs(scenario, world, summary, work.path / "run")
        publish(work, outdir, force_outdir)
    log.info("run %s: published %s", scenario.name, outdir)
    return RunResult(summary, outdir)


def _simulate(scenario: Scenario, workdir: Path, progress: bool) -> tuple[dict, World]:
    wall0 = time.perf_counter()
    world = World(scenario, workdir)
    log.info("run %s: %d devices in %d groups, %d edge servers, %g s simulated", scenario.name,
             len(world.devices), len(scenario.devices), len(scenario.edge), scenario.duration_s)
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
    log.info("run %s: simulated to t=%.3f s, %d events", scenario.name, world.env.now, world.events())
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
        "drain": _drain_report(scenario, world),
        "events": world.events(),
    }
    summary = summarise(workdir / "packets.parquet", world.group_facts, scenario.duration_s,
                        scenario.deadline_ms / 1000.0, extra)
    summary = {"scenario": scenario.name, "seed": scenario.seed, **summary}
    if world.detections is not None:
        from cosim.detection.engine import add_detection_metrics
        add_detection_metrics(summary, world.detections, workdir / "packets.parquet",
                              [g.name for g in scenario.devices])
    summary["wall_time_s"] = time.perf_counter() - wall0
    return summary, world


def _drain_report(scenario: Scenario, world: World) -> dict:
    """Whether the drain after duration_s hit `drain_limit_s`, and how many sensed inferences were then
    still unfinished (not in packets.parquet: queued on a device or edge server, or on the air)."""
    sensed = sum(d.inferences for d in world.devices)
    unfinished = sensed - world.recorder.count
    reached = world.drain_limit_reached
    if reached:
        log.warning("run %s: stopped %g s after sensing ended (drain_limit_s) with %d inferences unfinished",
                    scenario.name, scenario.drain_limit_s, unfinished)
    return {"limit_s": scenario.drain_limit_s, "limit_reached": bool(reached), "unfinished": int(unfinished)}


def manifest_of(scenario: Scenario, world: World | None = None) -> dict:
    """The run manifest: the resolved scenario (only what was set: `cosim run manifest.json` replays
    it), the content of every input file, the cosim version and source revision, the packages."""
    from cosim.provenance import provenance

    prov = provenance(scenario)
    manifest = {
        "scenario": scenario.model_dump(mode="json", exclude_unset=True),
        "seed": scenario.seed,
        "cosim_version": __version__,
        "source": prov["source"],
        "inputs": prov["inputs"],
        "python": platform.python_version(),
        "packages": _package_versions(),
    }
    if world is not None:
        manifest["codecs"] = {spec: {"sha256": getattr(c.meta, "sha256", None)}
                              for spec, c in world._codecs.items()}
    return manifest


def _write_outputs(scenario: Scenario, world: World, summary: dict, workdir: Path) -> None:
    from cosim.plots import run as plotting

    write_json(workdir / "summary.json", summary)
    write_json(workdir / "manifest.json", manifest_of(scenario, world))
    plotting.run_figures(workdir / "packets.parquet", summary, world.group_facts, workdir / "figures")


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("numpy", "simpy", "torch", "scipy", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
