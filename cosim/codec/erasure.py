"""Erased symbols: when a frame of a payload is lost, its symbols are erased instead of the whole inference.

An erased symbol enters the decoder as the value 0, which is never a centre of the default symmetric
codebook (2^b evenly spaced centres over [-1, 1] exclude 0) and is the zero baseline of the XAI term:
the decoder can tell it apart from any received symbol, and a codec trained with erasures
(`TrainConfig.erasure_frames`) learns to use it. Which symbols a lost byte range erases follows the
payload's bit order (`quantize.py`): symbol i occupies bits [i*b, (i+1)*b) of the packed payload.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

ERASED_VALUE = 0.0


def erased_symbols(num_symbols: int, bits: int, lost_bytes: Sequence[tuple[int, int]]) -> np.ndarray:
    """Bool mask (num_symbols,) of the symbols with at least one bit in a lost byte range [start, end)."""
    mask = np.zeros(num_symbols, dtype=bool)
    first_byte = (np.arange(num_symbols) * bits) // 8
    last_byte = ((np.arange(num_symbols) + 1) * bits - 1) // 8
    for start, end in lost_bytes:
        if end > start:
            mask |= (first_byte < end) & (last_byte >= start)
    return mask


def frame_byte_ranges(payload_bytes: int, frames: int) -> list[tuple[int, int]]:
    """The byte ranges of a payload cut into `frames` near-equal contiguous frames."""
    edges = np.linspace(0, payload_bytes, frames + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def random_frame_erasures(batch: int, num_symbols: int, bits: int, frames: int, loss_prob: float,
                          gen: torch.Generator) -> torch.Tensor:
    """Bool (batch, num_symbols): each of `frames` frames of each payload lost with `loss_prob`."""
    ranges = frame_byte_ranges((num_symbols * bits + 7) // 8, frames)
    per_frame = torch.from_numpy(np.stack([erased_symbols(num_symbols, bits, [r]) for r in ranges]))  # (F, S)
    lost = torch.rand(batch, frames, generator=gen) < loss_prob
    return (lost.float() @ per_frame.float()) > 0
