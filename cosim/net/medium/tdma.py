"""TDMA: a superframe of one slot per attached device; a frame waits for its device's slot."""

from __future__ import annotations

import math

from cosim.net.medium.base import ClosedFormMedium
from cosim.net.medium.registry import register_medium


@register_medium("tdma")
class TdmaSchedule(ClosedFormMedium):
    """Slot k of every superframe belongs to the k-th attached device."""

    def __init__(self, slot_s: float, slots: int) -> None:
        self.slot_s = slot_s
        self.superframe_s = slot_s * slots

    @classmethod
    def build(cls, config, ctx) -> TdmaSchedule:
        return cls(config.slot_ms / 1000.0, max(ctx.attached, 1))

    def slot_start(self, t_s: float, device_slot: int) -> float:
        """Start of the device's first slot at or after `t_s`."""
        offset = device_slot * self.slot_s
        k = math.ceil((t_s - offset) / self.superframe_s - 1e-12)
        return offset + max(k, 0) * self.superframe_s

    def start_s(self, t_s: float, sender) -> float:
        return self.slot_start(t_s, sender.slot)

    def frame_spacing_s(self, attached: int) -> float:
        """One slot per superframe of `attached` slots."""
        return self.slot_s * max(attached, 1)

    def check_frame(self, airtime_s: float) -> str | None:
        """Why a frame of `airtime_s` cannot use this medium (None if it can)."""
        if airtime_s > self.slot_s:
            return f"slot_ms={self.slot_s * 1000:g} is shorter than a frame"
        return None
