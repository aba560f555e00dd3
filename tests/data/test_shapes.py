"""The procedural shapes data set: determinism, boxes against drawn pixels, labels, balance."""

import numpy as np
import pytest

from cosim.data import load_dataset
from cosim.data.shapes import (
    CLASS_NAMES,
    IMAGE_SIZE,
    generate_scenes,
    load_shapes_dataset,
)
from cosim.errors import DataError


def _scenes(seed: int, n: int = 300, noise: bool = True):
    return generate_scenes(n, np.random.default_rng(seed), noise=noise)


def test_deterministic_per_seed_and_different_across_seeds():
    a, b = load_shapes_dataset(5, 120, 40), load_shapes_dataset(5, 120, 40)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert all(np.array_equal(p, q) for p, q in zip(a.boxes_train, b.boxes_train))
    c = load_shapes_dataset(6, 120, 40)
    assert not np.array_equal(a.x_train, c.x_train)
    assert not np.array_equal(a.x_train[:40], a.x_test)          # train and test streams differ


def test_dataset_contract():
    ds = load_shapes_dataset(0, 60, 30)
    assert ds.image_shape == (3, IMAGE_SIZE, IMAGE_SIZE) and ds.num_classes == len(CLASS_NAMES) >= 4
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert len(ds.boxes_train) == 60 and len(ds.boxes_test) == 30
    assert all(b.dtype == np.float32 and b.ndim == 2 and b.shape[1] == 5 for b in ds.boxes_train)


def test_boxes_inside_image_and_one_to_three_shapes():
    s = _scenes(1)
    counts = np.array([len(b) for b in s.boxes])
    assert counts.min() >= 1 and counts.max() <= 3 and len(set(counts)) == 3
    for b in s.boxes:
        assert np.all(b[:, 1:3] >= 0) and np.all(b[:, 3:5] <= IMAGE_SIZE)
        assert np.all(b[:, 3] > b[:, 1]) and np.all(b[:, 4] > b[:, 2])
        assert set(b[:, 0].astype(int)) <= set(range(len(CLASS_NAMES)))


def test_boxes_are_tight_bounds_of_the_drawn_pixels():
    s = _scenes(2, n=200, noise=False)
    for img, boxes, mask in zip(s.images, s.boxes, s.masks):
        assert set(np.unique(mask)) == set(range(-1, len(boxes)))
        for j, (_, x0, y0, x1, y1) in enumerate(boxes):
            ys, xs = np.nonzero(mask == j)
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)
            colours = img[:, ys, xs]
            colour = colours[:, :1]
            assert np.all(colours == colour)                     # one flat colour per shape
            outside = img[:, mask != j]
            assert not np.any(np.all(outside == colour, axis=0))  # nowhere else drawn in it


def test_noise_does_not_move_shapes():
    clean, noisy = _scenes(3, 100, noise=False), _scenes(3, 100, noise=True)
    np.testing.assert_array_equal(clean.masks, noisy.masks)
    assert not np.array_equal(clean.images, noisy.images)


def test_label_is_class_of_largest_box():
    s = _scenes(4)
    for label, b in zip(s.labels, s.boxes):
        area = (b[:, 3] - b[:, 1]) * (b[:, 4] - b[:, 2])
        assert label == int(b[np.argmax(area), 0])
        if len(b) > 1:
            assert np.sort(area)[-1] > np.sort(area)[-2]         # no ties: the label is unambiguous


def test_class_balance_and_all_kinds_present():
    s = _scenes(5, n=600)
    counts = np.bincount(s.labels, minlength=len(CLASS_NAMES))
    assert counts.min() >= 0.8 * counts.max()
    distractors = np.concatenate([b[1:, 0] for b in s.boxes if len(b) > 1]).astype(int)
    assert np.all(np.bincount(distractors, minlength=len(CLASS_NAMES)) > 0)


def test_load_dataset_caches_per_seed():
    a = load_dataset("shapes", seed=0)
    assert load_dataset("shapes", seed=0) is a
    assert a.x_train.shape == (6000, 3, 32, 32) and a.x_test.shape == (1500, 3, 32, 32)


def test_negative_seed_is_a_data_error():
    with pytest.raises(DataError, match="seed"):
        load_shapes_dataset(-1, 10, 10)
