"""mAP of a detection codec versus bit error rate (and of the int8 split baseline, no ARQ).

Same protocol as `cosim.codec.evaluate` for classifiers: per (BER, realisation) the payload bits are
flipped from a stream seeded by (seed, realisation, BER, stream), so codecs with equal payload sizes see
identical error positions; the decoder is told the true BER; mean and 95 % Student-t interval over
realisations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cosim.channel.errors import flip_bits
from cosim.codec.evaluate import DEFAULT_BERS, AccuracyStat, error_rng, summarise
from cosim.tasks.detection.tally import DetectionTally


@dataclass(frozen=True)
class DetectionEvaluation:
    """mAP@0.5 and mAP@0.5:0.95 of a detection codec (and optionally the int8 baseline) at each BER."""

    bers: tuple[float, ...]
    map50: tuple[AccuracyStat, ...]
    map50_95: tuple[AccuracyStat, ...]
    int8_map50: tuple[AccuracyStat, ...] | None
    int8_map50_95: tuple[AccuracyStat, ...] | None
    realisations: int
    seed: int
    samples: int


def tally_of(detections: Sequence, boxes: Sequence[np.ndarray], num_classes: int) -> DetectionTally:
    """Tally of per-image `Detections` against ground-truth rows (class, x0, y0, x1, y1)."""
    tally = DetectionTally(num_classes)
    for det, gt in zip(detections, boxes):
        tally.add(det.match(gt, num_classes))
    return tally


def detector_map50(model, x: torch.Tensor, boxes: Sequence[np.ndarray], chunk: int = 512) -> float:
    """mAP@0.5 of the uncompressed detector (`SplitModel` with task detection) on images x."""
    from cosim.tasks.detection.model import decode

    cfg = model.config
    dets = []
    with torch.no_grad():
        for start in range(0, x.shape[0], chunk):
            out = model.backbone(x[start:start + chunk])
            stride = cfg.image_shape[-1] / out.shape[-1]
            dets += decode(out, cfg.num_classes, stride, cfg.image_shape[1:])
    return tally_of(dets, boxes, cfg.num_classes).map50() or 0.0


def map_under_errors(decode: Callable[[np.ndarray, float], Sequence], payloads: np.ndarray,
                     boxes: Sequence[np.ndarray], num_classes: int, nbits: int, ber: float, realisations: int,
                     seed: int, stream: int, batch: int = 256) -> tuple[AccuracyStat, AccuracyStat]:
    """(mAP@0.5, mAP@0.5:0.95) of `decode(corrupted payloads, ber)` over independent error draws."""
    m50, m5095 = [], []
    for r in range(realisations if ber > 0 else 1):
        corrupted = flip_bits(payloads, ber, error_rng(seed, r, ber, stream), nbits=nbits)[0] if ber > 0 else payloads
        dets = [d for i in range(0, len(payloads), batch) for d in decode(corrupted[i:i + batch], ber)]
        tally = tally_of(dets, boxes, num_classes)
        m50.append(tally.map50() or 0.0)
        m5095.append(tally.map50_95() or 0.0)
    if ber <= 0:  # error-free: every realisation is identical
        m50, m5095 = m50 * realisations, m5095 * realisations
    return summarise(m50), summarise(m5095)


def evaluate_detector(codec, x: np.ndarray, boxes: Sequence[np.ndarray], bers: Sequence[float] = DEFAULT_BERS,
                      realisations: int = 5, seed: int = 0, int8: bool = True) -> DetectionEvaluation:
    """mAP of detection `codec` on (x, boxes) at each BER (oracle BER estimate), and of the int8 baseline."""
    if realisations < 1:
        raise ValueError("realisations must be at least 1")
    k = codec.meta.num_classes
    payloads = codec.encode(x)
    sem = [map_under_errors(codec.decode_classify, payloads, boxes, k, codec.meta.payload_bits, b, realisations,
                            seed, stream=0) for b in bers]
    base = None
    if int8:
        raw = codec.split_int8(x)
        base = [map_under_errors(lambda p, b: codec.classify_split_int8(p), raw, boxes, k, raw.shape[1] * 8, b,
                                 realisations, seed, stream=1) for b in bers]
    return DetectionEvaluation(
        bers=tuple(float(b) for b in bers), map50=tuple(s[0] for s in sem), map50_95=tuple(s[1] for s in sem),
        int8_map50=tuple(s[0] for s in base) if base else None,
        int8_map50_95=tuple(s[1] for s in base) if base else None,
        realisations=realisations, seed=seed, samples=len(boxes))
