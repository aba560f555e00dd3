"""Receiver policy for corrupted payloads on a hand-worked frame set: `deliver` vs `drop`, with and without ARQ.

One inference of two frames (10 header bits + 100 payload bits each, ACKs of 16 bits) on a dedicated link;
the bit errors each transmission suffers are scripted: frame 0's first attempt has one payload error
(payload bit 5), every other frame and ACK is clean.
"""

from __future__ import annotations

import math
import random

import pytest
import simpy

import cosim.node.device as device_mod
from cosim.inference import DELIVERED, LOST_PAYLOAD
from cosim.net.medium import DedicatedLink
from cosim.node.device import Device, LinkPlan

HEADER, PAYLOAD, ACK = 10, 100, 16


class _Clean:
    def ber_at(self, t_s: float) -> float:
        return 1e-3


def _plan(arq: bool, drop: bool) -> LinkPlan:
    return LinkPlan(
        frame_payload_bits=(PAYLOAD, PAYLOAD), frame_airtime_s=(1e-3, 1e-3), header_bits=HEADER, pilot_bits=0,
        ifs_s=1e-4, duty_cycle=1.0, arq=arq, exact=drop, max_retries=3, ack_window_s=2e-4, ack_rx_s=1e-4,
        ack_bits=ACK, backoff_s=1e-3, tx_mj_per_s=10.0, rx_mj_per_s=5.0, sense_s=0.0, sense_mj=0.0,
        compute_s=0.0, compute_mj=0.0)


def _send(monkeypatch, arq: bool, drop: bool):
    script = [[HEADER + 5]]  # frame transmissions in order; later ones (and every ACK) are clean

    def scripted(rng, nbits, ber, offset=0):
        if nbits == ACK:
            return []
        return script.pop(0) if script else []

    monkeypatch.setattr(device_mod, "error_positions", scripted)
    env = simpy.Environment()
    out = []
    dev = Device(env=env, index=0, group=0, plans=(_plan(arq, drop),), link=_Clean(), medium=DedicatedLink(),
                 slot=0, next_arrival=lambda now: 1.0 if now == 0.0 else math.inf, draw_sample=lambda: 0,
                 labels=[3], err_rng=random.Random(0), estimate_ber=lambda b, k: b,
                 deliver=out.append, lose=out.append, stop_s=10.0)
    dev.start()
    env.run()
    assert len(out) == 1
    return out[0]


@pytest.mark.parametrize("arq", [False, True])
def test_deliver_hands_the_payload_error_to_the_decoder(monkeypatch, arq):
    inf = _send(monkeypatch, arq=arq, drop=False)
    assert inf.lost == DELIVERED
    assert inf.frames == 2 and inf.tx_attempts == 2  # accepted as received, nothing resent
    assert inf.bit_errors == 1 and inf.positions == [5]


def test_drop_without_arq_loses_the_inference_on_the_crc_failure(monkeypatch):
    inf = _send(monkeypatch, arq=False, drop=True)
    assert inf.lost == LOST_PAYLOAD
    assert inf.bit_errors == 0 and inf.positions is None  # nothing corrupted reached the decoder


def test_drop_with_arq_resends_the_failed_frame(monkeypatch):
    inf = _send(monkeypatch, arq=True, drop=True)
    assert inf.lost == DELIVERED
    assert inf.tx_attempts == 3 and inf.frames == 2  # frame 0 twice (not acknowledged once), frame 1 once
    assert inf.bit_errors == 0 and inf.positions is None
    # energy: three frames on air and three ACK windows listened to
    assert inf.tx_mj == pytest.approx(3 * 1e-3 * 10.0)
    assert inf.rx_mj == pytest.approx(3 * 1e-4 * 5.0)
