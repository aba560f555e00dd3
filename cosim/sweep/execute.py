"""Parameter sweeps: a grid (and zipped lists) of scenario overrides × replications, run on Dask.

Each run is keyed by the SHA-256 of its resolved scenario; a finished run is stored as
OUTDIR/runs/<key>.json (atomically) and skipped when the sweep is started again. A failed run is
recorded with its parameters and error, and the others go on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cosim import __version__
from cosim.config.scenario import Scenario, load_scenario
from cosim.config.yamlio import line_for, load_yaml, parse_override
from cosim.errors import CosimError, ScenarioError
from cosim.io import (
    OutputError,
    atomic_write_text,
    claim_output,
    read_marker,
    write_marker,
)
from cosim.rng import seed_sequence
from cosim.sweep.cluster import LocalPool

log = logging.getLogger(__name__)

SWEEP_ENTRIES = ("runs", "results.parquet", "results.csv", "aggregate.parquet", "aggregate.csv", "figures",
                 "sweep.json", "report.html")
"""What a sweep writes into its OUTDIR (a folder holding anything else is refused)."""
RESERVED = ("replication", "seed", "status", "error", "key")
"""Result columns that come before the metrics; no sweep parameter may use these names."""

Params = tuple[tuple[str, Any], ...]


# -- the sweep file ------------------------------------------------------------------------------
class SweepFile(BaseModel):
    """The schema of a sweep YAML file (paths are dotted scenario paths, as for `--set`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = Field(None, description="sweep name (default: the file's stem)")
    description: str = Field("", description="free text")
    base: str = Field(description="base scenario file, relative to the sweep file")
    grid: dict[str, list[Any]] = Field(default_factory=dict,
                                       description="dotted path -> values; the Cartesian product is run")
    zip_: dict[str, list[Any]] | list[dict[str, list[Any]]] = Field(
        default_factory=dict, alias="zip",
        description="dotted path -> values advancing together (a list of such mappings: several zips)")
    replications: int = Field(1, ge=1, le=10_000, description="seeds per parameter point (default 1)")
    seed: int | None = Field(None, ge=0, lt=2**63,
                             description="root of the replication seeds (default: the base scenario's)")
    set_: dict[str, Any] | list[str] = Field(default_factory=dict, alias="set",
                                             description="fixed overrides applied before the grid")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its parameter point, replication, seed and resolved scenario.

    The Scenario object itself travels to the worker (pickled), not its dump: the engine tells fields a
    user set from defaults (`model_fields_set`), which a dump and re-validation would lose.
    """

    key: str
    params: Params
    replication: int
    seed: int
    scenario: Scenario = field(repr=False, compare=False)


@dataclass(frozen=True)
class Sweep:
    """A loaded, expanded and validated sweep."""

    path: Path
    name: str
    base: Path
    param_paths: tuple[str, ...]
    points: tuple[Params, ...]
    seeds: tuple[int, ...]
    runs: tuple[RunSpec, ...]

    @property
    def unique_keys(self) -> list[str]:
        """Run keys in order, without repeats (two points resolving to one scenario run once)."""
        return list(dict.fromkeys(r.key for r in self.runs))


def replication_seed(base_seed: int, replication: int) -> int:
    """The scenario seed of replication `replication`, derived from `base_seed` by name (< 2**63)."""
    state = seed_sequence(base_seed, "sweep-replication", replication).generate_state(2, dtype=np.uint64)
    return int(state[0]) >> 1


def run_key(scenario: Scenario) -> str:
    """SHA-256 of what a run's result depends on: the resolved scenario (model_dump JSON with sorted
    keys), the SHA-256 of every file it reads (profiles, checkpoints, traces, data set files), the cosim
    version and the source revision (commit, dirty flag) of a git checkout. An edited input reruns
    exactly the runs that read it."""
    from cosim.provenance import provenance

    prov = provenance(scenario)
    return _key_of({"scenario": scenario.model_dump(mode="json"), "cosim_version": prov["cosim_version"],
                    "source": prov["source"],
                    "inputs": {label: entry["sha256"] for label, entry in prov["inputs"].items()}})


def _key_of(data: dict) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def override_text(path: str, value: Any) -> str:
    """`path=VALUE` whose VALUE parses back (by `--set` rules) to exactly `value`."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    elif text.endswith("..."):
        text = text[:-3].strip()
    out = f"{path}={text}"
    if parse_override(out)[1] != value:
        raise ScenarioError(f"{path}: value {value!r} cannot be passed as an override")
    return out


class _FieldError(ValueError):
    """A problem in one field of a sweep file; `loc` is its key path (for the line number)."""

    def __init__(self, loc: tuple, message: str) -> None:
        super().__init__(f"{'.'.join(str(p) for p in loc)}: {message}")
        self.loc = loc


def _check_path(path: str, loc: tuple) -> None:
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise _FieldError(loc, f"{path!r} is not a dotted path like devices.0.count")
    if path in RESERVED:
        raise _FieldError(loc, "is reserved" + (", use 'replications' for seeds" if path == "seed" else ""))


def _override_at(path: str, value: Any, loc: tuple) -> str:
    try:
        return override_text(path, value)
    except ScenarioError as exc:
        raise _FieldError(loc, str(exc)) from None


def _axes(spec: SweepFile) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Axes of the product: each grid path alone, each zip group's paths together."""
    axes: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    seen: dict[str, str] = {}
    for path, values in spec.grid.items():
        _check_path(path, ("grid", path))
        if not values:
            raise _FieldError(("grid", path), "empty list of values")
        seen[path] = "grid"
        for v in values:
            _override_at(path, v, ("grid", path))
        axes.append(((path,), [(v,) for v in values]))
    zips = spec.zip_ if isinstance(spec.zip_, list) else [spec.zip_] if spec.zip_ else []
    for i, group in enumerate(zips):
        where: tuple = ("zip",) if isinstance(spec.zip_, dict) else ("zip", i)
        if not group:
            raise _FieldError(where, "empty mapping")
        lengths = {p: len(v) for p, v in group.items()}
        for path in group:
            _check_path(path, (*where, path))
            if path in seen:
                raise _FieldError((*where, path), f"already varied in {seen[path]}")
            seen[path] = ".".join(map(str, where))
            for v in group[path]:
                _override_at(path, v, (*where, path))
        if len(set(lengths.values())) != 1:
            raise _FieldError(where, "lists must have equal lengths, got "
                              + ", ".join(f"{p}: {n}" for p, n in lengths.items()))
        if not next(iter(lengths.values())):
            raise _FieldError(where, "empty lists of values")
        paths = tuple(group)
        axes.append((paths, list(zip(*(group[p] for p in paths)))))
    return axes


def _set_overrides(spec: SweepFile, varied: set[str]) -> list[str]:
    if isinstance(spec.set_, list):
        texts = list(spec.set_)
        paths = []
        for i, t in enumerate(texts):
            try:
                paths.append(".".join(parse_override(t)[0]))
            except ScenarioError as exc:
                raise _FieldError(("set", i), str(exc)) from None
        locs = [("set", i) for i in range(len(texts))]
    else:
        paths = list(spec.set_)
        locs = [("set", p) for p in paths]
        texts = [_override_at(p, v, loc) for (p, v), loc in zip(spec.set_.items(), locs)]
    for p, loc in zip(paths, locs):
        _check_path(p, loc)
        if p in varied:
            raise _FieldError(loc, f"{p} is also varied in grid/zip")
    return texts


VARIANT = "variant"
"""The sweep path that selects a `compare:` variant of the base scenario (by name)."""


def _variant_axis(axes: list, names: list[str], spec: SweepFile, path: Path, lines: dict) -> list:
    """The axes with `variant` checked against the base's `compare:` names; a base with variants that
    the sweep does not vary gets a `variant` axis over all of them (variants x grid)."""
    for paths, values in axes:
        if VARIANT not in paths:
            continue
        loc = ("grid", VARIANT) if VARIANT in spec.grid else ("zip",)
        where = f"{path}{f':{line_for(lines, loc)}' if line_for(lines, loc) else ''}"
        if not names:
            raise ScenarioError(f"{where}: variant: the base scenario has no compare: variants")
        for combo in values:
            v = combo[paths.index(VARIANT)]
            if v not in names:
                raise ScenarioError(f"{where}: variant: no compare variant {v!r} in the base (have {names})")
        return axes
    return axes + [((VARIANT,), [(n,) for n in names])] if names else axes


def load_sweep(path: str | Path, overrides: Sequence[str] = ()) -> Sweep:
    """Read, expand and validate a sweep file: every run's scenario is resolved before anything runs.

    `overrides` (`cosim sweep --set PATH=VALUE`) apply to the base after the file's own `set`.
    """
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top level (base, grid, replications)")
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        # unions (zip, set) report one error per member: the deepest names the field the user meant
        err = max(exc.errors(), key=lambda e: len(e["loc"]))
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        line = line_for(lines, loc[:2])
        where = f"{path}:{line}" if line else str(path)
        fieldname = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and len(loc) == 1:
            from cosim.suggest import did_you_mean

            names = [f.alias or n for n, f in SweepFile.model_fields.items()]
            msg += did_you_mean(loc[0], names)
        raise ScenarioError(f"{where}: {fieldname}: {msg}") from None
    try:
        axes = _axes(spec)
        varied = {p for paths, _ in axes for p in paths}
        fixed = _set_overrides(spec, varied)
        for text in overrides:
            named = ".".join(parse_override(text)[0])
            if named in varied:
                raise ScenarioError(f"--set {text}: {named} is varied by the sweep's grid/zip")
        fixed = fixed + list(overrides)
    except _FieldError as exc:
        line = line_for(lines, exc.loc)
        raise ScenarioError(f"{path}{f':{line}' if line else ''}: {exc}") from None
    base = (path.parent / spec.base).resolve()
    if not base.is_file():
        raise ScenarioError(f"{path}:{line_for(lines, ('base',))}: base: no scenario file {str(base)!r}")
    try:
        base_scenario = load_scenario(base, fixed)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: base {spec.base} (with 'set'): {exc}") from None
    root_seed = spec.seed if spec.seed is not None else base_scenario.seed
    seeds = tuple(replication_seed(root_seed, r) for r in range(spec.replications))
    axes = _variant_axis(axes, [v.name for v in base_scenario.compare], spec, path, lines)
    param_paths = tuple(p for paths, _ in axes for p in paths)
    points: list[Params] = []
    for combo in itertools.product(*(values for _, values in axes)):
        flat = [v for values in combo for v in values]
        points.append(tuple(zip(param_paths, flat)))
    runs = []
    for point in points:
        texts = [override_text(p, v) for p, v in point if p != VARIANT]
        try:
            scenario = load_scenario(base, fixed + texts, seeds[0])
            variant = dict(point).get(VARIANT)
            if variant is not None:
                scenario = scenario.select(variant)
        except ScenarioError as exc:
            desc = ", ".join(f"{p}={v!r}" for p, v in point)
            first = point[0][0] if point else None
            line = line_for(lines, ("grid", first) if first in spec.grid else ("zip",)) if first else None
            raise ScenarioError(f"{path}{f':{line}' if line else ''}: run {desc}: {exc}") from None
        for r, seed in enumerate(seeds):
            replica = scenario.model_copy(update={"seed": seed})
            runs.append(RunSpec(run_key(replica), point, r, seed, replica))
    return Sweep(path, spec.name or path.stem, base, param_paths, tuple(points), seeds, tuple(runs))


# -- running -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunOutcome:
    """What a worker returns for one run: the summary, or the error that stopped it."""

    key: str
    status: str  # "ok" or "failed"
    summary: dict | None = None
    error: str | None = None


def simulate_summary(scenario: Scenario) -> dict:
    """The default simulation: run the engine without writing files and return its summary."""
    from cosim.engine.run import run_scenario

    return run_scenario(scenario, None).summary


def run_one(key: str, scenario: Scenario,
            simulate: Callable[[Scenario], dict] = simulate_summary) -> RunOutcome:
    """Execute one run (in a worker or in-process): one torch thread, errors caught and returned."""
    import torch

    torch.set_num_threads(1)
    try:
        summary = simulate(scenario)
        json.dumps(summary, default=_json_default)  # fail here, not when storing, if not serialisable
        return RunOutcome(key, "ok", summary=summary)
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded and the sweep goes on
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return RunOutcome(key, "failed", error=f"{type(exc).__name__}: {message}".rstrip(": "))


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


class RunStore:
    """Finished runs as OUTDIR/runs/<key>.json, each written atomically (temp file + os.replace)."""

    def __init__(self, outdir: Path) -> None:
        self.dir = Path(outdir) / "runs"

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def load(self, key: str) -> dict | None:
        """The stored record of `key`, or None if absent or unreadable."""
        try:
            record = json.loads(self.path(key).read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def save(self, record: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record, indent=1, default=_json_default, allow_nan=True)
        atomic_write_text(self.path(record["key"]), text + "\n")


@dataclass(frozen=True)
class SweepResult:
    """What `run_sweep` did and wrote."""

    outdir: Path
    runs: int  # distinct runs in the sweep
    executed: int  # runs executed now
    cached: int  # runs found finished and skipped
    failed: tuple[dict, ...]  # records of failed runs (params, seed, error)
    results: Path  # results.parquet
    aggregate: Path  # aggregate.parquet
    figures: tuple[Path, ...]


def _record(spec: RunSpec, outcome: RunOutcome) -> dict:
    rec = {"key": spec.key, "status": outcome.status, "params": dict(spec.params),
           "replication": spec.replication, "seed": spec.seed, "cosim_version": __version__}
    if outcome.status == "ok":
        rec["summary"] = outcome.summary
    else:
        rec["error"] = outcome.error
    return rec


def run_sweep(
    sweep: Sweep,
    outdir: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    simulate: Callable[[Scenario], dict] = simulate_summary,
    progress: Callable[[dict], None] | None = None,
    figures: bool = True,
    force_outdir: bool = False,
    pool: LocalPool | None = None,
) -> SweepResult:
    """Run every unfinished run of `sweep` (serially if workers == 0, else on Dask) and write the tables.

    `progress` is called with each stored record (cached ones first) so a caller can count runs.
    `pool`: a LocalPool the caller started early (`cosim sweep` does, before loading the sweep); else,
    if runs are pending, one of `workers` processes (default: one per core) is started here unless
    `scheduler` is given. It is closed in the background while the tables are written; a pool the caller passed is
    left closing (the caller joins it with `pool.close()`), one started here is waited for.
    """
    from cosim.sweep import table as sweep_table

    owned = pool is None  # a pool the caller passed is the caller's to wait for
    try:
        outdir = Path(outdir)
        claim_output(outdir, "sweep", "-o", force_outdir, SWEEP_ENTRIES)
        try:
            outdir.mkdir(parents=True, exist_ok=True)
            ours = set(SWEEP_ENTRIES) | set((read_marker(outdir) or {}).get("entries", ()))
            write_marker(outdir, "sweep", ours & set(SWEEP_ENTRIES), cosim_version=__version__)
        except OSError as exc:
            raise OutputError(f"-o {outdir}: cannot write the sweep's outputs there ({exc.strerror or exc})") from None
        store = RunStore(outdir)
        by_key = {r.key: r for r in reversed(sweep.runs)}  # first run of each key wins
        by_key = {k: by_key[k] for k in sweep.unique_keys}
        records: dict[str, dict] = {}
        for key in by_key:
            rec = store.load(key)
            if rec is not None and rec.get("status") == "ok":
                records[key] = rec
                if progress:
                    progress(rec)
        cached = len(records)
        pending = [by_key[k] for k in by_key if k not in records]
        _write_manifest(sweep, outdir)

        def finish(spec: RunSpec, outcome: RunOutcome) -> None:
            rec = _record(spec, outcome)
            store.save(rec)
            records[spec.key] = rec
            if outcome.status != "ok":
                log.info("run %s failed: %s", _describe(spec), outcome.error)
            if progress:
                progress(rec)

        if pending and scheduler is not None:
            client = _scheduler_client(scheduler)
            try:
                _run_dask(pending, client, simulate, finish)
            finally:
                client.close()
        elif pending and (pool is not None or workers != 0):
            pool = pool or LocalPool(workers or os.cpu_count() or 1)
            _run_dask(pending, pool.client(), simulate, finish)
        else:
            for spec in pending:
                finish(spec, run_one(spec.key, spec.scenario, simulate))
        if pool is not None:
            pool.close(wait=False)  # the workers shut down while the tables are written
        rows = []
        for run in sweep.runs:
            rec = records[run.key]
            rows.append({**rec, "params": dict(run.params), "replication": run.replication, "seed": run.seed})
        table = sweep_table.results_table(sweep.param_paths, rows)
        results = sweep_table.write_table(table, outdir / "results")
        agg = sweep_table.aggregate_table(table, list(sweep.param_paths))
        aggregate = sweep_table.write_table(agg, outdir / "aggregate")
        figs: list[Path] = []
        if figures:
            from cosim.plots import sweep as sweep_plots

            figs = sweep_plots.sweep_figures(table, list(sweep.param_paths), outdir / "figures")
        failed = tuple(rec for k, rec in records.items() if rec["status"] != "ok")
        return SweepResult(outdir, len(by_key), len(pending), cached, failed, results, aggregate, tuple(figs))

    finally:
        if pool is not None:
            pool.close(wait=owned)


def _describe(spec: RunSpec) -> str:
    params = ", ".join(f"{p}={v!r}" for p, v in spec.params) or "(base)"
    return f"{params}, replication {spec.replication} (seed {spec.seed})"


def describe_record(rec: dict) -> str:
    """One line naming a run record's parameters, seed and error (for the CLI)."""
    params = ", ".join(f"{p}={v!r}" for p, v in rec.get("params", {}).items()) or "(base)"
    tail = f": {rec['error']}" if rec.get("error") else ""
    return f"{params}, replication {rec.get('replication')} (seed {rec.get('seed')}){tail}"


def _write_manifest(sweep: Sweep, outdir: Path) -> None:
    from cosim.provenance import source_revision

    manifest = {
        "sweep": sweep.name, "file": str(sweep.path), "base": str(sweep.base),
        "parameters": list(sweep.param_paths), "points": len(sweep.points),
        "replication_seeds": list(sweep.seeds), "runs": len(sweep.unique_keys),
        "cosim_version": __version__,
        "source": source_revision(),
    }
    atomic_write_text(outdir / "sweep.json", json.dumps(manifest, indent=2, default=_json_default) + "\n")


def _run_dask(
    pending: Sequence[RunSpec],
    client,
    simulate: Callable[[Scenario], dict],
    finish: Callable[[RunSpec, RunOutcome], None],
) -> None:
    """Map the pending runs over a Dask cluster, recording each as it finishes."""
    from dask.distributed import as_completed

    futures = {client.submit(run_one, spec.key, spec.scenario, simulate, pure=False): spec for spec in pending}
    for fut in as_completed(futures):
        spec = futures[fut]
        try:
            outcome = fut.result()
        except Exception as exc:  # noqa: BLE001 - a worker died; record it, go on
            outcome = RunOutcome(spec.key, "failed", error=f"worker failed: {type(exc).__name__}: {exc}")
        finish(spec, outcome)


def _scheduler_client(scheduler: str):
    """A Client of the Dask cluster at `scheduler` (CosimError if it cannot be reached)."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise CosimError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
