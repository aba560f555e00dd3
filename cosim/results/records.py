"""Per-inference records in columnar buffers streamed to Parquet (a tidy table), atomic output files.

Memory grows with the number of devices, not with the length of the run: records are flushed to
Parquet every `chunk_rows` rows. On the hot path a finished inference costs one C call (its raw values
copied into a tuple); at flush the rows become numpy columns in one call, and the written columns are
derived from them with numpy: "not applicable" becomes null, names (`group`, `variant`, `strategy`,
`server`, `lost`) are dictionary-encoded (pandas reads them as categoricals), per-device facts
(attached server, distance, position, noise floor) are looked up by device index.

The schema with units is `SCHEMA` (also in the Parquet file: field metadata `unit` and `description`,
schema metadata `cosim.columns`), documented in the README.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cosim.inference import DELIVERED, LOST_REASONS, Inference
from cosim.io import atomic_write_text

# Raw values copied from each Inference (attribute -> numpy dtype). Energy phases: every `*_mj` field.
RAW = {
    "device": np.int32, "group": np.int32, "sample": np.int32, "label": np.int16, "pred": np.int16,
    "lost": np.int8, "t_sense": np.float64, "t_arrive": np.float64, "t_service": np.float64,
    "t_done": np.float64, "ber": np.float64, "ber_est": np.float64, "bit_errors": np.int32,
    "frames": np.int16, "erased_frames": np.int16, "erased_symbols": np.int32, "tx_attempts": np.int16,
    "bits_on_air": np.int64, "airtime_s": np.float64,
    "sense_mj": np.float64, "compute_mj": np.float64, "tx_mj": np.float64, "rx_mj": np.float64,
    "wake_mj": np.float64, "rx_window_mj": np.float64, "cca_mj": np.float64, "setup_mj": np.float64,
    "tail_mj": np.float64,
    "active_s": np.float64, "codec_variant": np.int16, "server": np.int32, "snr_db": np.float64,
}
_ROW = operator.attrgetter(*RAW)  # Inference -> tuple of the RAW values (one C call)
_ROW_DTYPE = np.dtype(list(RAW.items()))
ENERGY_COLUMNS = tuple(name for name in RAW if name.endswith("_mj"))  # device energy by phase, mJ

_NAMES = pa.dictionary(pa.int32(), pa.string())


@dataclass(frozen=True)
class Column:
    """One column of packets.parquet: its Arrow type, unit and meaning."""

    type: pa.DataType
    unit: str
    description: str


def _schema() -> dict[str, Column]:
    cols = {
        "device": Column(pa.int32(), "", "device index over the whole fleet"),
        "group": Column(_NAMES, "", "device group name (categorical)"),
        "variant": Column(_NAMES, "", "`compare:` variant name (categorical; null without variants)"),
        "strategy": Column(_NAMES, "", "offloading strategy of the group (categorical)"),
        "server": Column(_NAMES, "", "edge server / gateway that served the inference (categorical)"),
        "sample": Column(pa.int32(), "", "test-set sample sensed"),
        "label": Column(pa.int16(), "", "true label (detection: ground-truth boxes)"),
        "pred": Column(pa.int16(), "", "prediction (detection: boxes found); null if not decoded"),
        "lost": Column(_NAMES, "", "outcome: `delivered` or why the inference was lost "
                       f"({', '.join(v for k, v in LOST_REASONS.items() if k)}) (categorical)"),
        "t_sense_s": Column(pa.float64(), "s", "sensing time"),
        "t_arrive_s": Column(pa.float64(), "s", "end of the transmission (last frame at the gateway); "
                             "null if never sent"),
        "t_service_s": Column(pa.float64(), "s", "start of edge service; null if not served"),
        "t_done_s": Column(pa.float64(), "s", "end of edge service; null if not served"),
        "latency_s": Column(pa.float64(), "s", "t_done_s - t_sense_s of a delivered inference; null otherwise"),
        "queue_wait_s": Column(pa.float64(), "s", "t_service_s - t_arrive_s; null if not served"),
        "ber": Column(pa.float64(), "", "true channel BER, mean over every frame attempt; null without "
                      "attempts"),
        "ber_est": Column(pa.float64(), "", "receiver's BER estimate, mean over received frames; null if "
                          "none was received"),
        "bit_errors": Column(pa.int32(), "bit", "payload bit errors handed to the decoder"),
        "frames": Column(pa.int16(), "", "frames received"),
        "erased_frames": Column(pa.int16(), "frame", "frames of the payload lost on the air and decoded as "
                                "erased symbols (on_frame_loss: erase); null for drop or if not decoded"),
        "erased_symbols": Column(pa.int32(), "symbol", "payload symbols the decoder took as erased (those "
                                 "with a bit in a lost frame); null for drop or if not decoded"),
        "tx_attempts": Column(pa.int16(), "", "frame transmissions, retransmissions included"),
        "bits_on_air": Column(pa.int64(), "bit", "bits transmitted (headers, pilots, retransmissions)"),
        "airtime_s": Column(pa.float64(), "s", "time on air of every frame attempt"),
    }
    for name in ENERGY_COLUMNS:
        cols[name] = Column(pa.float64(), "mJ", f"device energy in phase `{name.removesuffix('_mj')}`")
    cols.update({
        "active_s": Column(pa.float64(), "s", "time the device was not asleep for this inference"),
        "codec_variant": Column(pa.int16(), "", "codec variant index chosen (adaptive strategy; else 0)"),
        "distance_m": Column(pa.float64(), "m", "device distance to its gateway (placement)"),
        "x_m": Column(pa.float64(), "m", "device position on the site plan; null unless placement `area`"),
        "y_m": Column(pa.float64(), "m", "device position on the site plan; null unless placement `area`"),
        "snr_db": Column(pa.float64(), "dB", "SNR, mean over frame attempts; null unless the channel "
                         "models SNR"),
        "rx_power_dbm": Column(pa.float64(), "dBm", "received power = snr_db + noise floor; null unless "
                               "the channel models path loss"),
        "correct": Column(pa.bool_(), "", "delivered, on time (deadline) and prediction == label"),
    })
    return cols


SCHEMA: dict[str, Column] = _schema()
COLUMNS = tuple(SCHEMA)
LOST_NAMES = tuple(LOST_REASONS[k] for k in sorted(LOST_REASONS))  # dictionary of `lost`, code = reason


def arrow_schema(schema: dict[str, Column] = SCHEMA) -> pa.Schema:
    """The Arrow schema with each field's unit and description as field metadata."""
    fields = [pa.field(n, c.type, metadata={"unit": c.unit, "description": c.description})
              for n, c in schema.items()]
    doc = {n: {"unit": c.unit, "description": c.description} for n, c in schema.items()}
    return pa.schema(fields, metadata={"cosim.columns": json.dumps(doc)})


class Recorder:
    """Collects finished inferences row by row and streams them, as tidy columns, to a Parquet file."""

    def __init__(self, path: Path, group_names: Sequence[str], chunk_rows: int = 65_536,
                 deadline_s: float = math.inf, server_names: Sequence[str] = ("edge",),
                 group_strategies: Sequence[str] | None = None, variant: str | None = None) -> None:
        self.path = Path(path)
        self.deadline_s = deadline_s
        self.group_names = list(group_names)
        self.server_names = list(server_names)
        strategies = list(group_strategies) if group_strategies is not None else [""] * len(self.group_names)
        self.strategy_names = sorted(set(strategies))
        self._group_strategy = np.array([self.strategy_names.index(s) for s in strategies], dtype=np.int32)
        self.variant = variant
        self.chunk_rows = chunk_rows
        self.rows: list[tuple] = []  # one tuple of RAW values per inference
        self.count = 0
        # where each device is, as columns (`place_many`): one object per device cost ~200 B,
        # 200 MB at 1,000,000 devices; these arrays cost 30 B per device
        self._place_parts: list[dict[str, np.ndarray]] = []
        self.placed = 0  # devices placed so far
        self._place_cols: dict[str, np.ndarray] | None = None
        self.schema = arrow_schema()
        self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")

    def place_many(self, first: int, server, distance_m, x_m=None, y_m=None, noise_dbm=None,
                   snr_modelled=None) -> None:
        """Register where devices `first`, `first` + 1, ... are (call before the run, in device order): one
        entry per device in each sequence: the edge server index, distance (m), position (m) and receiver
        noise floor (dBm) where modelled (NaN by default), and whether the channel models SNR."""
        if first != self.placed:
            raise ValueError(f"device {first} placed out of order (expected {self.placed})")
        server = np.asarray(server, dtype=np.int32)
        n = len(server)
        nan = np.full(n, math.nan)
        part = {"server": server, "distance_m": np.asarray(distance_m, dtype=np.float64),
                **{k: nan if v is None else np.asarray(v, dtype=np.float64)
                   for k, v in (("x_m", x_m), ("y_m", y_m), ("noise_dbm", noise_dbm))},
                "snr_modelled": np.zeros(n, bool) if snr_modelled is None else np.asarray(snr_modelled, bool)}
        if any(len(v) != n for v in part.values()):
            raise ValueError("place_many: every column needs one entry per device")
        self._place_parts.append(part)
        self.placed += n
        self._place_cols = None

    def servers_of_devices(self) -> np.ndarray:
        """The edge server index of every placed device, by device index."""
        return self._places()["server"]

    def add(self, inf: Inference) -> None:
        """Record a finished inference (its values are copied now: one C call, no per-column loop)."""
        self.rows.append(_ROW(inf))
        if len(self.rows) >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        raw = np.fromiter(rows, dtype=_ROW_DTYPE, count=len(rows))  # rows -> columns in C
        self.writer.write_table(self.table(raw))
        self.count += len(rows)

    def _places(self) -> dict[str, np.ndarray]:
        if self._place_cols is None:
            parts = self._place_parts or [{"server": np.zeros(0, np.int32), "snr_modelled": np.zeros(0, bool),
                                           **{k: np.zeros(0) for k in ("distance_m", "x_m", "y_m", "noise_dbm")}}]
            self._place_cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            self._place_parts = [self._place_cols]
        return self._place_cols

    def table(self, raw: np.ndarray) -> pa.Table:
        """The written columns of one chunk of raw rows (all derived with numpy)."""
        r = {name: raw[name] for name in RAW}
        n = len(raw)
        device = r["device"]
        places = self._places()
        placed = self.placed > 0 and int(device.max(initial=-1)) < self.placed

        def per_device(key: str) -> np.ndarray:
            return places[key][device] if placed else np.full(n, np.nan)

        server = r["server"]
        if placed:
            server = np.where(server >= 0, server, places["server"][device])
        delivered = (r["lost"] == DELIVERED) & (r["t_done"] >= 0)
        latency = r["t_done"] - r["t_sense"]
        served = r["t_service"] >= 0
        has_snr = (r["tx_attempts"] > 0) & (places["snr_modelled"][device] if placed else False)
        snr = np.where(has_snr, r["snr_db"], np.nan)
        decoded_erase = r["erased_symbols"] >= 0  # set by the evaluator under on_frame_loss `erase`
        cols = {
            "device": device,
            "group": _names(r["group"], self.group_names),
            # without variants all null; the dictionary keeps one entry (pyarrow cannot decode an empty one)
            "variant": _names(np.zeros(n, np.int32), [self.variant or ""], valid=self.variant is not None),
            "strategy": _names(self._group_strategy[r["group"]], self.strategy_names),
            "server": _names(server, self.server_names, valid=server >= 0),
            "sample": r["sample"],
            "label": r["label"],
            "pred": _nullable(r["pred"], r["pred"] >= 0),
            "lost": _names(r["lost"].astype(np.int32), LOST_NAMES),
            "t_sense_s": r["t_sense"],
            "t_arrive_s": _nullable(r["t_arrive"], r["t_arrive"] >= 0),
            "t_service_s": _nullable(r["t_service"], served),
            "t_done_s": _nullable(r["t_done"], r["t_done"] >= 0),
            "latency_s": _nullable(latency, delivered),
            "queue_wait_s": _nullable(r["t_service"] - r["t_arrive"], served),
            "ber": _nullable(r["ber"], r["tx_attempts"] > 0),
            "ber_est": _nullable(r["ber_est"], r["frames"] > 0),
            "bit_errors": r["bit_errors"],
            "frames": r["frames"],
            "erased_frames": _nullable(r["erased_frames"], decoded_erase),
            "erased_symbols": _nullable(r["erased_symbols"], decoded_erase),
            **{k: r[k] for k in ("tx_attempts", "bits_on_air", "airtime_s",
                                 *ENERGY_COLUMNS, "active_s", "codec_variant")},
            "distance_m": _nullable(per_device("distance_m")),
            "x_m": _nullable(per_device("x_m")),
            "y_m": _nullable(per_device("y_m")),
            "snr_db": _nullable(snr),
            "rx_power_dbm": _nullable(snr + per_device("noise_dbm")),
            "correct": delivered & (latency <= self.deadline_s) & (r["pred"] == r["label"]),
        }
        arrays = [c if isinstance(c, pa.Array) else pa.array(c, type=SCHEMA[k].type) for k, c in cols.items()]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _nullable(values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray | pa.Array:
    """`values` with nulls where not `valid` (default: where NaN)."""
    if valid is None:
        valid = ~np.isnan(values)
    if valid.all():
        return values
    return pa.array(values, mask=~valid)


def _names(codes: np.ndarray, names: Sequence[str], valid: np.ndarray | bool = True) -> pa.DictionaryArray:
    """Dictionary-encoded names (null where not `valid`); the dictionary is the same in every chunk."""
    codes = np.asarray(codes, dtype=np.int32)
    mask = None if valid is True else (np.full(len(codes), True) if valid is False else ~valid)
    indices = pa.array(codes, type=pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(names), type=pa.string()))


def codes(column: pa.ChunkedArray | pa.Array, null: int = -1) -> np.ndarray:
    """A column as numpy: dictionary columns as their integer codes (`null` where null)."""
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type):
            column = column.unify_dictionaries()  # merged files (compare: variants) differ by chunk
        chunks = [codes(c, null) for c in column.chunks]
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int32)
    if pa.types.is_dictionary(column.type):
        return column.indices.fill_null(null).to_numpy()
    return column.to_numpy(zero_copy_only=False)


def read_columns(packets: Path, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """packets.parquet as numpy columns: names as their codes (the index in the run's list of groups,
    servers, strategies, `LOST_NAMES`), nulls as -1 / NaN; `variant` as names (null: None)."""
    table = pq.read_table(packets, columns=list(columns) if columns is not None else None)
    return {name: np.array(table.column(name).to_pylist(), dtype=object) if name == "variant"
            else codes(table.column(name)) for name in table.column_names}


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
