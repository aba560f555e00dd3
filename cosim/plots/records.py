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


def _codes(table: pa.Table, name: str, code_names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A label column as (int code per row, name per code), without a Python object per row:
    dictionary and string columns by their dictionary (null = code of ""), integer codes named by
    `code_names` (codes beyond it by their number)."""
    col = table.column(name).combine_chunks()
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = col.dictionary_encode()
    if pa.types.is_dictionary(col.type):
        names = [str(v) for v in col.dictionary.to_pylist()] + [""]
        codes = pc.fill_null(col.indices, len(names) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, names
    codes = pc.fill_null(col.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    names = list(code_names or [])
    top = int(codes.max()) if len(codes) else -1
    names += [str(c) for c in range(len(names), top + 1)]
    codes = np.where(codes < 0, len(names), codes)
    return codes, names + [""]


def _delivered(table: pa.Table) -> np.ndarray:
    """Delivered rows: lost == 0 (old codes), false (a boolean), or null / "delivered" (tidy names)."""
    col = table.column("lost")
    if pa.types.is_boolean(col.type):
        return ~pc.fill_null(col, False).to_numpy(zero_copy_only=False)
    if pa.types.is_integer(col.type):
        return pc.fill_null(col.cast(pa.int64()), 0).to_numpy(zero_copy_only=False) == 0
    codes, names = _codes(table, "lost")
    ok = np.array([n in ("", "delivered") for n in names])
    return ok[codes]


def _series(table: pa.Table, summary: dict) -> tuple[np.ndarray, list[str]]:
    """Series index per row and the series names: groups in the summary's order, or `variant / group`
    (just the variant with one group) when the records have a named `variant` with several values."""
    order = list(summary.get("groups", {}))
    g_codes, g_names = _codes(table, "group", order)
    variants = None
    if "variant" in table.column_names and not pa.types.is_integer(table.column("variant").type):
        v_codes, v_names = _codes(table, "variant")  # an int `variant` was the adaptive codec index
        if len(np.unique(v_codes)) > 1:
            variants = (v_codes, v_names)
    if variants is None:
        used = np.unique(g_codes)
        rank = {n: i for i, n in enumerate(order)}
        ordered = sorted(used, key=lambda c: (rank.get(g_names[c], len(rank)), g_names[c]))
        remap = np.zeros(len(g_names), dtype=np.int64)
        remap[ordered] = np.arange(len(ordered))
        return remap[g_codes], [g_names[c] for c in ordered]
    v_codes, v_names = variants
    one_group = len(np.unique(g_codes)) < 2
    keys, inverse = np.unique(v_codes * len(g_names) + g_codes, return_inverse=True)
    names = [v_names[k // len(g_names)] if one_group else f"{v_names[k // len(g_names)]} / {g_names[k % len(g_names)]}"
             for k in keys]
    v_rank = {n: i for i, n in enumerate(summary.get("variants") or {})}  # the scenario's compare: order
    g_rank = {n: i for i, n in enumerate(order)}

    def rank(i: int) -> tuple:
        v, g = v_names[keys[i] // len(g_names)], g_names[keys[i] % len(g_names)]
        return (v_rank.get(v, len(v_rank)), v, g_rank.get(g, len(g_rank)), g)

    order_idx = sorted(range(len(names)), key=rank)
    remap = np.zeros(len(names), dtype=np.int64)
    remap[order_idx] = np.arange(len(names))
    return remap[inverse.ravel()], [names[i] for i in order_idx]


def _device_ids(table: pa.Table) -> np.ndarray:
    """Device identity per row as numbers: the index, or the code of a named (dictionary) device."""
    col = table.column("device")
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return _floats(table, "device", sentinel=False)
    return _codes(table, "device")[0].astype(float)


NEEDED = ("device", "group", "variant", "lost", "t_sense_s", "t_done_s", "latency_s", "pred", "label",
          "correct", "ber", "tx_attempts", *POSITION_COLUMNS)


def load_records(packets: Path, summary: dict, manifest: dict | None = None) -> Records:
    """The records of `packets` with series names from the summary's groups (and the variants)."""
    schema = pq.read_schema(packets)
    table = pq.read_table(packets, columns=[c for c in schema.names if c in NEEDED or c.endswith("_mj")])
    table = table.unify_dictionaries()  # merged compare: variants: one dictionary per row group
    manifest = manifest or {}
    scenario = manifest.get("scenario", {})
    deadline_ms = scenario.get("deadline_ms")
    deadline_s = deadline_ms / 1000.0 if deadline_ms is not None else math.inf
    cols = set(table.column_names)
    series, names = _series(table, summary)
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
    # a position figure needs positions that differ (a `fixed` placement records one distance for all)
    position = {c: v for c, v in position.items() if np.isfinite(v).any() and np.nanmax(v) > np.nanmin(v)}
    return Records(
        names=tuple(names), series=series, device=_device_ids(table),
        t_sense_s=t_sense, latency_s=latency, delivered=delivered, on_time=on_time, hits=hits,
        trials=trials, ber=_floats(table, "ber") if "ber" in cols else np.full(len(hits), math.nan),
        attempts=np.nan_to_num(attempts, nan=0.0), energy_mj=energy, position=position,
        detection=detection, deadline_s=deadline_s,
    )


def metric_name(rec: Records) -> str:
    """What a record-level score means: accuracy, or box recall for detection (mAP needs detections)."""
    return "box recall@0.5" if rec.detection else "accuracy"
