"""Fragmentation of an inference's payload into radio frames, and packet error rates.

Which bits lose a frame: the PHY/MAC/link header and the CRC (`radio.frame_overhead_bits`, i.e.
(header_bytes + crc_bytes)·8). A receiver must read the header intact to accept a frame as its own, and
a hit CRC field is counted the same way (conservative). What happens to payload errors is the group's
receiver policy: `deliver` hands them to the decoder (a checksum over the header only), `drop` treats
them as a CRC failure (the frame is discarded; with ARQ it is sent again). The preamble is
for synchronisation and is not counted (detection failures are not modelled). A frame that is lost for
good costs the whole inference, unless the group's `on_frame_loss` is `erase`: then the decoder takes the
payload bits that frame carried (`payload_bit_ranges`) as erased.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FramePlan:
    """The frames one payload needs on one radio."""

    payload_bits: tuple[int, ...]  # application bits per frame (the last may be short)
    payload_bytes: tuple[int, ...]  # bytes on air per frame: ceil((payload + pilot bits) / 8)
    pilot_bits: int  # known bits per frame for BER estimation (0 = none)
    header_bits: int  # bits per frame whose corruption loses the frame (header + CRC)
    airtime_s: tuple[float, ...]  # airtime of each frame (preamble to CRC), s

    @property
    def n_frames(self) -> int:
        return len(self.payload_bits)

    @property
    def total_airtime_s(self) -> float:
        """Sum of the frames' airtimes, s (no inter-frame spaces or ACKs)."""
        return math.fsum(self.airtime_s)

    @property
    def total_payload_bits(self) -> int:
        return sum(self.payload_bits)


def header_bits_of(radio) -> int:
    """Bits per frame whose corruption loses it: `radio.frame_overhead_bits`, else (header + CRC)·8."""
    bits = getattr(radio, "frame_overhead_bits", None)
    if bits is None:
        bits = 8 * (int(radio.header_bytes) + int(radio.crc_bytes))
    return int(bits)


def fragment(payload_bits: int, radio, pilot_bits: int = 0) -> FramePlan:
    """Split `payload_bits` into frames of at most `radio.max_payload_bytes` (full frames, then the rest).

    Each frame also carries `pilot_bits` known bits, which take room from its payload. Zero payload
    bits give no frames. Airtimes come from `radio.airtime_s(payload_bytes)`.
    """
    payload_bits = int(payload_bits)
    pilot_bits = int(pilot_bits)
    if payload_bits < 0 or pilot_bits < 0:
        raise ValueError(f"payload_bits and pilot_bits must be >= 0, got {payload_bits}, {pilot_bits}")
    capacity = 8 * int(radio.max_payload_bytes) - pilot_bits
    if capacity <= 0:
        raise ValueError(
            f"radio {getattr(radio, 'name', radio)!r}: {pilot_bits} pilot bits leave no room in a "
            f"{radio.max_payload_bytes}-byte frame"
        )
    full, rest = divmod(payload_bits, capacity)
    bits = (capacity,) * full + ((rest,) if rest else ())
    nbytes = tuple((b + pilot_bits + 7) // 8 for b in bits)
    airtime: dict[int, float] = {}
    for n in set(nbytes):
        airtime[n] = float(radio.airtime_s(n))
    return FramePlan(bits, nbytes, pilot_bits, header_bits_of(radio), tuple(airtime[n] for n in nbytes))


def payload_bit_ranges(frame_payload_bits: Sequence[int], frames: Iterable[int]) -> list[tuple[int, int]]:
    """The payload bit ranges [start, end) that frames `frames` (indices, ascending) carry, adjacent ones
    merged: frame k carries bits [sum of the earlier frames' bits, + frame_payload_bits[k])."""
    starts = list(itertools.accumulate(frame_payload_bits, initial=0))
    out: list[tuple[int, int]] = []
    for k in frames:
        start, end = starts[k], starts[k + 1]
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def packet_error_rate(ber: float | np.ndarray, nbits: int | np.ndarray) -> float | np.ndarray:
    """Probability that at least one of `nbits` independent bits is in error: 1 - (1 - ber)^nbits."""
    if np.isscalar(ber) and np.isscalar(nbits):
        if ber >= 1.0:
            return 1.0 if nbits > 0 else 0.0
        return -math.expm1(nbits * math.log1p(-ber))
    b = np.asarray(ber, dtype=np.float64)
    n = np.asarray(nbits, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(n * np.log1p(-b))
    return np.where(b >= 1.0, np.where(n > 0, 1.0, 0.0), out)


def frame_loss_rate(ber: float, plan: FramePlan) -> float:
    """Probability that a frame of `plan` is lost at `ber` because its header or CRC is hit."""
    return packet_error_rate(ber, plan.header_bits)
