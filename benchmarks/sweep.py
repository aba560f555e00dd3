"""Benchmark: sweep throughput (runs per wall-second) serially and on a Dask LocalCluster (issue 16).

Usage: python benchmarks/sweep.py [--quick] [--runs 24] [--workers 2] [--devices 200] [--duration 240] [--json]

The sweep: the benchmarks' frozen scenario (`bench_scenario.BASE`: digits, the real `builtin:digits`
codec, semanticnn, Gilbert-Elliott BLE links, one Raspberry Pi 5) written as YAML into a temporary folder,
with `--devices` devices for `--duration` simulated s (200 x 240 s = ~24,000 inferences, about a second
of an idle core), and `replications: --runs`, so the runs differ in their seed only. Outputs go to a
temporary folder too.

Each mode runs in a fresh Python process (so neither inherits the other's loaded engine, codec or data
set) and does what `cosim sweep --no-figures` does: the LocalCluster (`cosim.sweep.cluster.LocalPool`)
is started first, then the sweep is loaded (`load_sweep`) and every run estimated (`check_budget`), then
`run_sweep` runs it and writes the tables, and the cluster is closed. Serial is `cosim sweep --serial`:
the same without the cluster. Two figures per mode, nothing subtracted from either:
- `runs_per_s` (the headline, judged against the target): runs / wall time from the start of the mode
  (before the cluster starts) to its end (cluster closed), as a user waits for it;
- `runs_per_s_excluding_start`: runs / wall time of `run_sweep` alone, once the sweep is loaded and the
  workers are up with the engine imported; serially, once the engine is imported (`cosim.sweep.warm`,
  what each worker imports as it starts). Each worker loads the codec and data set (cached per
  process) in its first run, inside `run_sweep`; serially the budget check's small World has already
  loaded them into the process, before it. That is how `cosim sweep` runs, so it is not evened out.

Serial and Dask must store the same record per run (`OUTDIR/runs/<key>.json`): the records are compared
byte for byte with `wall_time_s` (the run's own wall time, the one field allowed to differ) set to null;
the paths of the fields that differ before masking are listed.

Serial runs first, then Dask; the load average at start is printed (wall times on a shared machine
vary, so run it on an idle one). `--quick` (CI size, seconds): 4 runs of 20 devices for 10 simulated s,
a smoke test: the speed-up target needs 20+ runs and is n/a, the identical-records check is judged.
cosim is imported from PYTHONPATH if set, else from this checkout.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from engine import TARGET_DASK_SPEEDUP  # after the path setup

MIN_RUNS = 20  # the target is stated for sweeps of 20+ runs
TARGET_WORKERS = 2  # ... on a LocalCluster of 2 workers
MASKED = "wall_time_s"  # a run's own wall time: the one record field that may differ between modes


def write_sweep(folder: Path, runs: int, devices: int, duration_s: float) -> Path:
    """Write the frozen scenario and a sweep of `runs` replications of it into `folder`; the sweep file."""
    from bench_scenario import BASE

    (folder / "bench.yaml").write_text(yaml.safe_dump(copy.deepcopy(BASE), sort_keys=False))
    sweep = {"name": "sweep-bench", "description": "benchmarks/sweep.py: replications of the frozen scenario",
             "base": "bench.yaml", "replications": runs,
             "set": {"duration_s": duration_s, "devices.0.count": devices}}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def measure(mode: str, sweep_file: Path, outdir: Path, workers: int) -> dict:
    """Run the sweep as `cosim sweep --no-figures` does (`mode` "dask" on `workers` workers, or "serial")."""
    load = os.getloadavg()
    t0 = time.perf_counter()
    pool = None
    if mode == "dask":  # started first, as `cosim sweep` does: the workers start while the sweep loads
        from cosim.sweep.cluster import LocalPool

        pool = LocalPool(workers)
    try:
        from cosim.engine.budget import check_budget
        from cosim.sweep.execute import load_sweep, run_sweep

        sweep = load_sweep(sweep_file)
        from cosim.sweep import warm

        warm.prepare(pool, sweep)  # as `cosim sweep`: the workers load the inputs while the runs are checked
        for spec in {r.key: r for r in sweep.runs}.values():
            check_budget(spec.scenario, f"{sweep_file}: run replication {spec.replication}")
        if pool is not None:
            pool.client()  # wait for the workers (each imports the engine as it starts)
        else:
            importlib.import_module("cosim.sweep.warm")  # the same engine import, in this process
        t_ready = time.perf_counter()
        result = run_sweep(sweep, outdir, workers=0 if pool is None else workers, figures=False, pool=pool)
        t_done = time.perf_counter()
    finally:
        if pool is not None:
            pool.close()  # run_sweep started the close in the background; wait for it, as `cosim sweep` does
    t_end = time.perf_counter()
    wall, run = t_end - t0, t_done - t_ready
    return {
        "mode": mode, "workers": workers if pool is not None else 0, "runs": result.runs,
        "executed": result.executed, "failed": len(result.failed), "load_average": load,
        "wall_s": wall, "start_s": t_ready - t0, "run_sweep_s": run, "close_s": t_end - t_done,
        "runs_per_s": result.executed / wall, "runs_per_s_excluding_start": result.executed / run,
    }


def measure_fresh(mode: str, sweep_file: Path, outdir: Path, workers: int) -> dict:
    """`measure` in a new Python process; a failed one is returned as {"mode": ..., "error": ...}."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.environ.get("PYTHONPATH") or str(ROOT))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", mode, str(sweep_file), str(outdir),
           str(workers)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"mode": mode, "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- comparing the two sweeps' records ----------------------------------------------------------
def _masked(value: Any) -> Any:
    """`value` with every `wall_time_s` (at any depth) set to None."""
    if isinstance(value, dict):
        return {k: None if k == MASKED else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _differing(a: Any, b: Any, path: str = "") -> list[str]:
    """Dotted paths at which the JSON values `a` and `b` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _differing(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    return [] if a == b else [path or "(record)"]


def compare_records(serial_dir: Path, dask_dir: Path) -> dict:
    """Per-run records of two sweep folders compared: byte-identical with `wall_time_s` masked?"""
    names = sorted({p.name for d in (serial_dir, dask_dir) for p in (d / "runs").glob("*.json")})
    identical_raw = identical = 0
    fields: set[str] = set()
    bad: list[str] = []
    for name in names:
        try:
            texts = [(d / "runs" / name).read_bytes() for d in (serial_dir, dask_dir)]
        except OSError:
            bad.append(f"{name}: missing in one sweep")
            continue
        identical_raw += texts[0] == texts[1]
        recs = [json.loads(t) for t in texts]
        if any(r.get("status") != "ok" for r in recs):
            bad.append(f"{name}: status {recs[0].get('status')} / {recs[1].get('status')}")
            continue
        fields.update(_differing(*recs))
        # as RunStore.save writes them
        masked = [json.dumps(_masked(r), indent=1, allow_nan=True) for r in recs]
        if masked[0] == masked[1]:
            identical += 1
        else:
            bad.append(f"{name}: differs in {', '.join(_differing(*map(_masked, recs)))}")
    return {"records": len(names), "identical_raw": identical_raw, "identical_masked": identical,
            "not_identical": len(names) - identical, "fields_differing_raw": sorted(fields),
            "problems": bad[:10]}


# -- targets (issue 16) -------------------------------------------------------------------------
def speedups(serial: dict, dask: dict) -> dict[str, float | None]:
    """Dask / serial throughput, with and without start-up (None if a mode failed)."""
    if "error" in serial or "error" in dask or not serial["executed"] or not dask["executed"]:
        return {"speedup": None, "speedup_excluding_start": None}
    return {"speedup": dask["runs_per_s"] / serial["runs_per_s"],
            "speedup_excluding_start": dask["runs_per_s_excluding_start"] / serial["runs_per_s_excluding_start"]}


def targets(serial: dict, dask: dict, same: dict | None) -> list[tuple[str, float | None, str, bool | None]]:
    """(target, measured value, bound, met) of the sweep targets (None: not measured at this size)."""
    ratio = speedups(serial, dask)["speedup"]
    sized = (ratio is not None and dask.get("workers") == TARGET_WORKERS
             and min(serial["executed"], dask["executed"]) >= MIN_RUNS)
    value = ratio if sized else None
    out = [(f"dask {TARGET_WORKERS} workers / serial runs per s, {MIN_RUNS}+ runs", value,
            f">= {TARGET_DASK_SPEEDUP:g}", None if value is None else value >= TARGET_DASK_SPEEDUP)]
    differ = None if same is None else same["not_identical"]
    out.append(("run records not identical, serial vs dask", differ, "<= 0",
                None if differ is None else differ <= 0 and same["records"] > 0))
    return out


def line(r: dict) -> str:
    """One human-readable line of a mode."""
    name = r["mode"] if r["mode"] == "serial" else f"dask x{r.get('workers', '?')}"
    if "error" in r:
        return f"{name:>8}: FAILED {r['error']}"
    return (f"{name:>8}: {r['executed']} runs ({r['failed']} failed) in {r['wall_s']:6.2f} s = "
            f"{r['runs_per_s']:5.2f} runs/s; start {r['start_s']:5.2f} s, run_sweep {r['run_sweep_s']:6.2f} s "
            f"= {r['runs_per_s_excluding_start']:5.2f} runs/s, close {r['close_s']:4.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="CI size: 4 runs of 20 devices for 10 simulated s "
                        "(seconds; a smoke test, the speed-up target is n/a)")
    parser.add_argument("--runs", type=int, default=24, help="runs in the sweep (replications; default 24)")
    parser.add_argument("--workers", type=int, default=TARGET_WORKERS, help="LocalCluster workers (default 2)")
    parser.add_argument("--devices", type=int, default=200, help="devices per run (default 200)")
    parser.add_argument("--duration", type=float, default=240.0, help="simulated s per run (default 240)")
    parser.add_argument("--one", nargs=4, metavar=("MODE", "SWEEP", "OUTDIR", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # a child process: one mode, one JSON line
        mode, sweep_file, outdir, workers = args.one
        print(json.dumps(measure(mode, Path(sweep_file), Path(outdir), int(workers))))
        return 0
    if args.quick:
        args.runs, args.devices, args.duration = 4, 20, 10.0
    if args.runs < 1 or args.workers < 1 or args.devices < 1 or args.duration <= 0:
        parser.error("--runs, --workers, --devices and --duration must be positive")
    import cosim

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cosim-sweep-bench-") as tmp:
        folder = Path(tmp)
        sweep_file = write_sweep(folder, args.runs, args.devices, args.duration)
        serial = measure_fresh("serial", sweep_file, folder / "serial", 0)
        if not args.json:
            print(line(serial), flush=True)
        dask = measure_fresh("dask", sweep_file, folder / "dask", args.workers)
        if not args.json:
            print(line(dask), flush=True)
        same = None if "error" in serial or "error" in dask else compare_records(folder / "serial", folder / "dask")
    ratios = speedups(serial, dask)
    checks = targets(serial, dask, same)
    if args.json:
        print(json.dumps({"cosim": str(Path(cosim.__file__).parent), "load_average": load,
                          "sweep": {"runs": args.runs, "devices": args.devices, "duration_s": args.duration,
                                    "workers": args.workers},
                          "runs": [serial, dask], **ratios, "headline": "speedup", "records": same,
                          "targets": [{"target": t, "value": v, "bound": b, "met": m} for t, v, b, m in checks]},
                         indent=2))
        return 0
    print(f"cosim from {Path(cosim.__file__).parent}; load average at start {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} on {os.cpu_count()} CPUs")
    if ratios["speedup"] is not None:
        print(f"dask / serial: {ratios['speedup']:.2f}x with start-up (headline), "
              f"{ratios['speedup_excluding_start']:.2f}x excluding it")
    if same is not None:
        print(f"records: {same['identical_masked']} of {same['records']} identical with {MASKED} masked "
              f"({same['identical_raw']} byte-identical as stored; fields differing: "
              f"{', '.join(same['fields_differing_raw']) or 'none'})")
        for problem in same["problems"]:
            print(f"  {problem}")
    for name, value, bound, met in checks:
        verdict = "n/a " if met is None else "PASS" if met else "FAIL"
        shown = "not measured" if value is None else f"{value:,.2f}"
        print(f"{verdict} {name:<48} {shown:>14} (target {bound})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
