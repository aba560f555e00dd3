"""Dask workers load the sweep's data sets and codecs while the main process checks the runs
(`LocalPool.prepare` + `cosim.sweep.warm.load_inputs`), so their first run does not pay it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sweep_fixtures import write_base, write_sweep

from cosim.strategies import base
from cosim.sweep import warm
from cosim.sweep.cluster import LocalPool
from cosim.sweep.execute import load_sweep

SWEEP = """
base: base.yaml
grid:
  devices.0.count: [2, 6]
replications: 2
"""


def test_inputs_of_names_each_dataset_and_codec_once(tmp_path):
    write_base(tmp_path)
    sweep = load_sweep(write_sweep(tmp_path, SWEEP))
    assert len(sweep.runs) == 4
    assert warm.inputs_of(sweep) == ([("digits", None)], ["builtin:digits"])


def test_load_inputs_fills_the_cache_the_runs_read(tmp_path):
    from cosim.config.scenario import load_scenario
    from cosim.engine.world import World

    base._ENCODED.clear()
    warm.load_inputs([("digits", None)], ["builtin:digits"])
    (cached,) = [payload for _x, payload in base._ENCODED.values()]
    (tmp_path / "o").mkdir()
    ctx = World(load_scenario(write_base(tmp_path)), tmp_path / "o").services
    assert ctx.encoded("builtin:digits") is cached


def _mark(folder: str) -> None:
    Path(folder, f"{os.getpid()}.done").touch()


def test_prepare_runs_once_on_every_worker(tmp_path):
    pool = LocalPool(2)
    try:
        pool.prepare(_mark, str(tmp_path))
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("*.done"))) < 2:
            assert time.monotonic() < deadline, "the warm-up never ran on both workers"
            time.sleep(0.1)
        time.sleep(0.5)
        assert len(list(tmp_path.glob("*.done"))) == 2
    finally:
        pool.close()
