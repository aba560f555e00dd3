"""Erased symbols: when a frame of a payload is lost, its symbols are erased instead of the whole inference.

An erased symbol enters the decoder as the value 0, which is never a centre of the default symmetric
codebook (2^b evenly spaced centres over [-1, 1] exclude 0) and is the zero baseline of the XAI term:
the decoder can tell it apart from any received symbol, and a codec trained with erasures
(`TrainConfig.erasure_frames`) learns to use it. Which symbols a lost byte range erases follows the
payload's bit order (`quantize.py`): symbol i occupies bits [i*b, (i+1)*b) of the packed payload.
The engine's receiver option `on_frame_loss: erase` marks the symbols of the frames a payload lost on
the air (`cosim.net.frames.payload_bit_ranges`) with `erased_symbols_of_bits`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

ERASED_VALUE = 0.0


def erased_symbols(num_symbols: int, bits: int, lost_bytes: Sequence[tuple[int, int]]) -> np.ndarray:
    """Bool mask (num_symbols,) of the symbols with at least one bit in a lost byte range [start, end)."""
    return erased_symbols_of_bits(num_symbols, bits, [(8 * start, 8 * end) for start, end in lost_bytes])


def erased_symbols_of_bits(num_symbols: int, bits: int, lost_bits: Sequence[tuple[int, int]]) -> np.ndarray:
    """Bool mask (num_symbols,) of the symbols with at least one bit in a lost payload bit range [start, end).

    Symbol i occupies bits [i*bits, (i+1)*bits), so a range erases symbols start // bits through
    (end - 1) // bits: a symbol that straddles a frame boundary is erased if either frame is lost.
    """
    mask = np.zeros(num_symbols, dtype=bool)
    for start, end in lost_bits:
        if end > start:
            mask[start // bits:(end - 1) // bits + 1] = True
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
