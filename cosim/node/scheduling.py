"""Edge-queue disciplines: the order in which an edge server serves the inferences waiting for it.

A discipline is a pydantic config registered with `@DISCIPLINES.register("<kind>")` (chosen per edge
server in the scenario, `discipline: {kind: ...}`); `make(groups, deadline_s)` builds the waiting room
the `EdgeQueue` uses. The waiting room follows SimPy's `BaseResource`: the base class keeps the count
and the arrival order (the batching timer waits on the oldest arrival), a subclass overrides two hooks,
`_do_put(inf)` (store) and `_do_get(n)` (remove and return the next `n`, in service order). A priority
queue is a heap in ten lines (`cosim.node.priority`).
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cosim.inference import Inference
from cosim.registry import Registry

DISCIPLINES: Registry[type[DisciplineConfig]] = Registry("discipline", builtins=(
    "cosim.node.scheduling", "cosim.node.edf", "cosim.node.priority",
))


class Discipline:
    """Base waiting room: counts, remembers arrival order, stamps `t_service`; hooks store and pick."""

    def __init__(self) -> None:
        self._n = 0
        self._arrivals: deque[Inference] = deque()

    def __len__(self) -> int:
        return self._n

    def put(self, inf: Inference) -> None:
        """Admit one inference (the edge queue has checked its limit)."""
        self._n += 1
        self._arrivals.append(inf)
        self._do_put(inf)

    def take(self, n: int, now: float) -> list[Inference]:
        """Remove the next `n` inferences in service order, stamped as served at `now`."""
        batch = self._do_get(n)
        self._n -= len(batch)
        for inf in batch:
            inf.t_service = now
        return batch

    def oldest_arrival_s(self) -> float:
        """Arrival time of the longest-waiting inference (the queue is not empty)."""
        arrivals = self._arrivals
        while arrivals[0].t_service >= 0.0:  # served already: drop lazily, O(1) amortised
            arrivals.popleft()
        return arrivals[0].t_arrive

    def waiting(self) -> list[Inference]:
        """The inferences still waiting, in arrival order (the run's drain limit lists them)."""
        return [inf for inf in self._arrivals if inf.t_service < 0.0]

    def _do_put(self, inf: Inference) -> None:
        raise NotImplementedError

    def _do_get(self, n: int) -> list[Inference]:
        raise NotImplementedError


class HeapDiscipline(Discipline):
    """Serves the smallest `key(inf)` first, ties in arrival order."""

    def __init__(self) -> None:
        super().__init__()
        self._heap: list[tuple[float, int, Inference]] = []
        self._seq = 0

    def key(self, inf: Inference) -> float:
        raise NotImplementedError

    def _do_put(self, inf: Inference) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (self.key(inf), self._seq, inf))

    def _do_get(self, n: int) -> list[Inference]:
        heap = self._heap
        return [heapq.heappop(heap)[2] for _ in range(min(n, len(heap)))]


class Fifo(Discipline):
    """First come, first served: one deque (the arrival order is the service order)."""

    def __init__(self) -> None:
        self._queue: deque[Inference] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, inf: Inference) -> None:
        self._queue.append(inf)

    def take(self, n: int, now: float) -> list[Inference]:
        queue = self._queue
        batch = [queue.popleft() for _ in range(n)]
        for inf in batch:
            inf.t_service = now
        return batch

    def oldest_arrival_s(self) -> float:
        return self._queue[0].t_arrive

    def waiting(self) -> list[Inference]:
        return list(self._queue)


class DisciplineConfig(BaseModel):
    """Base of discipline configs: unknown keys are errors, configs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def make(self, groups: tuple[str, ...], deadline_s: float) -> Discipline:
        """The waiting room of one server; `groups` are the scenario's group names (index = inf.group),
        `deadline_s` the scenario's end-to-end deadline."""
        raise NotImplementedError

    def group_values(self, field: str, values: dict[str, float], groups: tuple[str, ...],
                     default: float) -> list[float]:
        """Per group index, its value in `values` (a mapping by group name) or `default`."""
        unknown = sorted(set(values) - set(groups))
        if unknown:  # ValueError: the scenario's validator names the server's field
            raise ValueError(f"{field}: no device group named {unknown[0]!r} (have {', '.join(groups)})")
        return [float(values.get(g, default)) for g in groups]


@DISCIPLINES.register("fifo")
class FifoConfig(DisciplineConfig):
    """First come, first served (the default)."""

    kind: Literal["fifo"] = "fifo"

    def make(self, groups: tuple[str, ...], deadline_s: float) -> Discipline:
        return Fifo()
