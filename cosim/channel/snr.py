"""The SNR channel: log-distance path loss, log-normal shadowing and block fading → the radio's BER curve."""

from __future__ import annotations

import math
import random
from typing import Literal

from pydantic import Field

from cosim.channel.base import CHANNELS, Channel
from cosim.channel.modulation import ber_function, radio_ber_params

_MASK64 = (1 << 64) - 1
_GAMMA64 = 0x9E3779B97F4A7C15
SNR_DB_MAX = 300.0


class SnrLink:
    """BER from a mean SNR (path loss and one shadowing draw) and block fading of `coherence_s`."""

    __slots__ = (
        "ber",
        "block",
        "fading",
        "inv_coherence",
        "k_factor",
        "mean_snr_db",
        "seed",
        "shadow_db",
        "snr_db",
        "to_ber",
    )

    def __init__(self, mean_snr_db: float, shadow_db: float, fading: str, k_factor: float,
                 coherence_s: float, seed: int, to_ber) -> None:
        self.mean_snr_db = float(mean_snr_db)
        self.shadow_db = float(shadow_db)
        self.fading = fading
        self.k_factor = float(k_factor)
        self.inv_coherence = 1.0 / coherence_s
        self.seed = seed
        self.to_ber = to_ber
        self.block = None
        self.snr_db = self.mean_snr_db
        self.ber = to_ber(min(self.mean_snr_db, SNR_DB_MAX))

    def _uniform(self, counter: int) -> float:
        """SplitMix64 output number `counter` of this link, as a float in (0, 1)."""
        z = (self.seed + (counter + 1) * _GAMMA64) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        z ^= z >> 31
        return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0)

    def fading_gain(self, block: int) -> float:
        """Power gain |h|^2 (mean 1) of fading block `block`: a pure function of the link and block."""
        if self.fading == "rayleigh":
            return -math.log(self._uniform(2 * block))
        # rician: LOS amplitude sqrt(K/(K+1)) plus CN(0, 1/(K+1)) scatter (Box-Muller)
        k = self.k_factor
        r = math.sqrt(-math.log(self._uniform(2 * block)) / (k + 1.0))
        phi = 2.0 * math.pi * self._uniform(2 * block + 1)
        x = math.sqrt(k / (k + 1.0)) + r * math.cos(phi)
        y = r * math.sin(phi)
        return x * x + y * y

    def _update(self, t_s: float) -> None:
        block = int(t_s * self.inv_coherence)
        if block != self.block:
            self.block = block
            gain = self.fading_gain(block)
            self.snr_db = self.mean_snr_db + 10.0 * math.log10(max(gain, 1e-300))
            self.ber = self.to_ber(min(self.snr_db, SNR_DB_MAX))

    def ber_at(self, t_s: float) -> float:
        if self.fading != "none":
            self._update(t_s)
        return self.ber

    def snr_db_at(self, t_s: float) -> float | None:
        if self.fading != "none":
            self._update(t_s)
        return self.snr_db


@CHANNELS.register("snr")
class SnrChannel(Channel):
    """SNR from log-distance path loss, log-normal shadowing and block fading → the radio's BER curve.

    SNR_dB = P_tx - PL(d0) - 10·n·log10(max(d, d0)/d0) - X_sigma + 10·log10(|h|^2) - N, with
    N = -174 dBm/Hz + 10·log10(B) + NF (B, NF from the radio), X_sigma ~ N(0, sigma_db²) drawn once per
    link, |h|^2 the fading power gain (mean 1) redrawn every `coherence_time_s` (blocks aligned to t = 0).
    """

    kind: Literal["snr"] = "snr"
    pl_d0_db: float | None = Field(
        None, ge=0.0, le=200.0,
        description="path loss at d0_m, dB (default: free space at d0_m and the radio's frequency)")
    d0_m: float = Field(1.0, gt=0.0, le=1e4, description="reference distance, m (default 1)")
    exponent: float = Field(3.0, ge=1.0, le=8.0, description="path-loss exponent (default 3.0; free space 2)")
    sigma_db: float = Field(4.0, ge=0.0, le=30.0, description="log-normal shadowing std dev, dB (default 4)")
    fading: Literal["none", "rayleigh", "rician"] = Field(
        "rayleigh", description="small-scale block fading: none, rayleigh or rician (default rayleigh)")
    k_factor: float = Field(
        3.0, ge=0.0, le=1e4, description="Rician K, linear LOS/scatter power ratio (default 3; rician only)")
    coherence_time_s: float = Field(
        1.0, gt=0.0, le=1e6, description="fading block length, s: a new fading gain per block (default 1)")
    tx_power_dbm: float | None = Field(
        None, ge=-60.0, le=60.0, description="transmit power, dBm (default: the radio's tx_power_dbm)")

    def path_loss_db(self, radio, distance_m: float) -> float:
        """Mean path loss at `distance_m` (dB, without shadowing); distances below d0_m count as d0_m."""
        pl0 = self.pl_d0_db
        if pl0 is None:
            pl0 = free_space_path_loss_db(self.d0_m, float(radio.frequency_mhz))
        return pl0 + 10.0 * self.exponent * math.log10(max(distance_m, self.d0_m) / self.d0_m)

    def noise_dbm(self, radio) -> float:
        """Receiver noise power: -174 dBm/Hz + 10·log10(noise_bandwidth_hz) + noise_figure_db."""
        return -174.0 + 10.0 * math.log10(float(radio.noise_bandwidth_hz)) + float(radio.noise_figure_db)

    def mean_snr_db(self, radio, distance_m: float, shadow_db: float = 0.0) -> float:
        """SNR (dB) averaged over fading, for a given shadowing draw (extra loss, dB)."""
        p_tx = float(radio.tx_power_dbm) if self.tx_power_dbm is None else self.tx_power_dbm
        return p_tx - self.path_loss_db(radio, distance_m) - shadow_db - self.noise_dbm(radio)

    def make_link(self, rng: random.Random, radio, distance_m: float) -> SnrLink:
        shadow = self.sigma_db * rng.gauss(0.0, 1.0)  # always drawn: the fading seed never depends on sigma
        seed = rng.getrandbits(64)
        to_ber = ber_function(str(radio.modulation), **radio_ber_params(radio))
        return SnrLink(self.mean_snr_db(radio, distance_m, shadow), shadow, self.fading, self.k_factor,
                       self.coherence_time_s, seed, to_ber)


def free_space_path_loss_db(distance_m: float, frequency_mhz: float) -> float:
    """Friis free-space path loss, dB: 20·log10(d / m) + 20·log10(f / MHz) - 27.55."""
    return 20.0 * math.log10(distance_m) + 20.0 * math.log10(frequency_mhz) - 27.55
