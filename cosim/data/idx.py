"""MNIST and Fashion-MNIST from IDX files (raw or .gz) in a user-given folder; nothing is downloaded.

Headers are checked (magic 0x00000803 images / 0x00000801 labels, unsigned bytes), as are sizes
(no truncation, no trailing bytes), matching counts and label range; any problem is a `DataError`
naming the file.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cosim.data.dataset import Dataset
from cosim.data.files import find_file
from cosim.errors import DataError

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
MAX_BYTES = 1 << 28
"""Largest IDX array read (256 MiB; MNIST's train images are 47 MB): a header, or a .gz file, announcing
more is refused before anything is decompressed beyond the header, so the memory estimate holds."""

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
_VARIANTS = {
    "mnist": (tuple(str(d) for d in range(10)), ("", "raw", "MNIST/raw"),
              "MNIST IDX files (LeCun et al.)"),
    "fashion-mnist": (FASHION_CLASSES, ("", "raw", "FashionMNIST/raw"),
                      "Fashion-MNIST IDX files (Zalando Research)"),
}


def _open(path: Path) -> BinaryIO:
    """Open a raw or gzip-compressed file for binary reading."""
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else path.open("rb")  # type: ignore[return-value]


def read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Read an unsigned-byte IDX array with the expected magic number and number of dimensions."""
    try:
        with _open(path) as f:
            header = f.read(4)
            if len(header) < 4:
                raise DataError(f"{path}: truncated IDX header ({len(header)} of 4 bytes)")
            found = struct.unpack(">I", header)[0]
            if found != magic:
                raise DataError(f"{path}: wrong IDX magic number 0x{found:08x}, expected 0x{magic:08x}")
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path}: truncated IDX header (dimension sizes)")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            size = math.prod(dims)  # Python ints: 2**32-sized dimensions overflowed int64
            if size > MAX_BYTES:
                raise DataError(f"{path}: IDX header announces {dims} = {size:,} bytes, more than the "
                                f"{MAX_BYTES >> 20} MiB an IDX file of cosim may hold")
            data = f.read(size)
            if len(data) < size:
                raise DataError(f"{path}: truncated: {len(data)} of {size} data bytes for shape {dims}")
            if f.read(1):
                raise DataError(f"{path}: trailing bytes after {size} data bytes for shape {dims}")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read IDX file: {exc}") from exc
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _read_split(root: Path, split: str, subdirs: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N,1,H,W) float32 in [0, 1] and labels int64 of the `train` or `t10k` split."""
    paths = []
    for kind, idx in (("images", "idx3"), ("labels", "idx1")):
        names = (f"{split}-{kind}-{idx}-ubyte", f"{split}-{kind}-{idx}-ubyte.gz",
                 f"{split}-{kind}.{idx}-ubyte", f"{split}-{kind}.{idx}-ubyte.gz")
        paths.append(find_file(root, names, subdirs))
    images = read_idx(paths[0], IMAGES_MAGIC, 3)
    labels = read_idx(paths[1], LABELS_MAGIC, 1)
    if labels.shape[0] != images.shape[0]:
        raise DataError(f"{paths[1]}: {labels.shape[0]} labels for {images.shape[0]} images in {paths[0]}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{paths[1]}: label {int(labels.max())} outside 0..9")
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise DataError(f"{paths[0]}: empty image array of shape {images.shape}")
    x = (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    return x, labels.astype(np.int64)


def load_mnist_dataset(root: Path, name: str = "mnist") -> Dataset:
    """Load `mnist` or `fashion-mnist` from IDX files in root (or root/raw, torchvision layout)."""
    if name not in _VARIANTS:
        raise DataError(f"unknown IDX data set {name!r}; known: {', '.join(_VARIANTS)}")
    class_names, subdirs, source = _VARIANTS[name]
    x_train, y_train = _read_split(root, "train", subdirs)
    x_test, y_test = _read_split(root, "t10k", subdirs)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{root}: train images are {x_train.shape[2:]} but t10k images are "
                        f"{x_test.shape[2:]}")
    return Dataset(name=name, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   num_classes=10, class_names=class_names, source=f"{source} from {root}")
