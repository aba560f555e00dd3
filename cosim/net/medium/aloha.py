"""Pure ALOHA: a frame starts at once; any overlap of two frames loses both (optionally: the capture
effect, a frame `capture_db` stronger than every frame it overlaps survives, as for 802.15.4 radios).

Busy periods make the collision check O(1): a frame collides exactly when its busy period (the maximal
union of overlapping frames) holds two or more frames, because every frame of a connected union
overlaps at least one other.
"""

from __future__ import annotations

import math

from cosim.net.medium.base import Medium
from cosim.net.medium.lora import capture_losses
from cosim.net.medium.registry import register_medium


class BusyPeriod:
    """A maximal run of overlapping frames on a shared channel."""

    __slots__ = ("counted", "frames")

    def __init__(self) -> None:
        self.frames = 0
        self.counted = 0  # of which started at or after the medium's `count_from_s`


@register_medium("aloha")
class SharedChannel(Medium):
    """The air around one gateway, shared by all its devices, without carrier sense."""

    def __init__(self, capture_db: float | None = None) -> None:
        self.busy_until = -math.inf
        self.period = BusyPeriod()
        self.frames = 0
        self.collisions = 0
        self.capture_db = capture_db  # None: any overlap loses both frames
        self.on_air: list[CaptureFrame] = []
        # airtime statistics of frames starting at or after `count_from_s` (the summary's warm-up cut)
        self.count_from_s = 0.0
        self.counted_frames = 0
        self.counted_collided = 0  # counted frames whose busy period held two or more frames
        self.busy_s = 0.0  # time at least one counted frame was on the air, s

    @classmethod
    def build(cls, config, ctx) -> SharedChannel:
        return cls(config.capture_db)

    def busy(self, t_s: float) -> bool:
        """Carrier sense: is a frame on the air at `t_s`?"""
        return t_s < self.busy_until

    def begin(self, t_s: float, airtime_s: float, sender=None) -> BusyPeriod | CaptureFrame:
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
        if self.capture_db is None:
            return self.period
        return self._capture_begin(t_s, end, sender)

    def _close_period(self) -> None:
        if self.period.frames >= 2:
            self.counted_collided += self.period.counted

    def airtime_stats(self) -> tuple[int, int, float]:
        """(counted frames, of which overlapped another, time the medium carried a counted frame in s)."""
        collided = self.counted_collided + (self.period.counted if self.period.frames >= 2 else 0)
        return self.counted_frames, collided, self.busy_s

    def _capture_begin(self, t_s: float, end_s: float, sender) -> CaptureFrame:
        """With capture: a frame `capture_db` stronger (received SNR) than each frame it overlaps survives."""
        snr = sender.link.snr_db_at(t_s)
        frame = CaptureFrame(end_s, 0.0 if snr is None else snr)
        on_air = [f for f in self.on_air if f.end_s > t_s]
        for other in on_air:
            new_lost, old_lost = capture_losses(frame.snr_db - other.snr_db, self.capture_db)
            frame.lost |= new_lost
            other.lost |= old_lost
        on_air.append(frame)
        self.on_air = on_air
        return frame

    def end(self, token: BusyPeriod | CaptureFrame, sender) -> int | None:
        if token.lost if self.capture_db is not None else token.frames >= 2:
            self.collisions += 1
            return None
        return sender.server


class CaptureFrame:
    """A frame on a shared channel with capture: its end, its SNR at the gateway, and whether it is lost."""

    __slots__ = ("end_s", "lost", "snr_db")

    def __init__(self, end_s: float, snr_db: float) -> None:
        self.end_s = end_s
        self.snr_db = snr_db
        self.lost = False
