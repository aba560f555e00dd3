"""Safe YAML loading that remembers the line of every key, rejects duplicate keys, and applies `--set`.

Errors found later (by the pydantic schema) are reported as `file:line: field: message` using the
line map built here.
"""

from __future__ import annotations

import copy
import stat
from pathlib import Path
from typing import Any

import yaml

from cosim.errors import ScenarioError

Loc = tuple[Any, ...]


MAX_BYTES = 16 * 1024 * 1024
"""Largest YAML file read (a scenario or profile is a few kB; anything this big is not one)."""
MAX_NODES = 200_000
"""Most YAML nodes once aliases are expanded (guards against "billion laughs" alias bombs)."""
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A structural problem found while walking the composed YAML: message and 1-based line."""

    def __init__(self, message: str, mark) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None


def _walk(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, out: dict[Loc, int],
          active: set[int], budget: list[int]) -> None:
    """Record the 1-based line of every key path below `node`; refuse duplicate keys, non-scalar keys,
    recursive aliases and alias bombs (before anything is constructed or merged)."""
    if id(node) in active:
        raise _Refused("an alias refers to an enclosing anchor (recursive structure)", node.start_mark)
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused(f"more than {MAX_NODES} values once aliases are expanded", node.start_mark)
    out.setdefault(loc, node.start_mark.line + 1)
    if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        return
    active.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(loader, item, loc + (i,), out, active, budget)
    else:
        seen: dict[Any, int] = {}
        merges = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused("a mapping key must be a plain value, not a list or mapping", key_node.start_mark)
            key = loader.construct_object(key_node, deep=True)
            if key in seen:
                raise _Refused(f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark)
            seen[key] = line
            out[loc + (key,)] = line
            _walk(loader, value_node, loc + (key,), out, active, budget)
            out[loc + (key,)] = line
        for merged in merges:  # `<<: *anchor` (or a list of them): keys written here win
            sources = merged.value if isinstance(merged, yaml.SequenceNode) else [merged]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    raise _Refused("a merge key `<<` needs a mapping or a list of mappings", src.start_mark)
                inner: dict[Loc, int] = {}
                _walk(loader, src, loc, inner, active, budget)
                for k, v in inner.items():
                    out.setdefault(k, v)
    active.discard(id(node))


def _parse(text: str) -> tuple[Any, dict[Loc, int]]:
    """Compose `text` once, check its structure (`_walk`), then construct it safely (no objects)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        if node is None:
            return None, lines
        _walk(loader, node, (), lines, set(), [MAX_NODES])
        return unshared(loader.construct_document(node)), lines
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> tuple[Any, dict[Loc, int]]:
    """Parse a YAML file safely; return the data and a map from key path to line number."""
    path = Path(path)
    if "\x00" in str(path):
        raise ScenarioError(f"{str(path)!r}: the path contains a NUL byte")
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):  # a device or FIFO could block or never end
            raise ScenarioError(f"{path}: not a regular file, expected a YAML file")
        if st.st_size > MAX_BYTES:
            raise ScenarioError(f"{path}: {st.st_size} bytes, too large for a YAML file "
                                f"(limit {MAX_BYTES // (1024 * 1024)} MiB)")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    if "\x00" in text:
        raise ScenarioError(f"{path}: binary data, expected a YAML file")
    try:
        return _parse(text)
    except _Refused as exc:
        raise ScenarioError(f"{path}{f':{exc.line}' if exc.line else ''}: invalid YAML: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioError(f"{path}{line}: invalid YAML: {_problem(exc)}") from None
    except yaml.reader.ReaderError as exc:  # a control character: position, not line, in the exception
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ScenarioError(f"{path}:{line}: invalid YAML: control character U+{code:04X} is not allowed") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError(f"{path}: invalid YAML: {first}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: invalid YAML: nested too deeply") from None
    except (ValueError, TypeError, ArithmeticError, AttributeError) as exc:
        # SafeConstructor raises plain Python errors for some explicitly tagged values, e.g. `!!float x`
        raise ScenarioError(f"{path}: invalid YAML: a value cannot be read as its tag says "
                            f"({type(exc).__name__}: {str(exc)[:80]})") from None


def _problem(exc: yaml.MarkedYAMLError) -> str:
    """The problem of a YAML error in words; a tag that would build a Python object is named as such."""
    text = exc.problem or exc.context or "syntax error"
    if exc.problem and exc.context:
        text = f"{exc.problem} ({exc.context})"
    if "could not determine a constructor for the tag" in text:
        tag = text.rsplit(" ", 1)[-1]
        return f"tag {tag} is not allowed (only plain data is read; no objects are constructed)"
    return text


def unshared(data: Any) -> Any:
    """`data` with every mapping and list a fresh object: YAML aliases (`&anchor` ... `*anchor`) become
    independent copies, so an override of one path never changes another that shared its anchor."""
    if isinstance(data, dict):
        return {k: unshared(v) for k, v in data.items()}
    if isinstance(data, list):
        return [unshared(v) for v in data]
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `a.b.0.c=VALUE` into its path and its YAML-parsed value."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected PATH=VALUE, e.g. devices.0.count=500")
    path, value = text.split("=", 1)
    parts = [p for p in path.strip().split(".")]
    if not path.strip() or any(not p for p in parts):
        raise ScenarioError(f"--set {text!r}: empty field name in {path!r}")
    try:
        parsed, _ = _parse(value)
    except (_Refused, yaml.YAMLError, RecursionError, ValueError, TypeError, ArithmeticError, AttributeError):
        raise ScenarioError(f"--set {text!r}: value {value!r} is not valid YAML") from None
    return parts, parsed


def apply_override(data: dict, parts: list[str], value: Any, source: str) -> None:
    """Set the dotted path in nested dicts/lists (list items by index), creating mapping keys.

    Alias-safe: every mapping or list on the path is replaced by a copy before it is changed, so a
    container shared with another path (a YAML alias, a caller's object) is never written through.
    """
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                known = f" (the list has {len(node)} items)" if node else " (the list is empty)"
                raise ScenarioError(f"{source}: --set {'.'.join(parts)}: no list item {where!r}{known}")
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
        else:
            raise ScenarioError(f"{source}: --set {'.'.join(parts)}: {where!r} is not a mapping or list")
        if last:
            node[key] = unshared(value)
            return
        child = node.get(key) if isinstance(node, dict) else node[key]
        child = {} if child is None else copy.copy(child) if isinstance(child, (dict, list)) else child
        node[key] = child
        node = child


def line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    """Line of the deepest known prefix of `loc`."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None
