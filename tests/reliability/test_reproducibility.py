"""Same scenario and seed, same outputs: whatever the codec batch size or torch's thread count.

(Sweeps give identical rows serially, on 1 or on 2 Dask workers: `test_sweep_worker_kill.py` and
`tests/sweep/test_sweep_cluster.py`.)
"""

from __future__ import annotations

import json

import numpy as np
import torch
from reliability_fixtures import ROOT, cli

from cosim.config.scenario import load_scenario
from cosim.engine.run import run_scenario
from cosim.results.records import read_columns

QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
SHORT = ["duration_s=20", "devices.0.count=40", "edge.0.channel.ber_bad=0.05", "edge.0.channel.mean_good_s=3"]
RUN_DEPENDENT = ("wall_time_s", "decoder_calls", "decoder_cache_hits")  # how the work was done, not what


def _outputs(folder):
    """(summary without run-dependent keys, per-inference columns in (device, t_sense_s) order)."""
    summary = json.loads((folder / "summary.json").read_text())
    for key in RUN_DEPENDENT:
        summary.pop(key)
    cols = read_columns(folder / "packets.parquet")
    order = np.lexsort((cols["t_sense_s"], cols["device"]))
    return summary, {c: v[order] for c, v in cols.items()}


def _assert_same(a, b):
    (sa, ca), (sb, cb) = a, b
    assert sa == sb
    assert ca.keys() == cb.keys()
    for c in ca:
        assert np.array_equal(ca[c], cb[c], equal_nan=ca[c].dtype.kind == "f"), c


def test_quickstart_same_outputs_for_codec_batch_1_and_256(tmp_path):
    outs = []
    for batch in (1, 256):
        out = tmp_path / f"batch{batch}"
        sets = [arg for s in [*SHORT, f"codec_batch={batch}"] for arg in ("--set", s)]
        assert cli(["run", str(QUICKSTART), "-o", str(out), "--quiet", *sets]).rc == 0
        outs.append(_outputs(out))
    s, cols = outs[0]
    assert s["inferences"] > 300 and 0 < s["accuracy"] < 1 and cols["bit_errors"].sum() > 0
    _assert_same(*outs)


def test_same_outputs_for_torch_threads_1_and_2(tmp_path):
    scenario = load_scenario(QUICKSTART, SHORT)
    before = torch.get_num_threads()
    outs = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            run_scenario(scenario, tmp_path / f"threads{threads}")
            outs.append(_outputs(tmp_path / f"threads{threads}"))
    finally:
        torch.set_num_threads(before)
    _assert_same(*outs)
