"""packets.parquet is tidy: documented dtypes, nulls for "not applicable" (no -1), names, units in the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from results_fixtures import ROWS, records

from cosim.api import read_packets
from cosim.results.records import SCHEMA

README = Path(__file__).resolve().parents[2] / "README.md"
CATEGORICAL = ("group", "variant", "strategy", "server", "lost")


@pytest.fixture
def packets(tmp_path) -> pd.DataFrame:
    records(tmp_path / "p.parquet")
    return tmp_path / "p.parquet"


def test_pandas_dtypes_are_the_documented_ones_and_no_sentinels(packets):
    df = read_packets(packets)
    assert list(df.columns) == list(SCHEMA)
    for name in CATEGORICAL:
        assert isinstance(df[name].dtype, pd.CategoricalDtype), name
    assert str(df["pred"].dtype) == "Int16"  # nullable: null when not decoded
    nullable = {"pred": "Int16", "erased_frames": "Int16", "erased_symbols": "Int32"}  # null: not applicable
    assert {k: str(df[k].dtype) for k in nullable} == nullable
    assert df["erased_frames"].isna().all() and df["erased_symbols"].isna().all()  # on_frame_loss drop
    for name, col in SCHEMA.items():
        if name not in CATEGORICAL and name not in nullable:
            assert df[name].dtype == np.dtype(col.type.to_pandas_dtype()), name
    numeric = df.select_dtypes(include="number")
    assert not (numeric.drop(columns=["snr_db", "rx_power_dbm"]) < 0).any().any()  # no -1 sentinels
    assert list(df["group"]) == ["a"] * 4 + ["b"] * 2
    assert list(df["strategy"]) == ["semanticnn"] * 4 + ["raw"] * 2
    assert list(df["server"]) == ["s0"] * 4 + ["s1"] * 2  # from the devices' places
    assert list(df["lost"]) == ["delivered"] * 3 + ["header", "delivered", "collision"]
    assert set(df["lost"].cat.categories) == {"delivered", "header", "collision", "queue", "retries", "access",
                                              "payload", "drain"}
    assert df["variant"].isna().all()  # no compare: variants
    lat = [r[6] for r in ROWS]
    assert df["latency_s"].tolist()[:3] == pytest.approx(lat[:3]) and df["latency_s"].isna().tolist() == [
        x is None for x in lat]
    assert df["latency_s"].mean() == pytest.approx(np.mean([x for x in lat if x is not None]))
    assert df["pred"].isna().tolist() == [r[3] < 0 for r in ROWS]
    assert df["t_done_s"].isna().sum() == 2 and df["queue_wait_s"].isna().sum() == 2
    assert df["ber_est"].isna().tolist() == [r[4] != 0 for r in ROWS]  # no frame received
    assert df["distance_m"].tolist() == [5.0, 5.0, 7.0, 7.0, 3.0, 3.0]
    assert df["x_m"].isna().tolist() == [True] * 4 + [False] * 2 and df["y_m"].iloc[-1] == 2.0
    assert df["snr_db"].isna().tolist() == [True] * 4 + [False] * 2  # only device 2's channel models SNR
    assert df["rx_power_dbm"].iloc[-1] == pytest.approx(12.0 - 100.0)
    assert df["correct"].tolist() == [True, False, False, False, True, False]


def test_units_in_the_parquet_metadata_and_the_readme(packets):
    schema = pq.read_schema(packets)
    doc = json.loads(schema.metadata[b"cosim.columns"])
    assert list(doc) == list(SCHEMA)
    assert schema.field("latency_s").metadata[b"unit"] == b"s"
    assert schema.field("tx_mj").metadata[b"unit"] == b"mJ"
    assert pa.types.is_dictionary(schema.field("group").type)
    readme = README.read_text()
    table = readme[readme.index("<!-- packets-schema -->"):readme.index("<!-- /packets-schema -->")]
    documented = re.findall(r"^\| `([a-z_0-9]+)` \| ([^|]*) \|", table, flags=re.MULTILINE)
    assert [name for name, _ in documented] == list(SCHEMA)
    for name, unit in documented:
        assert unit.strip() == (SCHEMA[name].unit or "-"), name
