"""MNIST-style IDX and CIFAR-10 batch loaders on tiny files written to tmp_path, and their errors."""

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from cosim.data import load_dataset
from cosim.errors import DataError

RNG = np.random.default_rng(0)


def _idx(magic: int, array: np.ndarray) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _write(path: Path, payload: bytes, gz: bool) -> Path:
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def _write_mnist(root: Path, gz: bool, n_train: int = 12, n_test: int = 5, size: int = 6) -> dict:
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = RNG.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = RNG.integers(0, 10, n, dtype=np.uint8)
        _write(root / f"{split}-images-idx3-ubyte", _idx(0x803, images), gz)
        _write(root / f"{split}-labels-idx1-ubyte", _idx(0x801, labels), gz)
        arrays[split] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_files_load(tmp_path, gz, name):
    arrays = _write_mnist(tmp_path, gz)
    ds = load_dataset(name, root=tmp_path)
    assert ds.name == name and ds.image_shape == (1, 6, 6) and ds.num_classes == 10
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.x_train[:, 0], arrays["train"][0] / np.float32(255))
    np.testing.assert_array_equal(ds.y_train, arrays["train"][1])
    np.testing.assert_array_equal(ds.y_test, arrays["t10k"][1])
    assert len(ds.x_test) == 5


def test_idx_in_raw_subfolder(tmp_path):
    (tmp_path / "raw").mkdir()
    _write_mnist(tmp_path / "raw", gz=True)
    assert len(load_dataset("mnist", root=tmp_path).y_train) == 12


def test_idx_missing_file_is_named(tmp_path):
    _write_mnist(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: missing"):
        load_dataset("mnist", root=tmp_path)


def test_idx_wrong_magic(tmp_path):
    _write_mnist(tmp_path, gz=False)
    labels = RNG.integers(0, 10, 12, dtype=np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(0x803, labels))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: wrong IDX magic number 0x00000803"):
        load_dataset("mnist", root=tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated(tmp_path, gz):
    _write_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    payload = path.read_bytes()[:-7]
    path.unlink()
    _write(path, payload, gz)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte(\.gz)?: truncated"):
        load_dataset("mnist", root=tmp_path)


def test_idx_trailing_bytes_count_mismatch_and_bad_labels(tmp_path):
    _write_mnist(tmp_path, gz=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte: trailing bytes"):
        load_dataset("mnist", root=tmp_path)
    _write_mnist(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(0x801, np.zeros(4, np.uint8)))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: 4 labels for 5 images"):
        load_dataset("mnist", root=tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(0x801, np.full(5, 10, np.uint8)))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: label 10 outside"):
        load_dataset("mnist", root=tmp_path)


def test_corrupt_gzip_is_a_data_error(tmp_path):
    _write_mnist(tmp_path, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:12])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_dataset("mnist", root=tmp_path)


def _cifar_batch(n: int) -> dict:
    return {b"batch_label": b"x", b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in RNG.integers(0, 10, n)]}


def _write_cifar(folder: Path, protocol: int = pickle.HIGHEST_PROTOCOL) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _cifar_batch(3)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=protocol))
    names = [n.encode() for n in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=protocol))
    return batches


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar_batches_load(tmp_path, protocol):
    batches = _write_cifar(tmp_path / "cifar-10-batches-py", protocol)
    ds = load_dataset("cifar10", root=tmp_path)
    assert ds.image_shape == (3, 32, 32) and len(ds.y_train) == 15 and len(ds.y_test) == 3
    assert ds.class_names == tuple("abcdefghij")
    first = batches["data_batch_1"]
    np.testing.assert_array_equal(ds.x_train[:3].reshape(3, -1), first[b"data"] / np.float32(255))
    np.testing.assert_array_equal(ds.y_train[:3], first[b"labels"])
    np.testing.assert_array_equal(ds.y_test, batches["test_batch"][b"labels"])
    # the first 1024 values of a row are the red plane
    red = batches["test_batch"][b"data"][0, :1024] / np.float32(255)
    np.testing.assert_array_equal(ds.x_test[0, 0].ravel(), red)


def test_cifar_python2_style_pickle(tmp_path):
    """The real CIFAR files are Python 2 pickles (numpy.core globals, byte strings)."""
    _write_cifar(tmp_path)
    data = RNG.integers(0, 256, (2, 3072), dtype=np.uint8)
    (tmp_path / "test_batch").write_bytes(_py2_batch(data, [4, 9]))
    ds = load_dataset("cifar10", root=tmp_path)
    np.testing.assert_array_equal(ds.y_test, [4, 9])
    np.testing.assert_array_equal(ds.x_test.reshape(2, -1), data / np.float32(255))


def _py2_batch(data: np.ndarray, labels: list) -> bytes:
    """Protocol-2 opcodes as Python 2 cPickle wrote the CIFAR-10 batches."""
    def s(b: bytes) -> bytes:
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<i", len(b)) + b

    def i(v: int) -> bytes:
        return b"J" + struct.pack("<i", v)

    n, m = data.shape
    arr = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + i(0) + b"\x85" + s(b"b") + b"\x87R"
           + b"(" + i(1) + i(n) + i(m) + b"\x86cnumpy\ndtype\n" + s(b"u1") + i(0) + i(1) + b"\x87R"
           + b"(" + i(3) + s(b"|") + b"NNN" + i(-1) + i(-1) + i(0) + b"tb\x89" + s(data.tobytes()) + b"tb")
    lab = b"](" + b"".join(i(v) for v in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + arr + s(b"labels") + lab + b"u."


def test_cifar_missing_batch_is_named(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3: missing"):
        load_dataset("cifar10", root=tmp_path)


@pytest.mark.parametrize("batch, message", [
    ({b"data": np.zeros((2, 3072), np.uint8)}, "missing key b'labels'"),
    ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]},
     r"b'data' must be a uint8 array \(n, 3072\)"),
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "b'data' must be a uint8"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "b'labels' must hold 2 integers"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}, "labels outside 0..9"),
    ([1, 2, 3], "expected a pickled dict"),
])
def test_cifar_malformed_batch(tmp_path, batch, message):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps(batch))
    with pytest.raises(DataError, match="data_batch_2: " + message):
        load_dataset("cifar10", root=tmp_path)


def test_cifar_truncated_pickle(tmp_path):
    _write_cifar(tmp_path)
    path = tmp_path / "test_batch"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="test_batch: corrupt pickle"):
        load_dataset("cifar10", root=tmp_path)


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_executing(tmp_path):
    _write_cifar(tmp_path)
    marker = tmp_path / "pwned"
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": _Evil(marker), b"labels": []}))
    with pytest.raises(DataError, match=r"data_batch_1: unsafe pickle: refused global (posix|os)\.system"):
        load_dataset("cifar10", root=tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    b"cbuiltins\neval\n(S'1'\ntR.",                              # eval
    b"c__builtin__\nexec\n(S'1'\ntR.",
    b"csubprocess\nPopen\n(S'true'\ntR.",
    b"\x80\x02cbuiltins\nbytes\nJ\x00\x00\x00\x40\x85R.",         # bytes(1 GiB): refused, not allocated
    b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x06\x00\x00\x00base64\x86R.",
])
def test_restricted_unpickler_refuses_other_globals(payload):
    from cosim.data.safe_pickle import safe_loads
    with pytest.raises(DataError, match="refused"):
        safe_loads(payload, "evil.pkl")


def test_file_data_sets_need_a_root(tmp_path):
    with pytest.raises(DataError, match="root"):
        load_dataset("cifar10")
    with pytest.raises(DataError, match="not a directory"):
        load_dataset("mnist", root=tmp_path / "nope")
