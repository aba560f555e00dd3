"""The camera-scale `scenes` data set: determinism, shapes, class balance, boxes inside and tight."""

import numpy as np
import pytest

from cosim.data import list_datasets, load_dataset
from cosim.data.camera import CAMERA, IMAGE_SIZE, MAX_OBJECTS, load_scenes_dataset
from cosim.data.shapes import CLASS_NAMES, generate_scenes
from cosim.errors import DataError


def test_deterministic_per_seed_and_different_across_seeds_and_from_shapes():
    a, b = load_scenes_dataset(3, 80, 20), load_scenes_dataset(3, 80, 20)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert all(np.array_equal(p, q) for p, q in zip(a.boxes_test, b.boxes_test))
    assert not np.array_equal(a.x_train, load_scenes_dataset(4, 80, 20).x_train)
    assert not np.array_equal(a.x_train[:20], a.x_test)


def test_contract_and_registered_in_catalog():
    ds = load_scenes_dataset(0, 60, 30)
    assert ds.image_shape == (3, IMAGE_SIZE, IMAGE_SIZE) == (3, 64, 64)
    assert ds.x_train.dtype == np.float32 and 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert len(ds.boxes_train) == 60 and all(b.shape[1] == 5 for b in ds.boxes_train)
    info = {i.name: i for i in list_datasets()}["scenes"]
    assert info.image_shape == (3, 64, 64) and not info.needs_root and info.num_classes == len(CLASS_NAMES)


def test_boxes_inside_image_tight_and_one_to_four_objects():
    s = generate_scenes(200, np.random.default_rng(1), noise=False, spec=CAMERA)
    counts = np.array([len(b) for b in s.boxes])
    assert counts.min() >= 1 and counts.max() <= MAX_OBJECTS and len(set(counts)) == MAX_OBJECTS
    for boxes, mask in zip(s.boxes, s.masks):
        assert np.all(boxes[:, 1:3] >= 0) and np.all(boxes[:, 3:5] <= IMAGE_SIZE)
        for j, (_, x0, y0, x1, y1) in enumerate(boxes):
            ys, xs = np.nonzero(mask == j)
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)


def test_background_is_textured_not_a_flat_gradient():
    """Without pixel noise, the background still varies beyond a linear ramp (the gratings)."""
    s = generate_scenes(20, np.random.default_rng(2), noise=False, spec=CAMERA)
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]
    residuals = []
    for img, mask in zip(s.images, s.masks):
        bg = mask == -1
        design = np.column_stack([np.ones(bg.sum()), xx[bg], yy[bg]])
        for c in range(3):
            coef, *_ = np.linalg.lstsq(design, img[c][bg], rcond=None)
            residuals.append(np.std(img[c][bg] - design @ coef))
    assert np.median(residuals) > 0.01


def test_class_balance_and_label_is_largest_object():
    s = generate_scenes(600, np.random.default_rng(5), spec=CAMERA)
    counts = np.bincount(s.labels, minlength=len(CLASS_NAMES))
    assert counts.min() >= 0.8 * counts.max()
    for label, b in zip(s.labels, s.boxes):
        area = (b[:, 3] - b[:, 1]) * (b[:, 4] - b[:, 2])
        assert label == int(b[np.argmax(area), 0])


def test_load_dataset_by_name_and_bad_seed():
    ds = load_dataset("scenes")
    assert ds.x_train.shape == (8000, 3, 64, 64) and ds.x_test.shape == (2000, 3, 64, 64)
    with pytest.raises(DataError, match="seed"):
        load_scenes_dataset(-2, 4, 4)


@pytest.mark.parametrize("name", ["scenes", "shapes"])
def test_test_only_load_skips_the_train_split_and_keeps_the_test_split(name):
    part, full = load_dataset(name, test_only=True), load_dataset(name)  # seed 0: shares the cached full set
    assert part.x_train.shape == (0, *full.image_shape) and len(part.boxes_train) == 0
    assert part.image_shape == full.image_shape and part.source == full.source
    np.testing.assert_array_equal(part.x_test, full.x_test)
    np.testing.assert_array_equal(part.y_test, full.y_test)
    assert all(np.array_equal(p, q) for p, q in zip(part.boxes_test, full.boxes_test, strict=True))
    assert load_dataset(name, test_only=True) is part  # cached apart from the full set
    assert load_dataset("digits", test_only=True).x_train.shape[0] > 0  # not procedural: loaded whole
