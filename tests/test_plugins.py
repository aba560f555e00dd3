"""A third-party plug-in package, installed with pip into a folder, adds a channel and a strategy that a
scenario names, without any edit to cosim (entry points `cosim.channels`, `cosim.strategies`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "cosim-tinyplug"
version = "0.1"

[project.entry-points."cosim.channels"]
square-ber = "cosim_tinyplug:SquareBerChannel"

[project.entry-points."cosim.strategies"]
semanticnn-arq = "cosim_tinyplug:SemanticArq"
"""

MODULE = '''\
"""A tiny cosim plug-in: a square-wave BER channel and SemanticNN with ARQ on by default."""
import random
from typing import Literal

from pydantic import Field

from cosim.channel.base import Channel
from cosim.strategies.base import arq_setting, options
from cosim.strategies.semantic import SemanticNN, semantic_setup


class SquareLink:
    def __init__(self, ber, period_s):
        self.ber, self.period_s = ber, period_s

    def ber_at(self, t_s):
        return self.ber if int(t_s / self.period_s) % 2 else 0.0

    def snr_db_at(self, t_s):
        return None


class SquareBerChannel(Channel):
    """BER 0 for one half-period, `ber` for the next."""

    kind: Literal["square-ber"] = "square-ber"
    ber: float = Field(ge=0.0, le=0.5, description="BER in the bad half, probability per bit")
    period_s: float = Field(gt=0.0, description="half-period, s")

    def make_link(self, rng: random.Random, radio=None, distance_m: float = 0.0):
        return SquareLink(self.ber, self.period_s)


class SemanticArq(SemanticNN):
    """SemanticNN whose frames are retransmitted when their header is lost, by default."""

    def setup(self, ctx, codec_spec, group):
        opts = options(group, self.name, self.accepts)
        arq, retries = arq_setting(group, opts, default=True)
        return semantic_setup(ctx, codec_spec, arq, retries)


SemanticArq.name = "semanticnn-arq"
'''

SCENARIO = """\
name: plug
seed: 1
duration_s: 20
devices:
  - name: g
    count: 5
    strategy: semanticnn-arq
    workload: {kind: periodic, period_s: 1.0}
edge:
  - name: e
    channel: {kind: square-ber, ber: 0.05, period_s: 5.0}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The plug-in package installed by pip into a target folder (no network, no build isolation)."""
    tmp = tmp_path_factory.mktemp("plugin")
    pkg = tmp / "src"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "cosim_tinyplug.py").write_text(MODULE)
    target = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(pkg)], check=True, capture_output=True)
    assert list(target.glob("cosim_tinyplug-0.1.dist-info/entry_points.txt"))
    return target


def _cosim(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)]), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], cwd=cwd, env=env, capture_output=True, check=False,
                          text=True, timeout=300)


def test_a_scenario_runs_with_a_plugin_channel_and_strategy(site, tmp_path):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    res = _cosim(site, "run", "s.yaml", "-o", "out", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    import pyarrow.parquet as pq

    t = pq.read_table(tmp_path / "out" / "packets.parquet").to_pydict()
    good = [b for b, ts in zip(t["ber"], t["t_sense_s"]) if int(ts / 5.0) % 2 == 0 and b is not None]
    bad = [b for b, ts in zip(t["ber"], t["t_sense_s"]) if int(ts / 5.0) % 2 == 1 and b is not None]
    assert good and bad and max(good) == 0.0 and min(bad) == pytest.approx(0.05)
    assert max(t["tx_attempts"]) > max(t["frames"])  # ARQ (the plug-in's default) retransmitted frames
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["scenario"] == "plug"


def test_the_plugin_channel_is_in_the_schema_and_misspellings_are_caught(site, tmp_path):
    res = _cosim(site, "schema", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert '"square-ber"' in res.stdout
    (tmp_path / "s.yaml").write_text(SCENARIO.replace("semanticnn-arq", "semanticnn-arg"))
    res = _cosim(site, "run", "s.yaml", "-o", "out", "--quiet", cwd=tmp_path)
    assert res.returncode == 2
    assert "unknown strategy 'semanticnn-arg'" in res.stderr and "did you mean 'semanticnn-arq'" in res.stderr


def test_without_the_plugin_the_scenario_is_rejected_in_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "cosim.cli", "run", "s.yaml", "-o", "out", "--quiet"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 2 and "square-ber" in res.stderr and len(res.stderr.strip().splitlines()) == 1
