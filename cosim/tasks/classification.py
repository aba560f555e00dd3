"""Classification: class logits, argmax predictions scored by accuracy; the device sends one class byte."""

from __future__ import annotations

import numpy as np

from cosim.tasks.base import Task, TaskRun, register

RESULT_BITS = 8  # a device running the whole model sends the class index as one byte (up to 256 classes)


@register("classification")
class Classification(Task):
    """Predictions are class indices int64; record labels are the data set's labels."""

    scalar_accuracy = True

    def build_network(self, backbone: str, image_shape: tuple[int, int, int], num_classes: int):
        from cosim.codec.model import build_backbone

        return build_backbone(backbone, image_shape, num_classes)

    def predict(self, out, config) -> np.ndarray:
        return out.argmax(1).numpy().astype(np.int64)

    def training(self, data, model, x, y):
        from cosim.codec.train import ClassificationTask

        return ClassificationTask(x, y)

    def test_score(self, model, x_test, data) -> float:
        return float((model.backbone(x_test).argmax(1).numpy() == data.y_test).mean())

    def engine_run(self, scenario, dataset, forward) -> TaskRun:
        return TaskRun(forward, dataset.y_test.astype(np.int64).tolist())

    def local_result(self, codec, predictions: np.ndarray):
        if codec.meta.num_classes > 2 ** RESULT_BITS:
            raise ValueError(f"sends the class in {RESULT_BITS} bits, codec {codec.meta.name} has "
                             f"{codec.meta.num_classes} classes")
        result = np.asarray(predictions, dtype=np.uint8).reshape(-1, 1)  # the byte the device sends

        def decode(packed: np.ndarray, ber) -> np.ndarray:
            return packed[:, 0].astype(np.int64)  # a corrupted byte is a wrong (or invalid) class

        return result, decode
