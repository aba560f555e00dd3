"""Shared-medium collision bookkeeping and TDMA slot arithmetic."""

import math
import random

from cosim.net.medium import SharedChannel, TdmaSchedule


def _collided(frames):
    """Brute force: a frame collides if it overlaps any other."""
    out = []
    for i, (s, a) in enumerate(frames):
        out.append(any(j != i and s < s2 + a2 and s2 < s + a for j, (s2, a2) in enumerate(frames)))
    return out


def _replay(frames):
    """Start frames in time order and read each one's state at its end, as a device does."""
    ch = SharedChannel()
    events = sorted((s + a, i) for i, (s, a) in enumerate(frames))
    periods, got, k = {}, [None] * len(frames), 0
    for end, i in events:
        while k < len(frames) and frames[k][0] < end:
            periods[k] = ch.begin(*frames[k])
            k += 1
        got[i] = periods[i].frames >= 2
    return got


def test_busy_periods_match_pairwise_overlap():
    rng = random.Random(3)
    frames = sorted((rng.uniform(0, 400), rng.uniform(0.1, 2.0)) for _ in range(300))
    got = _replay(frames)
    assert got == _collided(frames)
    assert 0 < sum(got) < len(got)


def test_aloha_success_matches_theory():
    """Pure ALOHA: success probability exp(-2G) at offered load G (Poisson starts, equal airtime)."""
    rng = random.Random(11)
    G, air = 0.3, 1.0
    t, frames = 0.0, []
    while t < 40_000:
        t += rng.expovariate(G / air)
        frames.append((t, air))
    coll = _replay(frames)
    success = 1 - sum(coll) / len(coll)
    assert abs(success - math.exp(-2 * G)) < 0.02


def test_tdma_slot_start():
    tdma = TdmaSchedule(slot_s=0.01, slots=5)
    assert tdma.slot_start(0.0, 0) == 0.0
    assert abs(tdma.slot_start(0.001, 0) - 0.05) < 1e-12
    assert abs(tdma.slot_start(0.001, 2) - 0.02) < 1e-12
    assert abs(tdma.slot_start(0.031, 2) - 0.07) < 1e-12


class _Snr:
    def __init__(self, snr_db):
        self.snr_db = snr_db

    def snr_db_at(self, t_s):
        return self.snr_db


def _two_frames(capture_db, snr_a, snr_b, third=None):
    from types import SimpleNamespace

    ch = SharedChannel(capture_db)
    senders = [SimpleNamespace(link=_Snr(s), server=0) for s in (snr_a, snr_b, third) if s is not None]
    tokens = [ch.begin(0.1 * k, 1.0, s) for k, s in enumerate(senders)]
    return [ch.end(t, s) for t, s in zip(tokens, senders, strict=True)], ch.collisions


def test_aloha_capture_option_stronger_frame_survives():
    assert _two_frames(None, 20.0, 10.0) == ([None, None], 2)  # default: any overlap loses both
    assert _two_frames(6.0, 20.0, 10.0) == ([0, None], 1)  # 10 dB >= 6 dB: the first frame captures
    assert _two_frames(6.0, 10.0, 20.0) == ([None, 0], 1)  # the later, stronger frame captures
    assert _two_frames(6.0, 14.0, 10.0) == ([None, None], 2)  # 4 dB < 6 dB: both lost
    # a frame must beat every frame it overlaps: 20 beats 10 but not 18
    assert _two_frames(6.0, 20.0, 10.0, third=18.0) == ([None, None, None], 3)
