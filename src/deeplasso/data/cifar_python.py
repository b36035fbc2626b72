"""Reader of the CIFAR-10 python version (``cifar-10-batches-py/``).

``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and ``batches.meta``
are Python-2 pickles of dicts (``b'data'``: uint8 array ``(10000, 3072)`` in
the binary version's pixel order, ``b'labels'``: list of ints;
``b'label_names'`` in the meta file).  They are only ever loaded with
:func:`~deeplasso.data.safe_pickle.safe_unpickle`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .cifar_release import (
    CIFAR10_CLASSES,
    CIFAR10_IMAGE_SHAPE,
    CIFAR10_PIXELS,
    CIFAR_PY_META_FILE,
    CIFAR_PY_TEST_FILE,
    CIFAR_PY_TRAIN_FILES,
    RawData,
    check_class_count,
    check_labels,
    check_same_counts,
)
from .errors import DataFormatError
from .safe_pickle import safe_unpickle

__all__ = [
    "parse_cifar_python_batch",
    "read_cifar_python_batch",
    "assemble_cifar_python",
    "load_cifar10_python_folder",
]


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
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR10_PIXELS:
        desc = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataFormatError(name, f"'data' must be a uint8 array of shape (n, {CIFAR10_PIXELS}), got {desc}")
    try:
        y = np.asarray(labels)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise DataFormatError(name, f"'labels' is not a list of integers ({exc})") from exc
    if y.ndim != 1 or (y.size and y.dtype.kind not in "iu"):
        raise DataFormatError(name, f"'labels' must be a flat list of integers, got {y.dtype} of shape {y.shape}")
    if y.size != data.shape[0]:
        raise DataFormatError(name, f"{data.shape[0]} images but {y.size} labels")
    y = y.astype(np.int64)
    check_labels(y, name, n_classes)
    x = np.require(data, requirements=["C", "W"]).reshape(-1, *CIFAR10_IMAGE_SHAPE)
    return x, y


def read_cifar_python_batch(path, n_classes: int = 10):
    """Read one python-version batch file safely (see
    :class:`~deeplasso.data.safe_pickle.RestrictedUnpickler`).

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
    check_class_count(out, name)
    return tuple(out), per_batch


def assemble_cifar_python(batches: dict, meta, meta_name: str | None) -> RawData:
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
    check_same_counts(counts, "python")
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
    return assemble_cifar_python(batches, meta, meta_name)
