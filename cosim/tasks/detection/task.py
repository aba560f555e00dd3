"""Object detection as a task: a grid head, per-image `Detections`, exact mAP tallies in the engine."""

from __future__ import annotations

import numpy as np

from cosim.tasks.base import Task, TaskRun, register


class DetectionRun(TaskRun):
    """Decoded inferences go through the `DetectionSink` (matched boxes, mAP tallies) to the recorder."""

    def __init__(self, sink, labels: list[int]) -> None:
        super().__init__(sink.add, labels)
        self.sink = sink

    def task_metrics(self, packets, group_names) -> tuple[dict, dict]:
        from cosim.tasks.detection.sink import detection_metrics

        return detection_metrics(self.sink, packets, list(group_names))


@register("detection")
class Detection(Task):
    """Predictions are per-image `Detections` (object array); a record's label is its ground-truth box count."""

    def build_network(self, backbone: str, image_shape: tuple[int, int, int], num_classes: int):
        from cosim.tasks.detection.model import build_detector

        return build_detector(backbone, image_shape, num_classes)

    def predict(self, out, config) -> np.ndarray:
        from cosim.tasks.detection.model import as_object_array, decode

        _, height, width = config.image_shape
        return as_object_array(decode(out, config.num_classes, height / out.shape[-2], (height, width)))

    def check_data(self, data) -> None:
        from cosim.errors import DataError

        if data.boxes_train is None:
            raise DataError(f"data set {data.name!r} has no boxes: task detection needs one with boxes (shapes)")

    def training(self, data, model, x, y):
        import torch

        from cosim.tasks.detection.model import DetectionTask

        self.check_data(data)
        boxes = data.boxes_train[:len(x)]
        with torch.no_grad():
            was = model.backbone.training
            model.backbone.eval()
            grid = model.backbone(torch.zeros(1, *data.image_shape)).shape[-1]
            model.backbone.train(was)
        return DetectionTask(x, boxes, data.num_classes, grid, data.image_shape[-1] / grid)

    def test_score(self, model, x_test, data) -> float:
        from cosim.tasks.detection.evaluate import detector_map50

        return detector_map50(model, x_test, data.boxes_test)

    def engine_run(self, scenario, dataset, forward) -> DetectionRun:
        from cosim.tasks.detection.sink import detection_setup

        sink, labels = detection_setup(scenario, dataset, forward)
        return DetectionRun(sink, labels)

    def local_result(self, codec, predictions: np.ndarray):
        from cosim.tasks.detection.wire import pack_detections, unpack_detections

        meta = codec.meta
        hw = tuple(meta.image_shape[1:])

        def decode(packed: np.ndarray, ber) -> np.ndarray:
            return unpack_detections(packed, hw, meta.num_classes)

        return pack_detections(predictions, hw), decode
