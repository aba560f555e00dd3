"""Exact, memory-bounded streaming mAP: histograms of matched detections over score levels.

AP only needs, per class and IoU threshold, how many detections and how many true positives there are at
each confidence, plus the ground-truth count. Confidences lie on a grid of 1/SCORE_LEVELS
(`cosim.tasks.detection.ap`), so a histogram over the SCORE_LEVELS + 1 levels loses nothing: its AP equals the
AP of the full list of detections. Memory is fixed (K classes x T thresholds x 1001 levels of int64,
about 0.5 MB for 6 classes), whatever the number of images, and tallies add: a fleet's tally is the sum of
its groups'.
"""

from __future__ import annotations

import numpy as np

from cosim.tasks.detection.ap import (
    IOU_THRESHOLDS,
    SCORE_LEVELS,
    ImageMatch,
    ap_from_counts,
    mean_ap,
)


class DetectionTally:
    """Detections and true positives per (class, score level), per threshold, and ground truth per class."""

    def __init__(self, num_classes: int, thresholds: tuple[float, ...] = IOU_THRESHOLDS) -> None:
        self.num_classes = int(num_classes)
        self.thresholds = tuple(thresholds)
        levels = SCORE_LEVELS + 1
        self.det = np.zeros((self.num_classes, levels), dtype=np.int64)
        self.tp = np.zeros((self.num_classes, len(self.thresholds), levels), dtype=np.int64)
        self.gt = np.zeros(self.num_classes, dtype=np.int64)
        self.images = 0

    def add(self, m: ImageMatch) -> None:
        """Count one image's matched detections and its ground truth."""
        if len(m.classes):
            np.add.at(self.det, (m.classes, m.levels), 1)
            t = np.arange(len(self.thresholds))
            np.add.at(self.tp, (m.classes[:, None], t[None, :], m.levels[:, None]), m.tp.astype(np.int64))
        self.gt += m.gt_per_class
        self.images += 1

    def add_many(self, matches: list[ImageMatch], weights: list[int]) -> None:
        """Count each image `weights[i]` times, in one vectorised update (images with weight 0 skipped)."""
        pairs = [(m, w) for m, w in zip(matches, weights) if w]
        if not pairs:
            return
        w_img = np.array([w for _, w in pairs], dtype=np.int64)
        per_det = np.repeat(w_img, [len(m.classes) for m, _ in pairs])
        if per_det.size:
            cls = np.concatenate([m.classes for m, _ in pairs])
            lv = np.concatenate([m.levels for m, _ in pairs])
            tp = np.concatenate([m.tp for m, _ in pairs]).astype(np.int64) * per_det[:, None]
            np.add.at(self.det, (cls, lv), per_det)
            t = np.arange(len(self.thresholds))
            np.add.at(self.tp, (cls[:, None], t[None, :], lv[:, None]), tp)
        self.gt += (np.stack([m.gt_per_class for m, _ in pairs]) * w_img[:, None]).sum(axis=0)
        self.images += int(w_img.sum())

    def add_ground_truth(self, gt_per_class: np.ndarray, images: int = 1) -> None:
        """Count ground truth of images without any detection (e.g. lost or late inferences)."""
        self.gt += np.asarray(gt_per_class, dtype=np.int64)
        self.images += int(images)

    def merge(self, other: DetectionTally) -> None:
        """Add another tally of the same classes and thresholds into this one."""
        if other.num_classes != self.num_classes or other.thresholds != self.thresholds:
            raise ValueError("tallies of different classes or thresholds cannot be added")
        self.det += other.det
        self.tp += other.tp
        self.gt += other.gt
        self.images += other.images

    def copy(self) -> DetectionTally:
        """An independent copy."""
        out = DetectionTally(self.num_classes, self.thresholds)
        out.merge(self)
        return out

    def ap(self) -> np.ndarray:
        """AP (K, T) per class and threshold; nan for classes without ground truth."""
        out = np.empty((self.num_classes, len(self.thresholds)))
        for k in range(self.num_classes):
            # histogram bins run from low to high score: reverse them for descending order
            out[k] = ap_from_counts(self.tp[k, :, ::-1], self.det[k, ::-1], int(self.gt[k]))
        return out

    def map50(self) -> float | None:
        """mAP at IoU 0.5 (the first threshold), over classes with ground truth."""
        return mean_ap(self.ap()[:, 0])

    def map50_95(self) -> float | None:
        """mAP averaged over all thresholds (COCO's 0.5:0.95 with all-point AP)."""
        ap = self.ap()
        has_gt = self.gt > 0
        return float(ap[has_gt].mean()) if has_gt.any() else None

    def metrics(self) -> dict:
        """`map50`, `map50_95`, per-class AP at 0.5, images and ground-truth boxes (JSON-ready)."""
        ap = self.ap()
        return {"map50": mean_ap(ap[:, 0]), "map50_95": self.map50_95(), "images": self.images,
                "gt_boxes": int(self.gt.sum()), "detections": int(self.det.sum()),
                "ap50_by_class": [None if np.isnan(v) else float(v) for v in ap[:, 0]]}
