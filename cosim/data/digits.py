"""The `digits` data set: scikit-learn's bundled 8×8 handwritten digits (no download).

Pixels 0..16 are scaled to [0, 1]; the 75/25 stratified split uses a fixed seed, so it is always
the same whatever seed the caller passes.
"""

from __future__ import annotations

import numpy as np

from cosim.data.dataset import Dataset

SPLIT_SEED = 0
TEST_FRACTION = 0.25
SOURCE = "scikit-learn load_digits (UCI optical recognition of handwritten digits, 8x8, bundled)"


def load_digits_dataset() -> Dataset:
    """Load digits as (N, 1, 8, 8) float32 with the fixed stratified train/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / np.float32(16.0))[:, None, :, :]
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=SPLIT_SEED)
    return Dataset(
        name="digits",
        x_train=np.ascontiguousarray(x_train), y_train=np.ascontiguousarray(y_train),
        x_test=np.ascontiguousarray(x_test), y_test=np.ascontiguousarray(y_test),
        num_classes=10, class_names=tuple(str(d) for d in range(10)), source=SOURCE)
