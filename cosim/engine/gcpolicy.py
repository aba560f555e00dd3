"""Garbage-collector settings while a World runs.

A built World is hundreds of thousands of long-lived objects (devices, links, closures), and the hot
path allocates a few short-lived objects per inference (the inference, its event) that form no
reference cycles. With CPython's defaults every 700 allocations start a collection, and the rare full
collections walk the whole World: at 10,000 devices a third of the run time went to collections that
freed nothing. While a run lasts, objects alive at its start are frozen out of collections and the
youngest generation is collected every `GEN0_THRESHOLD` allocations; both are restored afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_THRESHOLD = 50_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def quiet_gc(gen0: int = GEN0_THRESHOLD) -> Iterator[None]:
    """Freeze the objects alive now and collect less often; nested or concurrent uses share one setting."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            if _saved[0]:  # a threshold of 0 means collection is off: leave it off
                gc.set_threshold(max(gen0, _saved[0]), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
