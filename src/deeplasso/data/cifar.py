"""Readers for the two official CIFAR-10 formats.

Binary version (``cifar-10-binary.tar.gz`` / ``cifar-10-batches-bin/``)
    ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``; each
    record is 1 label byte followed by 3072 pixel bytes (1024 red, 1024 green,
    1024 blue, each plane row-major 32x32), 10,000 records per file.
    ``batches.meta.txt`` holds the class names, one per line.

Python version (``cifar-10-python.tar.gz`` / ``cifar-10-batches-py/``)
    ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and ``batches.meta``
    are Python-2 pickles of dicts (``b'data'``: uint8 array ``(10000, 3072)``
    in the same pixel order, ``b'labels'``: list of ints;
    ``b'label_names'`` in the meta file).  They are read with
    :class:`RestrictedUnpickler`, which only lets the pickle rebuild numpy
    arrays and refuses every other global, so a hostile file is never run.

Whole files are turned into arrays with :func:`numpy.frombuffer` / one slice
copy per file (no per-record Python loop); tar archives are read member by
member in memory and never extracted by these readers.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import DataFormatError, UnsafePickleError

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_IMAGE_SHAPE",
    "CIFAR_BIN_TRAIN_FILES",
    "CIFAR_BIN_TEST_FILE",
    "CIFAR_BIN_META_FILE",
    "CIFAR_PY_TRAIN_FILES",
    "CIFAR_PY_TEST_FILE",
    "CIFAR_PY_META_FILE",
    "RawData",
    "RestrictedUnpickler",
    "safe_unpickle",
    "parse_cifar_bin",
    "read_cifar_bin",
    "read_cifar_bin_meta",
    "parse_cifar_python_batch",
    "read_cifar_python_batch",
    "load_cifar10_bin_folder",
    "load_cifar10_python_folder",
    "load_cifar10_tar",
]

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
CIFAR10_IMAGE_SHAPE = (3, 32, 32)
_PIXELS = 3 * 32 * 32
_RECORD = 1 + _PIXELS

CIFAR_BIN_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_BIN_TEST_FILE = "test_batch.bin"
CIFAR_BIN_META_FILE = "batches.meta.txt"
CIFAR_PY_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_PY_TEST_FILE = "test_batch"
CIFAR_PY_META_FILE = "batches.meta"


class RawData(NamedTuple):
    """Official train and test arrays as read from disk."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple


# --------------------------------------------------------------------------- #
# restricted unpickling
# --------------------------------------------------------------------------- #
def _numpy_attr(*candidates):
    """First importable ``module:attr`` among candidates (numpy 1.x and 2.x)."""
    import importlib

    for cand in candidates:
        mod, attr = cand.split(":")
        try:
            return getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"none of {candidates} is available in this numpy")  # pragma: no cover


class _Refused(pickle.UnpicklingError):
    """Raised inside the unpickler by the allowed callables' own checks."""


def _safe_dtype(obj, align=False, copy=False):
    """``numpy.dtype`` for unpickling: plain (non-object) dtypes only."""
    if isinstance(obj, bytes):  # Python-2 pickles loaded with encoding='bytes'
        obj = obj.decode("latin1")
    if not isinstance(obj, str):
        raise _Refused(f"dtype spec {obj!r} is not a type string")
    dt = np.dtype(obj, bool(align), bool(copy))
    if dt.hasobject:
        raise _Refused(f"object dtype {dt} is not allowed")
    return dt


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """``_codecs.encode`` as used by Python-3 protocol<3 pickles of bytes."""
    if encoding.lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise _Refused(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1", errors)


_RECONSTRUCT = _numpy_attr("numpy._core.multiarray:_reconstruct", "numpy.core.multiarray:_reconstruct")
try:
    _FROMBUFFER = _numpy_attr("numpy._core.numeric:_frombuffer", "numpy.core.numeric:_frombuffer")
except ImportError:  # pragma: no cover - very old numpy
    _FROMBUFFER = None

#: ``(module, name)`` globals the restricted unpickler hands out: exactly what
#: a pickled dict of numpy uint8 arrays needs (Python 2 and 3, numpy 1 and 2).
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _latin1_encode,
}
if _FROMBUFFER is not None:
    ALLOWED_GLOBALS[("numpy.core.numeric", "_frombuffer")] = _FROMBUFFER
    ALLOWED_GLOBALS[("numpy._core.numeric", "_frombuffer")] = _FROMBUFFER


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds plain data and numpy arrays.

    :meth:`find_class` admits the few numpy globals listed in
    :data:`ALLOWED_GLOBALS` and raises :class:`UnsafePickleError` for anything
    else (``os.system``, ``builtins.eval``, ``subprocess``...), so no code from
    the file is ever run.  Persistent ids are refused as well.

    Parameters
    ----------
    file : binary file object
        The pickle stream.
    name : str
        File name used in error messages.
    encoding : str
        How Python-2 ``str`` objects are decoded; ``'bytes'`` as the official
        CIFAR page prescribes.
    """

    def __init__(self, file, name: str = "<pickle>", encoding: str = "bytes"):
        super().__init__(file, encoding=encoding)
        self.name = name

    def find_class(self, module, name):  # noqa: D102
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                self.name,
                f"refused to unpickle: the pickle asks for the global {module}.{name}, "
                "which is not part of the CIFAR-10 python format",
            ) from None

    def persistent_load(self, pid):  # noqa: D102
        raise UnsafePickleError(self.name, f"refused to unpickle: persistent id {pid!r}")


def safe_unpickle(data, name: str = "<pickle>"):
    """Load a pickle with :class:`RestrictedUnpickler`.

    Parameters
    ----------
    data : bytes or binary file object
        The pickle.
    name : str
        File name used in error messages.

    Returns
    -------
    object
        The unpickled object (dicts, lists, bytes, numbers, numpy arrays).

    Raises
    ------
    UnsafePickleError
        The pickle asked for a global that is not allowed.
    DataFormatError
        The pickle is truncated or corrupt.
    """
    f = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    try:
        return RestrictedUnpickler(f, name=name).load()
    except UnsafePickleError:
        raise
    except _Refused as exc:
        raise UnsafePickleError(name, f"refused to unpickle: {exc}") from exc
    except Exception as exc:  # EOFError, UnpicklingError, ValueError, TypeError ...
        raise DataFormatError(name, f"not a readable CIFAR-10 python batch ({type(exc).__name__}: {exc})") from exc


# --------------------------------------------------------------------------- #
# binary version
# --------------------------------------------------------------------------- #
def _check_labels(y: np.ndarray, name: str, n_classes: int) -> None:
    if y.size and int(y.max()) >= n_classes:
        bad = int(np.argmax(y >= n_classes))
        raise DataFormatError(name, f"label {int(y[bad])} of record {bad} is out of range 0..{n_classes - 1}")
    if y.size and int(y.min()) < 0:
        bad = int(np.argmax(y < 0))
        raise DataFormatError(name, f"label {int(y[bad])} of record {bad} is negative")


def _check_bin_size(nbytes: int, name: str) -> int:
    if nbytes == 0:
        raise DataFormatError(name, "file is empty")
    if nbytes % _RECORD:
        raise DataFormatError(
            name,
            f"size {nbytes} bytes is not a whole number of {_RECORD}-byte records "
            f"(1 label byte + 3072 pixel bytes): {nbytes // _RECORD} records and "
            f"{nbytes % _RECORD} extra bytes, the file is truncated or not a CIFAR-10 binary batch",
        )
    return nbytes // _RECORD


def parse_cifar_bin(data, name: str = "<bytes>", n_classes: int = 10):
    """Parse the content of one CIFAR-10 binary batch.

    Parameters
    ----------
    data : bytes or numpy.ndarray
        Whole file content.
    name : str
        File name used in error messages.
    n_classes : int
        Labels must be below this.

    Returns
    -------
    x : numpy.ndarray
        uint8 ``(n, 3, 32, 32)``.
    y : numpy.ndarray
        int64 ``(n,)``.
    """
    buf = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    n = _check_bin_size(buf.size, name)
    rec = buf.reshape(n, _RECORD)
    y = rec[:, 0].astype(np.int64)
    _check_labels(y, name, n_classes)
    x = np.ascontiguousarray(rec[:, 1:]).reshape(n, *CIFAR10_IMAGE_SHAPE)
    return x, y


def read_cifar_bin(path, n_classes: int = 10):
    """Read one CIFAR-10 binary batch file (``data_batch_*.bin``, ``test_batch.bin``).

    Parameters
    ----------
    path : str or os.PathLike
        The batch file.
    n_classes : int
        Labels must be below this.

    Returns
    -------
    x : numpy.ndarray
        uint8 ``(n, 3, 32, 32)``.
    y : numpy.ndarray
        int64 ``(n,)``.
    """
    return parse_cifar_bin(np.fromfile(path, dtype=np.uint8), str(path), n_classes)


def _parse_meta_txt(text: bytes, name: str):
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFormatError(name, f"class-name file is not text ({exc})") from exc
    names = tuple(s.strip() for s in lines if s.strip())
    if not names:
        raise DataFormatError(name, "class-name file holds no names")
    return names


def read_cifar_bin_meta(path):
    """Read ``batches.meta.txt`` (one class name per line).

    Returns
    -------
    tuple of str
        Class names in label order.
    """
    return _parse_meta_txt(Path(path).read_bytes(), str(path))


def _same_counts(counts: dict, what: str) -> None:
    """All batches of the official release hold the same number of records."""
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{Path(k).name}: {v}" for k, v in counts.items())
        odd = min(counts, key=lambda k: counts[k])
        raise DataFormatError(
            odd,
            f"record counts differ between the {what} batches ({detail}); every official batch "
            "holds the same number of records, so this one is truncated or from another release",
        )


def _check_class_count(classes, name: str, n_classes: int = 10):
    if len(classes) != n_classes:
        raise DataFormatError(name, f"lists {len(classes)} class names, CIFAR-10 has {n_classes}")


def load_cifar10_bin_folder(folder) -> RawData:
    """Load the whole binary version from an extracted ``cifar-10-batches-bin`` folder.

    Sizes are checked before anything is read, pixels go straight into one
    preallocated uint8 array per split (peak memory is the result plus one
    30 MB file buffer).

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding ``data_batch_1.bin`` ... ``test_batch.bin``
        (``batches.meta.txt`` optional; default CIFAR-10 names otherwise).

    Returns
    -------
    RawData
        Official train (50,000) and test (10,000) images in file order.
    """
    folder = Path(folder)
    classes = CIFAR10_CLASSES
    meta = folder / CIFAR_BIN_META_FILE
    if meta.exists():
        classes = read_cifar_bin_meta(meta)
        _check_class_count(classes, str(meta))
    files = [folder / f for f in CIFAR_BIN_TRAIN_FILES] + [folder / CIFAR_BIN_TEST_FILE]
    counts = {str(p): _check_bin_size(os.stat(p).st_size, str(p)) for p in files}
    _same_counts(counts, "binary")

    def read_many(paths):
        n = sum(counts[str(p)] for p in paths)
        x = np.empty((n, _PIXELS), dtype=np.uint8)
        y = np.empty(n, dtype=np.int64)
        start = 0
        for p in paths:
            buf = np.fromfile(p, dtype=np.uint8)
            k = _check_bin_size(buf.size, str(p))
            if k != counts[str(p)]:
                raise DataFormatError(p, "file changed size while being read")
            rec = buf.reshape(k, _RECORD)
            y[start:start + k] = rec[:, 0]
            _check_labels(y[start:start + k], str(p), len(classes))
            x[start:start + k] = rec[:, 1:]
            start += k
        return x.reshape(n, *CIFAR10_IMAGE_SHAPE), y

    x_tr, y_tr = read_many(files[:5])
    x_te, y_te = read_many(files[5:])
    return RawData(x_tr, y_tr, x_te, y_te, tuple(classes))


# --------------------------------------------------------------------------- #
# python version
# --------------------------------------------------------------------------- #
def _get(d: dict, key: str):
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    raise KeyError(key)


def parse_cifar_python_batch(obj, name: str = "<pickle>", n_classes: int = 10):
    """Check an unpickled python-version batch and return its arrays.

    Parameters
    ----------
    obj : dict
        The unpickled batch (keys ``b'data'`` and ``b'labels'``; str keys are
        accepted too).
    name : str
        File name used in error messages.
    n_classes : int
        Labels must be below this.

    Returns
    -------
    x : numpy.ndarray
        uint8 ``(n, 3, 32, 32)``.
    y : numpy.ndarray
        int64 ``(n,)``.
    """
    if not isinstance(obj, dict):
        raise DataFormatError(name, f"expected a pickled dict, got {type(obj).__name__}")
    try:
        data = _get(obj, "data")
        labels = _get(obj, "labels")
    except KeyError as exc:
        raise DataFormatError(name, f"batch has no {exc.args[0]!r} entry (keys: {sorted(map(repr, obj))})") from None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        desc = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataFormatError(name, f"'data' must be a uint8 array of shape (n, {_PIXELS}), got {desc}")
    try:
        y = np.asarray(labels)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise DataFormatError(name, f"'labels' is not a list of integers ({exc})") from exc
    if y.ndim != 1 or (y.size and y.dtype.kind not in "iu"):
        raise DataFormatError(name, f"'labels' must be a flat list of integers, got {y.dtype} of shape {y.shape}")
    if y.size != data.shape[0]:
        raise DataFormatError(name, f"{data.shape[0]} images but {y.size} labels")
    y = y.astype(np.int64)
    _check_labels(y, name, n_classes)
    x = np.require(data, requirements=["C", "W"]).reshape(-1, *CIFAR10_IMAGE_SHAPE)
    return x, y


def read_cifar_python_batch(path, n_classes: int = 10):
    """Read one python-version batch file safely (see :class:`RestrictedUnpickler`).

    Returns
    -------
    x : numpy.ndarray
        uint8 ``(n, 3, 32, 32)``.
    y : numpy.ndarray
        int64 ``(n,)``.
    """
    with open(path, "rb") as f:
        obj = safe_unpickle(f, str(path))
    return parse_cifar_python_batch(obj, str(path), n_classes)


def _parse_python_meta(obj, name: str):
    if not isinstance(obj, dict):
        raise DataFormatError(name, f"expected a pickled dict, got {type(obj).__name__}")
    try:
        names = _get(obj, "label_names")
    except KeyError:
        raise DataFormatError(name, "meta file has no 'label_names' entry") from None
    out = []
    for n in names:
        if isinstance(n, bytes):
            n = n.decode("latin1")
        if not isinstance(n, str):
            raise DataFormatError(name, f"class name {n!r} is not a string")
        out.append(n)
    per_batch = None
    try:
        per_batch = int(_get(obj, "num_cases_per_batch"))
    except (KeyError, TypeError, ValueError):
        pass
    _check_class_count(out, name)
    return tuple(out), per_batch


def _assemble_python(batches: dict, meta, meta_name: str | None) -> RawData:
    """batches: name -> (x, y) in the official order; meta: unpickled meta or None."""
    classes, per_batch = CIFAR10_CLASSES, None
    if meta is not None:
        classes, per_batch = _parse_python_meta(meta, meta_name)
    counts = {k: v[0].shape[0] for k, v in batches.items()}
    if per_batch is not None:
        for k, c in counts.items():
            if c != per_batch:
                raise DataFormatError(
                    k, f"holds {c} records but {Path(meta_name).name} says every batch holds {per_batch}"
                )
    _same_counts(counts, "python")
    keys = list(batches)
    x_tr = np.concatenate([batches[k][0] for k in keys[:5]])
    y_tr = np.concatenate([batches[k][1] for k in keys[:5]])
    x_te, y_te = batches[keys[5]]
    return RawData(x_tr, y_tr, x_te, y_te, tuple(classes))


def load_cifar10_python_folder(folder) -> RawData:
    """Load the python version from an extracted ``cifar-10-batches-py`` folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding ``data_batch_1`` ... ``test_batch`` (``batches.meta``
        optional).

    Returns
    -------
    RawData
        Official train and test images in file order.
    """
    folder = Path(folder)
    meta, meta_name = None, None
    if (folder / CIFAR_PY_META_FILE).exists():
        meta_name = str(folder / CIFAR_PY_META_FILE)
        meta = safe_unpickle((folder / CIFAR_PY_META_FILE).read_bytes(), meta_name)
    batches = {}
    for f in CIFAR_PY_TRAIN_FILES + (CIFAR_PY_TEST_FILE,):
        batches[str(folder / f)] = read_cifar_python_batch(folder / f)
    return _assemble_python(batches, meta, meta_name)


def load_cifar10_tar(path) -> RawData:
    """Load CIFAR-10 straight from an official tarball (binary or python version).

    Members are read into memory; nothing is extracted to disk, so member
    names cannot write outside any folder.  The version is recognised from the
    member names (``cifar-10-batches-bin/`` or ``cifar-10-batches-py/``).

    Parameters
    ----------
    path : str or os.PathLike
        ``cifar-10-binary.tar.gz`` or ``cifar-10-python.tar.gz`` (any tar
        compression).

    Returns
    -------
    RawData
        Official train and test images in file order.
    """
    path = Path(path)
    wanted_bin = set(CIFAR_BIN_TRAIN_FILES + (CIFAR_BIN_TEST_FILE, CIFAR_BIN_META_FILE))
    wanted_py = set(CIFAR_PY_TRAIN_FILES + (CIFAR_PY_TEST_FILE, CIFAR_PY_META_FILE))
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tf:
            for m in tf:
                if not m.isfile():
                    continue
                parts = m.name.replace("\\", "/").split("/")
                base, parent = parts[-1], (parts[-2] if len(parts) > 1 else "")
                if (parent == "cifar-10-batches-bin" and base in wanted_bin) or (
                    parent == "cifar-10-batches-py" and base in wanted_py
                ):
                    f = tf.extractfile(m)
                    found[f"{parent}/{base}"] = f.read()
                    if len(found[f"{parent}/{base}"]) != m.size:
                        raise DataFormatError(f"{path}::{m.name}", "archive member is truncated")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataFormatError(path, f"corrupt or truncated tar archive ({type(exc).__name__}: {exc})") from exc

    def member(name):
        return f"{path}::{name}"

    bin_names = [f"cifar-10-batches-bin/{f}" for f in CIFAR_BIN_TRAIN_FILES + (CIFAR_BIN_TEST_FILE,)]
    py_names = [f"cifar-10-batches-py/{f}" for f in CIFAR_PY_TRAIN_FILES + (CIFAR_PY_TEST_FILE,)]
    if all(n in found for n in bin_names):
        classes = CIFAR10_CLASSES
        meta = "cifar-10-batches-bin/" + CIFAR_BIN_META_FILE
        if meta in found:
            classes = _parse_meta_txt(found[meta], member(meta))
            _check_class_count(classes, member(meta))
        counts = {member(n): _check_bin_size(len(found[n]), member(n)) for n in bin_names}
        _same_counts(counts, "binary")
        parsed = [parse_cifar_bin(found.pop(n), member(n), len(classes)) for n in bin_names]
        x_tr = np.concatenate([p[0] for p in parsed[:5]])
        y_tr = np.concatenate([p[1] for p in parsed[:5]])
        return RawData(x_tr, y_tr, parsed[5][0], parsed[5][1], tuple(classes))
    if all(n in found for n in py_names):
        meta_key = "cifar-10-batches-py/" + CIFAR_PY_META_FILE
        meta = safe_unpickle(found[meta_key], member(meta_key)) if meta_key in found else None
        batches = {}
        for n in py_names:
            obj = safe_unpickle(found.pop(n), member(n))
            batches[member(n)] = parse_cifar_python_batch(obj, member(n))
        return _assemble_python(batches, meta, member(meta_key) if meta is not None else None)
    have = sorted(found)
    raise DataFormatError(
        path,
        "archive does not hold a complete CIFAR-10 release: expected cifar-10-batches-bin/"
        "data_batch_1.bin..test_batch.bin or cifar-10-batches-py/data_batch_1..test_batch, "
        f"found {have or 'none of them'}",
    )
