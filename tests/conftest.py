"""Fixtures shared across the test packages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def _simulate(data: dict, tmp_path: Path, name: str = "out") -> tuple[dict, dict[str, np.ndarray]]:
    """Validate and run a scenario dict into `tmp_path / name`; return its summary and its columns."""
    from cosim.config.scenario import validate_scenario
    from cosim.engine.run import run_scenario
    from cosim.results.records import read_columns

    res = run_scenario(validate_scenario(data, "test"), tmp_path / name)
    return res.summary, read_columns(tmp_path / name / "packets.parquet")


@pytest.fixture(scope="session")
def simulate() -> Callable[..., tuple[dict, dict[str, np.ndarray]]]:
    """`simulate(data, tmp_path, name="out") -> (summary, {column: array})`: one run of a scenario dict."""
    return _simulate
