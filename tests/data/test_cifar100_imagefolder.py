"""CIFAR-100 python files and image-folder layouts, on tiny generated files."""

import pickle

import numpy as np
import pytest
from PIL import Image

from cosim.data import list_datasets, load_dataset
from cosim.errors import DataError

RNG = np.random.default_rng(1)


def _write_cifar100(folder, n_train=7, n_test=4, meta=True):
    folder.mkdir(parents=True, exist_ok=True)
    parts = {}
    for name, n in (("train", n_train), ("test", n_test)):
        part = {b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"fine_labels": [int(v) for v in RNG.integers(0, 100, n)],
                b"coarse_labels": [int(v) for v in RNG.integers(0, 20, n)]}
        (folder / name).write_bytes(pickle.dumps(part, protocol=2))
        parts[name] = part
    if meta:
        names = {b"fine_label_names": [f"f{i}".encode() for i in range(100)],
                 b"coarse_label_names": [f"c{i}".encode() for i in range(20)]}
        (folder / "meta").write_bytes(pickle.dumps(names))
    return parts


def test_cifar100_fine_and_coarse(tmp_path):
    parts = _write_cifar100(tmp_path / "cifar-100-python")
    fine = load_dataset("cifar100", root=tmp_path)
    coarse = load_dataset("cifar100-coarse", root=tmp_path)
    assert fine.num_classes == 100 and coarse.num_classes == 20
    assert fine.class_names[3] == "f3" and coarse.class_names[19] == "c19"
    np.testing.assert_array_equal(fine.y_train, parts["train"][b"fine_labels"])
    np.testing.assert_array_equal(coarse.y_test, parts["test"][b"coarse_labels"])
    first = parts["train"][b"data"][0].reshape(3, 32, 32) / np.float32(255)
    np.testing.assert_allclose(fine.x_train[0], first, atol=1e-7)
    assert fine.x_train.shape == (7, 3, 32, 32)


def test_cifar100_without_meta_numbers_classes_and_bad_labels_are_named(tmp_path):
    parts = _write_cifar100(tmp_path, meta=False)
    assert load_dataset("cifar100", root=tmp_path).class_names[:2] == ("0", "1")
    parts["test"][b"fine_labels"][0] = 100
    (tmp_path / "test").write_bytes(pickle.dumps(parts["test"]))
    with pytest.raises(DataError, match=r"test: labels outside 0\.\.99"):
        load_dataset("cifar100", root=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="missing file"):
        load_dataset("cifar100", root=empty)


def _write_folder(root, split, classes, per_class=2, size=(20, 12), fmt="PNG"):
    for c in classes:
        (root / split / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = RNG.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / split / c / f"{i}.{'png' if fmt == 'PNG' else 'jpg'}", fmt)


def test_image_folder_loads_resized_rgb(tmp_path):
    _write_folder(tmp_path, "train", ["cat", "ant", "bee"])
    _write_folder(tmp_path, "val", ["bee", "ant"], per_class=1, fmt="JPEG")
    Image.fromarray(np.full((5, 5), 128, np.uint8), "L").save(tmp_path / "train" / "cat" / "grey.png")
    ds = load_dataset("imagefolder", root=tmp_path)
    assert ds.class_names == ("ant", "bee", "cat") and ds.image_shape == (3, 64, 64)
    assert np.bincount(ds.y_train).tolist() == [2, 2, 3] and sorted(ds.y_test.tolist()) == [0, 1]
    grey = ds.x_train[-1]  # the grey PNG (sorted last in cat/): converted to RGB, resized, flat 128/255
    np.testing.assert_allclose(grey, 128 / 255, atol=1e-6)
    assert load_dataset("imagefolder-32", root=tmp_path).image_shape == (3, 32, 32)
    assert "imagefolder" in {i.name for i in list_datasets()}


def test_image_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="train: missing folder"):
        load_dataset("imagefolder", root=tmp_path)
    _write_folder(tmp_path, "train", ["a"])
    with pytest.raises(DataError, match="test: missing folder"):
        load_dataset("imagefolder", root=tmp_path)
    _write_folder(tmp_path, "test", ["zzz"])
    with pytest.raises(DataError, match="zzz: class folder not in"):
        load_dataset("imagefolder", root=tmp_path)
    (tmp_path / "test" / "zzz").rename(tmp_path / "test" / "a2")
    (tmp_path / "test" / "a2").rename(tmp_path / "test" / "a")
    (tmp_path / "test" / "a" / "0.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="0.png: not a readable image"):
        load_dataset("imagefolder", root=tmp_path)
    with pytest.raises(DataError, match="imagefolder-N"):
        load_dataset("imagefolder-x", root=tmp_path)
