""""Did you mean" hints for unknown keys and names in error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest of `options` to `word`, or "" when none is close."""
    if not isinstance(word, str):
        return ""
    options = [o for o in options if isinstance(o, str)]
    lower = {o.lower(): o for o in options}
    match = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return f"; did you mean {lower[match[0]]!r}?" if match and lower[match[0]] != word else ""
