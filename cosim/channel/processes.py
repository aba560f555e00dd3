"""BER processes over time: the registry of channel configs a scenario can name by `kind`.

Each config is a pydantic model (`ChannelConfig` is their discriminated union on `kind`) whose
`make_link(rng, radio, distance_m)` builds one device's `Link`. A link answers `ber_at(t_s)` for
non-decreasing `t_s` by advancing lazily: no SimPy events, O(1) amortised, plain floats. The link owns
`rng` (pass it a dedicated named stream): its realisation is drawn in time order, independent of when
it is queried, so strategies that query at different times still see the same channel.
"""

from __future__ import annotations

import bisect
import math
import random
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cosim.channel.modulation import ber_function, radio_ber_params
from cosim.channel.trace import Trace, load_trace

_MASK64 = (1 << 64) - 1
_GAMMA64 = 0x9E3779B97F4A7C15
_SNR_DB_MAX = 300.0


class _Config(BaseModel):
    """Base: unknown keys are errors, configs are immutable.

    `scope` says whose realisation a link is: `device` (each device its own, independent of every other
    device) or `gateway` (one process per gateway that every attached device sees at the same times,
    e.g. a welding burst over a production line; an `snr` channel then shares shadowing and fading,
    each device keeping its own path loss).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["device", "gateway"] = Field(
        "device", description="device: an independent realisation per device (default); gateway: one "
        "realisation per gateway shared by every device attached to it")


# -- links ---------------------------------------------------------------------------------------
class ConstantLink:
    """The same BER at every time."""

    __slots__ = ("ber",)

    def __init__(self, ber: float) -> None:
        self.ber = float(ber)

    def ber_at(self, t_s: float) -> float:
        return self.ber

    def snr_db_at(self, t_s: float) -> float | None:
        return None


class GilbertElliottLink:
    """Two-state Markov BER: exponential dwell times, state sequence drawn in time order."""

    __slots__ = (
        "ber",
        "ber_bad",
        "ber_good",
        "good",
        "mean_bad_s",
        "mean_good_s",
        "rng",
        "since_s",
        "until_s",
    )

    def __init__(self, rng: random.Random, ber_good: float, ber_bad: float, mean_good_s: float,
                 mean_bad_s: float) -> None:
        self.rng = rng
        self.ber_good = float(ber_good)
        self.ber_bad = float(ber_bad)
        self.mean_good_s = float(mean_good_s)
        self.mean_bad_s = float(mean_bad_s)
        # stationary start; by memorylessness the residual dwell is a fresh exponential draw
        self.good = rng.random() * (mean_good_s + mean_bad_s) < mean_good_s
        self.ber = self.ber_good if self.good else self.ber_bad
        self.since_s = 0.0
        self.until_s = rng.expovariate(1.0 / (mean_good_s if self.good else mean_bad_s))

    def ber_at(self, t_s: float) -> float:
        if t_s < self.until_s:
            return self.ber
        return self._advance(t_s)

    def _advance(self, t_s: float) -> float:
        rng = self.rng
        good, until = self.good, self.until_s
        while t_s >= until:
            good = not good
            self.since_s = until
            until += rng.expovariate(1.0 / (self.mean_good_s if good else self.mean_bad_s))
        self.good, self.until_s = good, until
        self.ber = self.ber_good if good else self.ber_bad
        return self.ber

    def snr_db_at(self, t_s: float) -> float | None:
        return None


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
        self.ber = to_ber(min(self.mean_snr_db, _SNR_DB_MAX))

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
            self.ber = self.to_ber(min(self.snr_db, _SNR_DB_MAX))

    def ber_at(self, t_s: float) -> float:
        if self.fading != "none":
            self._update(t_s)
        return self.ber

    def snr_db_at(self, t_s: float) -> float | None:
        if self.fading != "none":
            self._update(t_s)
        return self.snr_db


class TraceLink:
    """Piecewise-constant BER (and SNR) read from a trace, optionally looped and phase-shifted."""

    __slots__ = ("bers", "hi_s", "i", "lo_s", "loop", "offset_s", "period_s", "snrs", "times")

    def __init__(self, trace: Trace, bers: tuple[float, ...], loop: bool, offset_s: float) -> None:
        self.times = trace.times_s
        self.bers = bers
        self.snrs = trace.values if trace.column == "snr_db" else None
        self.loop = loop and len(trace.times_s) > 1
        self.period_s = trace.period_s
        self.offset_s = offset_s
        self.i = 0
        self.lo_s = -math.inf  # row i holds on [lo_s, hi_s)
        self.hi_s = self.times[1] if len(self.times) > 1 else math.inf

    def _index(self, t_s: float) -> int:
        t0 = self.times[0]
        if self.loop and t_s + self.offset_s >= t0:
            t_s = t0 + math.fmod(t_s + self.offset_s - t0, self.period_s)
        if self.lo_s <= t_s < self.hi_s:
            return self.i
        times = self.times
        i = bisect.bisect_right(times, t_s) - 1
        if i < 0:
            i = 0
            self.lo_s = -math.inf
        else:
            self.lo_s = times[i]
        self.hi_s = times[i + 1] if i + 1 < len(times) else math.inf
        self.i = i
        return i

    def ber_at(self, t_s: float) -> float:
        return self.bers[self._index(t_s)]

    def snr_db_at(self, t_s: float) -> float | None:
        if self.snrs is None:
            return None
        return self.snrs[self._index(t_s)]


# -- configs -------------------------------------------------------------------------------------
class ConstantChannel(_Config):
    """The same bit error rate at every time and distance."""

    kind: Literal["constant"] = "constant"
    ber: float = Field(ge=0.0, le=0.5, description="bit error rate, probability per bit (required; at most 0.5, a random bit)")

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> ConstantLink:
        return ConstantLink(self.ber)

    def stationary_ber(self) -> float:
        """Long-run time-average BER."""
        return self.ber


class GilbertElliottChannel(_Config):
    """Bursty errors: a good and a bad state with exponential dwell times (continuous-time Markov)."""

    kind: Literal["gilbert-elliott"] = "gilbert-elliott"
    ber_good: float = Field(1e-5, ge=0.0, le=0.5, description="BER in the good state (default 1e-5)")
    ber_bad: float = Field(1e-2, ge=0.0, le=0.5, description="BER in the bad state (default 1e-2)")
    # at least 1 µs: every state change is simulated (the realisation must not depend on query times),
    # and shorter dwells would be lost below float resolution (a run would never end)
    mean_good_s: float = Field(10.0, ge=1e-6, le=1e9,
                               description="mean dwell time in the good state, s, at least 1e-6 (default 10)")
    mean_bad_s: float = Field(1.0, ge=1e-6, le=1e9,
                              description="mean dwell time in the bad state, s, at least 1e-6 (default 1)")

    @model_validator(mode="after")
    def _good_is_better(self) -> GilbertElliottChannel:
        if self.ber_good > self.ber_bad:
            raise ValueError("ber_good must not exceed ber_bad")
        return self

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> GilbertElliottLink:
        return GilbertElliottLink(rng, self.ber_good, self.ber_bad, self.mean_good_s, self.mean_bad_s)

    def stationary_ber(self) -> float:
        """Long-run time-average BER: (ber_good·mean_good_s + ber_bad·mean_bad_s) / (sum of means)."""
        mg, mb = self.mean_good_s, self.mean_bad_s
        return (self.ber_good * mg + self.ber_bad * mb) / (mg + mb)

    def bad_fraction(self) -> float:
        """Long-run fraction of time in the bad state."""
        return self.mean_bad_s / (self.mean_good_s + self.mean_bad_s)


class SnrChannel(_Config):
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


class TraceChannel(_Config):
    """A recorded BER or SNR trace (CSV `time_s,ber` or `time_s,snr_db`), piecewise constant.

    Row i holds from its time to the next row's; before the first row the first value holds. Without
    `loop` the last value holds for ever; with `loop` the trace repeats with a period of its span plus
    the last step (t_n - t_0 + t_n - t_{n-1}). SNR traces go through the radio's modulation curve.
    """

    kind: Literal["trace"] = "trace"
    path: str = Field(description="CSV file, header `time_s,ber` or `time_s,snr_db` (relative: to the scenario)")
    loop: bool = Field(False, description="repeat the trace after its end (default false)")
    random_offset: bool = Field(
        False, description="start each link at a uniform random point of the loop (needs loop; default false)")

    @model_validator(mode="after")
    def _offset_needs_loop(self) -> TraceChannel:
        if self.random_offset and not self.loop:
            raise ValueError("random_offset needs loop: true")
        return self

    def load(self) -> Trace:
        """Read and validate the file (cached); ScenarioError naming file, line and column if bad."""
        return load_trace(self.path)

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> TraceLink:
        trace = self.load()
        if trace.column == "ber":
            bers = trace.values
        else:
            if radio is None:
                raise ValueError(f"{self.path}: an snr_db trace needs a radio to turn SNR into BER")
            params = radio_ber_params(radio)
            bers = trace.bers_for(str(radio.modulation), tuple(sorted(params.items())))
        offset = rng.random() * trace.period_s if self.random_offset and math.isfinite(trace.period_s) else 0.0
        return TraceLink(trace, bers, self.loop, offset)

    def stationary_ber(self) -> float:
        """Time-average BER of a BER trace over one loop period (the last row for its last step)."""
        trace = self.load()
        if trace.column != "ber":
            raise ValueError(f"{self.path}: stationary_ber needs a BER trace, this one holds snr_db")
        return trace.time_average()


def free_space_path_loss_db(distance_m: float, frequency_mhz: float) -> float:
    """Friis free-space path loss, dB: 20·log10(d / m) + 20·log10(f / MHz) - 27.55."""
    return 20.0 * math.log10(distance_m) + 20.0 * math.log10(frequency_mhz) - 27.55


CHANNELS: dict[str, type[_Config]] = {
    "constant": ConstantChannel,
    "gilbert-elliott": GilbertElliottChannel,
    "snr": SnrChannel,
    "trace": TraceChannel,
}

ChannelConfig = Annotated[
    ConstantChannel | GilbertElliottChannel | SnrChannel | TraceChannel, Field(discriminator="kind")
]

Link = ConstantLink | GilbertElliottLink | SnrLink | TraceLink
