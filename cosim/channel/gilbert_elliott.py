"""The Gilbert-Elliott channel: a good and a bad BER state with exponential dwell times."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field, model_validator

from cosim.channel.base import CHANNELS, BerOnlyLink, Channel


class GilbertElliottLink(BerOnlyLink):
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


@CHANNELS.register("gilbert-elliott")
class GilbertElliottChannel(Channel):
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
