"""Benchmark: µs per sample of `Codec.decode_classify` called per sample and in batches.

Usage: python benchmarks/bench_codec_decode.py [CKPT ...] (default builtin:digits); best of 5 runs,
one torch thread, payloads of the test split with BER 1e-2 errors.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from cosim.channel.errors import flip_bits
from cosim.codec.checkpoint import load_codec
from cosim.data import load_dataset


def per_sample_us(codec, payloads: np.ndarray, batch: int, runs: int = 5) -> float:
    """Best-of-`runs` µs per sample decoding `payloads` in batches of `batch`."""
    n = max(batch, min(len(payloads), 1024 if batch > 1 else 256))
    rows = payloads[np.arange(n) % len(payloads)]
    ber = np.full(n, 1e-2)
    codec.decode_classify(rows[:batch], ber[:batch])
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for i in range(0, n, batch):
            codec.decode_classify(rows[i:i + batch], ber[i:i + batch])
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def main(specs: list[str]) -> None:
    """Print one line per checkpoint and batch size."""
    torch.set_num_threads(1)
    for spec in specs or ["builtin:digits"]:
        codec = load_codec(spec)
        data = load_dataset(codec.meta.dataset)
        payloads, _ = flip_bits(codec.encode(data.x_test), 1e-2, np.random.default_rng(0),
                                nbits=codec.meta.payload_bits)
        for batch in (1, 64, 256):
            us = per_sample_us(codec, payloads, batch)
            print(f"{spec:<28} edge MACs {codec.meta.edge_macs:>10,}  batch {batch:>3}: {us:8.1f} µs/sample")


if __name__ == "__main__":
    main(sys.argv[1:])
