"""The shared-medium sender costs one wake-up per inference: an idle sender is woken when the inference may
go on the air (its `t_tx_start`), not at sensing and again after a timeout (issue 16)."""

from __future__ import annotations

import torch
from test_world_theory import scenario

from cosim.config.scenario import validate_scenario
from cosim.engine.world import World

torch.set_num_threads(1)


def test_an_idle_aloha_sender_costs_sense_wake_and_frame_events_only(tmp_path):
    """Sparse sensing, one frame per inference: the sender process resumes twice per inference (its
    wake-up and the frame's end); the old sender also waited on a timeout after its wake-up (3). Transmission still starts at t_tx_start (arrival = start + airtime)."""
    data = scenario(duration_s=20.0)
    data["devices"][0].update(count=20, workload={"kind": "periodic", "period_s": 1.0, "jitter_s": 0.1})
    data["edge"][0].update(medium={"kind": "aloha"}, max_batch=1)
    world = World(validate_scenario(data, "test"), tmp_path)
    starts: list[tuple[float, float]] = []
    for device in world.devices:
        deliver = device.deliver

        def record(inf, deliver=deliver):
            starts.append((inf.t_tx_start, inf.t_arrive - inf.airtime_s))
            deliver(inf)
        device.deliver = record
    resumes = 0  # processed events that resume a sender process
    step = world.env.step

    def counting_step():
        nonlocal resumes
        event = world.env._queue[0][3]
        resumes += any(getattr(cb, "__name__", "") == "_resume" for cb in event.callbacks or ())
        step()
    world.env.step = counting_step  # SimPy's run() and the engine's drain both step through this attribute
    world.run()
    n = world.recorder.count
    assert n >= 380 and len(starts) > 0.9 * n
    # each sender's start, then per inference its wake-up and the frame's end (the old sender: 3 per inference)
    assert resumes == len(world.devices) + 2 * n, resumes / n
    for planned, started in starts:
        assert abs(planned - started) < 1e-9
