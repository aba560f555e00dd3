"""Accuracy versus bit error rate of a codec and of the bit-exact int8 split baseline (no ARQ).

Each (BER, realisation) pair draws its errors from its own seeded stream, keyed by the BER value, so
two codecs with equal payload sizes see identical error positions (common random numbers), and
evaluating a different list of BERs does not change the result at a given BER.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cosim.channel.errors import flip_bits

DEFAULT_BERS = (0.0, 1e-3, 1e-2, 5e-2, 0.1)


@dataclass(frozen=True)
class AccuracyStat:
    """Accuracy over error realisations: mean, 95 % t-interval half-width (nan if one), values."""

    mean: float
    ci95: float
    values: tuple[float, ...]


@dataclass(frozen=True)
class CodecEvaluation:
    """Accuracy of a codec (and optionally the int8 split baseline) at each BER."""

    bers: tuple[float, ...]
    semantic: tuple[AccuracyStat, ...]
    int8: tuple[AccuracyStat, ...] | None
    realisations: int
    seed: int
    samples: int
    float_device: tuple[AccuracyStat, ...] | None = None  # same codec, float32 stem + encoder (if int8)


def summarise(values: Sequence[float]) -> AccuracyStat:
    """Mean and 95 % Student-t half-width of `values`."""
    arr = np.asarray(values, dtype=np.float64)
    n = arr.size
    if n >= 2:
        ci = float(stats.t.ppf(0.975, n - 1) * arr.std(ddof=1) / math.sqrt(n))
    else:
        ci = float("nan")
    return AccuracyStat(mean=float(arr.mean()), ci95=ci, values=tuple(float(v) for v in arr))


def error_rng(seed: int, realisation: int, ber: float, stream: int) -> np.random.Generator:
    """The bit-error stream of one (seed, realisation, BER, stream): shared by every task's evaluation."""
    key = round(ber * 1e12)
    return np.random.default_rng(np.random.SeedSequence([seed, realisation, key, stream]))


def accuracy_under_errors(decode, payloads: np.ndarray, labels: np.ndarray, nbits: int, ber: float,
                          realisations: int, seed: int, stream: int, batch: int = 256) -> AccuracyStat:
    """Accuracy of `decode(corrupted payloads, ber)` over `realisations` independent error draws."""
    accs = []
    for r in range(realisations if ber > 0 else 1):
        rng = error_rng(seed, r, ber, stream)
        corrupted, _ = flip_bits(payloads, ber, rng, nbits=nbits) if ber > 0 else (payloads, None)
        preds = np.concatenate([decode(corrupted[i:i + batch], ber) for i in range(0, len(labels), batch)])
        accs.append(float(np.mean(preds == labels)))
    if ber <= 0:  # error-free: every realisation is identical
        accs = accs * realisations
    return summarise(accs)


def evaluate_codec(codec, x: np.ndarray, y: np.ndarray, bers: Sequence[float] = DEFAULT_BERS,
                   realisations: int = 5, seed: int = 0, int8: bool = True,
                   float_device: bool = True) -> CodecEvaluation:
    """Accuracy of `codec` on (x, y) at each BER (oracle BER estimate), of the int8 split baseline, and,
    for a codec with an int8 device side, of the same codec with a float32 device side (same errors)."""
    if realisations < 1:
        raise ValueError("realisations must be at least 1")
    from cosim.tasks.base import DEFAULT_TASK, get_task

    task = getattr(codec.meta, "task", DEFAULT_TASK)
    if not get_task(task).scalar_accuracy:
        raise ValueError(f"codec {codec.meta.name!r} is a {task} codec: accuracy needs class predictions "
                         f"(detection: cosim.tasks.detection.evaluate.evaluate_detector)")
    y = np.asarray(y, dtype=np.int64)
    payloads = codec.encode(x)
    # an encoder fed the channel state (ADJSCC) is told the true BER too (oracle), like the decoder
    sem = tuple(accuracy_under_errors(codec.decode_classify, codec.encode(x, ber=b) if codec.meta.encoder_uses_ber
                                      else payloads, y, codec.meta.payload_bits, b, realisations, seed, stream=0)
                for b in bers)
    flt = None
    if float_device and codec.meta.device_int8:
        payloads_f = codec.encode(x, float_device=True)
        flt = tuple(accuracy_under_errors(codec.decode_classify, payloads_f, y, codec.meta.payload_bits, b,
                                          realisations, seed, stream=0) for b in bers)
    base = None
    if int8:
        raw = codec.split_int8(x)

        def decode_int8(packed: np.ndarray, ber: float) -> np.ndarray:
            return codec.classify_split_int8(packed)

        base = tuple(accuracy_under_errors(decode_int8, raw, y, raw.shape[1] * 8, b, realisations, seed,
                                           stream=1) for b in bers)
    return CodecEvaluation(bers=tuple(float(b) for b in bers), semantic=sem, int8=base,
                           realisations=realisations, seed=seed, samples=len(y), float_device=flt)


@dataclass(frozen=True)
class ErasureEvaluation:
    """Accuracy when each of `frames` frames of a payload is lost with probability p (no bit errors):
    decoding the erased symbols, versus losing the whole inference when any frame is lost."""

    frames: int
    loss_probs: tuple[float, ...]
    erased: tuple[AccuracyStat, ...]
    whole_inference_lost: tuple[AccuracyStat, ...]


def evaluate_erasures(codec, x: np.ndarray, y: np.ndarray, frames: int, loss_probs: Sequence[float],
                      realisations: int = 5, seed: int = 0) -> ErasureEvaluation:
    """Accuracy under independent frame losses: erased-symbol decoding and the all-or-nothing receiver
    (same loss draws: an inference with any frame lost counts as wrong)."""
    from cosim.codec.erasure import erased_symbols, frame_byte_ranges

    y = np.asarray(y, dtype=np.int64)
    m = codec.meta
    payloads = codec.encode(x)
    per_frame = np.stack([erased_symbols(m.num_symbols, m.bits, [r]) for r in frame_byte_ranges(m.payload_bytes, frames)])
    clean = codec.decode_classify(payloads, 0.0) == y
    erased_stats, whole_stats = [], []
    for p in loss_probs:
        erased_acc, whole_acc = [], []
        for r in range(realisations):
            rng = error_rng(seed, r, p, stream=2)
            lost = rng.random((len(y), frames)) < p
            mask = (lost.astype(np.float32) @ per_frame.astype(np.float32)) > 0
            preds = np.concatenate([codec.decode_classify(payloads[i:i + 256], 0.0, erased=mask[i:i + 256])
                                    for i in range(0, len(y), 256)])
            erased_acc.append(float(np.mean(preds == y)))
            whole_acc.append(float(np.mean(clean & ~lost.any(axis=1))))
        erased_stats.append(summarise(erased_acc))
        whole_stats.append(summarise(whole_acc))
    return ErasureEvaluation(frames=frames, loss_probs=tuple(float(p) for p in loss_probs),
                             erased=tuple(erased_stats), whole_inference_lost=tuple(whole_stats))
