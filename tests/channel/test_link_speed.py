"""`ber_at` of constant and Gilbert-Elliott links stays around a microsecond (plain floats)."""

import random
import time

from cosim.channel.processes import ConstantChannel, GilbertElliottChannel, SnrChannel


class Radio:
    modulation, bitrate_bps, noise_bandwidth_hz, noise_figure_db = "gfsk", 1e6, 1e6, 6.0
    tx_power_dbm, frequency_mhz, lora_sf, lora_bw_hz = 0.0, 2440.0, None, None


def _per_call_us(link, n=200_000, dt=1e-3):
    ber_at = link.ber_at
    t0 = time.perf_counter()
    for i in range(n):
        ber_at(i * dt)
    return (time.perf_counter() - t0) / n * 1e6


def test_ber_at_is_cheap_and_returns_plain_floats():
    links = [
        ConstantChannel(ber=1e-4).make_link(random.Random(0)),
        GilbertElliottChannel(mean_good_s=1.0, mean_bad_s=0.1).make_link(random.Random(0)),
        SnrChannel(coherence_time_s=0.1).make_link(random.Random(0), Radio(), 20.0),
    ]
    for link in links:
        assert type(link.ber_at(3.0)) is float
        # generous bound for a loaded shared machine; typical: 0.1-0.3 µs (constant, GE), ~0.5 µs (snr)
        assert _per_call_us(link) < 3.0
