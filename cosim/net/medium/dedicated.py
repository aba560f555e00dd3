"""Every device has the medium to itself: a frame starts as soon as the device is ready."""

from __future__ import annotations

from cosim.net.medium.base import ClosedFormMedium
from cosim.net.medium.registry import register_medium


@register_medium("dedicated")
class DedicatedLink(ClosedFormMedium):
    """No contention, no schedule (a BLE connection or a point-to-point link)."""

    @classmethod
    def build(cls, config, ctx) -> DedicatedLink:
        return cls()
