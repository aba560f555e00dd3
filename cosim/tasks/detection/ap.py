"""Box IoU, per-image matching of detections to ground truth, and all-point interpolated average precision.

Conventions (they fix every number this module returns):
- Boxes are (x0, y0, x1, y1) in pixel edges (pixel i spans [i, i+1]); area = (x1 - x0) * (y1 - y0), no +1.
- Matching follows the PASCAL VOC devkit, per class and per IoU threshold t: detections in descending
  score order (ties in input order); each takes the ground-truth box of its class with the largest IoU;
  it is a true positive if that IoU is >= t (COCO's inclusive test; the devkit uses >) and that box is not
  yet taken, else a false positive (a duplicate does not fall back to a second-best box).
- AP is VOC's all-point interpolated AP: the area under the precision envelope (precision made
  monotone from the right) as a step function of recall. Detections with equal scores form one point of
  the precision-recall curve (so the result does not depend on the order of ties).
- mAP@0.5 averages AP at t = 0.5 over the classes that have ground truth; mAP@0.5:0.95 averages it over
  t = 0.50, 0.55, ..., 0.95 as COCO does, but each AP is all-point, not COCO's 101-point sampling.
- Confidences are compared on a grid of 1/SCORE_LEVELS (detectors in cosim emit scores on that grid), so
  a streaming histogram over score levels (`cosim.tasks.detection.tally`) reproduces these numbers exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.50, 0.55, ..., 0.95
SCORE_LEVELS = 1000  # confidences are multiples of 1 / SCORE_LEVELS


def score_levels(scores: np.ndarray) -> np.ndarray:
    """Integer score levels round(score * SCORE_LEVELS), clipped to 0..SCORE_LEVELS."""
    return np.clip(np.rint(np.asarray(scores, dtype=np.float64) * SCORE_LEVELS), 0, SCORE_LEVELS).astype(np.int64)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of boxes (N, 4) and (M, 4) in (x0, y0, x1, y1); 0 where the union is 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass(frozen=True)
class ImageMatch:
    """One image's detections scored against its ground truth, at every IoU threshold.

    classes, levels: (D,) class and score level of each detection (descending score order);
    tp: (D, T) bool, true positive at each threshold; gt_per_class: (K,) ground-truth boxes per class.
    """

    classes: np.ndarray
    levels: np.ndarray
    tp: np.ndarray
    gt_per_class: np.ndarray

    def matched(self, threshold_index: int = 0, min_level: int = 0) -> int:
        """Ground-truth boxes found at threshold `threshold_index` by detections scoring >= min_level."""
        return int(self.tp[self.levels >= min_level, threshold_index].sum())

    def false_positives(self, threshold_index: int = 0, min_level: int = 0) -> int:
        """Detections scoring >= min_level that are not true positives at `threshold_index`."""
        keep = self.levels >= min_level
        return int(keep.sum() - self.tp[keep, threshold_index].sum())


def match_image(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, gt_boxes: np.ndarray,
                gt_classes: np.ndarray, num_classes: int,
                thresholds: Sequence[float] = IOU_THRESHOLDS) -> ImageMatch:
    """Match one image's detections to its ground truth (module docstring rules) at every threshold."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    levels = score_levels(scores).reshape(-1)
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    gt_classes = np.asarray(gt_classes, dtype=np.int64).reshape(-1)
    thr = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(-levels, kind="stable")
    boxes, classes, levels = boxes[order], classes[order], levels[order]
    tp = np.zeros((len(boxes), len(thr)), dtype=bool)
    if len(boxes) and len(gt_boxes):
        iou = box_iou(boxes, gt_boxes)
        iou[classes[:, None] != gt_classes[None, :]] = -1.0  # only boxes of the same class compete
        taken = np.zeros((len(gt_boxes), len(thr)), dtype=bool)
        best = iou.argmax(axis=1)
        best_iou = iou[np.arange(len(boxes)), best]
        for d in range(len(boxes)):
            j = best[d]
            ok = (best_iou[d] >= thr) & ~taken[j]
            tp[d] = ok
            taken[j] |= ok
    gt_per_class = np.bincount(gt_classes, minlength=num_classes).astype(np.int64)
    return ImageMatch(classes=classes, levels=levels, tp=tp, gt_per_class=gt_per_class)


def ap_from_counts(tp: np.ndarray, det: np.ndarray, n_gt: int) -> np.ndarray:
    """All-point AP from counts per score level in descending score order.

    tp: (..., L) true positives per level (leading axes, e.g. thresholds, are kept); det: (L,) detections
    per level. Levels without detections are ignored. Returns AP (...), nan if n_gt == 0.
    """
    tp = np.asarray(tp, dtype=np.int64)
    det = np.asarray(det, dtype=np.int64)
    lead = tp.shape[:-1]
    if n_gt <= 0:
        return np.full(lead, np.nan)
    keep = det > 0
    if not keep.any():
        return np.zeros(lead)
    ctp = np.cumsum(tp[..., keep], axis=-1).astype(np.float64)
    cdet = np.cumsum(det[keep]).astype(np.float64)
    recall = ctp / n_gt
    precision = ctp / cdet
    envelope = np.flip(np.maximum.accumulate(np.flip(precision, -1), axis=-1), -1)
    step = np.diff(recall, axis=-1, prepend=0.0)
    return (step * envelope).sum(axis=-1)


def average_precision(scores: Sequence[float], tp: Sequence[bool], n_gt: int) -> float:
    """All-point AP of one class at one threshold from a list of detections (scores, TP flags)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    tp = np.asarray(tp, dtype=bool).reshape(-1)
    if scores.size == 0:
        return float(ap_from_counts(np.zeros(0, np.int64), np.zeros(0, np.int64), n_gt))
    values, group = np.unique(-scores, return_inverse=True)  # ascending -score = descending score
    det = np.bincount(group, minlength=len(values))
    hits = np.bincount(group, weights=tp, minlength=len(values)).astype(np.int64)
    return float(ap_from_counts(hits, det, n_gt))


def mean_ap(ap: np.ndarray) -> float | None:
    """Mean of the finite entries (classes with ground truth); None if there are none."""
    ap = np.asarray(ap, dtype=np.float64)
    finite = np.isfinite(ap)
    return float(ap[finite].mean()) if finite.any() else None
