"""The per-inference records a figure needs, read from packets.parquet in either of its forms.

Old tables mark "not applicable" with -1 and store group and loss reason as integer codes; tidy tables
(COLUMNS.md) use nulls and dictionary-encoded names. Both read to the same `Records`: NaN where not
applicable, one series index per row (group, or `variant / group` when a `compare:` run has variants).

A row's score is (hits, trials): classification hits = delivered, on time and right, trials = 1 (so the
mean is the summary's `accuracy`); detection hits = ground-truth boxes found on time, trials = the
sample's boxes (the mean is the summary's `box_recall50`; mAP itself needs the detections).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

POSITION_COLUMNS = ("distance_m", "x_m", "y_m")


@dataclass(frozen=True)
class Records:
    """Columns of one run as NumPy arrays (NaN = not applicable), and the series they belong to."""

    names: tuple[str, ...]  # series labels, in order
    series: np.ndarray  # int index into names, per row
    device: np.ndarray
    t_sense_s: np.ndarray
    latency_s: np.ndarray  # NaN unless delivered
    delivered: np.ndarray  # bool
    on_time: np.ndarray  # bool: delivered within the deadline
    hits: np.ndarray  # float: correct (0/1) or boxes found on time
    trials: np.ndarray  # float: 1 or ground-truth boxes
    ber: np.ndarray  # mean channel BER over the inference's frame attempts
    attempts: np.ndarray  # frame attempts (weights of `ber`)
    energy_mj: dict[str, np.ndarray]  # phase -> per-inference energy, every `*_mj` column
    position: dict[str, np.ndarray] = field(default_factory=dict)  # distance_m, x_m, y_m when present
    detection: bool = False
    deadline_s: float = math.inf

    def __len__(self) -> int:
        return len(self.series)


def read_manifest(folder: Path) -> dict:
    """manifest.json of a run folder, or {} when there is none."""
    path = Path(folder) / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _floats(table: pa.Table, name: str, sentinel: bool = True) -> np.ndarray:
    """A numeric column as float64 with NaN for nulls (and for the old -1 sentinel if `sentinel`)."""
    col = table.column(name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    values = pc.fill_null(col.cast(pa.float64()), math.nan).to_numpy(zero_copy_only=False).astype(float)
    if sentinel:
        values[values < 0] = math.nan
    return values


def _names(table: pa.Table, name: str, codes_to_names: list[str] | None = None) -> np.ndarray:
    """A label column as strings: dictionary/string columns as they are, integer codes via the list."""
    col = table.column(name)
    if pa.types.is_dictionary(col.type) or pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return np.array(["" if v is None else str(v) for v in col.to_pylist()], dtype=object)
    codes = col.to_numpy(zero_copy_only=False)
    names = codes_to_names or []
    return np.array([names[int(c)] if 0 <= c < len(names) else str(c) for c in codes], dtype=object)


def _delivered(table: pa.Table) -> np.ndarray:
    """Delivered rows: lost == 0 (old codes) or null / "delivered" (tidy names)."""
    col = table.column("lost")
    if pa.types.is_dictionary(col.type) or pa.types.is_string(col.type):
        return np.array([v is None or v == "delivered" for v in col.to_pylist()], dtype=bool)
    if pa.types.is_boolean(col.type):
        return ~pc.fill_null(col, False).to_numpy(zero_copy_only=False)
    return pc.fill_null(col.cast(pa.int64()), 0).to_numpy(zero_copy_only=False) == 0


def load_records(packets: Path, summary: dict, manifest: dict | None = None) -> Records:
    """The records of `packets` with series names from the summary's groups (and the variants)."""
    table = pq.read_table(packets)
    manifest = manifest or {}
    scenario = manifest.get("scenario", {})
    deadline_ms = scenario.get("deadline_ms")
    deadline_s = deadline_ms / 1000.0 if deadline_ms is not None else math.inf
    cols = set(table.column_names)
    groups = _names(table, "group", list(summary.get("groups", {})))
    variants = None
    if "variant" in cols and not pa.types.is_integer(table.column("variant").type):
        variants = _names(table, "variant")  # int `variant` was the adaptive codec index (now codec_variant)
        if len(set(variants)) < 2:
            variants = None
    if variants is None:
        labels = groups
    elif len(set(groups)) < 2:
        labels = variants
    else:
        labels = np.array([f"{v} / {g}" for v, g in zip(variants, groups)], dtype=object)
    order = list(summary.get("groups", {})) if variants is None else []
    names = [n for n in order if n in set(labels)]
    names += sorted(set(labels) - set(names))
    index = {n: i for i, n in enumerate(names)}
    series = np.array([index[x] for x in labels], dtype=np.int64)
    t_sense = _floats(table, "t_sense_s")
    delivered = _delivered(table)
    if "latency_s" in cols:
        latency = _floats(table, "latency_s")
    else:
        latency = _floats(table, "t_done_s") - t_sense
    latency[~delivered] = math.nan
    with np.errstate(invalid="ignore"):
        on_time = delivered & (latency <= deadline_s)
    pred, label = _floats(table, "pred"), _floats(table, "label")
    detection = "map50" in summary
    if detection:  # pred = ground-truth boxes found, label = ground-truth boxes
        hits = np.where(on_time, np.nan_to_num(pred), 0.0)
        trials = np.nan_to_num(label)
    else:
        if "correct" in cols:
            hits = pc.fill_null(table.column("correct"), False).to_numpy(zero_copy_only=False).astype(float)
        else:
            hits = (on_time & (pred == label)).astype(float)
        trials = np.ones(len(hits))
    attempts = _floats(table, "tx_attempts") if "tx_attempts" in cols else np.ones(len(hits))
    energy = {c[:-3]: np.nan_to_num(_floats(table, c, sentinel=False))
              for c in table.column_names if c.endswith("_mj")}
    position = {c: _floats(table, c, sentinel=False) for c in POSITION_COLUMNS if c in cols}
    position = {c: v for c, v in position.items() if np.isfinite(v).any()}
    return Records(
        names=tuple(names), series=series, device=_floats(table, "device", sentinel=False),
        t_sense_s=t_sense, latency_s=latency, delivered=delivered, on_time=on_time, hits=hits,
        trials=trials, ber=_floats(table, "ber") if "ber" in cols else np.full(len(hits), math.nan),
        attempts=np.nan_to_num(attempts, nan=0.0), energy_mj=energy, position=position,
        detection=detection, deadline_s=deadline_s,
    )
