"""Per-inference records in columnar buffers streamed to Parquet, the run summary, atomic output files.

Memory grows with the number of devices, not with the length of the run: records are flushed to
Parquet every `chunk_rows` rows, and the summary reads back only the needed columns, in batches, keeping
running sums and the latencies of delivered inferences (8 bytes each, for exact percentiles).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cosim.inference import DELIVERED, LOST_REASONS, Inference
from cosim.io import atomic_write_text  # noqa: F401 - re-exported (one atomic-write helper: cosim.io)

COLUMNS = {
    "device": pa.int32(), "group": pa.int16(), "sample": pa.int32(), "label": pa.int16(),
    "pred": pa.int16(), "lost": pa.int8(), "t_sense_s": pa.float64(), "t_arrive_s": pa.float64(),
    "t_service_s": pa.float64(), "t_done_s": pa.float64(), "ber": pa.float64(), "ber_est": pa.float64(),
    "bit_errors": pa.int32(), "frames": pa.int16(), "tx_attempts": pa.int16(), "bits_on_air": pa.int32(),
    "sense_mj": pa.float64(), "compute_mj": pa.float64(), "tx_mj": pa.float64(), "rx_mj": pa.float64(),
    "wake_mj": pa.float64(), "rx_window_mj": pa.float64(), "cca_mj": pa.float64(), "setup_mj": pa.float64(),
    "tail_mj": pa.float64(), "active_s": pa.float64(), "codec_variant": pa.int8(),
}
PHASE_COLUMNS = tuple(name for name in COLUMNS if name.endswith("_mj"))  # every per-inference energy phase
_ATTRS = tuple(name.removesuffix("_s") if name.startswith("t_") else name for name in COLUMNS)
_ROW = operator.attrgetter(*_ATTRS)  # Inference -> tuple of the COLUMNS values
_ROW_DTYPE = np.dtype([(name, typ.to_pandas_dtype()) for name, typ in COLUMNS.items()])
# Derived at flush from the columns above: edge queue wait (s, -1 when not served) and whether the
# inference counts as right in `accuracy` (delivered, on time and the prediction equals the label).
DERIVED = {"queue_wait_s": pa.float64(), "correct": pa.bool_()}
# The `compare:` variant a record belongs to (its name; null in a run without variants).
VARIANT = pa.dictionary(pa.int8(), pa.string())


class Recorder:
    """Collects finished inferences column by column and streams them to a Parquet file."""

    def __init__(self, path: Path, group_names: list[str], chunk_rows: int = 65_536,
                 deadline_s: float = math.inf, variant: str | None = None) -> None:
        self.path = Path(path)
        self.variant = variant
        self.deadline_s = deadline_s
        self.group_names = group_names
        self.chunk_rows = chunk_rows
        self.rows: list[tuple] = []  # one tuple of COLUMNS values per inference
        self.count = 0
        schema = pa.schema(list(COLUMNS.items()) + list(DERIVED.items()) + [("variant", VARIANT)])
        self.writer = pq.ParquetWriter(self.path, schema, compression="zstd")
        self.schema = schema

    def add(self, inf: Inference) -> None:
        """Record a finished inference (its values are copied now: one C call, no per-column loop)."""
        self.rows.append(_ROW(inf))
        if len(self.rows) >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        table = np.fromiter(rows, dtype=_ROW_DTYPE, count=len(rows))  # rows -> columns in C
        arrays = [pa.array(np.ascontiguousarray(table[name]), type=typ) for name, typ in COLUMNS.items()]
        arrays.extend(self._derived(dict(zip(COLUMNS, arrays, strict=True))))
        arrays.append(pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(len(rows), dtype=np.int8), mask=np.full(len(rows), self.variant is None)),
            pa.array([self.variant or ""], type=pa.string())))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.count += len(rows)

    def _derived(self, cols: dict[str, pa.Array]) -> list[pa.Array]:
        """The DERIVED columns of one chunk."""
        c = {k: cols[k].to_numpy(zero_copy_only=False) for k in
             ("t_arrive_s", "t_service_s", "t_sense_s", "t_done_s", "lost", "pred", "label")}
        served = c["t_service_s"] >= 0
        wait = np.where(served, c["t_service_s"] - c["t_arrive_s"], -1.0)
        on_time = (c["t_done_s"] >= 0) & (c["t_done_s"] - c["t_sense_s"] <= self.deadline_s)
        correct = (c["lost"] == DELIVERED) & on_time & (c["pred"] == c["label"])
        return [pa.array(wait, type=pa.float64()), pa.array(correct, type=pa.bool_())]

    def close(self) -> None:
        self.flush()
        self.writer.close()


@dataclass(frozen=True)
class GroupFacts:
    """Per-group constants the summary needs besides the records."""

    name: str
    devices: int
    sleep_mw: float  # board + radio asleep, mW
    battery_mwh: float  # usable battery energy per device, mWh
    payload_bits: int
    background_mw: tuple[tuple[str, float], ...] = ()  # protocol costs while asleep, by phase, mW
    battery: object | None = None  # a BatteryProfile (self-discharge, shelf life), or None: ideal cell

    def life_days(self, avg_power_mw: float) -> float | None:
        """Battery life at `avg_power_mw`, days: the profile's (self-discharge, shelf life) or ideal."""
        if self.battery is not None:
            return self.battery.life_days(avg_power_mw)
        return self.battery_mwh / avg_power_mw / 24.0 if avg_power_mw > 0 else None


SUMMARY_COLUMNS = ("group", "lost", "pred", "label", "t_sense_s", "t_done_s", "ber", "bits_on_air",
                   "tx_attempts", *PHASE_COLUMNS, "active_s")
_SUMMED = (*PHASE_COLUMNS, "active_s", "bits_on_air", "tx_attempts")
SUMMARY_BATCH_ROWS = 1 << 18  # rows read back at a time


class _Tally:
    """Counts and sums of one set of records (all, or one group), accumulated batch by batch.

    Only the latencies of delivered inferences are kept (8 bytes each, for exact percentiles); every
    other metric is a running count or sum, so the summary never holds the whole table.
    """

    def __init__(self) -> None:
        self.n = self.n_del = self.correct = self.correct_on_time = self.on_time = 0
        self.lost = dict.fromkeys(LOST_REASONS, 0)
        self.sums = dict.fromkeys(_SUMMED, 0.0)
        self.ber_sum = 0.0  # sum of delivered records' BER
        self.attempt_ber_sum = 0.0  # sum over records of BER x frame attempts
        self.latency_s: list[np.ndarray] = []

    def add(self, cols: dict[str, np.ndarray], latency: np.ndarray, delivered: np.ndarray,
            correct: np.ndarray, on_time: np.ndarray) -> None:
        self.n += len(latency)
        self.n_del += int(delivered.sum())
        self.correct += int(correct.sum())
        self.correct_on_time += int((correct & on_time).sum())
        self.on_time += int(on_time.sum())
        for k, count in zip(*np.unique(cols["lost"], return_counts=True)):
            self.lost[int(k)] = self.lost.get(int(k), 0) + int(count)
        for c in _SUMMED:
            self.sums[c] += cols[c].sum()
        self.ber_sum += cols["ber"][delivered].sum()
        # summed sorted: the result does not depend on the order the records were written in
        self.attempt_ber_sum += float(np.sort(cols["ber"] * cols["tx_attempts"]).sum())
        self.latency_s.append(latency[delivered])

    def metrics(self, groups: list[GroupFacts], window_s: float, lat_ms: np.ndarray | None = None) -> dict:
        n, n_del, sums = self.n, self.n_del, self.sums
        if lat_ms is None:
            lat_ms = _latency_ms(self)
        active_mj = float(sum(sums[c] for c in PHASE_COLUMNS))
        devices = sum(g.devices for g in groups)
        device_time_s = devices * window_s
        asleep_s = max(0.0, device_time_s - float(sums["active_s"]))
        # continuous costs while asleep (stop mode, connection events, beacons, eDRX), by phase, device-mean
        background: dict[str, float] = {"sleep": sum(g.sleep_mw * g.devices for g in groups)}
        for g in groups:
            for phase, mw in g.background_mw:
                background[phase] = background.get(phase, 0.0) + mw * g.devices
        background_mj = {k: v / max(devices, 1) * asleep_s for k, v in background.items()}
        sleep_mj = sum(background_mj.values())
        total_mj = active_mj + sleep_mj
        avg_power_mw = total_mj / device_time_s if device_time_s else 0.0
        lives = [g.life_days(avg_power_mw) for g in groups]
        life_days = (sum(d * g.devices for d, g in zip(lives, groups)) / max(devices, 1)
                     if lives and all(d is not None for d in lives) else None)

        p50, p95, p99 = (float(v) for v in np.percentile(lat_ms, [50, 95, 99])) if len(lat_ms) else (None,) * 3

        def per(c: str) -> float | None:
            return float(sums[c] / n) if n else None

        return {
            "devices": devices,
            "inferences": n,
            "delivered": n_del,
            "lost": {LOST_REASONS[k]: self.lost[k] for k in LOST_REASONS if k},
            "accuracy": float(self.correct_on_time / n) if n else None,
            "delivered_accuracy": float(self.correct / n_del) if n_del else None,
            "latency_ms": {"mean": float(lat_ms.mean()) if len(lat_ms) else None,
                           "p50": p50, "p95": p95, "p99": p99},
            "deadline_miss_ratio": float(1.0 - self.on_time / n) if n else None,
            "device_energy_mj_per_inference": total_mj / n if n else None,
            "device_energy_mj_by_phase": {
                **{c.removesuffix("_mj"): per(c) for c in PHASE_COLUMNS},
                **{k: (mj / n if n else None) for k, mj in background_mj.items()},
            },
            "device_avg_power_mw": avg_power_mw,
            "battery_life_days": life_days,
            "bits_on_air_per_inference": per("bits_on_air"),
            "frames_per_inference": per("tx_attempts"),
            # the channel BER every frame attempt met (lost inferences too), and the delivered-only mean
            "mean_ber": float(self.attempt_ber_sum / sums["tx_attempts"]) if sums["tx_attempts"] else None,
            "delivered_mean_ber": float(self.ber_sum / n_del) if n_del else None,
        }


def _latency_ms(tally: _Tally) -> np.ndarray:
    """The tally's delivered latencies as one array, ms (its batches are released)."""
    lat = np.concatenate(tally.latency_s) if tally.latency_s else np.empty(0)
    tally.latency_s = []
    lat *= 1000.0
    return lat


def _batches(packets: Path, columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    """The records, row group by row group (at most SUMMARY_BATCH_ROWS rows at a time).

    Read one row group at a time: `ParquetFile.iter_batches` reads ahead and held ~800 MB of Arrow
    buffers for a 10-million-row file.
    """
    pf = pq.ParquetFile(packets)
    for i in range(pf.num_row_groups):
        yield from pf.read_row_group(i, columns=list(columns)).to_batches(max_chunksize=SUMMARY_BATCH_ROWS)


def summarise(
    packets: Path,
    groups: list[GroupFacts],
    window_s: float,
    deadline_s: float,
    extra: dict,
) -> dict:
    """The summary dict: overall and per group metrics, read back from the records in batches."""
    tallies = [_Tally() for _ in groups]
    for batch in _batches(packets, SUMMARY_COLUMNS):
        cols = {name: batch.column(name).to_numpy() for name in SUMMARY_COLUMNS}
        latency = np.where(cols["t_done_s"] >= 0, cols["t_done_s"] - cols["t_sense_s"], np.nan)
        delivered = cols["lost"] == DELIVERED
        correct = delivered & (cols["pred"] == cols["label"])
        on_time = delivered & (latency <= deadline_s)
        for gi, tally in enumerate(tallies):
            mask = cols["group"] == gi
            sub = {c: cols[c][mask] for c in ("lost", "ber", *_SUMMED)}
            tally.add(sub, latency[mask], delivered[mask], correct[mask], on_time[mask])
    overall = _Tally()
    for t in tallies:  # the overall tally: sums of the groups' (same values as summing all rows)
        overall.n += t.n
        overall.n_del += t.n_del
        overall.correct += t.correct
        overall.correct_on_time += t.correct_on_time
        overall.on_time += t.on_time
        for k, v in t.lost.items():
            overall.lost[k] += v
        for c in _SUMMED:
            overall.sums[c] += t.sums[c]
        overall.ber_sum += t.ber_sum
        overall.attempt_ber_sum += t.attempt_ber_sum
    group_lat = [_latency_ms(t) for t in tallies]
    all_lat = group_lat[0] if len(group_lat) == 1 else np.concatenate(group_lat) if group_lat else np.empty(0)
    out = overall.metrics(groups, window_s, all_lat)
    out["groups"] = {g.name: t.metrics([g], window_s, lat) for g, t, lat in zip(groups, tallies, group_lat)}
    out.update(extra)
    return out


def write_json(path: Path, data: dict) -> None:
    """Atomically write pretty JSON."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
