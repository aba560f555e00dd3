"""Recorded channel traces: CSV `time_s,ber` or `time_s,snr_db`, validated with file:line errors, cached.

Blank lines and lines starting with `#` are skipped; the first other line is the header. Times must
be finite and strictly increasing; BER values lie in [0, 0.5]; SNR values (dB) are finite.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cosim.channel.modulation import ber_from_snr_db
from cosim.errors import ScenarioError

HEADERS = {("time_s", "ber"): "ber", ("time_s", "snr_db"): "snr_db"}
MAX_TRACE_BYTES = 512 << 20  # 512 MiB: tens of millions of rows


@dataclass(frozen=True)
class Trace:
    """A validated trace: row i's value holds from times_s[i] to times_s[i + 1]."""

    path: str
    column: str  # "ber" or "snr_db"
    times_s: tuple[float, ...]
    values: tuple[float, ...]
    _bers: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def last_step_s(self) -> float:
        """Duration given to the last row in a loop: the previous step (inf for a single row)."""
        t = self.times_s
        return t[-1] - t[-2] if len(t) > 1 else math.inf

    @property
    def period_s(self) -> float:
        """Loop period: span plus the last step, t_n - t_0 + (t_n - t_{n-1}) (inf for a single row)."""
        return self.times_s[-1] - self.times_s[0] + self.last_step_s

    def bers_for(self, modulation: str, params: tuple) -> tuple[float, ...]:
        """BER of every row of an SNR trace for one radio (computed once per modulation and params)."""
        key = (modulation, params)
        if key not in self._bers:
            out = ber_from_snr_db(modulation, list(self.values), **dict(params))
            self._bers[key] = tuple(float(b) for b in out)
        return self._bers[key]

    def time_average(self) -> float:
        """Time-average value over one loop period (each row weighted by how long it holds)."""
        t, v = self.times_s, self.values
        if len(t) == 1:
            return v[0]
        total = sum(v[i] * (t[i + 1] - t[i]) for i in range(len(t) - 1)) + v[-1] * self.last_step_s
        return total / self.period_s


_CACHE: dict[tuple[str, int, int], Trace] = {}


def load_trace(path: str | Path) -> Trace:
    """Read and validate a trace file (cached by path, size and modification time).

    Raises ScenarioError naming the file, the line and the column of the first problem.
    """
    name = str(path)
    try:
        st = os.stat(name)
    except OSError:
        raise ScenarioError(f"{name}: trace file not found") from None
    if not stat.S_ISREG(st.st_mode):  # a directory, device or FIFO: could block or never end
        raise ScenarioError(f"{name}: not a regular file, expected a trace CSV")
    if st.st_size > MAX_TRACE_BYTES:
        raise ScenarioError(f"{name}: {st.st_size} bytes, larger than the {MAX_TRACE_BYTES >> 20} MiB a "
                            f"trace may have")
    key = (os.path.abspath(name), st.st_mtime_ns, st.st_size)
    trace = _CACHE.get(key)
    if trace is None:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{name}: cannot read trace: {exc}") from None
        trace = parse_trace(text, name)
        _CACHE[key] = trace
    return trace


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{where}: column '{column}': {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{where}: column '{column}': {text!r} is not a finite number")
    return value


def parse_trace(text: str, name: str = "<trace>") -> Trace:
    """Validate the text of a trace file; `name` is used in error messages."""
    column = None
    times: list[float] = []
    values: list[float] = []
    prev_line = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        where = f"{name}:{lineno}"
        if column is None:
            column = HEADERS.get(tuple(c.lower() for c in cells))
            if column is None:
                raise ScenarioError(f"{where}: header must be 'time_s,ber' or 'time_s,snr_db', got {line!r}")
            continue
        if len(cells) != 2:
            raise ScenarioError(f"{where}: expected 2 columns (time_s,{column}), got {len(cells)}")
        t = _number(cells[0], where, "time_s")
        v = _number(cells[1], where, column)
        if times and t <= times[-1]:
            raise ScenarioError(
                f"{where}: column 'time_s': {cells[0]} does not increase (line {prev_line} has {times[-1]!r})"
            )
        if column == "ber" and not 0.0 <= v <= 0.5:
            raise ScenarioError(f"{where}: column 'ber': {cells[1]} is outside [0, 0.5]")
        times.append(t)
        values.append(v)
        prev_line = lineno
    if column is None:
        raise ScenarioError(f"{name}:1: empty trace, expected a header 'time_s,ber' or 'time_s,snr_db'")
    if not times:
        raise ScenarioError(f"{name}: trace has a header but no data rows")
    return Trace(name, column, tuple(times), tuple(values))
