"""Pure ALOHA: a frame starts at once; any overlap of two frames loses both.

Busy periods make the collision check O(1): a frame collides exactly when its busy period (the maximal
union of overlapping frames) holds two or more frames, because every frame of a connected union
overlaps at least one other.
"""

from __future__ import annotations

import math

from cosim.net.medium.base import Medium
from cosim.net.medium.registry import register_medium


class BusyPeriod:
    """A maximal run of overlapping frames on a shared channel."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames = 0


@register_medium("aloha")
class SharedChannel(Medium):
    """The air around one gateway, shared by all its devices, without carrier sense."""

    def __init__(self) -> None:
        self.busy_until = -math.inf
        self.period = BusyPeriod()
        self.frames = 0
        self.collisions = 0

    @classmethod
    def build(cls, config, ctx) -> SharedChannel:
        return cls()

    def busy(self, t_s: float) -> bool:
        """Carrier sense: is a frame on the air at `t_s`?"""
        return t_s < self.busy_until

    def begin(self, t_s: float, airtime_s: float, sender=None) -> BusyPeriod:
        """Register a frame starting now; its collision state is read from the period at its end."""
        if t_s >= self.busy_until:
            self.period = BusyPeriod()
        self.period.frames += 1
        self.frames += 1
        end = t_s + airtime_s
        self.busy_until = max(self.busy_until, end)
        return self.period

    def end(self, token: BusyPeriod, sender) -> int | None:
        if token.frames >= 2:
            self.collisions += 1
            return None
        return sender.server
