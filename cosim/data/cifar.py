"""CIFAR-10 and CIFAR-100 from their python pickles in a user-given folder.

CIFAR-10: data_batch_1..5, test_batch, batches.meta (in root or root/cifar-10-batches-py), labels
b"labels" in 0..9. CIFAR-100: train, test, meta (in root or root/cifar-100-python), labels b"fine_labels"
(0..99, data set `cifar100`) or b"coarse_labels" (0..19, `cifar100-coarse`), names from meta's
b"fine_label_names" / b"coarse_label_names". Pickles are read with `safe_pickle` (no code can run);
each file must be a dict with b"data" uint8 (n, 3072) and its label list. Any problem is a `DataError`
naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cosim.data.dataset import Dataset
from cosim.data.files import find_file
from cosim.data.safe_pickle import safe_load
from cosim.errors import DataError

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
SUBDIRS = ("", "cifar-10-batches-py")
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_PIXELS = 3 * 32 * 32
MAX_FILE_BYTES = 1 << 30


def _load_pickle(path: Path) -> dict[bytes, Any]:
    """A pickled dict with its keys as bytes (str keys are encoded)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DataError(f"{path}: file larger than {MAX_FILE_BYTES} bytes")
        with path.open("rb") as f:
            obj = safe_load(f, str(path))
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return {k.encode() if isinstance(k, str) else k: v for k, v in obj.items()}


def _read_batch(path: Path, label_key: bytes = b"labels", classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Raw pixels uint8 (n, 3072) and labels int64 (`label_key`, in 0..classes-1) of one batch file."""
    batch = _load_pickle(path)
    for key in (b"data", label_key):
        if key not in batch:
            raise DataError(f"{path}: missing key {key!r}")
    data = batch[b"data"]
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != _PIXELS):
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{path}: b'data' must be a uint8 array (n, {_PIXELS}), got {desc}")
    try:
        labels = np.asarray(batch[label_key])
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: {label_key!r} is not a list of integers: {exc}") from None
    if labels.ndim != 1 or labels.shape[0] != data.shape[0] or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: {label_key!r} must hold {data.shape[0]} integers, "
                        f"got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > classes - 1):
        raise DataError(f"{path}: labels outside 0..{classes - 1} (min {labels.min()}, max {labels.max()})")
    return data, labels.astype(np.int64)


def _to_images(data: np.ndarray) -> np.ndarray:
    """uint8 (n, 3072) rows (R, G, B planes) to float32 (n, 3, 32, 32) in [0, 1]."""
    x = data.reshape(-1, 3, 32, 32).astype(np.float32)
    x /= np.float32(255.0)
    return x


def _class_names(root: Path, meta: str = META, subdirs: tuple[str, ...] = SUBDIRS,
                 key: bytes = b"label_names", default: tuple[str, ...] | None = CLASS_NAMES) -> tuple[str, ...]:
    """Label names from the meta file if present (validated), else `default` (or numbers)."""
    count = len(default) if default is not None else None
    try:
        path = find_file(root, (meta,), subdirs)
    except DataError:
        if default is None:
            raise
        return default
    names = _load_pickle(path).get(key)
    if (not isinstance(names, list) or (count is not None and len(names) != count)
            or not all(isinstance(n, (bytes, str)) for n in names)):
        raise DataError(f"{path}: {key!r} must be a list of {count or 'the'} names")
    return tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names)


def load_cifar10_dataset(root: Path) -> Dataset:
    """Load CIFAR-10 from root or root/cifar-10-batches-py."""
    parts = [_read_batch(find_file(root, (name,), SUBDIRS, "CIFAR-10 python batch"))
             for name in (*TRAIN_BATCHES, TEST_BATCH)]
    x_train = _to_images(np.concatenate([x for x, _ in parts[:-1]]))
    y_train = np.concatenate([y for _, y in parts[:-1]])
    x_test, y_test = _to_images(parts[-1][0]), parts[-1][1]
    return Dataset(name="cifar10", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   num_classes=10, class_names=_class_names(root),
                   source=f"CIFAR-10 python batches (Krizhevsky 2009) from {root}")


CIFAR100_SUBDIRS = ("", "cifar-100-python")
CIFAR100_LABELS = {"fine": (b"fine_labels", b"fine_label_names", 100),
                   "coarse": (b"coarse_labels", b"coarse_label_names", 20)}


def load_cifar100_dataset(root: Path, labels: str = "fine") -> Dataset:
    """Load CIFAR-100 (python version: train, test, meta) from root or root/cifar-100-python."""
    label_key, names_key, classes = CIFAR100_LABELS[labels]
    parts = [_read_batch(find_file(root, (name,), CIFAR100_SUBDIRS, "CIFAR-100 python file"), label_key, classes)
             for name in ("train", "test")]
    try:
        names = _class_names(root, "meta", CIFAR100_SUBDIRS, names_key, default=None)
    except DataError as exc:
        if "missing file" not in str(exc):
            raise
        names = tuple(str(i) for i in range(classes))
    if len(names) != classes:
        raise DataError(f"{root}: CIFAR-100 meta {names_key!r} has {len(names)} names, expected {classes}")
    name = "cifar100" if labels == "fine" else "cifar100-coarse"
    return Dataset(name=name, x_train=_to_images(parts[0][0]), y_train=parts[0][1], x_test=_to_images(parts[1][0]),
                   y_test=parts[1][1], num_classes=classes, class_names=names,
                   source=f"CIFAR-100 python files ({labels} labels, Krizhevsky 2009) from {root}")
