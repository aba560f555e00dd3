"""Gilbert-Elliott links against the stationary theory of a two-state continuous-time Markov chain."""

import random

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from cosim.channel.processes import GilbertElliottChannel

CFG = GilbertElliottChannel(ber_good=1e-5, ber_bad=0.02, mean_good_s=2.0, mean_bad_s=0.5)


def test_stationary_formula():
    assert CFG.stationary_ber() == pytest.approx((1e-5 * 2.0 + 0.02 * 0.5) / 2.5)
    assert CFG.bad_fraction() == pytest.approx(0.2)


def test_long_run_time_average_matches_stationary_ber():
    link = CFG.make_link(random.Random(7))
    dt = 0.01
    total = sum(link.ber_at(i * dt) for i in range(1_000_000))  # 10 000 s, ~4000 good/bad cycles
    assert total / 1_000_000 == pytest.approx(CFG.stationary_ber(), rel=0.05)


def _dwells(link, n):
    good, bad = [], []
    t = 0.0
    link.ber_at(t)
    for _ in range(n):
        t = link.until_s
        link.ber_at(t)  # switches state exactly at the boundary
        (good if link.good else bad).append(link.until_s - t)
    return np.array(good), np.array(bad)


def test_dwell_times_are_exponential_with_the_right_means():
    good, bad = _dwells(CFG.make_link(random.Random(3)), 40_000)
    assert good.mean() == pytest.approx(2.0, rel=0.03)
    assert bad.mean() == pytest.approx(0.5, rel=0.03)
    assert stats.kstest(good, "expon", args=(0, 2.0)).pvalue > 1e-3
    assert stats.kstest(bad, "expon", args=(0, 0.5)).pvalue > 1e-3


def test_initial_state_is_stationary():
    starts_bad = sum(not CFG.make_link(random.Random(s)).good for s in range(20_000))
    assert starts_bad / 20_000 == pytest.approx(CFG.bad_fraction(), abs=0.012)


def test_realisation_does_not_depend_on_query_times():
    a, b = CFG.make_link(random.Random(11)), CFG.make_link(random.Random(11))
    coarse = np.arange(0, 500, 0.7)
    fine = np.sort(np.concatenate([coarse, np.random.default_rng(0).uniform(0, 500, 5000)]))
    ber_a = {t: a.ber_at(t) for t in coarse}
    ber_b = {t: b.ber_at(t) for t in fine}
    assert all(ber_a[t] == ber_b[t] for t in coarse)


def test_validation():
    with pytest.raises(ValidationError, match="ber_good must not exceed ber_bad"):
        GilbertElliottChannel(ber_good=0.1, ber_bad=0.01)
    with pytest.raises(ValidationError):
        GilbertElliottChannel(mean_good_s=0.0)
    with pytest.raises(ValidationError):
        GilbertElliottChannel(ber_bad=1.5)
