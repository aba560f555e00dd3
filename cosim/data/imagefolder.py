"""Images in class sub-folders (PNG/JPEG, read with Pillow), resized to a square RGB side.

Layout: root/train/<class>/*.png|jpg|jpeg and root/test/<class>/... (or root/val/<class>/...): the
torchvision `ImageFolder` layout, e.g. a Tiny-ImageNet train folder or a user's own camera images.
Classes are the sorted sub-folder names of train/; a test class must also exist in train/. Each image
is converted to RGB and resized to side x side (bilinear, aspect not kept), like the authors'
`transforms.Resize`. Unreadable or foreign files are a `DataError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cosim.data.dataset import Dataset
from cosim.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")
DEFAULT_SIDE = 64
MAX_IMAGES = 200_000
TEST_FOLDERS = ("test", "val")


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)


def _read(path: Path, side: int) -> np.ndarray:
    """One image as float32 (3, side, side) in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB").resize((side, side), Image.BILINEAR)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image: {exc}") from None
    return np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / np.float32(255.0)


def _split(folder: Path, classes: list[str], side: int) -> tuple[np.ndarray, np.ndarray]:
    index = {name: i for i, name in enumerate(classes)}
    files: list[tuple[Path, int]] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name not in index:
            raise DataError(f"{sub}: class folder not in {folder.parent / 'train'} (classes come from train/)")
        files += [(p, index[sub.name]) for p in _images(sub)]
    if not files:
        raise DataError(f"{folder}: no {'/'.join(EXTENSIONS)} images in class sub-folders")
    if len(files) > MAX_IMAGES:
        raise DataError(f"{folder}: {len(files)} images, more than the {MAX_IMAGES} this loader holds in memory")
    x = np.stack([_read(p, side) for p, _ in files])
    y = np.array([label for _, label in files], dtype=np.int64)
    return x, y


def load_image_folder(root: Path, side: int = DEFAULT_SIDE, name: str = "imagefolder") -> Dataset:
    """Load root/train and root/test (or root/val) class folders, resized to side x side RGB."""
    if not 8 <= side <= 1024:
        raise DataError(f"data set {name!r}: image side must be in 8..1024, got {side}")
    train = root / "train"
    if not train.is_dir():
        raise DataError(f"{train}: missing folder (image folder layout: train/<class>/*.png and test/<class>/)")
    test = next((root / t for t in TEST_FOLDERS if (root / t).is_dir()), None)
    if test is None:
        raise DataError(f"{root / 'test'}: missing folder (also tried val/)")
    classes = sorted(p.name for p in train.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"{train}: no class sub-folders")
    x_train, y_train = _split(train, classes, side)
    x_test, y_test = _split(test, classes, side)
    return Dataset(name=name, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   num_classes=len(classes), class_names=tuple(classes),
                   source=f"image folders ({len(classes)} classes, resized to {side}x{side}) from {root}")
