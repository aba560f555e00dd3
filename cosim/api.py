"""The Python API: run a scenario, load a finished run or sweep, as pandas tables and a typed summary.

    import cosim
    run = cosim.run("scenarios/quickstart.yaml", overrides={"duration_s": 10})
    run.summary.accuracy, run.summary.groups["sensors"].latency_ms.p95
    run.packets.groupby("group", observed=True)["latency_s"].median()

`packets` columns are documented in `cosim.results.records.SCHEMA` (units in the Parquet metadata):
names are pandas categoricals, integer columns that can be "not applicable" are nullable pandas
integers (`Int16`), floats use NaN for null.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosim.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from cosim.config.scenario import Scenario
    from cosim.results.summary import RunSummary

Overrides = Mapping[str, Any] | Sequence[str] | None


@dataclass(frozen=True)
class Run:
    """A finished run: its typed summary and its per-inference records (a pandas DataFrame)."""

    summary: RunSummary
    outdir: Path | None
    _packets: list = field(default_factory=list, repr=False)  # the DataFrame once loaded

    @property
    def packets(self) -> pd.DataFrame:
        """One row per sensed inference (loaded from `outdir` on first use)."""
        if not self._packets:
            if self.outdir is None:
                raise DataError("this run kept no records (no outdir)")
            self._packets.append(read_packets(self.outdir / "packets.parquet"))
        return self._packets[0]


def _override_texts(overrides: Overrides) -> list[str]:
    """Overrides as `PATH=VALUE` texts: a mapping's values are written as JSON (valid YAML)."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
    if isinstance(overrides, str):
        return [overrides]
    return list(overrides)


def load(scenario: str | Path | Mapping | Scenario, overrides: Overrides = None, seed: int | None = None
         ) -> Scenario:
    """A validated Scenario from a YAML path, a mapping or a Scenario, with `overrides` applied."""
    from cosim.config.scenario import Scenario, load_scenario, validate_scenario
    from cosim.config.yamlio import apply_override, parse_override

    texts = _override_texts(overrides)
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario, texts, seed)
    data = scenario.model_dump(mode="json") if isinstance(scenario, Scenario) else json.loads(json.dumps(scenario))
    for text in texts:
        parts, value = parse_override(text)
        apply_override(data, parts, value, "scenario")
    if seed is not None:
        data["seed"] = seed
    return validate_scenario(data, "scenario")


def run(scenario: str | Path | Mapping | Scenario, overrides: Overrides = None,
        outdir: str | Path | None = None, seed: int | None = None, progress: bool = False) -> Run:
    """Simulate a scenario (a YAML path, a mapping or a Scenario) and return its summary and records.

    `overrides`: {"devices.0.count": 50} or ["devices.0.count=50"], as `cosim run --set`. With `outdir`
    the outputs are written there as `cosim run -o` writes them; without, the records are read into
    memory and the temporary folder is removed.
    """
    from cosim.engine.run import run_scenario

    sc = load(scenario, overrides, seed)
    if progress:
        from cosim.commands.run import _ProgressBars

        progress = _ProgressBars()
    else:
        progress = None
    if outdir is not None:
        result = run_scenario(sc, Path(outdir), progress=progress)
        return Run(result.typed, Path(outdir))
    with tempfile.TemporaryDirectory(prefix="cosim-api-") as tmp:
        result = run_scenario(sc, Path(tmp) / "run", progress=progress)
        return Run(result.typed, None, [read_packets(Path(tmp) / "run" / "packets.parquet")])


def read_packets(path: str | Path) -> pd.DataFrame:
    """packets.parquet as a DataFrame: categorical names, nullable integers, NaN for null floats."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{path}: not a readable packets table ({str(exc).splitlines()[0]})") from None
    from cosim.results.records import SCHEMA

    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
                pa.int64(): pd.Int64Dtype()}
    frame = table.to_pandas()  # dictionary columns become categoricals
    for f in table.schema:  # integer columns that may be null ("not applicable") are nullable integers
        doc = SCHEMA.get(f.name)
        if pa.types.is_integer(f.type) and (table.column(f.name).null_count or (doc and "null" in doc.description)):
            frame[f.name] = table.column(f.name).to_pandas(types_mapper=nullable.get)
    return frame


def load_run(outdir: str | Path) -> Run:
    """A finished run folder (`cosim run -o OUTDIR`): its summary and (lazily) its records."""
    from cosim.results.summary import RunSummary

    outdir = Path(outdir)
    path = outdir / "summary.json"
    if not path.is_file():
        raise DataError(f"{outdir}: not a finished run (no summary.json)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not readable JSON ({exc})") from None
    return Run(RunSummary.from_dict(data), outdir)


@dataclass(frozen=True)
class Sweep:
    """A sweep's tables: one row per run (`wide`), per-point means and CIs (`aggregate`), and `long`
    (one row per run and metric: the parameters, replication, seed, `metric`, `value`)."""

    wide: pd.DataFrame
    aggregate: pd.DataFrame | None
    long: pd.DataFrame
    params: tuple[str, ...]


def load_sweep(outdir: str | Path) -> Sweep:
    """A finished sweep folder (`cosim sweep -o OUTDIR`) as pandas tables."""
    import pyarrow.parquet as pq

    from cosim.sweep.table import metric_columns, param_columns, read_results

    outdir = Path(outdir)
    table = read_results(outdir)
    params = param_columns(table)
    metrics = metric_columns(table)
    wide = table.to_pandas()
    agg_path = (outdir if outdir.is_dir() else outdir.parent) / "aggregate.parquet"
    aggregate = pq.read_table(agg_path).to_pandas() if agg_path.is_file() else None
    ids = [c for c in (*params, "replication", "seed") if c in wide.columns]
    ok = wide[wide["status"] == "ok"] if "status" in wide.columns else wide
    long = ok.melt(id_vars=ids, value_vars=metrics, var_name="metric", value_name="value")
    return Sweep(wide, aggregate, long, tuple(params))
