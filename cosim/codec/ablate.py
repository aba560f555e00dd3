"""Ablations over training seeds: the full method and each part removed, accuracy versus BER.

Every variant retrains the codec (encoder, quantizer, decoder) on one frozen backbone for each seed and
is evaluated on the test split at each BER over error realisations (common random numbers: every
variant and seed sees the same error draws). The summary per variant and BER is the mean over seeds of
the per-seed mean accuracy, with a 95 % Student-t interval over seeds (the training seed moves the
result more than the error draws do).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cosim.codec.evaluate import AccuracyStat, evaluate_codec, summarise

# What each ablation changes in the training config (the full method changes nothing).
ABLATIONS: dict[str, dict] = {
    "full": {},
    "no-fal": {"fal": False, "single_stage": True},  # one task stage on clean symbols
    "ber-unaware": {"ber_aware": False},
    "no-xai": {"xai": False},
    "no-usage": {"hist_weight": 0.0},
}


@dataclass(frozen=True)
class VariantResult:
    """One variant: per-seed mean accuracy at each BER, and the summary over seeds."""

    name: str
    seeds: tuple[int, ...]
    per_seed: tuple[tuple[float, ...], ...]  # [seed][ber]
    summary: tuple[AccuracyStat, ...]  # per BER, over seeds
    train_seconds: float


@dataclass(frozen=True)
class AblationResult:
    """All variants on the same BERs, seeds and error draws."""

    bers: tuple[float, ...]
    realisations: int
    variants: tuple[VariantResult, ...]


def run_ablation(base, variants: Sequence[str], seeds: Sequence[int], bers: Sequence[float],
                 realisations: int, backbone_state: dict | None,
                 train: Callable | None = None, log: Callable[[str], None] | None = None) -> AblationResult:
    """Train `base` (a TrainConfig) with each ablation in `variants` for each seed and evaluate."""
    import time

    from cosim.codec.service import Codec
    from cosim.codec.train import train_codec
    from cosim.data import load_dataset

    unknown = [v for v in variants if v not in ABLATIONS]
    if unknown:
        raise ValueError(f"unknown ablation {unknown[0]!r}; known: {', '.join(ABLATIONS)}")
    train = train or train_codec
    data = load_dataset(base.dataset, root=base.root)
    results = []
    for name in variants:
        per_seed, seconds = [], 0.0
        for seed in seeds:
            cfg = dataclasses.replace(base, seed=int(seed), name=f"{name}-s{seed}", **ABLATIONS[name])
            start = time.perf_counter()
            result = train(cfg, None, backbone_state=backbone_state)
            seconds += time.perf_counter() - start
            ev = evaluate_codec(Codec(result.model, name=cfg.name), data.x_test, data.y_test, bers=bers,
                                realisations=realisations, seed=0, int8=False, float_device=False)
            per_seed.append(tuple(s.mean for s in ev.semantic))
            if log:
                log(f"{name} seed {seed}: " + ", ".join(f"BER {b:g} {a:.4f}" for b, a in zip(bers, per_seed[-1])))
        arr = np.asarray(per_seed)
        results.append(VariantResult(name=name, seeds=tuple(int(s) for s in seeds), per_seed=tuple(per_seed),
                                     summary=tuple(summarise(arr[:, j]) for j in range(len(bers))),
                                     train_seconds=seconds))
    return AblationResult(bers=tuple(float(b) for b in bers), realisations=realisations, variants=tuple(results))
