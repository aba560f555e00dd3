"""Six hand-made inferences of three devices, two groups and two servers (values worked out in the tests)."""

from __future__ import annotations

import math

from cosim.inference import DELIVERED, LOST_COLLISION, LOST_HEADER, Inference
from cosim.results.records import Recorder
from cosim.results.summary import GroupFacts, ServerFacts

# group a: devices 0, 1 (duty cycle 0.5, 96 payload bits, asleep 1 mW); group b: device 2 (200 bits, 2 mW)
GROUPS = [GroupFacts("a", 2, 1.0, 3000.0, 96, duty_cycle=0.5), GroupFacts("b", 1, 2.0, 3000.0, 200)]
# server s0: dedicated, devices 0, 1; s1: ALOHA, device 2, 2 frames on the air of which 1 collided, busy 0.08 s
SERVERS = [ServerFacts("s0", "dedicated", (0, 1), edge_utilization=0.25),
           ServerFacts("s1", "aloha", (2,), frames=2, collided=1, busy_s=0.08)]
DEADLINE_S = 0.1
DURATION_S = 10.0
# (device, group, label, pred, lost, t_sense, latency or None, airtime)
ROWS = [
    (0, 0, 3, 3, DELIVERED, 1.0, 0.050, 0.01),  # correct, on time
    (0, 0, 4, 4, DELIVERED, 2.0, 0.300, 0.02),  # correct, late
    (1, 0, 5, 6, DELIVERED, 3.0, 0.080, 0.01),  # wrong, on time
    (1, 0, 7, -1, LOST_HEADER, 4.0, None, 0.01),
    (2, 1, 1, 1, DELIVERED, 5.0, 0.020, 0.04),  # correct, on time
    (2, 1, 2, -1, LOST_COLLISION, 6.0, None, 0.04),
]


def records(path) -> None:
    rec = Recorder(path, ["a", "b"], deadline_s=DEADLINE_S, server_names=["s0", "s1"],
                   group_strategies=["semanticnn", "raw"])
    rec.place_many(0, [0, 0, 1], [5.0, 7.0, 3.0], [math.nan, math.nan, 1.0], [math.nan, math.nan, 2.0],
                   [math.nan, math.nan, -100.0], [False, False, True])
    for device, group, label, pred, lost, t, latency, air in ROWS:
        inf = Inference(device, group, 0, label, t)
        inf.lost, inf.pred = lost, pred
        inf.t_arrive = t + (min(air, latency / 4) if latency is not None else air)
        if latency is not None:
            inf.t_service = t + latency / 2
            inf.t_done = t + latency
        inf.airtime_s = air
        inf.tx_attempts = 1
        inf.frames = 1 if lost == DELIVERED else 0
        inf.bits_on_air = 100
        inf.sense_mj, inf.compute_mj, inf.tx_mj = 1.0, 2.0, 100.0 * air
        inf.active_s = 0.1 + air
        inf.snr_db = 12.0
        rec.add(inf)
    rec.close()
