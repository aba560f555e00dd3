"""Non-persistent CSMA against Kleinrock & Tobagi (1975): S = G e^(-aG) / (G (1 + 2a) + e^(-aG)).

An infinite population (one SimPy process per packet) uses the CSMA medium's own access and collision
code: sense, back off a uniform time while busy, wait the CCA-to-TX turnaround `a` (the vulnerable
window, the theory's propagation delay) and send. G counts every sensing (new and rescheduled packets,
per frame time), S the frames that got through, per frame time.
"""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import pytest
import simpy

from cosim.net.arq import run_events
from cosim.net.medium import CsmaChannel


class CountingCsma(CsmaChannel):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.senses = 0

    def busy(self, t_s: float) -> bool:
        self.senses += 1
        return super().busy(t_s)


def throughput(new_per_frame: float, a: float, horizon: float = 30_000.0, seed: int = 2):
    env = simpy.Environment()
    rng = random.Random(seed)
    air = 1.0
    medium = CountingCsma(20.0 * air, 1000)  # back-off uniform in [0, 20 frames): rescheduling spreads
    good = [0]

    def packet():
        sender = SimpleNamespace(dc_next=0.0, err_rng=rng, plan=SimpleNamespace(ifs_s=a * air), server=0)
        if not (yield from run_events(env, medium.access(env, sender))):
            return
        token = medium.begin(env.now, air, sender)
        yield env.timeout(air)
        good[0] += medium.end(token, sender) is not None

    def source():
        while True:
            yield env.timeout(rng.expovariate(new_per_frame / air))
            env.process(packet())

    env.process(source())
    env.run(until=horizon)
    return medium.senses * air / horizon, good[0] * air / horizon


def kleinrock_tobagi(g: float, a: float) -> float:
    return g * math.exp(-a * g) / (g * (1 + 2 * a) + math.exp(-a * g))


@pytest.mark.parametrize("new_per_frame, a", [(0.2, 0.05), (0.4, 0.1)])
def test_non_persistent_csma_throughput_matches_theory(new_per_frame, a):
    g, s = throughput(new_per_frame, a)
    assert g > new_per_frame  # busy channels reschedule: the channel sees more than the new traffic
    assert s == pytest.approx(kleinrock_tobagi(g, a), rel=0.04)
