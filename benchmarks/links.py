"""Cost of one `ber_at` call per channel model, µs (plain floats: targets ~0.1-0.5 µs, at most 3 µs).

Run: `PYTHONPATH=$PWD python benchmarks/links.py`.
"""

from __future__ import annotations

import random
import time

from cosim.channel.constant import ConstantChannel
from cosim.channel.gilbert_elliott import GilbertElliottChannel
from cosim.channel.markov_snr import MarkovSnrChannel
from cosim.channel.snr import SnrChannel


class Radio:
    modulation, bitrate_bps, noise_bandwidth_hz, noise_figure_db = "gfsk", 1e6, 1e6, 6.0
    tx_power_dbm, frequency_mhz, lora_sf, lora_bw_hz = 0.0, 2440.0, None, None


def per_call_us(link, n: int = 200_000, dt: float = 1e-3) -> float:
    ber_at = link.ber_at
    t0 = time.perf_counter()
    for i in range(n):
        ber_at(i * dt)
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    links = {
        "constant": ConstantChannel(ber=1e-4).make_link(random.Random(0)),
        "gilbert-elliott": GilbertElliottChannel(mean_good_s=1.0, mean_bad_s=0.1).make_link(random.Random(0)),
        "snr": SnrChannel(coherence_time_s=0.1).make_link(random.Random(0), Radio(), 20.0),
        "markov-snr": MarkovSnrChannel(snr_db=(20.0, 5.0), rates_hz=((0, 1.0), (2.0, 0))).make_link(
            random.Random(0), Radio()),
    }
    for name, link in links.items():
        us = per_call_us(link)
        print(f"{name:16s} {us:6.3f} µs per ber_at  {'ok' if us < 3.0 else 'SLOW (target < 3 µs)'}")


if __name__ == "__main__":
    main()
