"""The trace channel: recorded CSV `time_s,ber` or `time_s,snr_db`, validated with file:line errors, cached.

Blank lines and lines starting with `#` are skipped; the first other line is the header. Times must
be finite and strictly increasing; BER values lie in [0, 0.5]; SNR values (dB) are finite.
"""

from __future__ import annotations

import bisect
import math
import os
import random
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from cosim.channel.base import CHANNELS, Channel
from cosim.channel.modulation import ber_from_snr_db, radio_ber_params
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


class TraceLink:
    """Piecewise-constant BER (and SNR) read from a trace, optionally looped and phase-shifted."""

    __slots__ = ("bers", "hi_s", "i", "lo_s", "loop", "offset_s", "period_s", "snrs", "times")

    def __init__(self, trace: Trace, bers: tuple[float, ...], loop: bool, offset_s: float) -> None:
        self.times = trace.times_s
        self.bers = bers
        self.snrs = trace.values if trace.column == "snr_db" else None
        self.loop = loop and len(trace.times_s) > 1
        self.period_s = trace.period_s
        self.offset_s = offset_s
        self.i = 0
        self.lo_s = -math.inf  # row i holds on [lo_s, hi_s)
        self.hi_s = self.times[1] if len(self.times) > 1 else math.inf

    def _index(self, t_s: float) -> int:
        t0 = self.times[0]
        if self.loop and t_s + self.offset_s >= t0:
            t_s = t0 + math.fmod(t_s + self.offset_s - t0, self.period_s)
        if self.lo_s <= t_s < self.hi_s:
            return self.i
        times = self.times
        i = bisect.bisect_right(times, t_s) - 1
        if i < 0:
            i = 0
            self.lo_s = -math.inf
        else:
            self.lo_s = times[i]
        self.hi_s = times[i + 1] if i + 1 < len(times) else math.inf
        self.i = i
        return i

    def ber_at(self, t_s: float) -> float:
        return self.bers[self._index(t_s)]

    def snr_db_at(self, t_s: float) -> float | None:
        if self.snrs is None:
            return None
        return self.snrs[self._index(t_s)]


@CHANNELS.register("trace")
class TraceChannel(Channel):
    """A recorded BER or SNR trace (CSV `time_s,ber` or `time_s,snr_db`), piecewise constant.

    Row i holds from its time to the next row's; before the first row the first value holds. Without
    `loop` the last value holds for ever; with `loop` the trace repeats with a period of its span plus
    the last step (t_n - t_0 + t_n - t_{n-1}). SNR traces go through the radio's modulation curve.
    """

    kind: Literal["trace"] = "trace"
    path: str = Field(description="CSV file, header `time_s,ber` or `time_s,snr_db` (relative: to the scenario)")
    loop: bool = Field(False, description="repeat the trace after its end (default false)")
    random_offset: bool = Field(
        False, description="start each link at a uniform random point of the loop (needs loop; default false)")

    @model_validator(mode="after")
    def _offset_needs_loop(self) -> TraceChannel:
        if self.random_offset and not self.loop:
            raise ValueError("random_offset needs loop: true")
        return self

    def load(self) -> Trace:
        """Read and validate the file (cached); ScenarioError naming file, line and column if bad."""
        return load_trace(self.path)

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0) -> TraceLink:
        trace = self.load()
        if trace.column == "ber":
            bers = trace.values
        else:
            if radio is None:
                raise ValueError(f"{self.path}: an snr_db trace needs a radio to turn SNR into BER")
            params = radio_ber_params(radio)
            bers = trace.bers_for(str(radio.modulation), tuple(sorted(params.items())))
        offset = rng.random() * trace.period_s if self.random_offset and math.isfinite(trace.period_s) else 0.0
        return TraceLink(trace, bers, self.loop, offset)

    def stationary_ber(self) -> float:
        """Time-average BER of a BER trace over one loop period (the last row for its last step)."""
        trace = self.load()
        if trace.column != "ber":
            raise ValueError(f"{self.path}: stationary_ber needs a BER trace, this one holds snr_db")
        return trace.time_average()
