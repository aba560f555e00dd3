"""What a medium is built from besides its scenario config."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MediumContext:
    """The gateway a medium serves and the World-wide state media share (LoRa networks' air)."""

    server: int  # index of the edge server whose gateway this medium is
    server_name: str
    attached: int  # devices attached to this server (TDMA slots)
    shared: dict = field(default_factory=dict)  # one per World: media of one network meet here
