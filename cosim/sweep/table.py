"""Sweep result tables: one row per run (parameters, seed, flattened summary) and means with 95 % CIs.

Column order is the contract readers rely on (also for CSV): the parameter columns, then
`replication, seed, status, error, key`, then the metrics with dotted names (`latency_ms.p95`,
`groups.<name>.accuracy`). The aggregate table has the parameters, `runs`, `failed`, then
`<metric>.mean` and `<metric>.ci95` (half-width of the Student-t 95 % interval over replications).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from cosim.errors import DataError
from cosim.io import atomic_write
from cosim.results.summary import flatten

RUN_COLUMNS = ("replication", "seed", "status", "error", "key")
DROPPED_SUMMARY_KEYS = ("scenario", "seed", "variants")  # the sweep knows them (`seed` is a run column,
# and a sweep run simulates one `compare:` variant, whose name is its `variant` parameter)
PARAMS_META = b"cosim.sweep.params"


def is_wall_time(column: str) -> bool:
    """Columns that measure the host's clock: they differ between otherwise identical runs."""
    return column.split(".")[-1] == "wall_time_s"


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, (bool, int, float)):
        return (1, float(value), "")
    if isinstance(value, str):
        return (2, 0.0, value)
    return (3, 0.0, json.dumps(value, sort_keys=True))


def _column(values: list[Any]) -> pa.Array:
    """An Arrow column of one type: int64, float64, bool or string (other values as JSON text)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present) and present:
        return pa.array(values, type=pa.int64())
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array([None if v is None else v if isinstance(v, str) else json.dumps(v, sort_keys=True)
                     for v in values], type=pa.string())


def results_table(param_paths: Sequence[str], records: Iterable[dict]) -> pa.Table:
    """One row per run record, sorted by parameter values then replication."""
    params = list(param_paths)
    rows = sorted(records, key=lambda r: (tuple(_sort_key(r["params"].get(p)) for p in params),
                                          r["replication"]))
    metrics: dict[str, None] = {}
    flat_rows = []
    for r in rows:
        summary = {k: v for k, v in (r.get("summary") or {}).items() if k not in DROPPED_SUMMARY_KEYS}
        flat = flatten(summary)
        flat = {(f"summary.{k}" if k in params or k in RUN_COLUMNS else k): v for k, v in flat.items()}
        flat_rows.append(flat)
        metrics.update(dict.fromkeys(flat))
    columns: dict[str, list[Any]] = {p: [r["params"].get(p) for r in rows] for p in params}
    columns["replication"] = [r["replication"] for r in rows]
    columns["seed"] = [r["seed"] for r in rows]
    columns["status"] = [r["status"] for r in rows]
    columns["error"] = [r.get("error") for r in rows]
    columns["key"] = [r["key"] for r in rows]
    for m in metrics:
        columns[m] = [f.get(m) for f in flat_rows]
    arrays = {}
    for name, values in columns.items():
        if name in ("error", "status", "key"):
            arrays[name] = pa.array(values, type=pa.string())
        else:
            arrays[name] = _column(values)
    table = pa.table(arrays)
    return table.replace_schema_metadata({PARAMS_META: json.dumps(params).encode()})


def param_columns(table: pa.Table) -> list[str]:
    """The parameter columns of a results table (schema metadata, else the columns before `replication`)."""
    meta = table.schema.metadata or {}
    if PARAMS_META in meta:
        return list(json.loads(meta[PARAMS_META]))
    names = table.column_names
    if "replication" not in names:
        raise DataError("not a sweep results table: no 'replication' column")
    return names[: names.index("replication")]


def metric_columns(table: pa.Table) -> list[str]:
    """Numeric metric columns (everything after the run columns)."""
    names = table.column_names
    start = names.index("key") + 1 if "key" in names else 0
    return [n for n in names[start:]
            if pa.types.is_integer(table.schema.field(n).type) or pa.types.is_floating(table.schema.field(n).type)]


def _t975(dof: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, dof))


@dataclass(frozen=True)
class Stat:
    """Mean, 95 % CI half-width (None with fewer than two values) and count of one metric at one point."""

    mean: float | None
    ci95: float | None
    n: int


def stat(values: Iterable[Any]) -> Stat:
    """Student-t mean and 95 % half-width of the finite values."""
    xs = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    n = len(xs)
    if not n:
        return Stat(None, None, 0)
    mean = math.fsum(xs) / n
    if n < 2:
        return Stat(mean, None, 1)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return Stat(mean, _t975(n - 1) * math.sqrt(var / n), n)


@dataclass(frozen=True)
class Point:
    """One parameter point: its values, its run counts and each metric's statistics over replications."""

    params: tuple[tuple[str, Any], ...]
    runs: int
    failed: int
    stats: dict[str, Stat]


def points(table: pa.Table, params: Sequence[str], columns: Sequence[str] | None = None) -> list[Point]:
    """Group successful runs by parameter point (in table order) and summarise `columns` (default: metrics)."""
    params = list(params)
    columns = list(columns) if columns is not None else metric_columns(table)
    data = {c: table.column(c).to_pylist() for c in {*params, *columns, "status"} if c in table.column_names}
    n = table.num_rows
    status = data.get("status", ["ok"] * n)
    groups: dict[str, list[int]] = {}
    keys: dict[str, tuple] = {}
    for i in range(n):
        values = tuple((p, data[p][i]) for p in params)
        k = json.dumps(values, sort_keys=True, default=str)
        groups.setdefault(k, []).append(i)
        keys[k] = values
    out = []
    for k, rows in groups.items():
        ok = [i for i in rows if status[i] == "ok"]
        stats = {c: stat(data[c][i] for i in ok) for c in columns}
        out.append(Point(keys[k], len(ok), len(rows) - len(ok), stats))
    return out


def aggregate_table(table: pa.Table, params: Sequence[str]) -> pa.Table:
    """Means and 95 % CI half-widths over replications per parameter point."""
    metrics = metric_columns(table)
    pts = points(table, params, metrics)
    first = pa.array(_first_rows(table, params), type=pa.int64())
    columns: dict[str, pa.Array] = {p: table.column(p).combine_chunks().take(first) for p in params}
    columns["runs"] = pa.array([pt.runs for pt in pts], type=pa.int64())
    columns["failed"] = pa.array([pt.failed for pt in pts], type=pa.int64())
    for m in metrics:
        columns[f"{m}.mean"] = pa.array([pt.stats[m].mean for pt in pts], type=pa.float64())
        columns[f"{m}.ci95"] = pa.array([pt.stats[m].ci95 for pt in pts], type=pa.float64())
    table_out = pa.table(columns)
    return table_out.replace_schema_metadata({PARAMS_META: json.dumps(list(params)).encode()})


def _first_rows(table: pa.Table, params: Sequence[str]) -> list[int]:
    data = {p: table.column(p).to_pylist() for p in params}
    seen: dict[str, int] = {}
    for i in range(table.num_rows):
        k = json.dumps([data[p][i] for p in params], sort_keys=True, default=str)
        seen.setdefault(k, i)
    return list(seen.values())


def write_table(table: pa.Table, stem: Path) -> Path:
    """Write `stem`.parquet and `stem`.csv atomically; return the Parquet path."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    parquet = stem.with_suffix(".parquet")
    atomic_write(parquet, lambda tmp: pq.write_table(table, tmp))
    atomic_write(stem.with_suffix(".csv"), lambda tmp: pcsv.write_csv(table, tmp))
    return parquet


def read_results(path: str | Path) -> pa.Table:
    """A results table from results.parquet / results.csv, or from a sweep output directory."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.parquet"
    if not path.is_file():
        raise DataError(f"{path}: no such results file (give results.parquet, results.csv or a sweep folder)")
    try:
        if path.suffix == ".csv":
            table = pcsv.read_csv(path)
        else:
            table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: not a readable results table ({str(exc).splitlines()[0]})") from None
    if "replication" not in table.column_names:
        raise DataError(f"{path}: not a sweep results table (no 'replication' column; "
                        "aggregate tables are derived, give results.parquet)")
    return table
