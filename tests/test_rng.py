"""Named streams: the vectorised seeds are SeedSequence's, and a CompactStream draws what random.Random draws."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cosim.rng import (
    CompactStream,
    python_stream,
    seed_sequence,
    stream_seed,
    stream_seeds,
)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**32 - 1, 2**32, 2**64 + 5, 2**130 + 99])
@pytest.mark.parametrize("names", [("samples", "sensors"), ("channel", "g"), ("x",), ("a", 3, "b"), ()])
def test_stream_seeds_are_the_seed_sequence_states(seed, names):
    want = [int.from_bytes(seed_sequence(seed, *names, i).generate_state(4, dtype=np.uint32).tobytes(), "little")
            for i in range(200)]
    assert stream_seeds(seed, names, 200) == want
    assert stream_seeds(seed, names, 0) == []
    assert stream_seed(seed, *names, 3) == want[3]
    assert python_stream(seed, *names, 3).random() == random.Random(want[3]).random()


def test_compact_stream_draws_exactly_what_random_random_draws():
    """Mixed draws over many refills and the switch to a real generator (getrandbits, randint)."""
    ops = random.Random(0)
    for seed in stream_seeds(3, ("x",), 20):
        c, r = CompactStream(seed), random.Random(seed)
        for _ in range(3000):
            op = ops.random()
            if op < 0.6:
                a, b = c.random(), r.random()
            elif op < 0.7:
                a, b = c.uniform(-1, 2), r.uniform(-1, 2)
            elif op < 0.8:
                a, b = c.expovariate(0.3), r.expovariate(0.3)
            elif op < 0.9:
                a, b = c.gauss(0, 1), r.gauss(0, 1)
            elif op < 0.9005:
                a, b = c.getrandbits(64), r.getrandbits(64)
            elif op < 0.901:
                a, b = c.randint(0, 9), r.randint(0, 9)
            else:
                a, b = c.random(), r.random()
            assert a == b


def test_a_compact_stream_is_a_tenth_of_a_generator():
    import sys

    c = CompactStream(stream_seed(1, "x"))
    size = sys.getsizeof(c) + sys.getsizeof(c._buf) + sys.getsizeof(c._seed)
    assert size < sys.getsizeof(random.Random(1)) / 8
