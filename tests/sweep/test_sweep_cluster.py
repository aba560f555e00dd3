"""The real engine on a real Dask LocalCluster (2 worker processes) gives the serial results, bit for bit
(wall times aside); a run that fails inside a worker is recorded and the others complete."""

from __future__ import annotations

import pyarrow.parquet as pq
from sweep_fixtures import write_base, write_sweep

from cosim.cli import main
from cosim.sweep.table import is_wall_time

SWEEP = """
base: base.yaml
grid:
  devices.0.count: [2, 6]
  edge.0.channel.ber: [0.0, 0.02]
  devices.0.strategy: [semanticnn, no-such-strategy]
replications: 2
"""


def _table(path):
    t = pq.read_table(path)
    return t.drop_columns([c for c in t.column_names if is_wall_time(c)])


def test_local_cluster_matches_serial_and_records_failures(tmp_path, capsys):
    write_base(tmp_path)
    sweep = write_sweep(tmp_path, SWEEP)
    serial, cluster = tmp_path / "serial", tmp_path / "cluster"
    assert main(["sweep", str(sweep), "-o", str(serial), "--workers", "0", "--quiet", "--no-figures"]) == 1
    assert main(["sweep", str(sweep), "-o", str(cluster), "--workers", "2", "--quiet", "--no-figures"]) == 1
    out = capsys.readouterr().out
    assert "16 runs: 16 executed, 0 already finished, 8 failed" in out
    assert "failed: devices.0.count=2, edge.0.channel.ber=0.0, devices.0.strategy='no-such-strategy'" in out
    a, b = _table(serial / "results.parquet"), _table(cluster / "results.parquet")
    assert a.num_rows == 16
    assert a.equals(b)
    rows = a.to_pylist()
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 8 and all(r["inferences"] > 0 for r in ok)
    bad = [r for r in rows if r["status"] == "failed"]
    assert all("unknown strategy 'no-such-strategy'" in r["error"] for r in bad)
    # replications run with different seeds
    pair = [r for r in ok if r["devices.0.count"] == 6 and r["edge.0.channel.ber"] == 0.02]
    assert pair[0]["seed"] != pair[1]["seed"]
    # resume: nothing that finished is recomputed (only the failed ones are retried)
    assert main(["sweep", str(sweep), "-o", str(serial), "--workers", "0", "--quiet", "--no-figures"]) == 1
    assert "16 runs: 8 executed, 8 already finished, 8 failed" in capsys.readouterr().out
    assert _table(serial / "results.parquet").equals(a)
