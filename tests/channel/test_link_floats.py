"""Links answer with plain floats (the hot path does no numpy scalars); speed is in benchmarks/links.py."""

import random

from cosim.channel.markov_snr import MarkovSnrChannel
from cosim.channel.processes import ConstantChannel, GilbertElliottChannel, SnrChannel


class Radio:
    modulation, bitrate_bps, noise_bandwidth_hz, noise_figure_db = "gfsk", 1e6, 1e6, 6.0
    tx_power_dbm, frequency_mhz, lora_sf, lora_bw_hz = 0.0, 2440.0, None, None


def test_ber_at_returns_plain_floats():
    links = [
        ConstantChannel(ber=1e-4).make_link(random.Random(0)),
        GilbertElliottChannel(mean_good_s=1.0, mean_bad_s=0.1).make_link(random.Random(0)),
        SnrChannel(coherence_time_s=0.1).make_link(random.Random(0), Radio(), 20.0),
        MarkovSnrChannel(snr_db=(20.0, 5.0), rates_hz=((0, 1.0), (2.0, 0))).make_link(random.Random(0), Radio()),
    ]
    for link in links:
        for t in (0.0, 3.0, 30.0):
            assert type(link.ber_at(t)) is float
