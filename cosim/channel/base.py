"""The channel model interface and its registry: a scenario names a channel by `kind`.

A channel model is a pydantic config (`Channel`, one class per file in `cosim/channel/`) registered
with `@CHANNELS.register("<kind>")`; `make_link(rng, radio, distance_m)` builds one device's `Link`. A
link answers `ber_at(t_s)` (and `snr_db_at(t_s)`, None where the model has no SNR) for non-decreasing
`t_s` by advancing lazily: no SimPy events, O(1) amortised, plain floats. The link owns `rng` (a
dedicated named stream): its realisation is drawn in time order, independent of when it is queried, so
strategies that query at different times still see the same channel.
"""

from __future__ import annotations

import random
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from cosim.registry import Registry

CHANNELS: Registry[type[Channel]] = Registry("channel", builtins=(
    "cosim.channel.constant", "cosim.channel.gilbert_elliott", "cosim.channel.snr", "cosim.channel.trace",
    "cosim.channel.markov_snr",
))


class Link(Protocol):
    """One device's channel realisation over time."""

    def ber_at(self, t_s: float) -> float: ...

    def snr_db_at(self, t_s: float) -> float | None: ...


class BerOnlyLink:
    """Base of links whose model has no SNR (`snr_db_at` is None)."""

    __slots__ = ()

    def snr_db_at(self, t_s: float) -> float | None:
        return None


class Channel(BaseModel):
    """Base of channel configs: unknown keys are errors, configs are immutable; `kind` names the model.

    `scope` says whose realisation a link is: `device` (each device its own, independent of every other
    device) or `gateway` (one process per gateway that every attached device sees at the same times,
    e.g. a welding burst over a production line; an `snr` channel then shares shadowing and fading,
    each device keeping its own path loss).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["device", "gateway"] = Field(
        "device", description="device: an independent realisation per device (default); gateway: one "
        "realisation per gateway shared by every device attached to it")

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> Link:
        """One device's link; `rng` is its own named stream, `radio` its RadioProfile."""
        raise NotImplementedError
