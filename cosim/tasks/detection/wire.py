"""Detections as bytes: what a device running the whole detector (strategy `local`) sends.

Fixed size, so every sample's payload has the same length: one count byte, then MAX_DETECTIONS records of
6 bytes in descending score order (unused records zero): class, score x 255, and x0, y0, x1, y1 scaled
to 0..255 across the image (1/8 px steps on 32 px images). 1 + 6 x 10 = 61 bytes (488 bits).
Unpacking maps scores back onto the 1/1000 grid of `cosim.tasks.detection.ap`; corrupted bytes (sent without
ARQ) decode to whatever they say, after clipping the count, dropping invalid classes and zero scores
(padding), and ordering corners.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cosim.tasks.detection.ap import SCORE_LEVELS
from cosim.tasks.detection.model import MAX_DETECTIONS, Detections, as_object_array

RECORD_BYTES = 6
PAYLOAD_BYTES = 1 + RECORD_BYTES * MAX_DETECTIONS


def pack_detections(dets: Sequence[Detections], image_hw: tuple[int, int]) -> np.ndarray:
    """uint8 (N, PAYLOAD_BYTES) payloads of per-image detections (at most MAX_DETECTIONS each)."""
    height, width = image_hw
    scale = np.array([255.0 / width, 255.0 / height, 255.0 / width, 255.0 / height])
    out = np.zeros((len(dets), PAYLOAD_BYTES), dtype=np.uint8)
    for i, d in enumerate(dets):
        order = np.argsort(-np.asarray(d.scores), kind="stable")[:MAX_DETECTIONS]
        n = len(order)
        out[i, 0] = n
        if n:
            rec = np.empty((n, RECORD_BYTES))
            rec[:, 0] = np.asarray(d.classes)[order]
            rec[:, 1] = np.rint(np.asarray(d.scores, dtype=np.float64)[order] * 255.0)
            rec[:, 2:] = np.rint(np.asarray(d.boxes, dtype=np.float64)[order] * scale)
            out[i, 1:1 + n * RECORD_BYTES] = np.clip(rec, 0, 255).astype(np.uint8).reshape(-1)
    return out


def unpack_detections(packed: np.ndarray, image_hw: tuple[int, int], num_classes: int) -> np.ndarray:
    """Object array of `Detections` from payloads (B, PAYLOAD_BYTES), possibly corrupted."""
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.ndim != 2 or packed.shape[1] != PAYLOAD_BYTES:
        raise ValueError(f"detection payloads must be (B, {PAYLOAD_BYTES}) uint8, got {packed.shape}")
    height, width = image_hw
    scale = np.array([width / 255.0, height / 255.0, width / 255.0, height / 255.0])
    recs = packed[:, 1:].reshape(len(packed), MAX_DETECTIONS, RECORD_BYTES).astype(np.float64)
    counts = np.minimum(packed[:, 0], MAX_DETECTIONS)
    out = []
    for i in range(len(packed)):
        r = recs[i, :counts[i]]
        r = r[(r[:, 0] < num_classes) & (r[:, 1] > 0)]  # invalid classes; score 0 is padding
        corners = r[:, 2:] * scale
        boxes = np.column_stack([np.minimum(corners[:, 0], corners[:, 2]), np.minimum(corners[:, 1], corners[:, 3]),
                                 np.maximum(corners[:, 0], corners[:, 2]), np.maximum(corners[:, 1], corners[:, 3])])
        scores = np.rint(r[:, 1] / 255.0 * SCORE_LEVELS) / SCORE_LEVELS
        out.append(Detections(boxes.astype(np.float32).reshape(-1, 4), scores.astype(np.float32),
                              r[:, 0].astype(np.int64)))
    return as_object_array(out)
