"""Records stream to Parquet chunk by chunk; the summary read back in batches equals the whole-table one."""

from __future__ import annotations

import math
import random

import numpy as np
import pyarrow.parquet as pq

from cosim.inference import DELIVERED, LOST_COLLISION, LOST_HEADER, Inference
from cosim.results import summary as results
from cosim.results.records import RAW, Recorder, read_columns
from cosim.results.summary import GroupFacts, summarise

GROUPS = [GroupFacts("a", 3, 0.01, 3000.0, 96), GroupFacts("b", 2, 0.02, 3000.0, 96)]


def record(path, n: int, chunk_rows: int) -> list[Inference]:
    rng = random.Random(4)
    rec = Recorder(path, [g.name for g in GROUPS], chunk_rows=chunk_rows)
    infs = []
    for i in range(n):
        inf = Inference(rng.randrange(5), rng.randrange(2), rng.randrange(50), rng.randrange(10), i * 0.1)
        inf.lost = rng.choice([DELIVERED] * 8 + [LOST_HEADER, LOST_COLLISION])
        inf.t_arrive = inf.t_sense + 0.01
        if inf.lost == DELIVERED:
            inf.t_service = inf.t_arrive + rng.random() * 0.01
            inf.t_done = inf.t_service + 0.005
            inf.pred = rng.randrange(10)
            if rng.random() < 0.5:  # decoded under on_frame_loss erase
                inf.erased_frames = rng.randrange(3)
                inf.erased_symbols = 40 * inf.erased_frames
        inf.ber = rng.random() * 1e-3
        inf.tx_attempts = rng.randint(1, 3)
        inf.bits_on_air = 200 * inf.tx_attempts
        inf.sense_mj, inf.compute_mj, inf.tx_mj, inf.rx_mj = 0.1, 0.2, rng.random(), rng.random() * 0.1
        inf.active_s = rng.random() * 0.01
        rec.add(inf)
        infs.append(inf)
    rec.close()
    return infs


def test_recorder_writes_every_field_in_order_in_chunks(tmp_path):
    infs = record(tmp_path / "p.parquet", 1000, chunk_rows=64)
    f = pq.ParquetFile(tmp_path / "p.parquet")
    assert f.metadata.num_rows == 1000 and f.metadata.num_row_groups == math.ceil(1000 / 64)
    cols = read_columns(tmp_path / "p.parquet")
    for attr in RAW:
        name = f"{attr}_s" if attr.startswith("t_") else attr
        if name == "server":
            continue  # no device places registered: unknown server (null)
        want = np.array([getattr(inf, attr) for inf in infs], dtype=np.float64)
        if name in ("pred", "t_arrive_s", "t_service_s", "t_done_s", "erased_symbols"):
            want[want < 0] = np.nan  # not applicable: null
        if name == "ber":
            want[[inf.tx_attempts == 0 for inf in infs]] = np.nan
        if name == "ber_est":
            want[[inf.frames == 0 for inf in infs]] = np.nan
        if name == "erased_frames":
            want[[inf.erased_symbols < 0 for inf in infs]] = np.nan
        if name == "snr_db":
            want[:] = np.nan  # no device whose channel models SNR
        assert np.array_equal(cols[name].astype(np.float64), want, equal_nan=True), name


def test_summary_in_small_batches_equals_one_batch(tmp_path, monkeypatch):
    infs = record(tmp_path / "p.parquet", 1000, chunk_rows=100)
    one = summarise(tmp_path / "p.parquet", GROUPS, 60.0, 0.015)
    monkeypatch.setattr(results, "SUMMARY_BATCH_ROWS", 37)
    many = summarise(tmp_path / "p.parquet", GROUPS, 60.0, 0.015)
    one, many = ({"groups": {k: m.to_dict() for k, m in s.groups.items()}, **s.overall.to_dict()} for s in (one, many))

    def close(x, y) -> None:
        if isinstance(x, dict):
            assert x.keys() == y.keys()
            for k in x:
                close(x[k], y[k])
        elif isinstance(x, float):
            assert math.isclose(x, y, rel_tol=1e-12), (x, y)
        else:
            assert x == y

    close(one, many)
    delivered = [inf for inf in infs if inf.lost == DELIVERED]
    lat_ms = np.array([(inf.t_done - inf.t_sense) * 1000 for inf in delivered])
    assert one["inferences"] == 1000 and one["delivered"] == len(delivered)
    assert math.isclose(one["latency_ms"]["p95"], float(np.percentile(lat_ms, 95)), rel_tol=1e-12)
    on_time = sum(inf.pred == inf.label and inf.t_done - inf.t_sense <= 0.015 for inf in delivered)
    assert one["accuracy"] == on_time / 1000
    b = [inf for inf in infs if inf.group == 1]
    assert one["groups"]["b"]["inferences"] == len(b)
    assert math.isclose(one["groups"]["b"]["device_energy_mj_by_phase"]["tx"],
                        math.fsum(inf.tx_mj for inf in b) / len(b), rel_tol=1e-12)
