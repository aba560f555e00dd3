"""Media by the name a scenario writes in `edge.N.medium.kind` (a local stand-in for `cosim.registry`)."""

from __future__ import annotations

from collections.abc import Callable

MEDIA: dict[str, type] = {}


def register_medium(name: str) -> Callable[[type], type]:
    """Class decorator: make a medium available under `name`."""
    def add(cls: type) -> type:
        if name in MEDIA:
            raise ValueError(f"medium {name!r} is registered twice")
        MEDIA[name] = cls
        cls.kind = name
        return cls
    return add


def medium_class(name: str) -> type:
    """The medium registered as `name`; KeyError naming the known ones otherwise."""
    try:
        return MEDIA[name]
    except KeyError:
        raise KeyError(f"unknown medium {name!r} (known: {', '.join(sorted(MEDIA))})") from None
