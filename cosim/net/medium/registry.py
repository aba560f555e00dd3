"""Media by the name a scenario writes in `edge.N.medium.kind` (plug-ins: entry points `cosim.media`)."""

from __future__ import annotations

from cosim.registry import Registry

MEDIA: Registry = Registry("medium", builtins=(
    "cosim.net.medium.dedicated", "cosim.net.medium.tdma", "cosim.net.medium.aloha",
    "cosim.net.medium.csma", "cosim.net.medium.lora"))
register_medium = MEDIA.register


def medium_class(name: str) -> type:
    """The medium registered as `name` (UnknownNameError naming the known ones otherwise)."""
    return MEDIA.get(name, "edge.medium.kind")
