"""CIFAR-10 from an official tarball, and the one place to import the CIFAR readers from.

:func:`load_cifar10_tar` reads either official archive
(``cifar-10-binary.tar.gz`` or ``cifar-10-python.tar.gz``) member by member in
memory, never extracting it.  The formats themselves are read elsewhere, and
their names are re-exported here:

Binary version (``cifar-10-batches-bin/``), :mod:`.cifar_bin`
    ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``; each
    record is 1 label byte followed by 3072 pixel bytes (1024 red, 1024 green,
    1024 blue, each plane row-major 32x32), 10,000 records per file.
    ``batches.meta.txt`` holds the class names, one per line.

Python version (``cifar-10-batches-py/``), :mod:`.cifar_python`
    ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and ``batches.meta``
    are Python-2 pickles of dicts (``b'data'``: uint8 array ``(10000, 3072)``
    in the same pixel order, ``b'labels'``: list of ints;
    ``b'label_names'`` in the meta file).  They are read with
    :class:`~deeplasso.data.safe_pickle.RestrictedUnpickler`, which only lets
    the pickle rebuild numpy arrays and refuses every other global, so a
    hostile file is never run.

What both versions share (class names, file names, :class:`RawData`, the
checks) is in :mod:`.cifar_release`.  Whole files are turned into arrays with
:func:`numpy.frombuffer` / one slice copy per file (no per-record Python loop).
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import numpy as np

# Besides what load_cifar10_tar needs, these imports keep every CIFAR name
# importable from deeplasso.data.cifar, where it lived before the split.
from .cifar_bin import (
    check_bin_size,
    load_cifar10_bin_folder,
    parse_cifar_bin,
    parse_cifar_bin_meta,
    read_cifar_bin,
    read_cifar_bin_meta,
)
from .cifar_python import (
    assemble_cifar_python,
    load_cifar10_python_folder,
    parse_cifar_python_batch,
    read_cifar_python_batch,
)
from .cifar_release import (
    CIFAR10_CLASSES,
    CIFAR10_IMAGE_SHAPE,
    CIFAR_BIN_META_FILE,
    CIFAR_BIN_TEST_FILE,
    CIFAR_BIN_TRAIN_FILES,
    CIFAR_PY_META_FILE,
    CIFAR_PY_TEST_FILE,
    CIFAR_PY_TRAIN_FILES,
    RawData,
    check_class_count,
    check_same_counts,
)
from .errors import DataFormatError
from .safe_pickle import ALLOWED_GLOBALS, RestrictedUnpickler, safe_unpickle  # noqa: F401

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
            classes = parse_cifar_bin_meta(found[meta], member(meta))
            check_class_count(classes, member(meta))
        counts = {member(n): check_bin_size(len(found[n]), member(n)) for n in bin_names}
        check_same_counts(counts, "binary")
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
        return assemble_cifar_python(batches, meta, member(meta_key) if meta is not None else None)
    have = sorted(found)
    raise DataFormatError(
        path,
        "archive does not hold a complete CIFAR-10 release: expected cifar-10-batches-bin/"
        "data_batch_1.bin..test_batch.bin or cifar-10-batches-py/data_batch_1..test_batch, "
        f"found {have or 'none of them'}",
    )
