"""The task interface and its registry: a scenario's (and a codec's) `task` names a registered `Task`.

A task supplies everything that differs between, say, classification and object detection: the
network's decoding head, how head outputs become predictions, the training targets and test score,
what the engine keeps per decoded inference (a sink and its summary metrics) and what a device that runs
the whole model sends. Codec, engine and strategies ask the task; none of them branches on its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cosim.inference import Inference
from cosim.registry import Registry

DEFAULT_TASK = "classification"

TASKS: Registry[type[Task]] = Registry("task", builtins=("cosim.tasks.classification", "cosim.tasks.detection.task"))


def get_task(name: str, field: str | None = None) -> Task:
    """An instance of the registered task `name`."""
    return TASKS.get(name, field=field)()


class TaskRun:
    """What the engine keeps for one run: the sink decoded inferences go to, each sample's record label,
    and the summary metrics the task adds. The default forwards to the recorder and adds nothing."""

    def __init__(self, add: Callable[[Inference], None], labels: list[int]) -> None:
        self.add = add
        self.labels = labels

    def task_metrics(self, packets: Path, group_names: Sequence[str]) -> tuple[dict, dict] | None:
        """(overall metrics, {group name: metrics}) the task adds to the summary, or None."""
        return None


class Task:
    """Base of tasks; `name` is set by the registration."""

    name: str
    #: predictions are class indices scored against labels (accuracy tables, accuracy under errors)
    scalar_accuracy: bool = False

    def build_network(self, backbone: str, image_shape: tuple[int, int, int], num_classes: int):
        """The `Backbone` (stem | tail ending in this task's head) of backbone `backbone`."""
        raise NotImplementedError

    def predict(self, out, config) -> np.ndarray:
        """Predictions (1-D array, one per image) from head outputs of a batch; `config` the CodecConfig."""
        raise NotImplementedError

    def check_data(self, data) -> None:
        """DataError if the data set lacks what the task needs (detection: boxes)."""

    def training(self, data, model, x, y):
        """The training task (batches, loss, XAI target) over training images x and labels y."""
        raise NotImplementedError

    def test_score(self, model, x_test, data) -> float:
        """The uncompressed network's score on the test split (accuracy, mAP@0.5, ...)."""
        raise NotImplementedError

    def engine_run(self, scenario, dataset, forward: Callable[[Inference], None]) -> TaskRun:
        """The engine's per-run state; `forward` records an inference."""
        raise NotImplementedError

    def local_result(self, codec, predictions: np.ndarray) -> tuple[np.ndarray, Callable]:
        """(payload bytes uint8 (N, B) a device running the whole model sends per sample,
        decode(packed, ber) -> predictions at the edge)."""
        raise NotImplementedError


def register(name: str):
    """Class decorator: register a task under `name` (also set as `cls.name`)."""

    def deco(cls: type[Task]) -> type[Task]:
        cls.name = name
        return TASKS.register(name)(cls)

    return deco
