"""Media, one per file behind `Medium` (base.py), registered by the name a scenario writes in
`edge.N.medium.kind`: dedicated, tdma, aloha, csma, lora."""

from __future__ import annotations

from cosim.net.medium import aloha, csma, dedicated, lora, tdma  # noqa: F401  (registration)
from cosim.net.medium.aloha import SharedChannel
from cosim.net.medium.base import ClosedFormMedium, Medium
from cosim.net.medium.context import MediumContext
from cosim.net.medium.csma import CsmaChannel
from cosim.net.medium.dedicated import DedicatedLink
from cosim.net.medium.registry import MEDIA, medium_class, register_medium
from cosim.net.medium.tdma import TdmaSchedule


def build_medium(config, ctx: MediumContext) -> Medium:
    """The medium named by `config.kind`, built from its config and context."""
    return medium_class(config.kind).build(config, ctx)


__all__ = ["MEDIA", "ClosedFormMedium", "CsmaChannel", "DedicatedLink", "Medium", "MediumContext",
           "SharedChannel", "TdmaSchedule", "build_medium", "medium_class", "register_medium"]
