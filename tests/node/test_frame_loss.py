"""on_frame_loss on a hand-worked frame set: `drop` loses the inference, `erase` keeps the frames received.

One inference of three frames (10 header bits; payloads of 100, 100 and 50 bits, the last short) on a
dedicated link; the bit errors of each transmission are scripted (a header error loses that frame).
"""

from __future__ import annotations

import math
import random

import pytest
import simpy

import cosim.node.device as device_mod
from cosim.inference import DELIVERED, LOST_HEADER, LOST_PAYLOAD, LOST_RETRIES
from cosim.net.medium import DedicatedLink
from cosim.node.device import Device, LinkPlan

HEADER, ACK = 10, 16
FRAMES = (100, 100, 50)
HIT = [0]  # a header bit in error: the frame is lost
CLEAN: list[int] = []


class _Link:
    def ber_at(self, t_s: float) -> float:
        return 1e-3


def _plan(arq: bool, erase: bool, exact: bool = False) -> LinkPlan:
    return LinkPlan(
        frame_payload_bits=FRAMES, frame_airtime_s=(1e-3, 1e-3, 5e-4), header_bits=HEADER, pilot_bits=0,
        ifs_s=1e-4, duty_cycle=1.0, arq=arq, exact=exact, max_retries=2, ack_window_s=2e-4, ack_rx_s=1e-4,
        ack_bits=ACK, backoff_s=1e-3, tx_mj_per_s=10.0, rx_mj_per_s=5.0, sense_s=0.0, sense_mj=0.0,
        compute_s=0.0, compute_mj=0.0, erase=erase)


def _send(monkeypatch, script: list[list[int]], arq: bool, erase: bool, exact: bool = False):
    """Errors of the frame transmissions in order (ACKs are clean); the one inference's record."""
    script = list(script)

    def scripted(rng, nbits, ber, offset=0):
        if nbits == ACK:
            return []
        return script.pop(0)

    monkeypatch.setattr(device_mod, "error_positions", scripted)
    env = simpy.Environment()
    out = []
    dev = Device(env=env, index=0, group=0, plans=(_plan(arq, erase, exact),), link=_Link(),
                 medium=DedicatedLink(), slot=0, next_arrival=lambda now: 1.0 if now == 0.0 else math.inf,
                 draw_sample=lambda: 0, labels=[3], err_rng=random.Random(0), estimate_ber=lambda b, k: b,
                 deliver=out.append, lose=out.append, stop_s=10.0)
    dev.start()
    env.run()
    assert len(out) == 1 and not script  # every scripted transmission happened
    return out[0]


def test_drop_loses_the_inference_with_its_middle_frame(monkeypatch):
    inf = _send(monkeypatch, [CLEAN, HIT, CLEAN], arq=False, erase=False)
    assert inf.lost == LOST_HEADER and inf.frames == 2
    assert inf.erased_frames == -1 and inf.erased is None  # not applicable


def test_erase_keeps_the_frames_received_and_names_the_lost_bits(monkeypatch):
    inf = _send(monkeypatch, [CLEAN, HIT, CLEAN], arq=False, erase=True)
    assert inf.lost == DELIVERED and inf.frames == 2 and inf.tx_attempts == 3
    assert inf.erased_frames == 1 and inf.erased == [(100, 200)]


def test_erase_the_short_last_frame_and_the_first(monkeypatch):
    inf = _send(monkeypatch, [HIT, CLEAN, HIT], arq=False, erase=True)
    assert inf.lost == DELIVERED and inf.erased_frames == 2 and inf.erased == [(0, 100), (200, 250)]


def test_erase_loses_the_inference_only_if_every_frame_is_lost(monkeypatch):
    inf = _send(monkeypatch, [HIT, HIT, HIT], arq=False, erase=True)
    assert inf.lost == LOST_HEADER and inf.frames == 0 and inf.erased is None


def test_erase_with_arq_goes_on_after_giving_up_on_a_frame(monkeypatch):
    # frame 1 fails its first transmission and both retries (max_retries 2); drop would stop there
    script = [CLEAN, HIT, HIT, HIT, CLEAN]
    inf = _send(monkeypatch, script, arq=True, erase=True)
    assert inf.lost == DELIVERED and inf.tx_attempts == 5 and inf.erased == [(100, 200)]
    dropped = _send(monkeypatch, script[:4], arq=True, erase=False)
    assert dropped.lost == LOST_RETRIES and dropped.tx_attempts == 4  # frame 2 never sent


def test_erase_under_receiver_policy_drop_erases_a_crc_failure(monkeypatch):
    payload_error = [HEADER + 7]  # a payload bit of the frame: its CRC fails
    inf = _send(monkeypatch, [CLEAN, CLEAN, payload_error], arq=False, erase=True, exact=True)
    assert inf.lost == DELIVERED and inf.erased == [(200, 250)] and inf.bit_errors == 0
    dropped = _send(monkeypatch, [CLEAN, CLEAN, payload_error], arq=False, erase=False, exact=True)
    assert dropped.lost == LOST_PAYLOAD


@pytest.mark.parametrize("erase", [False, True])
def test_nothing_lost_is_the_same_under_both(monkeypatch, erase):
    inf = _send(monkeypatch, [CLEAN, [HEADER + 3], CLEAN], arq=False, erase=erase)
    assert inf.lost == DELIVERED and inf.positions == [103]  # payload bit 3 of frame 1
    assert inf.erased is None and inf.erased_frames == (0 if erase else -1)
