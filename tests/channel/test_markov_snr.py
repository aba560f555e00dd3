"""The Markov-modulated SNR channel against continuous-time Markov chain theory."""

import random
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from cosim.channel.markov_snr import MarkovSnrChannel
from cosim.channel.modulation import ber_function

RADIO = SimpleNamespace(modulation="bpsk", bitrate_bps=1e6, noise_bandwidth_hz=1e6)


def test_two_state_stationary_distribution_is_rate_ratio():
    ch = MarkovSnrChannel(snr_db=(12.0, 2.0), rates_hz=((0, 0.1), (0.4, 0)))
    assert ch.stationary() == pytest.approx((0.8, 0.2))  # pi_0 = q10 / (q01 + q10)


def test_long_run_time_in_each_state_and_ber_match_theory():
    rates = ((0, 1.0, 0.5), (2.0, 0, 1.0), (0.0, 3.0, 0))
    ch = MarkovSnrChannel(snr_db=(15.0, 8.0, 1.0), rates_hz=rates)
    pi = ch.stationary()
    link = ch.make_link(random.Random(3), RADIO)
    dt, horizon = 0.05, 20_000.0
    counts = [0, 0, 0]
    ber_sum = 0.0
    snr_of = {s: i for i, s in enumerate(ch.snr_db)}
    for k in range(int(horizon / dt)):
        t = k * dt
        counts[snr_of[link.snr_db_at(t)]] += 1
        ber_sum += link.ber_at(t)
    frac = [c / sum(counts) for c in counts]
    assert frac == pytest.approx(pi, abs=0.01)
    assert ber_sum / sum(counts) == pytest.approx(ch.stationary_ber(RADIO), rel=0.03)
    assert link.ber_at(horizon) in {ber_function("bpsk")(s) for s in ch.snr_db}


def test_realisation_does_not_depend_on_query_times():
    ch = MarkovSnrChannel(snr_db=(10.0, 0.0), rates_hz=((0, 1.0), (1.0, 0)))
    a, b = ch.make_link(random.Random(9), RADIO), ch.make_link(random.Random(9), RADIO)
    dense = [a.snr_db_at(t / 10) for t in range(1000)]
    sparse = [b.snr_db_at(t / 10) for t in range(0, 1000, 7)]
    assert sparse == dense[::7]


@pytest.mark.parametrize("rates, why", [
    (((0, 1.0), (1.0, 0), (1.0, 1.0)), "2x2"),
    (((1.0, 1.0), (1.0, 0)), "zero diagonal"),
    (((0, 0.0), (1.0, 0)), "never left"),
])
def test_bad_generators_are_rejected(rates, why):
    with pytest.raises(ValidationError, match=why):
        MarkovSnrChannel(snr_db=(1.0, 2.0), rates_hz=rates)


def test_reducible_chain_is_rejected():
    with pytest.raises(ValidationError, match="irreducible"):
        MarkovSnrChannel(snr_db=(1.0, 2.0, 3.0, 4.0),
                         rates_hz=((0, 1, 0, 0), (1, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 0)))
