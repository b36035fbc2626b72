"""Reader of the CIFAR-10 binary version (``cifar-10-batches-bin/``).

``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``; each
record is 1 label byte followed by 3072 pixel bytes (1024 red, 1024 green,
1024 blue, each plane row-major 32x32), 10,000 records per file.
``batches.meta.txt`` holds the class names, one per line.  Whole files are
turned into arrays with :func:`numpy.frombuffer` (no per-record Python loop).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .cifar_release import (
    CIFAR10_CLASSES,
    CIFAR10_IMAGE_SHAPE,
    CIFAR10_PIXELS,
    CIFAR_BIN_META_FILE,
    CIFAR_BIN_TEST_FILE,
    CIFAR_BIN_TRAIN_FILES,
    RawData,
    check_class_count,
    check_labels,
    check_same_counts,
)
from .errors import DataFormatError

__all__ = [
    "check_bin_size",
    "parse_cifar_bin",
    "read_cifar_bin",
    "parse_cifar_bin_meta",
    "read_cifar_bin_meta",
    "load_cifar10_bin_folder",
]

_RECORD = 1 + CIFAR10_PIXELS


def check_bin_size(nbytes: int, name: str) -> int:
    """Number of records in a binary batch of ``nbytes`` bytes; raise unless whole."""
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
    n = check_bin_size(buf.size, name)
    rec = buf.reshape(n, _RECORD)
    y = rec[:, 0].astype(np.int64)
    check_labels(y, name, n_classes)
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


def parse_cifar_bin_meta(text: bytes, name: str):
    """Class names from the bytes of ``batches.meta.txt`` (one name per line)."""
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
    return parse_cifar_bin_meta(Path(path).read_bytes(), str(path))


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
        check_class_count(classes, str(meta))
    files = [folder / f for f in CIFAR_BIN_TRAIN_FILES] + [folder / CIFAR_BIN_TEST_FILE]
    counts = {str(p): check_bin_size(os.stat(p).st_size, str(p)) for p in files}
    check_same_counts(counts, "binary")

    def read_many(paths):
        n = sum(counts[str(p)] for p in paths)
        x = np.empty((n, CIFAR10_PIXELS), dtype=np.uint8)
        y = np.empty(n, dtype=np.int64)
        start = 0
        for p in paths:
            buf = np.fromfile(p, dtype=np.uint8)
            k = check_bin_size(buf.size, str(p))
            if k != counts[str(p)]:
                raise DataFormatError(p, "file changed size while being read")
            rec = buf.reshape(k, _RECORD)
            y[start:start + k] = rec[:, 0]
            check_labels(y[start:start + k], str(p), len(classes))
            x[start:start + k] = rec[:, 1:]
            start += k
        return x.reshape(n, *CIFAR10_IMAGE_SHAPE), y

    x_tr, y_tr = read_many(files[:5])
    x_te, y_te = read_many(files[5:])
    return RawData(x_tr, y_tr, x_te, y_te, tuple(classes))
