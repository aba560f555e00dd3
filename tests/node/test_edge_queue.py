"""The edge queue against queueing theory (Pollaczek-Khinchine) and its batching rules."""

import random

import simpy

from cosim.inference import LOST_QUEUE, Inference
from cosim.node.edge import EdgeQueue


def _feed(env, queue, arrivals):
    def source():
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            inf = Inference(i, 0, 0, 0, env.now)
            inf.t_arrive = env.now
            queue.submit(inf)
    env.process(source())


def test_md1_mean_wait_matches_pollaczek_khinchine():
    rng = random.Random(7)
    lam, service = 80.0, 0.01  # rho = 0.8
    t, arrivals = 0.0, []
    while t < 2000.0:
        t += rng.expovariate(lam)
        arrivals.append(t)
    env = simpy.Environment()
    done = []
    q = EdgeQueue(env, 1, 1, 0.0, 10**9, lambda b: service * len(b), done.append, done.append)
    _feed(env, q, arrivals)
    env.run()
    waits = [inf.t_service - inf.t_arrive for inf in done]
    rho = lam * service
    theory = rho * service / (2 * (1 - rho))  # M/D/1 mean wait in queue
    mean = sum(waits) / len(waits)
    assert abs(mean - theory) / theory < 0.08, (mean, theory)
    assert abs(q.busy_s / env.now - rho) < 0.02


def test_batch_starts_when_full_or_after_max_wait():
    env = simpy.Environment()
    done = []
    q = EdgeQueue(env, 1, 4, 0.05, 100, lambda b: 0.001 * len(b), done.append, done.append)
    _feed(env, q, [0.0, 0.01, 0.02, 0.03, 0.5])
    env.run()
    first = [inf.t_service for inf in done[:4]]
    assert first == [0.03] * 4  # full batch at the 4th arrival
    assert abs(done[4].t_service - 0.55) < 1e-9  # alone: waits max_wait
    assert q.batches == 2


def test_queue_limit_drops():
    env = simpy.Environment()
    done, dropped = [], []
    q = EdgeQueue(env, 1, 1, 0.0, 2, lambda b: 1.0, done.append, dropped.append)
    _feed(env, q, [0.0, 0.0, 0.0, 0.0])
    env.run()
    assert len(done) == 3 and len(dropped) == 1  # one in service, two queued, one dropped
    assert dropped[0].lost == LOST_QUEUE


def test_parallel_workers_share_the_load():
    env = simpy.Environment()
    done = []
    q = EdgeQueue(env, 2, 1, 0.0, 100, lambda b: 1.0, done.append, done.append)
    _feed(env, q, [0.0, 0.0, 0.0])
    env.run()
    assert sorted(inf.t_done for inf in done) == [1.0, 1.0, 2.0]
