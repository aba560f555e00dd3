"""Benchmark: simulated inferences per second, memory and build time of the engine, and how far it is from
the floor, on dedicated, TDMA, ALOHA and CSMA media from 1,000 to 1,000,000 devices (issue 16).

Usage: python benchmarks/engine.py [--quick] [--million] [--cases dedicated,tdma,aloha,csma]
                                   [--sizes 1000,10000,100000] [--inferences 105000] [--json]

Scenario: `bench_scenario.py` (the quickstart of the issue-16 baseline, frozen: digits, the real
`builtin:digits` codec, semanticnn, Gilbert-Elliott links, one Raspberry Pi 5), with the medium of the
case and the period stretched with the fleet so the load per medium does not grow (see there). A run
senses about max(`--inferences`, 2 × devices) samples. Every (case, size) runs in a fresh Python process,
torch on one thread, so its peak RSS is its own. Timed: `World.run()` (simulation, batched decoding,
Parquet streaming); `build_s` is the World's construction (cold: it loads the codec and data set again).
Before it, a 10-device World is built and run, so torch, the codec and the data set are resident:
`rss_kb_per_device` is (peak RSS − RSS after that small World) / devices.

The floor of a run (measured up to 10,000 devices) is the same work with no model logic:
- a bare SimPy loop processing as many events as the run did (one long-lived process per device,
  each yielding plain timeouts), plus
- the batched codec (`decode_classify` in batches of `codec_batch`) on every delivered sample, with
  no cache (`ratio_to_floor`), or on only as many samples as the run actually decoded
  (`ratio_to_strict_floor`: the headline; the run's exact cache answers the rest).

cosim is imported from PYTHONPATH if it is set (so another worktree can time its code with this
script), else from this checkout. Throughput targets are judged on CPU time of the run's process (less sensitive to the other jobs on a
shared machine); wall-time figures are printed beside them. `--quick` runs every case at 1,000 devices
with 3,000 inferences in this one process (CI size, seconds): a smoke test, most targets are n/a.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# cosim from PYTHONPATH if set (another worktree can time its own code with this script), else this checkout
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

FLOOR_MAX_DEVICES = 10_000  # the floor decodes every delivered sample: skipped above this size
GB = 1024.0  # MB


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb() -> float:
    """Current resident set size, MB (Linux /proc; elsewhere the peak)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def simpy_floor_s(events: int, processes: int) -> tuple[float, float]:
    """(wall, CPU) time of a bare SimPy loop processing `events` events in `processes` long-lived processes."""
    import simpy

    env = simpy.Environment()
    per = max(events // processes - 2, 0)  # a process also costs its start and its end event
    extra = max(events - processes * (per + 2), 0)

    def proc(k: int):
        timeout = env.timeout
        for _ in range(k):
            yield timeout(1.0)

    for i in range(processes):
        env.process(proc(per + (1 if i < extra else 0)))
    start, cpu = time.perf_counter(), time.process_time()
    env.run()
    return time.perf_counter() - start, time.process_time() - cpu


def decode_floor_s(codec, payloads: np.ndarray, samples: np.ndarray, ber: np.ndarray,
                   batch: int) -> tuple[float, float]:
    """(wall, CPU) time of decoding `samples` (BER estimates `ber`) in batches of `batch`, no cache."""
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(samples), batch):
        codec.decode_classify(payloads[samples[i:i + batch]], ber[i:i + batch])
    return time.perf_counter() - start, time.process_time() - cpu


def inferences_for(devices: int, inferences: int) -> int:
    """Samples a run of `devices` devices senses: `inferences`, and at least two per device."""
    return max(inferences, 2 * devices)


def measure(case: str, devices: int, inferences: int, floor: bool) -> dict:
    """One timed run of `case` at `devices` devices (in this process) and, if `floor`, its floors."""
    import torch
    from bench_scenario import period_s, scenario

    from cosim.engine.world import World
    from cosim.inference import DELIVERED
    from cosim.results.records import read_columns

    torch.set_num_threads(1)
    sc = scenario(case, devices, inferences)
    with tempfile.TemporaryDirectory(prefix="cosim-bench-") as tmp:
        # a 10-device World first: torch, the codec, the data set and its encoding are then resident, so
        # the RSS growth of the measured World is what its devices cost
        t0 = time.perf_counter()
        World(scenario(case, 10, 20), Path(tmp)).run()
        fixed_s = time.perf_counter() - t0
    rss_before = rss_mb()
    with tempfile.TemporaryDirectory(prefix="cosim-bench-") as tmp:
        t0, cpu0 = time.perf_counter(), time.process_time()
        world = World(sc, Path(tmp))
        t1, cpu1 = time.perf_counter(), time.process_time()
        world.run()
        run_s, run_cpu_s = time.perf_counter() - t1, time.process_time() - cpu1
        peak_mb = peak_rss_mb()  # before the floors, which build their own state
        # `lost` is stored as names: read_columns gives the codes (an `== 0` on the names matched nothing)
        rows = read_columns(Path(tmp) / "packets.parquet", ["sample", "ber_est", "lost"])
    n = world.recorder.count
    events = world.events()
    (evaluator,) = world.evaluators.values()
    out = {
        "case": case, "devices": devices, "period_s": period_s(case, devices), "inferences": n,
        "events": events, "events_per_inference": events / n, "decoded": evaluator.decoded,
        "cache_hits": evaluator.cache_hits, "build_s": t1 - t0, "build_cpu_s": cpu1 - cpu0, "small_world_s": fixed_s, "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "inferences_per_s": n / run_s, "cpu_inferences_per_s": n / run_cpu_s,
        "us_per_inference": run_s / n * 1e6, "rss_before_world_mb": rss_before, "peak_rss_mb": peak_mb,
        "rss_kb_per_device": (peak_mb - rss_before) * 1024.0 / devices,
    }
    delivered = rows["lost"] == DELIVERED
    out["delivered"] = int(delivered.sum())
    if not floor:
        return out
    samples = rows["sample"][delivered].astype(np.int64)
    ber = rows["ber_est"][delivered]
    codec = world.services.codec(sc.codec)
    payloads = world.services.encoded(sc.codec)
    del world, rows
    order = np.random.default_rng(0).permutation(len(samples))  # arrival order is irrelevant: mix batches
    decode_s, decode_cpu_s = decode_floor_s(codec, payloads, samples[order], ber[order], sc.codec_batch)
    strict = order[:evaluator.decoded]
    strict_s, strict_cpu_s = decode_floor_s(codec, payloads, samples[strict], ber[strict], sc.codec_batch)
    loop_s, loop_cpu_s = simpy_floor_s(events, devices)
    out.update({
        "floor_simpy_s": loop_s, "floor_decode_s": decode_s, "strict_floor_decode_s": strict_s,
        "floor_inferences_per_s": n / (loop_s + decode_s), "us_per_event": loop_s / events * 1e6,
        "ratio_to_floor": run_s / (loop_s + decode_s), "ratio_to_strict_floor": run_s / (loop_s + strict_s),
        "cpu_ratio_to_floor": run_cpu_s / (loop_cpu_s + decode_cpu_s),
        "cpu_ratio_to_strict_floor": run_cpu_s / (loop_cpu_s + strict_cpu_s),
    })
    return out


def measure_fresh(case: str, devices: int, inferences: int, floor: bool) -> dict:
    """`measure` in a new Python process (its own peak RSS); a failed run is returned as {"error": ...}."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.environ.get("PYTHONPATH") or str(ROOT))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", case, str(devices), str(inferences)]
    if not floor:
        cmd.append("--no-floor")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"case": case, "devices": devices, "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- targets (issue 16) ----------------------------------------------------------------------------
MILLION = 1_000_000
TARGET_MILLION_RSS_MB = 4 * GB
TARGET_MILLION_BUILD_S = 60.0
TARGET_MILLION_SCALING = 0.8  # throughput at 1M devices / at 1,000 (same medium)
TARGET_STRICT_FLOOR = 3.0  # run / strict floor at 1,000 devices, dedicated links
TARGET_SHARED_RATE = 40_000.0  # ALOHA and CSMA at 10,000 devices, inferences per CPU-second
TARGET_SHARED_SCALING = 0.8  # ALOHA and CSMA throughput at 100,000 devices / at 10,000
TARGET_DASK_SPEEDUP = 1.7  # benchmarks/sweep.py


def targets(runs: dict[tuple[str, int], dict]) -> list[tuple[str, float | None, str, bool | None]]:
    """(target, measured value, bound, met) of every issue-16 target the runs can judge (None: n/a)."""
    def get(case: str, devices: int, key: str) -> float | None:
        r = runs.get((case, devices))
        return None if r is None or "error" in r or key not in r else r[key]

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a / b

    out: list[tuple[str, float | None, str, bool | None]] = []

    def add(name: str, value: float | None, op: str, bound: float) -> None:
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        out.append((name, value, f"{op} {bound:g}", met))

    add("run / strict floor, dedicated 1k", get("dedicated", 1000, "ratio_to_strict_floor"), "<=",
        TARGET_STRICT_FLOOR)
    for case in ("dedicated", "tdma"):
        add(f"{case} 1M peak RSS, GB", None if get(case, MILLION, "peak_rss_mb") is None
            else get(case, MILLION, "peak_rss_mb") / GB, "<=", TARGET_MILLION_RSS_MB / GB)
        add(f"{case} 1M World build, s", get(case, MILLION, "build_s"), "<=", TARGET_MILLION_BUILD_S)
        add(f"{case} 1M World build, CPU-s", get(case, MILLION, "build_cpu_s"), "<=", TARGET_MILLION_BUILD_S)
        add(f"{case} 1M / 1k throughput", ratio(get(case, MILLION, "cpu_inferences_per_s"),
                                                get(case, 1000, "cpu_inferences_per_s")), ">=",
            TARGET_MILLION_SCALING)
    for case in ("aloha", "csma"):
        add(f"{case} 10k inferences/CPU-s", get(case, 10_000, "cpu_inferences_per_s"), ">=", TARGET_SHARED_RATE)
        add(f"{case} 100k / 10k throughput", ratio(get(case, 100_000, "cpu_inferences_per_s"),
                                                   get(case, 10_000, "cpu_inferences_per_s")), ">=",
            TARGET_SHARED_SCALING)
    return out


def line(r: dict) -> str:
    """One human-readable line of a run."""
    if "error" in r:
        return f"{r['case']:>9} {r['devices']:>9,}: FAILED {r['error']}"
    text = (f"{r['case']:>9} {r['devices']:>9,}: {r['inferences']:>9,} inf in {r['run_s']:6.2f} s = "
            f"{r['inferences_per_s']:>7,.0f}/s wall, {r['cpu_inferences_per_s']:>7,.0f}/CPU-s; "
            f"{r['events_per_inference']:.2f} events/inf; build {r['build_s']:5.1f} s "
            f"({r['build_cpu_s']:.1f} CPU-s); peak RSS "
            f"{r['peak_rss_mb']:6.0f} MB ({r['rss_kb_per_device']:.1f} KB/device)")
    if "ratio_to_strict_floor" in r:
        text += (f"; run/floor {r['ratio_to_floor']:.2f}, run/strict floor {r['ratio_to_strict_floor']:.2f} "
                 f"(CPU {r['cpu_ratio_to_strict_floor']:.2f})")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="CI size: every case at 1,000 devices, 3,000 "
                        "inferences (seconds; a smoke test, not a measurement)")
    parser.add_argument("--cases", default="dedicated,tdma,aloha,csma", help="media, comma-separated")
    parser.add_argument("--sizes", default="1000,10000,100000", help="device counts, comma-separated")
    parser.add_argument("--million", action="store_true",
                        help="also 1,000,000 devices on the dedicated and TDMA media (minutes)")
    parser.add_argument("--inferences", type=int, default=105_000,
                        help="inferences per run, at least 2 per device (default 105000)")
    parser.add_argument("--in-process", action="store_true", help="every run in this process (faster "
                        "start; peak RSS is then cumulative; implied by --quick)")
    parser.add_argument("--one", nargs=3, metavar=("CASE", "DEVICES", "INFERENCES"), help=argparse.SUPPRESS)
    parser.add_argument("--no-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # a child process: one measurement, one JSON line
        case, devices, n = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(measure(case, devices, n, not args.no_floor)))
        return 0
    from bench_scenario import CASES

    cases = args.cases.split(",")
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {unknown} (known: {', '.join(CASES)})")
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    inferences = 3000 if args.quick else args.inferences
    plan = [(c, d) for c in cases for d in sizes]
    if args.million:
        plan += [(c, MILLION) for c in cases if c in ("dedicated", "tdma")]
    import cosim

    load = os.getloadavg()
    runs: dict[tuple[str, int], dict] = {}
    run = measure if args.quick or args.in_process else measure_fresh
    for case, devices in plan:
        r = run(case, devices, inferences_for(devices, inferences), devices <= FLOOR_MAX_DEVICES)
        runs[(case, devices)] = r
        if not args.json:
            print(line(r), flush=True)
    checks = targets(runs)
    if args.json:
        print(json.dumps({"cosim": str(Path(cosim.__file__).parent), "load_average": load, "runs": list(runs.values()),
                          "targets": [{"target": t, "value": v, "bound": b, "met": m} for t, v, b, m in checks]},
                         indent=2))
        return 0
    print(f"cosim from {Path(cosim.__file__).parent}; load average at start {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} on {os.cpu_count()} CPUs")
    for name, value, bound, met in checks:
        verdict = "n/a " if met is None else "PASS" if met else "FAIL"
        shown = "not measured" if value is None else f"{value:,.2f}"
        print(f"{verdict} {name:<36} {shown:>14} (target {bound})")
    print(f"(Dask sweep speed-up, target >= {TARGET_DASK_SPEEDUP:g}x serial: python benchmarks/sweep.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
