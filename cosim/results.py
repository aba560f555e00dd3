"""Per-inference records in columnar buffers streamed to Parquet, the run summary, atomic output files.

Memory grows with the number of devices, not with the length of the run: records are flushed to
Parquet every `chunk_rows` rows, and the summary is computed by reading back only the needed columns.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cosim.inference import DELIVERED, LOST_REASONS, Inference

COLUMNS = {
    "device": pa.int32(), "group": pa.int16(), "sample": pa.int32(), "label": pa.int16(),
    "pred": pa.int16(), "lost": pa.int8(), "t_sense_s": pa.float64(), "t_arrive_s": pa.float64(),
    "t_service_s": pa.float64(), "t_done_s": pa.float64(), "ber": pa.float64(), "ber_est": pa.float64(),
    "bit_errors": pa.int32(), "frames": pa.int16(), "tx_attempts": pa.int16(), "bits_on_air": pa.int32(),
    "sense_mj": pa.float64(), "compute_mj": pa.float64(), "tx_mj": pa.float64(), "rx_mj": pa.float64(),
    "active_s": pa.float64(), "variant": pa.int8(),
}
# Derived at flush from the columns above: edge queue wait (s, -1 when not served) and whether the
# inference counts as right in `accuracy` (delivered, on time and the prediction equals the label).
DERIVED = {"queue_wait_s": pa.float64(), "correct": pa.bool_()}


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Recorder:
    """Collects finished inferences column by column and streams them to a Parquet file."""

    def __init__(self, path: Path, group_names: list[str], chunk_rows: int = 65_536,
                 deadline_s: float = math.inf) -> None:
        self.path = Path(path)
        self.deadline_s = deadline_s
        self.group_names = group_names
        self.chunk_rows = chunk_rows
        self.rows: list[Inference] = []
        self.count = 0
        schema = pa.schema(list(COLUMNS.items()) + list(DERIVED.items()))
        self.writer = pq.ParquetWriter(self.path, schema, compression="zstd")
        self.schema = schema

    def add(self, inf: Inference) -> None:
        self.rows.append(inf)
        if len(self.rows) >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        arrays = []
        for name, typ in COLUMNS.items():
            attr = name.removesuffix("_s") if name.startswith("t_") else name
            values = [getattr(r, attr) for r in rows]
            arrays.append(pa.array(values, type=typ))
        arrays.extend(self._derived(dict(zip(COLUMNS, arrays, strict=True))))
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
    battery_mwh: float  # battery energy per device, mWh
    payload_bits: int


def summarise(
    packets: Path,
    groups: list[GroupFacts],
    window_s: float,
    deadline_s: float,
    extra: dict,
) -> dict:
    """The summary dict: overall and per group metrics computed from the records."""
    table = pq.read_table(packets)
    cols = {name: table.column(name).to_numpy() for name in table.column_names}
    n = len(cols["group"])
    latency = np.where(cols["t_done_s"] >= 0, cols["t_done_s"] - cols["t_sense_s"], np.nan)
    delivered = cols["lost"] == DELIVERED
    correct = delivered & (cols["pred"] == cols["label"])
    on_time = delivered & (latency <= deadline_s)
    out = _metrics(cols, np.ones(n, bool), latency, delivered, correct, on_time, groups, window_s)
    out["groups"] = {}
    for gi, g in enumerate(groups):
        mask = cols["group"] == gi
        out["groups"][g.name] = _metrics(cols, mask, latency, delivered, correct, on_time, [g], window_s)
    out.update(extra)
    return out


def _metrics(cols, mask, latency, delivered, correct, on_time, groups, window_s) -> dict:
    n = int(mask.sum())
    n_del = int((mask & delivered).sum())
    lat = latency[mask & delivered] * 1000.0
    active_mj = float(sum(cols[c][mask].sum() for c in ("sense_mj", "compute_mj", "tx_mj", "rx_mj")))
    devices = sum(g.devices for g in groups)
    device_time_s = devices * window_s
    asleep_s = max(0.0, device_time_s - float(cols["active_s"][mask].sum()))
    sleep_mj = sum(g.sleep_mw * g.devices for g in groups) / max(devices, 1) * asleep_s
    total_mj = active_mj + sleep_mj
    avg_power_mw = total_mj / device_time_s if device_time_s else 0.0
    battery_mwh = sum(g.battery_mwh * g.devices for g in groups) / max(devices, 1)
    lost_by = {LOST_REASONS[k]: int((mask & (cols["lost"] == k)).sum()) for k in LOST_REASONS if k}

    def pct(q: float) -> float | None:
        return float(np.percentile(lat, q)) if len(lat) else None

    return {
        "devices": devices,
        "inferences": n,
        "delivered": n_del,
        "lost": lost_by,
        "accuracy": float((mask & correct & on_time).sum() / n) if n else None,
        "delivered_accuracy": float((mask & correct).sum() / n_del) if n_del else None,
        "latency_ms": {"mean": float(lat.mean()) if len(lat) else None,
                       "p50": pct(50), "p95": pct(95), "p99": pct(99)},
        "deadline_miss_ratio": float(1.0 - (mask & on_time).sum() / n) if n else None,
        "device_energy_mj_per_inference": total_mj / n if n else None,
        "device_energy_mj_by_phase": {
            "sense": float(cols["sense_mj"][mask].sum() / n) if n else None,
            "compute": float(cols["compute_mj"][mask].sum() / n) if n else None,
            "tx": float(cols["tx_mj"][mask].sum() / n) if n else None,
            "rx": float(cols["rx_mj"][mask].sum() / n) if n else None,
            "sleep": sleep_mj / n if n else None,
        },
        "device_avg_power_mw": avg_power_mw,
        "battery_life_days": (battery_mwh / avg_power_mw / 24.0) if avg_power_mw > 0 else None,
        "bits_on_air_per_inference": float(cols["bits_on_air"][mask].mean()) if n else None,
        "frames_per_inference": float(cols["tx_attempts"][mask].mean()) if n else None,
        "mean_ber": float(cols["ber"][mask & delivered].mean()) if n_del else None,
    }


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
