"""Confidence intervals for proportions (accuracy, delivery, miss ratios) that stay inside [0, 1]."""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson(successes, trials, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (lower, upper) of `successes` out of `trials`, elementwise; NaN where
    trials == 0. Unlike the Wald or Student-t interval it never leaves [0, 1] and keeps its coverage
    near 0 and 1 with few trials (Brown, Cai & DasGupta 2001, Statist. Sci. 16(2))."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        lo = np.clip(centre - half, 0.0, 1.0)
        hi = np.clip(centre + half, 0.0, 1.0)
    lo = np.where(k <= 0, 0.0, lo)  # exact at the ends (rounding left 1 - 1e-16)
    hi = np.where(k >= n, 1.0, hi)
    bad = ~(n > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
