"""Edge-queue disciplines: FIFO, earliest deadline first and per-group priority, against hand-worked schedules."""

import pytest
import simpy

from cosim.inference import Inference
from cosim.node.edf import EdfConfig
from cosim.node.edge import EdgeQueue
from cosim.node.priority import PriorityConfig
from cosim.node.scheduling import DISCIPLINES, FifoConfig

GROUPS = ("sensors", "alarms")


def _run(discipline, arrivals, max_batch=1, max_wait_s=0.0, service_s=1.0):
    """Serve (t_arrive, group, name) arrivals (sensed at arrival); return {name: t_service}, service order."""
    env = simpy.Environment()
    done = []
    q = EdgeQueue(env, 1, max_batch, max_wait_s, 100, lambda b: service_s, done.append, done.append, discipline)
    names = {}

    def source():
        for t, group, name in arrivals:
            yield env.timeout(t - env.now)
            inf = Inference(len(names), group, 0, 0, env.now)
            inf.t_arrive = env.now
            names[id(inf)] = name
            q.submit(inf)

    env.process(source())
    env.run()
    return {names[id(i)]: round(i.t_service, 9) for i in done}, [names[id(i)] for i in done]


ARRIVALS = [(0.0, 0, "A"), (0.1, 1, "B"), (0.2, 0, "C"), (0.3, 1, "D"), (0.4, 0, "E")]


def test_fifo_serves_in_arrival_order():
    times, order = _run(FifoConfig().make(GROUPS, 10.0), ARRIVALS)
    assert order == ["A", "B", "C", "D", "E"]
    assert times == {"A": 0.0, "B": 1.0, "C": 2.0, "D": 3.0, "E": 4.0}


def test_edf_against_a_hand_worked_schedule():
    # deadlines: sensors 10 s, alarms 2 s -> A 10.0, B 2.1, C 10.2, D 2.3, E 10.4
    # A starts at 0 alone; at 1: B (2.1) < D (2.3) < C < E; each takes 1 s
    edf = EdfConfig(deadlines_ms={"alarms": 2000.0}).make(GROUPS, 10.0)
    times, order = _run(edf, ARRIVALS)
    assert order == ["A", "B", "D", "C", "E"]
    assert times == {"A": 0.0, "B": 1.0, "D": 2.0, "C": 3.0, "E": 4.0}


def test_edf_batches_in_deadline_order_and_times_out_on_the_oldest_arrival():
    # batch of up to 3, wait 0.5 s: A (deadline 10.0) arrives at 0, B (2.3) at 0.3; at 0.5 A has waited
    # 0.5 s, so both start then (not at 0.8, when B would have waited 0.5 s), B first
    edf = EdfConfig(deadlines_ms={"alarms": 2000.0}).make(GROUPS, 10.0)
    times, order = _run(edf, [(0.0, 0, "A"), (0.3, 1, "B")], max_batch=3, max_wait_s=0.5)
    assert order == ["B", "A"] and times == {"A": 0.5, "B": 0.5}


def test_priority_serves_lower_levels_first_fifo_within_a_level():
    prio = PriorityConfig(priorities={"alarms": 0, "sensors": 1}).make(GROUPS, 10.0)
    assert _run(prio, ARRIVALS)[1] == ["A", "B", "D", "C", "E"]  # A was alone; then alarms B, D; then sensors C, E
    prio = PriorityConfig(priorities={"sensors": 0}, default=5).make(GROUPS, 10.0)
    assert _run(prio, ARRIVALS)[1] == ["A", "C", "E", "B", "D"]


def test_registry_knows_the_disciplines_and_rejects_unknown_groups():
    assert {"fifo", "edf", "priority"} <= set(DISCIPLINES)
    with pytest.raises(ValueError, match="priorities: no device group named 'cams'"):
        PriorityConfig(priorities={"cams": 0}).make(GROUPS, 1.0)
