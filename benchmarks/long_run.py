"""Benchmark: a long run streamed to Parquet, to show that memory stays flat with run length.

Usage: python benchmarks/long_run.py [--inferences 10000000] [--devices 10000] [--out DIR] [--json]

The quickstart scenario (semanticnn with the real `builtin:digits` codec, Gilbert-Elliott channel,
one edge server, dedicated BLE links) with `--devices` devices sensing every 2 s, for as long as it
takes to sense `--inferences` samples. Nothing is cheapened: every delivered payload goes through the
batched evaluator, whose exact cache (error-free payloads of a sample at one quantised BER estimate)
answers most of them at this channel's low BER. Records stream to `packets.parquet` in chunks; the
summary is then read back in batches, as `cosim run` does (figures are not drawn).

Reports rows written, wall time of the simulation and of the summary, the resident set size sampled
through the run (it should stay flat) and the peak (`ru_maxrss`).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from cosim.config.scenario import validate_scenario
from cosim.engine.world import World
from cosim.results.summary import summarise

TARGET_PEAK_RSS_MB = 1536.0


def rss_mb() -> float:
    """Current resident set size, MB (Linux /proc; elsewhere the peak)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(inferences: int, devices: int, outdir: Path) -> dict:
    """Simulate, stream and summarise; return the figures."""
    data = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    group = data["devices"][0]
    group["count"] = devices
    data["duration_s"] = inferences * float(group["workload"]["period_s"]) / devices
    sc = validate_scenario(data, f"quickstart with {devices} devices")
    rss_start = rss_mb()
    world = World(sc, outdir)
    samples: list[tuple[float, float]] = []  # (fraction of the run, RSS MB)
    steps = 200

    def progress(now: float) -> None:
        k = round(now / sc.duration_s * steps)
        if k % 20 == 0:
            samples.append((now / sc.duration_s, rss_mb()))

    t0 = time.perf_counter()
    world.run(progress=progress, steps=steps)
    sim_s = time.perf_counter() - t0
    rss_after_sim = rss_mb()
    t1 = time.perf_counter()
    summary = summarise(outdir / "packets.parquet", world.group_facts, sc.duration_s, sc.deadline_ms / 1000.0).overall
    summary_s = time.perf_counter() - t1
    meta = pq.ParquetFile(outdir / "packets.parquet").metadata
    return {
        "devices": devices, "duration_s": sc.duration_s, "rows_written": meta.num_rows,
        "row_groups": meta.num_row_groups, "parquet_mb": (outdir / "packets.parquet").stat().st_size / 2**20,
        "events": world.events(), "sim_wall_s": sim_s, "summary_wall_s": summary_s,
        "inferences_per_s": meta.num_rows / sim_s, "accuracy": summary.accuracy,
        "rss_mb_before_world": rss_start, "rss_mb_during_run": samples, "rss_mb_after_sim": rss_after_sim,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inferences", type=int, default=10_000_000, help="samples to sense (default 10M)")
    parser.add_argument("--devices", type=int, default=10_000, help="fleet size (default 10000)")
    parser.add_argument("--out", type=Path, help="keep packets.parquet in this folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        out = run(args.inferences, args.devices, args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="cosim-long-run-") as tmp:
            out = run(args.inferences, args.devices, Path(tmp))
    out["target_peak_rss_mb"] = TARGET_PEAK_RSS_MB
    out["target_met"] = out["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{out['rows_written']:,} rows written ({out['row_groups']} row groups, {out['parquet_mb']:.0f} MB) "
          f"by {out['devices']:,} devices over {out['duration_s']:,.0f} simulated s")
    print(f"simulation {out['sim_wall_s']:.1f} s ({out['inferences_per_s']:,.0f} inferences/s), "
          f"summary {out['summary_wall_s']:.1f} s, accuracy {out['accuracy']:.4f}")
    during = ", ".join(f"{f:.0%}: {mb:.0f}" for f, mb in out["rss_mb_during_run"])
    print(f"RSS MB before the World {out['rss_mb_before_world']:.0f}; during the run {during}; "
          f"after {out['rss_mb_after_sim']:.0f}")
    print(f"peak RSS {out['peak_rss_mb']:.0f} MB (target <= {TARGET_PEAK_RSS_MB:.0f}): "
          f"{'met' if out['target_met'] else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
