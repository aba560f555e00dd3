"""Frame error rates of the sparse bit-error draws against 1 - (1 - p)^n."""

import random

import numpy as np
import pytest

from cosim.channel.errors import error_positions, flip_bits
from cosim.net.frames import packet_error_rate


def test_packet_error_rate_formula():
    assert packet_error_rate(0.0, 100) == 0.0
    assert packet_error_rate(1.0, 3) == 1.0
    assert packet_error_rate(0.01, 1) == pytest.approx(0.01)
    assert packet_error_rate(1e-12, 100) == pytest.approx(1e-10, rel=1e-6)  # no cancellation
    arr = packet_error_rate(np.array([0.0, 0.01, 1.0]), 200)
    np.testing.assert_allclose(arr, [0.0, 1 - 0.99**200, 1.0])


@pytest.mark.parametrize("p, nbits", [(0.005, 200), (1e-3, 512), (0.05, 24)])
def test_flip_bits_frame_error_rate(p, nbits):
    rows = 20_000
    packed = np.zeros((rows, (nbits + 7) // 8), dtype=np.uint8)
    out, counts = flip_bits(packed, p, np.random.default_rng(4), nbits=nbits)
    hit = np.any(out != 0, axis=1)
    per = packet_error_rate(p, nbits)
    assert np.array_equal(hit, counts > 0)
    assert hit.mean() == pytest.approx(per, abs=4 * np.sqrt(per * (1 - per) / rows))


@pytest.mark.parametrize("p, nbits", [(0.005, 200), (1e-4, 4000)])
def test_error_positions_frame_error_rate(p, nbits):
    rng = random.Random(5)
    frames = 30_000
    draws = [error_positions(rng, nbits, p) for _ in range(frames)]
    hit = np.mean([bool(d) for d in draws])
    per = packet_error_rate(p, nbits)
    assert hit == pytest.approx(per, abs=4 * np.sqrt(per * (1 - per) / frames))
    assert np.mean([len(d) for d in draws]) == pytest.approx(p * nbits, rel=0.05)
    assert all(0 <= e < nbits for d in draws for e in d)


def test_error_positions_survive_vanishing_ber():
    """A BER that underflows log1p (deep SNR) draws no errors instead of overflowing."""
    rng = random.Random(1)
    assert all(error_positions(rng, 10_000, 1e-300) == [] for _ in range(100))
