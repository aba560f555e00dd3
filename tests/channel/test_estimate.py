"""Pilot-based BER estimation: the Jeffreys estimate (k + 0.5) / (n + 1)."""

import random

import pytest

from cosim.channel.estimate import ber_from_pilot_errors, estimate_ber_pilot


def test_estimate_formula():
    assert ber_from_pilot_errors(0, 64) == pytest.approx(0.5 / 65)
    assert ber_from_pilot_errors(64, 64) == pytest.approx(64.5 / 65)
    with pytest.raises(ValueError):
        ber_from_pilot_errors(3, 2)


def test_estimate_mean_and_consistency():
    rng = random.Random(0)
    p, n = 0.02, 256
    est = [estimate_ber_pilot(rng, p, n) for _ in range(20_000)]
    assert sum(est) / len(est) == pytest.approx((n * p + 0.5) / (n + 1), rel=0.02)
    assert estimate_ber_pilot(random.Random(1), 0.0, 64) == pytest.approx(0.5 / 65)
