"""Registry of data sets by name: `load_dataset` (cached for built-ins) and `list_datasets`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cosim.data.dataset import Dataset, DatasetInfo
from cosim.errors import DataError

_ALIASES = {"cifar-10": "cifar10", "cifar-100": "cifar100", "image-folder": "imagefolder", "fashion": "fashion-mnist", "fashionmnist": "fashion-mnist"}


@dataclass(frozen=True)
class _Entry:
    """One registered data set: its listing info and how to load it."""

    info: DatasetInfo
    load: Callable[..., Dataset]
    seeded: bool = False
    generated: bool = False  # procedural: `load(root, seed, train=False)` skips generating the train split


def _digits(root: Path | None, seed: int) -> Dataset:
    from cosim.data.digits import load_digits_dataset
    return load_digits_dataset()


def _shapes(root: Path | None, seed: int, train: bool = True) -> Dataset:
    from cosim.data.shapes import TRAIN_SIZE, load_shapes_dataset
    return load_shapes_dataset(seed, train_size=TRAIN_SIZE if train else 0)


def _scenes(root: Path | None, seed: int, train: bool = True) -> Dataset:
    from cosim.data.camera import TRAIN_SIZE, load_scenes_dataset
    return load_scenes_dataset(seed, train_size=TRAIN_SIZE if train else 0)


def _mnist(root: Path | None, seed: int) -> Dataset:
    from cosim.data.idx import load_mnist_dataset
    assert root is not None
    return load_mnist_dataset(root, "mnist")


def _fashion(root: Path | None, seed: int) -> Dataset:
    from cosim.data.idx import load_mnist_dataset
    assert root is not None
    return load_mnist_dataset(root, "fashion-mnist")


def _cifar10(root: Path | None, seed: int) -> Dataset:
    from cosim.data.cifar import load_cifar10_dataset
    assert root is not None
    return load_cifar10_dataset(root)


def _cifar100(root: Path | None, seed: int) -> Dataset:
    from cosim.data.cifar import load_cifar100_dataset
    assert root is not None
    return load_cifar100_dataset(root, "fine")


def _cifar100_coarse(root: Path | None, seed: int) -> Dataset:
    from cosim.data.cifar import load_cifar100_dataset
    assert root is not None
    return load_cifar100_dataset(root, "coarse")


def _image_folder(root: Path | None, seed: int, side: int = 64) -> Dataset:
    from cosim.data.imagefolder import load_image_folder
    assert root is not None
    return load_image_folder(root, side, "imagefolder" if side == 64 else f"imagefolder-{side}")


def _entries() -> dict[str, _Entry]:
    """All registered data sets, in listing order."""
    from cosim.data import camera, shapes
    return {
        "digits": _Entry(DatasetInfo(
            "digits", (1, 8, 8), 10, "scikit-learn load_digits (bundled)", False, 1347, 450), _digits),
        "shapes": _Entry(DatasetInfo(
            "shapes", (3, shapes.IMAGE_SIZE, shapes.IMAGE_SIZE), len(shapes.CLASS_NAMES),
            "procedural scenes (seeded, with boxes)", False, shapes.TRAIN_SIZE, shapes.TEST_SIZE),
            _shapes, seeded=True, generated=True),
        "scenes": _Entry(DatasetInfo(
            "scenes", (3, camera.IMAGE_SIZE, camera.IMAGE_SIZE), len(shapes.CLASS_NAMES),
            "procedural camera-scale scenes (seeded, textured, with boxes)", False, camera.TRAIN_SIZE,
            camera.TEST_SIZE), _scenes, seeded=True, generated=True),
        "mnist": _Entry(DatasetInfo(
            "mnist", (1, 28, 28), 10, "IDX files (train/t10k-*-ubyte[.gz])", True, 60000, 10000),
            _mnist),
        "fashion-mnist": _Entry(DatasetInfo(
            "fashion-mnist", (1, 28, 28), 10, "IDX files (train/t10k-*-ubyte[.gz])", True,
            60000, 10000), _fashion),
        "cifar10": _Entry(DatasetInfo(
            "cifar10", (3, 32, 32), 10, "CIFAR-10 python batches (cifar-10-batches-py)", True,
            50000, 10000), _cifar10),
        "cifar100": _Entry(DatasetInfo(
            "cifar100", (3, 32, 32), 100, "CIFAR-100 python files (cifar-100-python), fine labels", True,
            50000, 10000), _cifar100),
        "cifar100-coarse": _Entry(DatasetInfo(
            "cifar100-coarse", (3, 32, 32), 20, "CIFAR-100 python files, 20 coarse labels", True,
            50000, 10000), _cifar100_coarse),
        "imagefolder": _Entry(DatasetInfo(
            "imagefolder", (3, 64, 64), 0, "train/<class>/*.png|jpg + test/ (or val/), resized; "
            "imagefolder-N for N x N", True), _image_folder),
    }


def list_datasets() -> list[DatasetInfo]:
    """Every known data set with its image shape, classes, source and whether it needs --root."""
    return [entry.info for entry in _entries().values()]


@functools.lru_cache(maxsize=4)
def _load_builtin(name: str, seed: int, train: bool = True) -> Dataset:
    """Cached load of a data set that needs no root (key ignores the seed if it is unused)."""
    entry = _entries()[name]
    return entry.load(None, seed) if train or not entry.generated else entry.load(None, seed, train=False)


def load_dataset(name: str, root: str | Path | None = None, seed: int = 0, test_only: bool = False) -> Dataset:
    """Load data set `name`; file-based ones read from `root`; built-ins are cached per seed.

    `test_only`: the caller reads only the test split (the engine, evaluation), so a procedural set may
    leave its train split empty instead of generating it (8000 `scenes` images, ~10 s). The test split
    is the same either way: the two come from independent random streams.
    """
    entries = _entries()
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    side = _image_folder_side(key)
    if side is not None:
        key = "imagefolder"
    if key not in entries:
        from cosim.suggest import did_you_mean

        raise DataError(f"unknown data set {name!r}{did_you_mean(key, entries)}; known: {', '.join(entries)}")
    entry = entries[key]
    if not entry.info.needs_root:
        return _load_builtin(key, int(seed) if entry.seeded else 0, not (test_only and entry.generated))
    if root is None:
        raise DataError(f"data set {key!r} is read from files: give the directory holding them "
                        f"(root / --root); nothing is ever downloaded")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataError(f"{path}: data set {key!r} root is not a directory")
    if side is not None:
        return _image_folder(path, int(seed), side)
    return entry.load(path, int(seed))


def _image_folder_side(key: str) -> int | None:
    """The side N of `imagefolder-N` (or None for other names); DataError for a malformed N."""
    if not key.startswith("imagefolder-"):
        return None
    text = key[len("imagefolder-"):]
    if not text.isdigit():
        raise DataError(f"data set {key!r}: expected imagefolder-N with an integer side N")
    return int(text)
