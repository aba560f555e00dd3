"""The Markov-modulated SNR channel: the SNR switches among states per a continuous-time Markov chain.

State i holds SNR `snr_db[i]` (dB, as the radio measures it); it is left after an exponential dwell of
rate q_i = sum_j rates_hz[i][j] and the next state is j with probability rates_hz[i][j] / q_i. The BER
in a state is the radio's modulation curve at that SNR. A link starts in the stationary distribution
pi (pi Q = 0, sum pi = 1; the chain must be irreducible), so every time sees the long-run mix.
"""

from __future__ import annotations

import random
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from cosim.channel.base import CHANNELS, Channel
from cosim.channel.modulation import ber_function, radio_ber_params


class MarkovSnrLink:
    """State sequence drawn in time order; BER and SNR piecewise constant per state."""

    __slots__ = ("bers", "jump_cdf", "mean_dwell_s", "rng", "snrs", "state", "until_s")

    def __init__(self, rng: random.Random, snrs: tuple[float, ...], bers: tuple[float, ...],
                 mean_dwell_s: tuple[float, ...], jump_cdf: tuple[tuple[float, ...], ...],
                 start_cdf: tuple[float, ...]) -> None:
        self.rng = rng
        self.snrs, self.bers = snrs, bers
        self.mean_dwell_s, self.jump_cdf = mean_dwell_s, jump_cdf
        self.state = _pick(start_cdf, rng.random())
        self.until_s = rng.expovariate(1.0 / mean_dwell_s[self.state])  # memoryless residual dwell

    def _advance(self, t_s: float) -> int:
        rng, state, until = self.rng, self.state, self.until_s
        while t_s >= until:
            state = _pick(self.jump_cdf[state], rng.random())
            until += rng.expovariate(1.0 / self.mean_dwell_s[state])
        self.state, self.until_s = state, until
        return state

    def ber_at(self, t_s: float) -> float:
        return self.bers[self.state if t_s < self.until_s else self._advance(t_s)]

    def snr_db_at(self, t_s: float) -> float | None:
        return self.snrs[self.state if t_s < self.until_s else self._advance(t_s)]


def _reaches_all(rates: tuple[tuple[float, ...], ...]) -> bool:
    """Every state reachable from state 0 along positive rates."""
    seen, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for j, q in enumerate(rates[i]):
            if q > 0 and j not in seen:
                seen.add(j)
                todo.append(j)
    return len(seen) == len(rates)


def _pick(cdf: tuple[float, ...], u: float) -> int:
    for i, c in enumerate(cdf):
        if u < c:
            return i
    return len(cdf) - 1


@CHANNELS.register("markov-snr")
class MarkovSnrChannel(Channel):
    """SNR states switched by a continuous-time Markov chain; BER from the radio's modulation curve."""

    kind: Literal["markov-snr"] = "markov-snr"
    snr_db: tuple[float, ...] = Field(min_length=2, max_length=32,
                                      description="SNR of each state, dB (2 to 32 states)")
    rates_hz: tuple[tuple[float, ...], ...] = Field(
        description="transition rates, 1/s: row i, column j is the rate from state i to j (diagonal 0)")

    @model_validator(mode="after")
    def _generator(self) -> MarkovSnrChannel:
        n = len(self.snr_db)
        if len(self.rates_hz) != n or any(len(r) != n for r in self.rates_hz):
            raise ValueError(f"rates_hz must be a {n}x{n} matrix (one row and column per state)")
        for i, row in enumerate(self.rates_hz):
            if row[i] != 0 or any(not 0 <= q <= 1e6 for q in row):
                raise ValueError(f"rates_hz[{i}]: rates in [0, 1e6] 1/s with a zero diagonal")
            if sum(row) < 1e-6:
                raise ValueError(f"rates_hz[{i}]: state {i} is never left (its rates sum below 1e-6 1/s)")
        if not (_reaches_all(self.rates_hz) and _reaches_all(tuple(zip(*self.rates_hz)))):
            raise ValueError("rates_hz: the chain must be irreducible (every state reachable from every other)")
        return self

    def generator(self) -> np.ndarray:
        """The generator matrix Q (rows sum to 0)."""
        q = np.asarray(self.rates_hz, dtype=np.float64)
        return q - np.diag(q.sum(axis=1))

    def stationary(self) -> tuple[float, ...]:
        """Stationary distribution pi: pi Q = 0 with sum pi = 1 (unique: the chain is irreducible)."""
        q = self.generator()
        a = np.vstack([q.T, np.ones(len(q))])
        b = np.zeros(len(q) + 1)
        b[-1] = 1.0
        pi, *_ = np.linalg.lstsq(a, b, rcond=None)
        return tuple(float(p) for p in pi)

    def state_bers(self, radio) -> tuple[float, ...]:
        """BER of each state under `radio`'s modulation curve."""
        to_ber = ber_function(str(radio.modulation), **radio_ber_params(radio))
        return tuple(to_ber(s) for s in self.snr_db)

    def stationary_ber(self, radio) -> float:
        """Long-run time-average BER: sum_i pi_i BER(snr_db[i])."""
        return float(np.dot(self.stationary(), self.state_bers(radio)))

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> MarkovSnrLink:
        if radio is None:
            raise ValueError("markov-snr needs a radio to turn SNR into BER")
        rates = self.rates_hz
        out = [sum(r) for r in rates]
        jump_cdf = tuple(tuple(np.cumsum([q / out[i] for q in r]).tolist()) for i, r in enumerate(rates))
        return MarkovSnrLink(rng, tuple(self.snr_db), self.state_bers(radio), tuple(1.0 / q for q in out),
                             jump_cdf, tuple(np.cumsum(self.stationary()).tolist()))
