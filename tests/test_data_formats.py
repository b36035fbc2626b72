"""Readers of the official formats: IDX, CIFAR-10 binary, CIFAR-10 python (pickle), tarballs.

Small files of every format are written to tmp_path, including broken ones,
and the errors must name the file and the problem.  No network, no real data.
"""

import gzip
import os
import pickle
from dataclasses import replace

import numpy as np
import pytest

from deeplasso.data import (
    DataFormatError,
    UnsafePickleError,
    load,
    load_cifar10_bin_folder,
    load_cifar10_python_folder,
    load_cifar10_tar,
    read_cifar_bin,
    read_idx,
    safe_unpickle,
    sources,
    write_idx,
)
from deeplasso.data.fakes import (
    py2_pickle_dumps,
    make_tar,
    write_fake_cifar_bin,
    write_fake_cifar_python,
    write_fake_idx,
)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real data folders, an empty cache and no network."""
    monkeypatch.delenv(sources.ENV_DATA, raising=False)
    monkeypatch.delenv(sources.ENV_OFFLINE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    fm = sources.SOURCES["fashion-mnist"]
    monkeypatch.setitem(sources.SOURCES, "fashion-mnist", replace(fm, system_roots=()))

    def no_network(*a, **k):
        raise AssertionError("tests must not use the network")

    monkeypatch.setattr(sources, "urlopen", no_network)


# --------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, compress, dtype):
    arr = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    if dtype == np.uint8:
        arr = np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    p = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), arr)
    assert (p.read_bytes()[:2] == b"\x1f\x8b") == compress
    out = read_idx(p)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_idx_is_big_endian_on_disk(tmp_path):
    p = write_idx(tmp_path / "x.idx", np.array([1, 258], dtype=np.int32), compress=False)
    assert p.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2])


def test_idx_bad_magic(tmp_path):
    p = tmp_path / "bad-images-idx3-ubyte"
    p.write_bytes(b"\x01\x02\x08\x01" + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(DataFormatError, match="magic") as e:
        read_idx(p)
    assert str(p) in str(e.value) and e.value.path == str(p)


def test_idx_unknown_type_code(tmp_path):
    p = tmp_path / "x-idx1-ubyte"
    p.write_bytes(b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05")
    with pytest.raises(DataFormatError, match="type code 0x07"):
        read_idx(p)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_truncated(tmp_path, compress):
    p = write_idx(tmp_path / "img-idx3-ubyte", np.zeros((4, 28, 28), np.uint8), compress=False)
    data = p.read_bytes()[:-100]
    if compress:
        p = tmp_path / "img-idx3-ubyte.gz"
        p.write_bytes(gzip.compress(data))
    else:
        p.write_bytes(data)
    with pytest.raises(DataFormatError, match="truncated") as e:
        read_idx(p)
    assert str(p) in str(e.value) and "4x28x28" in str(e.value)


def test_idx_truncated_gzip_stream(tmp_path):
    p = write_idx(tmp_path / "img-idx3-ubyte.gz", np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8))
    p.write_bytes(p.read_bytes()[:-500])
    with pytest.raises(DataFormatError, match="gzip") as e:
        read_idx(p)
    assert str(p) in str(e.value)


def test_idx_truncated_header_and_trailing_bytes(tmp_path):
    p = tmp_path / "h"
    p.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DataFormatError, match="header"):
        read_idx(p)
    q = write_idx(tmp_path / "t", np.zeros(3, np.uint8), compress=False)
    q.write_bytes(q.read_bytes() + b"\x00\x00")
    with pytest.raises(DataFormatError, match="2 unexpected bytes"):
        read_idx(q)


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_dataset(tmp_path, compress):
    raw = write_fake_idx(tmp_path / "mnist", n_train=30, n_test=10, compress=compress)
    ds = load("mnist", data_dir=tmp_path, download=False)
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape == (30, 1, 28, 28)
    assert ds.y_train.dtype == np.int64 and ds.y_test.shape == (10,)
    assert ds.image_shape == (1, 28, 28) and ds.classes == tuple("0123456789")
    assert ds.x_train.flags.writeable and ds.x_train.flags.c_contiguous
    np.testing.assert_array_equal(ds.x_train, raw.x_train)
    np.testing.assert_array_equal(ds.y_test, raw.y_test)
    np.testing.assert_array_equal(ds.x_test, raw.x_test)


def test_load_fashion_mnist_class_names(tmp_path):
    write_fake_idx(tmp_path / "fashion-mnist")
    ds = load("Fashion_MNIST", data_dir=tmp_path, download=False)
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot" and ds.name == "fashion-mnist"


def test_idx_label_out_of_range(tmp_path):
    write_fake_idx(tmp_path / "mnist", n_train=20, n_test=10)
    lab = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    y = read_idx(lab).copy()
    y[3] = 10
    write_idx(lab, y)
    with pytest.raises(DataFormatError, match=r"label 10 .*record 3.* out of range 0\.\.9") as e:
        load("mnist", data_dir=tmp_path, download=False)
    assert str(lab) in str(e.value)


def test_idx_count_mismatch(tmp_path):
    write_fake_idx(tmp_path / "mnist", n_train=20, n_test=10)
    lab = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    write_idx(lab, read_idx(lab)[:-1])
    with pytest.raises(DataFormatError, match="19 labels but train-images-idx3-ubyte.gz holds 20 images") as e:
        load("mnist", data_dir=tmp_path, download=False)
    assert str(lab) in str(e.value)


def test_idx_swapped_files_are_rejected(tmp_path):
    write_fake_idx(tmp_path / "mnist", n_train=20, n_test=10)
    d = tmp_path / "mnist"
    os.replace(d / "t10k-labels-idx1-ubyte.gz", d / "tmp")
    os.replace(d / "t10k-images-idx3-ubyte.gz", d / "t10k-labels-idx1-ubyte.gz")
    os.replace(d / "tmp", d / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(DataFormatError, match="expected an image file"):
        load("mnist", data_dir=tmp_path, download=False)


# --------------------------------------------------------------------------- CIFAR binary
def test_cifar_bin_folder(tmp_path):
    raw = write_fake_cifar_bin(tmp_path / "cifar-10-batches-bin", n_per_batch=12)
    got = load_cifar10_bin_folder(tmp_path / "cifar-10-batches-bin")
    for a, b in zip(got[:4], raw[:4]):
        np.testing.assert_array_equal(a, b)
    assert got.x_train.shape == (60, 3, 32, 32) and got.x_test.shape == (12, 3, 32, 32)
    assert got.classes[0] == "airplane" and len(got.classes) == 10
    ds = load("cifar10", data_dir=tmp_path, download=False)
    assert ds.image_shape == (3, 32, 32) and ds.source.endswith("cifar-10-batches-bin")
    np.testing.assert_array_equal(ds.x_train, raw.x_train)


def test_cifar_bin_on_disk_order(tmp_path):
    """Record = label byte, 1024 red, 1024 green, 1024 blue, each row-major."""
    rec = np.zeros(3073, np.uint8)
    rec[0] = 7
    rec[1 + 0 * 1024 + 2 * 32 + 5] = 11  # red, row 2, col 5
    rec[1 + 2 * 1024 + 31 * 32 + 0] = 22  # blue, row 31, col 0
    p = tmp_path / "one.bin"
    p.write_bytes(rec.tobytes())
    x, y = read_cifar_bin(p)
    assert y.tolist() == [7] and x[0, 0, 2, 5] == 11 and x[0, 2, 31, 0] == 22 and x.sum() == 33


def test_cifar_bin_truncated(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_fake_cifar_bin(d, n_per_batch=5)
    p = d / "data_batch_3.bin"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(DataFormatError, match="not a whole number of 3073-byte records") as e:
        load("cifar10", data_dir=tmp_path, download=False)
    assert str(p) in str(e.value)


def test_cifar_bin_truncated_at_record_boundary(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_fake_cifar_bin(d, n_per_batch=5)
    p = d / "test_batch.bin"
    p.write_bytes(p.read_bytes()[: 3 * 3073])
    with pytest.raises(DataFormatError, match="record counts differ") as e:
        load_cifar10_bin_folder(d)
    assert str(p) in str(e.value) and "test_batch.bin: 3" in str(e.value)


def test_cifar_bin_label_out_of_range_and_empty(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_fake_cifar_bin(d, n_per_batch=5)
    p = d / "data_batch_2.bin"
    b = bytearray(p.read_bytes())
    b[3073 * 4] = 200
    p.write_bytes(bytes(b))
    with pytest.raises(DataFormatError, match=r"label 200 of record 4 is out of range") as e:
        load_cifar10_bin_folder(d)
    assert str(p) in str(e.value)
    p.write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty"):
        load_cifar10_bin_folder(d)


def test_cifar_bin_bad_meta(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_fake_cifar_bin(d, n_per_batch=2)
    (d / "batches.meta.txt").write_text("cat\ndog\n")
    with pytest.raises(DataFormatError, match="2 class names"):
        load_cifar10_bin_folder(d)


# --------------------------------------------------------------------------- CIFAR python
@pytest.mark.parametrize("py2", [True, False])
def test_cifar_python_folder(tmp_path, py2):
    d = tmp_path / "cifar-10-batches-py"
    raw = write_fake_cifar_python(d, n_per_batch=8, py2=py2)
    got = load_cifar10_python_folder(d)
    for a, b in zip(got[:4], raw[:4]):
        np.testing.assert_array_equal(a, b)
    assert got.classes == raw.classes
    ds = load("cifar10", data_dir=tmp_path, download=False)
    assert ds.source.endswith("cifar-10-batches-py") and ds.x_train.flags.writeable
    np.testing.assert_array_equal(ds.x_test, raw.x_test)


def test_cifar_python_protocol2_py3_pickle(tmp_path):
    """Python 3 protocol-2 pickles encode bytes via _codecs.encode(..., 'latin1')."""
    x = np.arange(2 * 3072, dtype=np.uint64).astype(np.uint8).reshape(2, 3072)
    blob = pickle.dumps({b"data": x, b"labels": [1, 9]}, protocol=2)
    obj = safe_unpickle(blob, "p2")
    np.testing.assert_array_equal(obj[b"data"], x)


@pytest.mark.parametrize("kind", ["python", "binary"])
def test_cifar_tarballs(tmp_path, kind):
    if kind == "python":
        raw = write_fake_cifar_python(tmp_path / "src" / "cifar-10-batches-py", n_per_batch=6)
        tar = make_tar(tmp_path / "src" / "cifar-10-batches-py", tmp_path / "data" / "cifar-10-python.tar.gz")
    else:
        raw = write_fake_cifar_bin(tmp_path / "src" / "cifar-10-batches-bin", n_per_batch=6)
        (tmp_path / "data").mkdir()
        tar = make_tar(tmp_path / "src" / "cifar-10-batches-bin", tmp_path / "data" / "cifar-10-binary.tar.gz")
    got = load_cifar10_tar(tar)
    for a, b in zip(got[:4], raw[:4]):
        np.testing.assert_array_equal(a, b)
    ds = load("cifar10", data_dir=tmp_path / "data", download=False)
    assert ds.source == str(tar)
    np.testing.assert_array_equal(ds.y_train, raw.y_train)
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()  # never extracted


def test_cifar_tar_truncated(tmp_path):
    write_fake_cifar_python(tmp_path / "cifar-10-batches-py", n_per_batch=6)
    tar = make_tar(tmp_path / "cifar-10-batches-py", tmp_path / "cifar-10-python.tar.gz")
    tar.write_bytes(tar.read_bytes()[: tar.stat().st_size // 2])
    with pytest.raises(DataFormatError) as e:
        load_cifar10_tar(tar)
    assert str(tar) in str(e.value)


def test_cifar_tar_incomplete(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_fake_cifar_bin(d, n_per_batch=2)
    (d / "test_batch.bin").unlink()
    tar = make_tar(d, tmp_path / "cifar-10-binary.tar.gz")
    with pytest.raises(DataFormatError, match="complete CIFAR-10 release"):
        load_cifar10_tar(tar)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


class _Evil2:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("evil", ["open", "system"])
def test_malicious_pickle_is_refused(tmp_path, evil):
    d = tmp_path / "cifar-10-batches-py"
    write_fake_cifar_python(d, n_per_batch=4)
    marker = tmp_path / "PWNED"
    payload = _Evil(str(marker)) if evil == "open" else _Evil2()
    bad = d / "data_batch_2"
    bad.write_bytes(pickle.dumps({b"data": payload, b"labels": [0]}))
    with pytest.raises(UnsafePickleError, match="refused to unpickle") as e:
        load("cifar10", data_dir=tmp_path, download=False)
    msg = str(e.value)
    assert str(bad) in msg and ("io.open" in msg or ".system" in msg)
    assert isinstance(e.value, ValueError) and isinstance(e.value, pickle.UnpicklingError)
    assert not marker.exists()


def test_malicious_pickle_in_tarball_is_refused(tmp_path):
    d = tmp_path / "src" / "cifar-10-batches-py"
    write_fake_cifar_python(d, n_per_batch=4)
    marker = tmp_path / "PWNED"
    (d / "batches.meta").write_bytes(pickle.dumps(_Evil(str(marker))))
    tar = make_tar(d, tmp_path / "cifar-10-python.tar.gz")
    with pytest.raises(UnsafePickleError) as e:
        load_cifar10_tar(tar)
    assert "cifar-10-python.tar.gz::cifar-10-batches-py/batches.meta" in str(e.value)
    assert not marker.exists()


def test_pickle_object_arrays_and_other_globals_refused():
    with pytest.raises(UnsafePickleError, match="object dtype"):
        safe_unpickle(pickle.dumps(np.array([1, None], dtype=object), protocol=2), "obj")
    with pytest.raises(UnsafePickleError, match="collections.OrderedDict"):
        safe_unpickle(pickle.dumps(__import__("collections").OrderedDict(a=1)), "od")
    # plain data needs no globals at all
    assert safe_unpickle(pickle.dumps({b"a": [1, 2.5, b"x", "y", None]}), "plain") == {b"a": [1, 2.5, b"x", "y", None]}


def test_cifar_python_corrupt_batches(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    write_fake_cifar_python(d, n_per_batch=4)
    p = d / "data_batch_1"
    blob = p.read_bytes()
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataFormatError, match="not a readable CIFAR-10 python batch") as e:
        load_cifar10_python_folder(d)
    assert str(p) in str(e.value)

    cases = [
        ({b"data": np.zeros((4, 3072), np.float32), b"labels": [0] * 4}, "uint8 array of shape"),
        ({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0] * 3}, "4 images but 3 labels"),
        ({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 10]}, "label 10 of record 3"),
        ({b"labels": [0] * 4}, "no 'data' entry"),
        ([1, 2, 3], "expected a pickled dict"),
    ]
    for obj, msg in cases:
        p.write_bytes(py2_pickle_dumps(obj))
        with pytest.raises(DataFormatError, match=msg) as e:
            load_cifar10_python_folder(d)
        assert str(p) in str(e.value)


def test_cifar_python_count_differs_from_meta(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    write_fake_cifar_python(d, n_per_batch=4)
    p = d / "test_batch"
    p.write_bytes(py2_pickle_dumps({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2]}))
    with pytest.raises(DataFormatError, match="holds 3 records but batches.meta says every batch holds 4") as e:
        load_cifar10_python_folder(d)
    assert str(p) in str(e.value)


def test_errors_carry_path_and_are_picklable(tmp_path):
    err = DataFormatError(tmp_path / "f", "bad")
    again = pickle.loads(pickle.dumps(err))
    assert again.path == str(tmp_path / "f") and str(again) == str(err)
    assert isinstance(err, ValueError)
