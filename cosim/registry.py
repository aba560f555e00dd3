"""Registration by name: the YAML name of a component resolves to its class through a `Registry`.

A family of components (channels, strategies, media, radios, disciplines, backbones, tasks) owns one
`Registry`. Each component registers itself next to its class::

    CHANNELS = Registry("channel", group="cosim.channels", builtins=("cosim.channel.constant",))

    @CHANNELS.register("constant")
    class ConstantChannel(Channel): ...

`CHANNELS.get("constant")` returns the class. An unknown name raises `UnknownNameError` (a
`CosimError`: one line, the known names and the closest one). Built-in modules listed in `builtins` and
third-party plug-ins are imported lazily, on the first lookup, so importing a registry costs nothing and
the registry never depends on import order. A plug-in package declares, in its `pyproject.toml`::

    [project.entry-points."cosim.strategies"]
    mystrategy = "my_pkg.strategy:MyStrategy"

Loading the entry point imports the module; an object it names that did not register itself through the
decorator is registered under the entry point's name.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Generic, TypeVar

from cosim.errors import CosimError

T = TypeVar("T")

#: Entry-point group of each registry kind (third-party plug-ins register there).
ENTRY_POINT_GROUPS: dict[str, str] = {
    "channel": "cosim.channels",
    "strategy": "cosim.strategies",
    "medium": "cosim.media",
    "radio": "cosim.radios",
    "discipline": "cosim.disciplines",
    "backbone": "cosim.backbones",
    "task": "cosim.tasks",
}


class UnknownNameError(CosimError):
    """A scenario or command names a component that no registry knows."""


class PluginError(CosimError):
    """A third-party plug-in failed to load or clashes with a registered name."""


def did_you_mean(name: str, known: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or '' when none is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class Registry(Generic[T]):
    """Components of one kind by name; built-ins and entry-point plug-ins are loaded on first use."""

    def __init__(self, kind: str, group: str | None = None, builtins: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.group = group if group is not None else ENTRY_POINT_GROUPS.get(kind)
        self._builtins = tuple(builtins)
        self._entries: dict[str, T] = {}
        self._origin: dict[str, str] = {}
        self._loaded = False
        self._loading = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated class (or function) under `name`."""

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T, origin: str | None = None) -> None:
        """Register `obj` under `name`; a second, different object under one name is an error."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} registry: a name must be a non-empty string, got {name!r}")
        where = origin or f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
        old = self._entries.get(name)
        if old is not None and old is not obj:
            same_def = (getattr(old, "__module__", None), getattr(old, "__qualname__", None)) == (
                getattr(obj, "__module__", None), getattr(obj, "__qualname__", None))
            if not same_def:  # a re-imported module re-registers its own class: allowed
                raise PluginError(f"{self.kind} '{name}' registered twice: by {self._origin[name]} "
                                  f"and by {where}")
        self._entries[name] = obj
        self._origin[name] = where

    def _load(self) -> None:
        """Import the built-in modules, then every entry point of this registry's group (once)."""
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for module in self._builtins:
                importlib.import_module(module)
            if self.group:
                for ep in metadata.entry_points(group=self.group):
                    self._load_entry_point(ep)
            self._loaded = True
        finally:
            self._loading = False

    def _load_entry_point(self, ep: metadata.EntryPoint) -> None:
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plug-in must name itself, not crash with a traceback
            raise PluginError(f"{self.group} plug-in '{ep.name}' ({ep.value}) failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
        if ep.name not in self._entries and not _is_module(obj):
            self.add(ep.name, obj, origin=f"entry point {self.group}:{ep.name} = {ep.value}")

    def get(self, name: str, field: str | None = None) -> T:
        """The component registered as `name`; `field` names the scenario field in the error."""
        self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            known = self.names()
            where = f"{field}: " if field else ""
            raise UnknownNameError(f"{where}unknown {self.kind} {name!r} (known: {', '.join(known)})"
                                   f"{did_you_mean(str(name), known)}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load()
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, component) pairs in name order."""
        self._load()
        return [(n, self._entries[n]) for n in sorted(self._entries)]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} registered)"


def _is_module(obj: object) -> bool:
    return type(obj).__name__ == "module"
