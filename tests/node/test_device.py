"""One device through the closed-form path, timeline worked by hand: sensing, compute, a frame hit on its
first attempt, ACK timeout, back-off, retransmission, arrival, radio free time and duty-cycle spacing."""

from __future__ import annotations

import math
import random

import pytest
import simpy

from cosim.inference import DELIVERED, LOST_HEADER, LOST_RETRIES
from cosim.net.medium import DedicatedLink, TdmaSchedule
from cosim.node.device import Device, LinkPlan

AIR, ACK_WINDOW, ACK_RX, BACKOFF, IFS = 0.010, 0.002, 0.001, 0.005, 0.001
SENSE, COMPUTE = 0.002, 0.003
TX_MW, RX_MW = 100.0, 20.0


class ScriptedLink:
    """BER 1 (every bit wrong) before `bad_until_s`, 0 after: no random draws for bit errors at all."""

    def __init__(self, bad_until_s: float) -> None:
        self.bad_until_s = bad_until_s

    def ber_at(self, t_s: float) -> float:
        return 1.0 if t_s < self.bad_until_s else 0.0


def plan(arq=True, duty=1.0, retries=3, frames=1) -> LinkPlan:
    return LinkPlan(
        frame_payload_bits=(64,) * frames, frame_airtime_s=(AIR,) * frames, header_bits=16, pilot_bits=0,
        ifs_s=IFS, duty_cycle=duty, arq=arq, exact=False, max_retries=retries, ack_window_s=ACK_WINDOW,
        ack_rx_s=ACK_RX, ack_bits=32, backoff_s=BACKOFF, tx_mj_per_s=TX_MW, rx_mj_per_s=RX_MW,
        sense_s=SENSE, sense_mj=0.1, compute_s=COMPUTE, compute_mj=0.2)


def run(p: LinkPlan, link, sense_times=(1.0,), medium=None, seed=7):
    env = simpy.Environment()
    out = []
    times = list(sense_times)

    def next_arrival(now):
        return times.pop(0) if times else math.inf

    dev = Device(env=env, index=0, group=0, plans=(p,), link=link, medium=medium or DedicatedLink(), slot=0,
                 next_arrival=next_arrival, draw_sample=lambda: 0, labels=[1], err_rng=random.Random(seed),
                 estimate_ber=lambda b, k: b, deliver=out.append, lose=out.append, stop_s=100.0, server=0)
    dev.start()
    env.run()
    return out, dev


def test_retransmission_timeline_by_hand():
    start = 1.0 + SENSE + COMPUTE  # 1.005: first attempt, every bit wrong (the ACK at 1.015 is clean)
    (inf,), dev = run(plan(), ScriptedLink(bad_until_s=1.008))
    backoff = random.Random(7).random() * 2 * BACKOFF  # the only draw of the device's error stream
    second = start + AIR + ACK_WINDOW + backoff
    assert inf.lost == DELIVERED and inf.tx_attempts == 2 and inf.frames == 1
    assert inf.t_tx_start == pytest.approx(start, abs=1e-12)
    assert inf.t_arrive == pytest.approx(second + AIR + ACK_WINDOW, abs=1e-12)
    assert dev.busy_until == pytest.approx(inf.t_arrive + IFS, abs=1e-12)  # the radio is free after the IFS
    assert inf.tx_mj == pytest.approx(2 * AIR * TX_MW)
    assert inf.rx_mj == pytest.approx(2 * ACK_RX * RX_MW)
    assert inf.active_s == pytest.approx(SENSE + COMPUTE + 2 * AIR + 2 * ACK_RX)
    assert inf.ber == pytest.approx(0.5)  # mean channel BER over the two attempts: (1 + 0) / 2


def test_without_arq_the_hit_frame_loses_the_inference_at_its_end():
    (inf,), _ = run(plan(arq=False), ScriptedLink(bad_until_s=10.0))
    assert inf.lost == LOST_HEADER and inf.tx_attempts == 1 and inf.rx_mj == 0.0
    assert inf.t_arrive == pytest.approx(1.0 + SENSE + COMPUTE + AIR, abs=1e-12)


def test_retry_limit():
    (inf,), _ = run(plan(retries=2), ScriptedLink(bad_until_s=10.0))
    assert inf.lost == LOST_RETRIES and inf.tx_attempts == 3  # first attempt + 2 retransmissions


def test_duty_cycle_delays_the_next_inference():
    # 10 % duty cycle: after a 10 ms frame the radio waits 90 ms; the second sample is sensed 10 ms later
    out, _ = run(plan(arq=False, duty=0.1), ScriptedLink(bad_until_s=0.0), sense_times=(1.0, 1.010))
    first, second = out
    end_first = 1.0 + SENSE + COMPUTE + AIR
    assert first.t_arrive == pytest.approx(end_first, abs=1e-12)
    assert second.t_arrive == pytest.approx(end_first + 9 * AIR + AIR, abs=1e-12)


def test_tdma_frame_waits_for_its_slot():
    tdma = TdmaSchedule(slot_s=0.020, slots=4)  # superframe 80 ms, slot 0 at multiples of 80 ms
    (inf,), _ = run(plan(arq=False), ScriptedLink(bad_until_s=0.0), medium=tdma)
    assert inf.t_arrive == pytest.approx(1.04 + AIR, abs=1e-9)  # ready at 1.005, next slot at 13 x 80 ms
