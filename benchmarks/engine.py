"""Benchmark: simulated inferences per wall-second of the engine, and how far it is from the floor.

Usage: python benchmarks/engine.py [--json] [--sizes 100,1000,10000] [--inferences 105000]

One process, one run per fleet size, torch on one thread. The scenario is the quickstart
(`scenarios/quickstart.yaml`: semanticnn, Gilbert-Elliott channel, one edge server, the real
`builtin:digits` codec) with the device count changed and the duration set so that the two larger
fleets sense about `--inferences` samples. Timed: `World.run()` (simulation, batched decoding,
Parquet streaming); not timed: building the World (reported as `build_s`).

The floor of a run is the same work with no model logic:
- a bare SimPy loop processing as many events as the run did (one long-lived process per device,
  each yielding plain timeouts), plus
- the batched codec (`decode_classify` in batches of `codec_batch`) on every delivered sample, with
  no cache (the run's exact cache is not assumed).
`ratio_to_floor` is run time / floor time. Because the run's cache skips most decodes at low BER,
the stricter `ratio_to_strict_floor` also reports run time / (SimPy loop + batched decoding of only
as many samples as the run actually decoded).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import simpy
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench_codec_decode import per_sample_us

from cosim.config.scenario import validate_scenario
from cosim.engine.world import World

TARGET_RATIO = 1.5  # run / floor at 1,000 devices
TARGET_RATE = 15_000.0  # simulated inferences per wall-second at 1,000 devices
TARGET_SCALING = 0.8  # throughput at 10,000 devices / at 1,000


def scenario(devices: int, inferences: int):
    """The quickstart with `devices` devices sensing about `inferences` samples in total."""
    data = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    group = data["devices"][0]
    group["count"] = devices
    data["duration_s"] = inferences * float(group["workload"]["period_s"]) / devices
    return validate_scenario(data, f"quickstart with {devices} devices")


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def simpy_floor_s(events: int, processes: int) -> tuple[float, float]:
    """(wall, CPU) time of a bare SimPy loop processing `events` events in `processes` long-lived processes."""
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


def measure(devices: int, inferences: int) -> dict:
    """One timed run at `devices` devices and its floor."""
    sc = scenario(devices, inferences)
    with tempfile.TemporaryDirectory(prefix="cosim-bench-") as tmp:
        t0 = time.perf_counter()
        world = World(sc, Path(tmp))
        t1, cpu1 = time.perf_counter(), time.process_time()
        world.run()
        run_s, run_cpu_s = time.perf_counter() - t1, time.process_time() - cpu1
        rows = pq.read_table(Path(tmp) / "packets.parquet", columns=["sample", "ber_est", "lost"])
        delivered = rows.column("lost").to_numpy() == 0
        samples = rows.column("sample").to_numpy()[delivered].astype(np.int64)
        ber = rows.column("ber_est").to_numpy()[delivered]
    n = world.recorder.count
    events = world.events()
    (evaluator,) = world.evaluators.values()
    codec = world.services.codec(sc.codec)
    payloads = world.services.encoded(sc.codec)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(samples))  # arrival order is irrelevant to the floor; mix the batches
    decode_s, decode_cpu_s = decode_floor_s(codec, payloads, samples[order], ber[order], sc.codec_batch)
    strict = order[:evaluator.decoded]
    strict_decode_s, strict_decode_cpu_s = decode_floor_s(codec, payloads, samples[strict], ber[strict],
                                                          sc.codec_batch)
    loop_s, loop_cpu_s = simpy_floor_s(events, devices)
    floor_s = loop_s + decode_s
    return {
        "devices": devices, "inferences": n, "delivered": int(delivered.sum()), "events": events,
        "decoded": evaluator.decoded, "cache_hits": evaluator.cache_hits,
        "build_s": t1 - t0, "run_s": run_s, "floor_simpy_s": loop_s, "floor_decode_s": decode_s,
        "strict_floor_decode_s": strict_decode_s,
        "inferences_per_s": n / run_s, "floor_inferences_per_s": n / floor_s,
        "ratio_to_floor": run_s / floor_s, "ratio_to_strict_floor": run_s / (loop_s + strict_decode_s),
        "us_per_inference": run_s / n * 1e6, "us_per_event": loop_s / events * 1e6,
        # the same in CPU seconds of this process (less sensitive to other load on the machine)
        "cpu": {"run_s": run_cpu_s, "floor_simpy_s": loop_cpu_s, "floor_decode_s": decode_cpu_s,
                "strict_floor_decode_s": strict_decode_cpu_s, "inferences_per_s": n / run_cpu_s,
                "ratio_to_floor": run_cpu_s / (loop_cpu_s + decode_cpu_s),
                "ratio_to_strict_floor": run_cpu_s / (loop_cpu_s + strict_decode_cpu_s)},
    }


def codec_ratio(spec: str = "builtin:digits", batch: int = 256) -> tuple[float, float]:
    """(µs per sample called one by one, µs per sample in batches of `batch`) of the codec."""
    from cosim.channel.errors import flip_bits
    from cosim.codec.checkpoint import load_codec
    from cosim.data import load_dataset

    codec = load_codec(spec)
    data = load_dataset(codec.meta.dataset)
    payloads, _ = flip_bits(codec.encode(data.x_test), 1e-2, np.random.default_rng(0),
                            nbits=codec.meta.payload_bits)
    return per_sample_us(codec, payloads, 1), per_sample_us(codec, payloads, batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", default="100,1000,10000", help="device counts, comma-separated")
    parser.add_argument("--inferences", type=int, default=105_000,
                        help="inferences per run at 1,000 devices and more (default 105000)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = {}
    for devices in sizes:
        # the smallest fleet runs the same simulated time as the 1,000-device one
        n = args.inferences if devices >= 1000 else args.inferences * devices // 1000
        runs[str(devices)] = measure(devices, n)
        if not args.json:
            r = runs[str(devices)]
            print(f"{devices:>6} devices: {r['inferences']:>7} inferences in {r['run_s']:6.2f} s = "
                  f"{r['inferences_per_s']:>8,.0f}/s ({r['us_per_inference']:.1f} µs each; "
                  f"{r['events']} events, {r['decoded']} decoded, {r['cache_hits']} cache hits); "
                  f"floor {r['floor_inferences_per_s']:>8,.0f}/s (SimPy {r['floor_simpy_s']:.2f} s + "
                  f"decode all {r['floor_decode_s']:.2f} s); run/floor {r['ratio_to_floor']:.2f}, "
                  f"run/strict floor {r['ratio_to_strict_floor']:.2f}; CPU time: "
                  f"{r['cpu']['inferences_per_s']:,.0f}/s, run/floor {r['cpu']['ratio_to_floor']:.2f}, "
                  f"run/strict floor {r['cpu']['ratio_to_strict_floor']:.2f}", flush=True)
    single_us, batched_us = codec_ratio()
    out = {
        "inferences_per_s": {k: r["inferences_per_s"] for k, r in runs.items()},
        "floor_inferences_per_s": {k: r["floor_inferences_per_s"] for k, r in runs.items()},
        "ratio_to_floor": {k: r["ratio_to_floor"] for k, r in runs.items()},
        "ratio_to_strict_floor": {k: r["ratio_to_strict_floor"] for k, r in runs.items()},
        "per_sample_over_batched": single_us / batched_us,
        "codec_us_per_sample": {"per_sample": single_us, "batched_256": batched_us},
        "peak_rss_mb": peak_rss_mb(),
        "runs": runs,
    }
    targets = {}
    if "1000" in runs:
        targets["ratio_to_floor_1000 <= 1.5"] = runs["1000"]["ratio_to_floor"] <= TARGET_RATIO
        targets["inferences_per_s_1000 >= 15000"] = runs["1000"]["inferences_per_s"] >= TARGET_RATE
        if "10000" in runs:
            scale = runs["10000"]["inferences_per_s"] / runs["1000"]["inferences_per_s"]
            out["scaling_10000_over_1000"] = scale
            targets["scaling_10000_over_1000 >= 0.8"] = scale >= TARGET_SCALING
    out["targets"] = targets
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"codec: {single_us:.1f} µs/sample called per sample, {batched_us:.1f} µs batched (256): "
              f"{single_us / batched_us:.1f}x")
        if "scaling_10000_over_1000" in out:
            print(f"throughput at 10,000 devices / at 1,000: {out['scaling_10000_over_1000']:.2f}")
        print(f"peak RSS {out['peak_rss_mb']:.0f} MB")
        for name, ok in targets.items():
            print(f"target {name}: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
