"""Records in a defined order: the order inferences end in simulated time, whatever the decoder batching.

Lost inferences end at once; delivered ones wait in their codec's batched evaluator until a batch is
decoded, and several evaluators flush at different moments, so the order they reach the recorder would
follow the decoder batch size (`codec_batch`). `InOrder` numbers each inference when it ends in the
simulation and hands them on in that order, so packets.parquet (and every sum over it) is byte-identical
for any batch size.
"""

from __future__ import annotations

from collections.abc import Callable

from cosim.inference import Inference


class InOrder:
    """Passes inferences to `sink` in the order `ended` was called for them."""

    def __init__(self, sink: Callable[[Inference], None]) -> None:
        self.sink = sink
        self._next = 0  # number given to the next inference that ends
        self._emit = 0  # number of the next inference to hand on
        self._number: dict[int, int] = {}  # id(inference) -> its number, until it is handed on
        self._ready: dict[int, Inference] = {}  # finished out of turn, by number

    def ended(self, inf: Inference) -> None:
        """`inf` ended in the simulation (served, its prediction still to come)."""
        self._number[id(inf)] = self._next
        self._next += 1

    def lost(self, inf: Inference) -> None:
        """`inf` ended without a prediction: it is complete now."""
        self.ended(inf)
        self.done(inf)

    def done(self, inf: Inference) -> None:
        """`inf` is complete (prediction known): hand it on, with any that were waiting for it."""
        n = self._number.pop(id(inf))
        if n != self._emit:
            self._ready[n] = inf
            return
        self.sink(inf)
        self._emit += 1
        ready = self._ready
        while ready:
            nxt = ready.pop(self._emit, None)
            if nxt is None:
                break
            self.sink(nxt)
            self._emit += 1

    @property
    def waiting(self) -> int:
        """Inferences ended but not yet handed on (0 once every evaluator has flushed)."""
        return len(self._number) + len(self._ready)
