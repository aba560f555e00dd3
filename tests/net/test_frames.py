"""Fragmentation into frames: counts, sizes, header bits and airtimes."""

import math
from dataclasses import dataclass

import pytest

from cosim.net.frames import (
    FramePlan,
    fragment,
    frame_loss_rate,
    header_bits_of,
    packet_error_rate,
)


@dataclass(frozen=True)
class FakeRadio:
    """Stands in for RadioProfile: airtime = (preamble + header + payload + CRC) bytes at the bitrate."""

    name: str = "fake"
    bitrate_bps: float = 250e3
    max_payload_bytes: int = 100
    preamble_bytes: int = 5
    header_bytes: int = 11
    crc_bytes: int = 2

    def airtime_s(self, payload_bytes: int) -> float:
        return 8 * (self.preamble_bytes + self.header_bytes + payload_bytes + self.crc_bytes) / self.bitrate_bps


class RadioWithOverhead(FakeRadio):
    @property
    def frame_overhead_bits(self) -> int:
        return 40


RADIO = FakeRadio()


def test_full_frames_then_the_rest():
    plan = fragment(1000, RADIO)
    assert isinstance(plan, FramePlan)
    assert plan.n_frames == 2
    assert plan.payload_bits == (800, 200)
    assert plan.payload_bytes == (100, 25)
    assert plan.header_bits == 8 * (11 + 2)
    assert plan.airtime_s == (RADIO.airtime_s(100), RADIO.airtime_s(25))
    assert plan.total_airtime_s == pytest.approx(RADIO.airtime_s(100) + RADIO.airtime_s(25))
    assert plan.total_payload_bits == 1000


@pytest.mark.parametrize("bits", [1, 7, 8, 799, 800, 801, 1600, 12345])
def test_counts_and_byte_rounding(bits):
    plan = fragment(bits, RADIO)
    assert plan.n_frames == math.ceil(bits / 800)
    assert sum(plan.payload_bits) == bits
    assert all(0 < b <= 800 for b in plan.payload_bits)
    assert plan.payload_bytes == tuple(math.ceil(b / 8) for b in plan.payload_bits)
    assert len(plan.airtime_s) == plan.n_frames


def test_pilot_bits_take_room_in_every_frame():
    plan = fragment(1000, RADIO, pilot_bits=64)
    assert plan.payload_bits == (736, 264)
    assert plan.payload_bytes == (100, 41)
    assert plan.pilot_bits == 64
    with pytest.raises(ValueError, match="no room"):
        fragment(10, RADIO, pilot_bits=800)


def test_empty_payload_and_errors():
    plan = fragment(0, RADIO)
    assert plan.n_frames == 0 and plan.total_airtime_s == 0.0
    with pytest.raises(ValueError):
        fragment(-1, RADIO)


def test_header_bits_prefer_the_profile_property():
    assert header_bits_of(RadioWithOverhead()) == 40
    assert fragment(10, RadioWithOverhead()).header_bits == 40


def test_frame_loss_rate_is_header_per():
    plan = fragment(1000, RADIO)
    assert frame_loss_rate(1e-3, plan) == pytest.approx(packet_error_rate(1e-3, plan.header_bits))
    assert frame_loss_rate(1e-3, plan) == pytest.approx(1 - (1 - 1e-3) ** 104)
