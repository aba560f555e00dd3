"""Running sweeps in-process: resume skips finished runs, failures are recorded, tables are complete."""

from __future__ import annotations

import json
import math

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from sweep_fixtures import FakeSimulate, write_base, write_sweep

from cosim.sweep.execute import RunStore, load_sweep, run_sweep
from cosim.sweep.table import param_columns, stat

SWEEP = """
base: base.yaml
grid:
  devices.0.count: [4, 40]
  devices.0.strategy: [semanticnn, raw]
replications: 3
"""


@pytest.fixture
def sweep(tmp_path):
    write_base(tmp_path)
    return load_sweep(write_sweep(tmp_path, SWEEP))


def test_resume_recomputes_nothing_that_finished(sweep, tmp_path):
    out = tmp_path / "out"
    fake = FakeSimulate()
    first = run_sweep(sweep, out, workers=0, simulate=fake, figures=False)
    assert (first.runs, first.executed, first.cached, fake.calls) == (12, 12, 0, 12)
    table = pq.read_table(out / "results.parquet")
    again = FakeSimulate()
    second = run_sweep(sweep, out, workers=0, simulate=again, figures=False)
    assert (second.executed, second.cached, again.calls) == (0, 12, 0)
    assert pq.read_table(out / "results.parquet").equals(table)
    # an interrupted sweep: two runs never stored
    for run in sweep.runs[:2]:
        RunStore(out).path(run.key).unlink()
    third = FakeSimulate()
    res = run_sweep(sweep, out, workers=0, simulate=third, figures=False)
    assert (res.executed, res.cached, third.calls) == (2, 10, 2)
    assert pq.read_table(out / "results.parquet").equals(table)


def test_failed_run_is_recorded_and_the_rest_complete(sweep, tmp_path):
    out = tmp_path / "out"
    seen = []
    res = run_sweep(sweep, out, workers=0, simulate=FakeSimulate(fail=("raw",)), progress=seen.append,
                    figures=False)
    assert len(seen) == 12
    assert len(res.failed) == 6
    rec = res.failed[0]
    assert rec["status"] == "failed" and rec["params"]["devices.0.strategy"] == "raw"
    assert rec["error"] == "RuntimeError: strategy raw exploded"
    assert "seed" in rec and "replication" in rec
    stored = json.loads(RunStore(out).path(rec["key"]).read_text())
    assert stored["error"] == rec["error"]
    t = pq.read_table(out / "results.parquet").to_pylist()
    assert [r["status"] for r in t].count("ok") == 6
    assert all(r["accuracy"] is None and r["error"] for r in t if r["status"] == "failed")
    # a restart retries only the failed runs
    fake = FakeSimulate()
    res = run_sweep(sweep, out, workers=0, simulate=fake, figures=False)
    assert (fake.calls, res.executed, res.cached, len(res.failed)) == (6, 6, 6, 0)


def test_results_and_aggregate_tables(sweep, tmp_path):
    out = tmp_path / "out"
    run_sweep(sweep, out, workers=0, simulate=FakeSimulate(), figures=False)
    table = pq.read_table(out / "results.parquet")
    names = table.column_names
    assert names[:7] == ["devices.0.count", "devices.0.strategy", "replication", "seed", "status", "error", "key"]
    for col in ("latency_ms.p95", "accuracy", "groups.sensors.accuracy", "groups.sensors.latency_ms.p95",
                "edge_utilization.gateway", "lost.collision", "wall_time_s", "devices"):
        assert col in names
    assert "scenario" not in names
    assert param_columns(table) == ["devices.0.count", "devices.0.strategy"]
    rows = table.to_pylist()
    order = [(r["devices.0.count"], r["devices.0.strategy"], r["replication"]) for r in rows]
    assert order == sorted(order)
    assert [r["seed"] for r in rows[:3]] == list(sweep.seeds)
    csv = pcsv.read_csv(out / "results.csv")
    assert csv.column_names == names
    assert param_columns(csv) == param_columns(table)
    agg = pq.read_table(out / "aggregate.parquet").to_pylist()
    assert len(agg) == 4 and all(a["runs"] == 3 and a["failed"] == 0 for a in agg)
    a = agg[0]
    acc = [r["accuracy"] for r in rows if (r["devices.0.count"], r["devices.0.strategy"]) == (4, "raw")]
    assert (a["devices.0.count"], a["devices.0.strategy"]) == (4, "raw")
    assert a["accuracy.mean"] == pytest.approx(sum(acc) / 3)
    sd = math.sqrt(sum((x - sum(acc) / 3) ** 2 for x in acc) / 2)
    assert a["accuracy.ci95"] == pytest.approx(4.302652729911275 * sd / math.sqrt(3))
    assert a["latency_ms.p99.mean"] is None
    assert (out / "aggregate.csv").is_file() and (out / "sweep.json").is_file()


def test_stat_matches_student_t():
    s = stat([1.0, 2.0, 3.0, None])
    assert (s.mean, s.n) == (2.0, 3)
    assert s.ci95 == pytest.approx(4.302652729911275 * 1.0 / math.sqrt(3))
    assert stat([5.0]).ci95 is None and stat([]).mean is None


def test_default_figures_only_for_varied_parameters(sweep, tmp_path):
    out = tmp_path / "out"
    res = run_sweep(sweep, out, workers=0, simulate=FakeSimulate())
    names = sorted(p.name for p in res.figures)
    assert names == ["fleet_accuracy.png", "fleet_edge_utilization.png", "fleet_energy.png",
                     "fleet_latency_p95.png", "pareto_energy_accuracy.png"]
    assert all(p.stat().st_size > 5000 for p in res.figures)
    ber = write_sweep(tmp_path, "base: base.yaml\ngrid:\n  edge.0.channel.ber: [0.0, 1.0e-3, 0.1]\n"
                      "  devices.0.strategy: [semanticnn, raw]\n", "ber.yaml")
    res = run_sweep(load_sweep(ber), tmp_path / "ber", workers=0, simulate=FakeSimulate())
    assert sorted(p.name for p in res.figures) == ["ber_accuracy.png", "ber_energy.png",
                                                    "pareto_energy_accuracy.png"]
