"""Tasks are plug-ins: registered by name, asked (never branched on) by codec, engine and strategies."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from cosim.registry import UnknownNameError
from cosim.tasks.base import TASKS, get_task

COSIM = Path(__file__).resolve().parents[2] / "cosim"


def test_builtin_tasks_are_registered_and_unknown_ones_named():
    assert {"classification", "detection"} <= set(TASKS)
    with pytest.raises(UnknownNameError, match="did you mean 'detection'"):
        get_task("detektion")


def test_no_module_branches_on_a_task_name():
    """No comparison against the strings 'classification' / 'detection' anywhere in cosim/."""
    names = {"classification", "detection"}
    offenders = []
    for path in COSIM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                parts = [node.left, *node.comparators]
                if any(isinstance(p, ast.Constant) and p.value in names for p in parts):
                    offenders.append(f"{path.relative_to(COSIM)}:{node.lineno}")
    assert not offenders, offenders


def test_classification_local_result_sends_one_byte_per_class():
    class Meta:
        name, num_classes = "toy", 10

    class Codec:
        meta = Meta

    payloads, decode = get_task("classification").local_result(Codec, np.array([3, 0, 9]))
    assert payloads.dtype == np.uint8 and payloads.shape == (3, 1)
    assert decode(payloads, 0.0).tolist() == [3, 0, 9]
    Meta.num_classes = 300
    with pytest.raises(ValueError, match="sends the class in 8 bits"):
        get_task("classification").local_result(Codec, np.array([3]))


def test_a_scenario_names_a_registered_task(tmp_path):
    from cosim.config.scenario import validate_scenario
    from cosim.errors import ScenarioError

    data = {"duration_s": 1, "task": "segmentation", "devices": [{"name": "g", "count": 1}],
            "edge": [{"channel": {"kind": "constant", "ber": 0.0}}]}
    with pytest.raises(ScenarioError, match="task: Input should be 'classification' or 'detection'"):
        validate_scenario(data, "s.yaml")
