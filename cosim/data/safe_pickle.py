"""A restricted unpickler: builtin containers and numpy array reconstruction only, nothing executable.

Any other global a pickle names (os.system, builtins.eval, subprocess..., even harmless-looking ones)
is refused before it is called, so a data file can never run code.
"""

from __future__ import annotations

import builtins
import io
import pickle
import struct
from typing import Any, BinaryIO

import numpy as np

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]

from cosim.errors import DataError


class RefusedPickle(pickle.UnpicklingError):
    """A pickle asked for something outside the allow-list."""


_CONTAINERS = ("dict", "list", "tuple", "set", "frozenset")


def _bytes(*args: Any) -> bytes:
    """`bytes()` / `bytes(list_of_ints)` as protocol-2 pickles use it; never bytes(huge_int)."""
    if args and not isinstance(args[0], (list, tuple, bytes)):
        raise RefusedPickle(f"refused bytes() of {type(args[0]).__name__}")
    return bytes(*args[:1])


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """`_codecs.encode` as Python-3 protocol-2 pickles use it for bytes, limited to latin-1."""
    if encoding.replace("-", "").lower() not in ("latin1", "iso88591") or not isinstance(text, str):
        raise RefusedPickle(f"refused _codecs.encode with encoding {encoding!r}")
    return text.encode("latin-1", errors)


def _reconstruct(cls: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's array-pickle constructor, for plain ndarrays of the empty shape numpy always uses."""
    if cls is not np.ndarray or tuple(shape) != (0,):
        raise RefusedPickle("refused array reconstruction other than ndarray of shape (0,)")
    return _multiarray._reconstruct(cls, shape, dtype)


_ALLOWED: dict[tuple[str, str], Any] = {
    **{(mod, name): getattr(builtins, name) for name in _CONTAINERS for mod in ("builtins", "__builtin__")},
    ("builtins", "bytes"): _bytes,
    ("__builtin__", "bytes"): _bytes,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _reconstruct
    _ALLOWED[(_module, "scalar")] = _multiarray.scalar
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED[(_module, "_frombuffer")] = _numeric._frombuffer


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose globals come from a fixed allow-list (py2 strings decoded as bytes)."""

    def find_class(self, module: str, name: str) -> Any:
        """Return an allowed global or refuse the pickle."""
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RefusedPickle(f"refused global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids (no external objects)."""
        raise RefusedPickle("refused persistent id")


def safe_load(f: BinaryIO, where: str) -> Any:
    """Unpickle `f` with the restricted unpickler; any failure is a DataError naming `where`."""
    try:
        return RestrictedUnpickler(f, encoding="bytes").load()
    except RefusedPickle as exc:
        raise DataError(f"{where}: unsafe pickle: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError, OverflowError, UnicodeDecodeError, struct.error) as exc:
        raise DataError(f"{where}: corrupt pickle ({type(exc).__name__}: {exc})") from None


def safe_loads(data: bytes, where: str) -> Any:
    """`safe_load` on bytes."""
    return safe_load(io.BytesIO(data), where)

