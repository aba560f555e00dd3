"""The digits data set: shapes, ranges and the fixed stratified split."""

import numpy as np

from cosim.data import load_dataset


def test_digits_shapes_dtypes_and_range():
    ds = load_dataset("digits")
    assert ds.name == "digits" and ds.image_shape == (1, 8, 8)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert len(ds.x_train) + len(ds.x_test) == 1797
    assert abs(len(ds.x_test) / 1797 - 0.25) < 0.01
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0 and ds.x_test.max() <= 1.0
    assert ds.num_classes == 10 and ds.class_names == tuple("0123456789")
    assert ds.boxes_train is None and ds.boxes_test is None


def test_digits_pixels_are_sklearn_over_16():
    from sklearn.datasets import load_digits

    ds = load_dataset("digits")
    ref = {tuple(img.ravel()) for img in load_digits().images / 16.0}
    assert all(tuple(img.ravel().astype(np.float64)) in ref for img in ds.x_test[:50])


def test_digits_split_is_stratified_and_fixed():
    ds = load_dataset("digits")
    train, test = np.bincount(ds.y_train), np.bincount(ds.y_test)
    frac = test / (train + test)
    assert np.all(np.abs(frac - 0.25) < 0.02)
    other = load_dataset("digits", seed=123)
    assert other is ds                       # cached, independent of seed
    from cosim.data.digits import load_digits_dataset
    fresh = load_digits_dataset()
    np.testing.assert_array_equal(fresh.x_test, ds.x_test)
    np.testing.assert_array_equal(fresh.y_train, ds.y_train)


def test_cached_arrays_are_read_only():
    ds = load_dataset("digits")
    assert not ds.x_train.flags.writeable and not ds.y_test.flags.writeable
