"""Sparse bit-error injection: draw how many bits flip, then where, never one draw per bit.

Bit numbering: bit k of a packed row is bit (7 - k % 8) of byte k // 8, i.e. numpy's big-endian
`packbits` order, so position 0 is the most significant bit of the first byte.
"""

from __future__ import annotations

import math
import random

import numpy as np


def flip_bits(
    packed: np.ndarray, ber: float | np.ndarray, rng: np.random.Generator, nbits: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return a copy of `packed` (rows of uint8) with independent bit errors, and the errors per row.

    `ber` is a scalar or one value per row; only the first `nbits` bits of a row can flip (default:
    all bits). The count per row is Binomial(nbits, ber) and positions are distinct and uniform.
    """
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    rows, nbytes = packed.shape
    nbits = nbytes * 8 if nbits is None else int(nbits)
    if not 0 <= nbits <= nbytes * 8:
        raise ValueError(f"nbits={nbits} outside 0..{nbytes * 8}")
    p = np.broadcast_to(np.asarray(ber, dtype=np.float64), (rows,))
    if np.any((p < 0) | (p > 1)):
        raise ValueError("ber must lie in [0, 1]")
    counts = rng.binomial(nbits, p)
    out = packed.copy()
    total = int(counts.sum())
    if total:
        row_of = np.repeat(np.arange(rows), counts)
        positions = distinct_positions(counts, nbits, rng)
        apply_errors(out, row_of, positions)
    return out, counts


def distinct_positions(counts: np.ndarray, nbits: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform positions in [0, nbits), distinct within each row, `counts[i]` for row i (flattened)."""
    row_of = np.repeat(np.arange(len(counts)), counts)
    positions = rng.integers(0, nbits, size=len(row_of))
    while True:
        keys = row_of * nbits + positions
        order = np.argsort(keys, kind="stable")
        dup = np.zeros(len(keys), dtype=bool)
        dup[order[1:]] = keys[order[1:]] == keys[order[:-1]]
        if not dup.any():
            return positions
        positions[dup] = rng.integers(0, nbits, size=int(dup.sum()))


def apply_errors(packed: np.ndarray, rows: np.ndarray, positions: np.ndarray) -> None:
    """Flip, in place, bit `positions[i]` of row `rows[i]` (positions distinct within a row)."""
    masks = (np.uint8(0x80) >> (positions % 8).astype(np.uint8)).astype(np.uint8)
    np.bitwise_xor.at(packed, (rows, positions // 8), masks)


def error_positions(rng: random.Random, nbits: int, ber: float, offset: int = 0) -> list[int]:
    """Positions (plus `offset`) of independent bit errors among `nbits` bits, by geometric skipping.

    Costs one uniform draw per error plus one, so error-free frames at low BER are nearly free. This is
    the per-frame draw of the engine: it uses the link's own `random.Random` stream, so the errors a
    frame suffers never depend on batching.
    """
    if ber <= 0.0 or nbits <= 0:
        return []
    if ber >= 1.0:
        return list(range(offset, offset + nbits))
    log_q = math.log1p(-ber)
    out: list[int] = []
    pos = -1
    while True:
        skip = math.log(1.0 - rng.random()) / log_q  # may be inf when ber underflows log1p
        if pos + 1 + skip >= nbits:
            return out
        pos += 1 + int(skip)
        out.append(pos + offset)
