"""An edge server: bounded queue (FIFO or another discipline), parallel workers, batching by size or wait.

Callback-driven (no process per request): an arrival, a batch start and a batch end cost one event
each at most, so queueing stays cheap at fleet scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import simpy

from cosim.inference import LOST_QUEUE, Inference
from cosim.node.scheduling import Discipline, Fifo


class EdgeQueue:
    """Batches inferences for `workers` workers; a batch takes `service_time_s(batch)` seconds.

    `discipline` orders the waiting inferences (default FIFO); a batch starts when `max_batch` wait or
    the longest-waiting one has waited `max_wait_s`.
    """

    def __init__(
        self,
        env: simpy.Environment,
        workers: int,
        max_batch: int,
        max_wait_s: float,
        queue_limit: int,
        service_time_s: Callable[[list[Inference]], float],
        done: Callable[[Inference], None],
        dropped: Callable[[Inference], None],
        discipline: Discipline | None = None,
    ) -> None:
        self.env = env
        self.idle = workers
        self.workers = workers
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.queue_limit = queue_limit
        self.service_time_s = service_time_s
        self.done = done
        self.dropped = dropped
        self.queue: Discipline = Fifo() if discipline is None else discipline
        self.timer_armed = False
        self.in_service: dict[int, list[Inference]] = {}  # batches being served, in start order
        self.busy_s = 0.0
        self.batches = 0
        self.served = 0

    def submit(self, inf: Inference) -> None:
        """An inference's last frame arrived at the gateway."""
        if len(self.queue) >= self.queue_limit:
            inf.lost = LOST_QUEUE
            self.dropped(inf)
            return
        self.queue.put(inf)
        self._dispatch()

    def _dispatch(self) -> None:
        now = self.env.now
        queue = self.queue
        while self.idle and queue:
            if len(queue) < self.max_batch:
                oldest_s = queue.oldest_arrival_s()
                if now < oldest_s + self.max_wait_s:
                    if not self.timer_armed:
                        self.timer_armed = True
                        ev = self.env.timeout(oldest_s + self.max_wait_s - now)
                        ev.callbacks.append(self._on_timer)
                    return
            batch = queue.take(min(len(queue), self.max_batch), now)
            service_s = self.service_time_s(batch)
            self.idle -= 1
            self.busy_s += service_s
            self.batches += 1
            self.in_service[id(batch)] = batch
            ev = self.env.timeout(service_s, value=batch)
            ev.callbacks.append(self._on_batch_done)

    def _on_timer(self, _event: simpy.Event) -> None:
        self.timer_armed = False
        self._dispatch()

    def _on_batch_done(self, event: simpy.Event) -> None:
        now = self.env.now
        self.idle += 1
        batch = event.value
        del self.in_service[id(batch)]
        self.served += len(batch)
        for inf in batch:
            inf.t_done = now
            self.done(inf)
        self._dispatch()

    def unfinished(self) -> Iterator[Inference]:
        """The inferences not yet served when the run stops: those in service (batch by batch, in start
        order), then those waiting (in arrival order)."""
        for batch in self.in_service.values():
            yield from batch
        yield from self.queue.waiting()
