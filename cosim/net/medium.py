"""Shared media: who may transmit when, and which frames collide.

`DedicatedLink` and `TdmaSchedule` are closed-form (no events: a frame's start time is computed);
`SharedChannel` tracks busy periods for ALOHA and CSMA so that a collision check is O(1): a frame
collides exactly when its busy period (the maximal union of overlapping frames) holds two or more
frames, because every frame of a connected union overlaps at least one other.
"""

from __future__ import annotations

import math


class BusyPeriod:
    """A maximal run of overlapping frames on a shared channel."""

    __slots__ = ("counted", "frames")

    def __init__(self) -> None:
        self.frames = 0
        self.counted = 0  # of which started at or after the medium's `count_from_s`


class SharedChannel:
    """The air around one gateway, shared by all its devices (ALOHA or CSMA)."""

    closed_form = False

    def __init__(self, kind: str, backoff_max_s: float = 0.01, max_attempts: int = 8) -> None:
        self.kind = kind
        self.backoff_max_s = backoff_max_s
        self.max_attempts = max_attempts
        self.busy_until = -math.inf
        self.period = BusyPeriod()
        self.frames = 0
        self.collisions = 0
        # airtime statistics of frames starting at or after `count_from_s` (the summary's warm-up cut)
        self.count_from_s = 0.0
        self.counted_frames = 0
        self.counted_collided = 0  # counted frames whose busy period held two or more frames
        self.busy_s = 0.0  # time at least one counted frame was on the air, s

    def busy(self, t_s: float) -> bool:
        """Carrier sense: is a frame on the air at `t_s`?"""
        return t_s < self.busy_until

    def begin(self, t_s: float, airtime_s: float) -> BusyPeriod:
        """Register a frame starting now; its collision state is read from the period at its end."""
        if t_s >= self.busy_until:
            self._close_period()
            self.period = BusyPeriod()
        self.period.frames += 1
        self.frames += 1
        end = t_s + airtime_s
        if t_s >= self.count_from_s:
            self.period.counted += 1
            self.counted_frames += 1
            self.busy_s += max(0.0, end - max(t_s, self.busy_until))
        self.busy_until = max(self.busy_until, end)
        return self.period

    def _close_period(self) -> None:
        if self.period.frames >= 2:
            self.counted_collided += self.period.counted

    def airtime_stats(self) -> tuple[int, int, float]:
        """(counted frames, of which collided, time the medium carried a counted frame in s) so far."""
        collided = self.counted_collided + (self.period.counted if self.period.frames >= 2 else 0)
        return self.counted_frames, collided, self.busy_s


class DedicatedLink:
    """Every device has the medium to itself: a frame starts when the device is ready."""

    closed_form = True

    def slot_start(self, t_s: float, device_slot: int) -> float:
        return t_s


class TdmaSchedule:
    """A superframe of one slot per attached device; a frame starts at the device's next slot."""

    closed_form = True

    def __init__(self, slot_s: float, slots: int) -> None:
        self.slot_s = slot_s
        self.superframe_s = slot_s * slots

    def slot_start(self, t_s: float, device_slot: int) -> float:
        """Start of the device's first slot at or after `t_s`."""
        offset = device_slot * self.slot_s
        k = math.ceil((t_s - offset) / self.superframe_s - 1e-12)
        return offset + max(k, 0) * self.superframe_s
