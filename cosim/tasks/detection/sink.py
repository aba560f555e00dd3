"""The engine's detection sink (scenario `task: detection`): matched boxes per inference, exact mAP per group.

The World hands `DetectionSink.add` to the evaluators as their sink. A decoded inference arrives with
`inf.pred` holding its `Detections`; the sink matches them against the sample's ground truth (memoised
on the object, which the decoder cache shares only between error-free decodes of the same sample), adds
the match to its group's two tallies, sets `inf.pred` to the number of ground-truth boxes found (IoU >=
0.5 by detections scoring >= 0.5; the record's `label` is the number of ground-truth boxes, so
pred == label means every object was found) and forwards the inference to the recorder.

Exact and memory-bounded: a tally is a fixed histogram over the detector's score grid
(`cosim.tasks.detection.tally`), two per group ("delivered": every decoded inference; "on_time": decoded within
the deadline, the same test `results.summarise` applies). Summary keys, per group and overall (tallies
add): `map50`, `map50_95` over every sensed inference (a lost or late one counts its ground truth as
missed, like `accuracy`), `delivered_map50`, `delivered_map50_95` over decoded ones, `box_recall50` (boxes
found on time / all ground-truth boxes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cosim.inference import Inference
from cosim.results.records import read_columns
from cosim.tasks.detection.ap import score_levels
from cosim.tasks.detection.model import OPERATING_SCORE
from cosim.tasks.detection.tally import DetectionTally

MIN_LEVEL = int(score_levels(np.array([OPERATING_SCORE]))[0])


def gt_counts(boxes: Sequence[np.ndarray], num_classes: int) -> np.ndarray:
    """Ground-truth boxes per class of every image, int64 (N, K), from rows (class, x0, y0, x1, y1)."""
    out = np.zeros((len(boxes), num_classes), dtype=np.int64)
    for i, rows in enumerate(boxes):
        cls = np.asarray(rows).reshape(-1, 5)[:, 0].astype(np.int64)
        out[i] = np.bincount(cls, minlength=num_classes)
    return out


class DetectionSink:
    """Scores decoded inferences against ground truth and keeps per-group mAP tallies.

    Per inference the cost is a dict lookup: decodes repeat (the decoder cache hands the same
    `Detections` to every error-free inference of a sample), so the sink counts how often each one
    was delivered (and on time) and adds the counts to the tallies in vectorised batches of at most
    FLUSH_ENTRIES distinct decodes per group (memory bound).
    """

    FLUSH_ENTRIES = 4096

    def __init__(self, boxes: Sequence[np.ndarray], num_classes: int, groups: int, deadline_s: float,
                 forward: Callable[[Inference], None]) -> None:
        self.boxes = boxes
        self.num_classes = int(num_classes)
        self.deadline_s = float(deadline_s)
        self.forward = forward
        self.delivered = [DetectionTally(num_classes) for _ in range(groups)]
        self.on_time = [DetectionTally(num_classes) for _ in range(groups)]
        # per group: id(Detections) -> [Detections (keeps the id unique), match, boxes found, delivered, on time]
        self.pending: list[dict[int, list]] = [{} for _ in range(groups)]

    def add(self, inf: Inference) -> None:
        """Score one decoded inference, count it, record it."""
        det, pending = inf.pred, self.pending[inf.group]
        entry = pending.get(id(det))
        if entry is None:
            match = det.match(self.boxes[inf.sample], self.num_classes)
            entry = pending[id(det)] = [det, match, match.matched(0, MIN_LEVEL), 0, 0]
        entry[3] += 1
        if inf.t_done - inf.t_sense <= self.deadline_s:
            entry[4] += 1
        inf.pred = entry[2]
        self.forward(inf)
        if len(pending) >= self.FLUSH_ENTRIES:
            self.flush(inf.group)

    def flush(self, group: int | None = None) -> None:
        """Add the pending counts of `group` (all groups if None) to the tallies."""
        for g in range(len(self.pending)) if group is None else (group,):
            entries = list(self.pending[g].values())
            self.pending[g] = {}
            matches = [e[1] for e in entries]
            self.delivered[g].add_many(matches, [e[3] for e in entries])
            self.on_time[g].add_many(matches, [e[4] for e in entries])

    def summary(self, packets: Path, group_names: Sequence[str]) -> dict:
        """Detection metrics per group and overall: {"groups": {name: {...}}, and the overall keys}."""
        self.flush()
        c = read_columns(packets, ["group", "sample", "pred", "lost", "latency_s"])
        group, sample = c["group"], c["sample"]
        counts = gt_counts(self.boxes, self.num_classes)
        latency = np.nan_to_num(c["latency_s"], nan=np.inf)
        found = np.where((c["lost"] == 0) & (latency <= self.deadline_s), np.nan_to_num(c["pred"]), 0).astype(np.int64)
        out: dict = {"groups": {}}
        total_on, total_del = DetectionTally(self.num_classes), DetectionTally(self.num_classes)
        total_gt = np.zeros(self.num_classes, dtype=np.int64)
        for gi, name in enumerate(group_names):
            mask = group == gi
            gt_all = counts[sample[mask]].sum(axis=0)
            out["groups"][name] = _metrics(self.on_time[gi], self.delivered[gi], gt_all, int(mask.sum()),
                                           int(found[mask].sum()))
            total_on.merge(self.on_time[gi])
            total_del.merge(self.delivered[gi])
            total_gt += gt_all
        out.update(_metrics(total_on, total_del, total_gt, len(group), int(found.sum())))
        return out


def _metrics(on_time: DetectionTally, delivered: DetectionTally, gt_all: np.ndarray, images: int,
             found: int) -> dict:
    """The summary keys of one set of inferences."""
    sensed = on_time.copy()
    sensed.gt = np.asarray(gt_all, dtype=np.int64).copy()
    sensed.images = images
    gt_boxes = int(sensed.gt.sum())
    return {
        "map50": sensed.map50(), "map50_95": sensed.map50_95(),
        "delivered_map50": delivered.map50(), "delivered_map50_95": delivered.map50_95(),
        "box_recall50": found / gt_boxes if gt_boxes else None,
        "gt_boxes": gt_boxes,
    }


def detection_metrics(sink: DetectionSink, packets: Path, group_names: Sequence[str]) -> tuple[dict, dict]:
    """(overall detection metrics, {group name: its detection metrics}) for `RunSummary.with_task`."""
    det = sink.summary(packets, group_names)
    groups = det.pop("groups")
    return det, groups


def detection_setup(scenario, dataset, forward: Callable[[Inference], None]) -> tuple[DetectionSink, list[int]]:
    """(the sink, each test sample's record label = its number of ground-truth boxes) for a World."""
    from cosim.errors import ScenarioError

    if dataset.boxes_test is None:
        raise ScenarioError(f"dataset: data set {dataset.name!r} has no boxes; task: detection needs one "
                            f"with boxes (shapes)")
    sink = DetectionSink(dataset.boxes_test, dataset.num_classes, len(scenario.devices),
                         scenario.deadline_ms / 1000.0, forward)
    labels = gt_counts(dataset.boxes_test, dataset.num_classes).sum(axis=1).tolist()
    return sink, labels
