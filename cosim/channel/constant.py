"""The constant channel: the same BER at every time and distance."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from cosim.channel.base import CHANNELS, BerOnlyLink, Channel


class ConstantLink(BerOnlyLink):
    """The same BER at every time."""

    __slots__ = ("ber",)

    def __init__(self, ber: float) -> None:
        self.ber = float(ber)

    def ber_at(self, t_s: float) -> float:
        return self.ber


@CHANNELS.register("constant")
class ConstantChannel(Channel):
    """The same bit error rate at every time and distance."""

    kind: Literal["constant"] = "constant"
    ber: float = Field(ge=0.0, le=0.5, description="bit error rate, probability per bit (required; at most 0.5, a random bit)")

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> ConstantLink:
        return ConstantLink(self.ber)

    def stationary_ber(self) -> float:
        """Long-run time-average BER."""
        return self.ber
