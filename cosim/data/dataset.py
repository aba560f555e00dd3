"""The `Dataset` record every data source returns, and `DatasetInfo` for listings.

Images are float32 (N, C, H, W) in [0, 1], labels int64; arrays are read-only because loaded data
sets are cached and shared between callers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.errors import DataError

Boxes = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Dataset:
    """A labelled image data set split into train and test parts (optionally with boxes)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]
    boxes_train: Boxes | None = None
    boxes_test: Boxes | None = None
    source: str = ""

    def __post_init__(self) -> None:
        """Check shapes, dtypes and ranges, then make the arrays read-only."""
        for part in ("train", "test"):
            x = getattr(self, f"x_{part}")
            y = getattr(self, f"y_{part}")
            if x.dtype != np.float32 or x.ndim != 4:
                raise DataError(f"data set {self.name!r}: x_{part} must be float32 (N, C, H, W), "
                                f"got {x.dtype} {x.shape}")
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise DataError(f"data set {self.name!r}: y_{part} must be int64 ({x.shape[0]},), "
                                f"got {y.dtype} {y.shape}")
            if y.size and (y.min() < 0 or y.max() >= self.num_classes):
                raise DataError(f"data set {self.name!r}: y_{part} has labels outside "
                                f"0..{self.num_classes - 1}")
            boxes = getattr(self, f"boxes_{part}")
            if boxes is not None and len(boxes) != x.shape[0]:
                raise DataError(f"data set {self.name!r}: boxes_{part} has {len(boxes)} entries "
                                f"for {x.shape[0]} images")
            for arr in (x, y, *(boxes or ())):
                arr.setflags(write=False)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(f"data set {self.name!r}: train images {self.x_train.shape[1:]} and "
                            f"test images {self.x_test.shape[1:]} differ in shape")
        if len(self.class_names) != self.num_classes:
            raise DataError(f"data set {self.name!r}: {len(self.class_names)} class names for "
                            f"{self.num_classes} classes")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape (C, H, W) of one image."""
        c, h, w = self.x_train.shape[1:]
        return (int(c), int(h), int(w))


@dataclass(frozen=True)
class DatasetInfo:
    """What `cosim data list` shows about a data set without loading it."""

    name: str
    image_shape: tuple[int, int, int]
    num_classes: int
    source: str
    needs_root: bool
    train_size: int | None = None
    test_size: int | None = None
