"""Your own arrays: ``.npz``, ``.npy`` and ``.csv`` files as train / validation / test parts.

:func:`load_arrays` reads one file (the parsers are in :mod:`.array_readers`),
checks its content and returns an :class:`ArrayData` holding the parts the
file gives (train always; validation and test when an ``.npz`` holds them).
:func:`split_arrays` fills in the missing parts with a seeded split
(stratified for classification), :func:`standardize_arrays` standardises
features (and regression targets) with training statistics (both in
:mod:`.array_splits`, re-exported here).

File formats (see ``docs/data.md``):

``.npz``
    Arrays ``X`` and ``y``; optionally ``X_val``/``y_val`` and ``X_test``/``y_test``
    for given splits, and ``feature_names``.  Common spellings are accepted
    (``x``, ``data``/``target``, ``x_train``/``y_train``, ``labels``, ``X_valid``,
    ...; case is ignored).
``.npy``
    A numeric feature matrix.  The labels come from a separate ``.npy`` file
    (``labels=``), or else from one column of the matrix (``target=``, an index;
    default: the last column), which is removed from the features.
``.csv`` / ``.tsv``
    One row per sample; ``,``, ``;`` or tab separated (detected).  A header row
    is detected (a first row with text where the rows below hold numbers).  The
    label column is chosen by name or index (``target=``, default: the last
    column); all other columns must be numeric.  Labels may be strings.

Feature matrices may also be images ``(n, H, W)`` or ``(n, C, H, W)``: they are
flattened (channel-major) and their ``image_shape`` is kept.

Task: classification when the labels are strings or booleans, or integers (also
integer-valued floats) with at most 20 distinct values and on average at least 5
samples per value; regression otherwise (:func:`infer_task`).  ``task=``
overrides.  Class labels are encoded ``0 .. k-1``; ``classes`` holds their names.

Every error is a :class:`~deeplasso.data.errors.DataFormatError` (a
``ValueError``) that names the file, the problem and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .array_data import TASKS, ArrayData
from .array_readers import ARRAY_SUFFIXES, read_csv, read_npy, read_npz
# Re-exported: deeplasso.data.arrays stays the one place for the user-array API.
from .array_splits import split_arrays, standardize_arrays, subsample_train
from .errors import DataFormatError

__all__ = [
    "ArrayData",
    "ARRAY_SUFFIXES",
    "TASKS",
    "load_arrays",
    "infer_task",
    "split_arrays",
    "standardize_arrays",
    "subsample_train",
]

#: At most this many distinct integer labels for classification to be inferred.
MAX_INFERRED_CLASSES = 20


def load_arrays(path, *, labels=None, target=None, task=None, image_shape=None, unlabeled=False) -> ArrayData:
    """Read a user data file (``.npz``, ``.npy``, ``.csv``/``.tsv``) and check it.

    Parameters
    ----------
    path : str or os.PathLike
        The data file; the format comes from its suffix.
    labels : str or os.PathLike, optional
        ``.npy`` only: a file holding the labels ``(n,)``.
    target : str or int, optional
        ``.csv``: the label column, by name or index (negative counts from the
        end); ``.npy`` without ``labels``: the label column index.  Default: the
        last column.
    task : {"classification", "regression"}, optional
        Default: inferred from the labels (:func:`infer_task`).
    image_shape : sequence of int, optional
        ``(C, H, W)`` (or ``(H, W)``) of the features, for importance maps.
    unlabeled : bool
        For unsupervised selection: labels are optional. With no ``labels`` file,
        no ``target`` and (``.npz``) no ``y`` key, every column is a feature and
        the result's ``task`` is ``"unlabeled"`` (its ``y`` arrays zeros);
        labels that are given are read as usual.

    Returns
    -------
    ArrayData
        Validation / test parts only when the file gives them.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataFormatError
        Anything wrong with the content; the message names the file, the
        problem and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file (give a .npz, .npy or .csv file)")
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES:
        raise DataFormatError(path, f"unknown file type {path.suffix!r}",
                              "give a .npz (X, y), .npy (features, with --labels) or .csv file")
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be 'classification', 'regression' or None (infer), got {task!r}")
    if labels is not None and suffix != ".npy":
        raise DataFormatError(path, "a separate labels file only goes with a .npy feature matrix",
                              "put the labels in the file itself (.npz: key 'y'; .csv: a column, see --target)")
    names, target_name = None, None
    if suffix == ".npz":
        if target is not None:
            raise DataFormatError(path, "target (the label column) does not apply to .npz files",
                                  "store the labels under the key 'y'")
        parts, names = read_npz(path, unlabeled)
    elif suffix == ".npy":
        X, y, target_name = read_npy(path, labels, target, unlabeled)
        parts = {"train": (X, y)}
    else:
        X, y, names, target_name = read_csv(path, target, unlabeled)
        parts = {"train": (X, y)}
    return _assemble(path, parts, names, target_name, task, image_shape)


# --------------------------------------------------------------------------- checks


def infer_task(y) -> str:
    """``"classification"`` for string or boolean labels, and for integer(-valued)
    labels with at most 20 distinct values and on average at least 5 samples per
    value; ``"regression"`` otherwise."""
    y = np.asarray(y)
    if y.dtype.kind in "OUSb":
        return "classification"
    if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        return "regression"
    n_unique = len(np.unique(y))
    return "classification" if n_unique <= max(2, min(MAX_INFERRED_CLASSES, len(y) // 5)) else "regression"


def _check_X(path, X, what) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind == "b":
        X = X.astype(np.float32)
    if X.dtype.kind not in "iuf":
        raise DataFormatError(path, f"{what} has dtype {X.dtype}, not numbers",
                              "store numeric features (encode categories as numbers)")
    if X.ndim not in (2, 3, 4):
        raise DataFormatError(path, f"{what} has shape {X.shape}; expected a matrix (n_samples, n_features) or "
                              "images (n, H, W) / (n, C, H, W)",
                              "reshape it, e.g. X.reshape(len(X), -1)" if X.ndim > 4 else
                              "a 1-D array is one feature: use X.reshape(-1, 1); one sample: X.reshape(1, -1)")
    if X.shape[0] == 0 or int(np.prod(X.shape[1:])) == 0:
        raise DataFormatError(path, f"{what} is empty (shape {X.shape})", "give at least one sample and one feature")
    if X.dtype.kind == "f" and X.dtype.itemsize > 4:
        X = X.astype(np.float64, copy=False)
    elif X.dtype.kind != "f":
        X = X.astype(np.float32 if X.dtype.itemsize <= 2 else np.float64)
    flat = X.reshape(len(X), -1)
    bad = ~np.isfinite(flat)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        kinds = " and ".join(k for k, m in (("NaN", np.isnan(flat).any()), ("infinite", np.isinf(flat).any())) if m)
        raise DataFormatError(path, f"{what} holds {int(bad.sum())} {kinds} value(s), the first at row {r}, "
                              f"feature {c}", "impute or drop them (rows or features) before training")
    return X


def _check_y(path, y, n, what) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataFormatError(path, f"{what} has shape {y.shape}; expected one label per sample (n,)",
                              "give a 1-D label array (several targets at once: use LassoNetRegressor in Python)")
    if len(y) != n:
        raise DataFormatError(path, f"{what} holds {len(y)} labels for {n} samples",
                              "give exactly one label per sample (row) of the features")
    if y.dtype.kind == "O":
        raise DataFormatError(path, f"{what} holds Python objects", "store numbers or strings")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        r = int(np.argwhere(~np.isfinite(y))[0, 0])
        raise DataFormatError(path, f"{what} holds {int((~np.isfinite(y)).sum())} NaN or infinite value(s), the "
                              f"first at row {r}", "drop the samples without a label")
    return y


def _class_name(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _assemble(path, parts, names, target_name, task, image_shape) -> ArrayData:
    Xs, ys = {}, {}
    for p, (X, y) in parts.items():
        suffix = "" if p == "train" else f"_{p}"
        Xs[p] = _check_X(path, X, f"X{suffix}")
        if y is not None:
            ys[p] = _check_y(path, y, len(Xs[p]), f"y{suffix}")
    shape_in = Xs["train"].shape[1:]
    for p in Xs:
        if Xs[p].shape[1:] != shape_in:
            raise DataFormatError(path, f"X_{p} has samples of shape {Xs[p].shape[1:]} but X has {shape_in}",
                                  "give all parts the same features in the same order")
    d = int(np.prod(shape_in))
    inferred = None if len(shape_in) == 1 else ((1, *shape_in) if len(shape_in) == 2 else tuple(shape_in))
    shp = _image_shape(path, image_shape, inferred, d)
    if names is not None and len(names) != d:
        raise DataFormatError(path, f"{len(names)} feature names for {d} features",
                              "give one name per feature (or none)")
    if not ys:  # unlabeled (load_arrays(unlabeled=True)): zeros stand in for the labels
        return ArrayData(task="unlabeled", classes=None, feature_names=names, image_shape=shp, source=str(path),
                         target_name=None, **{k: v for p in Xs for k, v in
                                              ((f"X_{p}", Xs[p].reshape(len(Xs[p]), -1)),
                                               (f"y_{p}", np.zeros(len(Xs[p]))))})
    y_all = np.concatenate([ys[p] for p in ys]) if len(ys) > 1 else ys["train"]
    if task is None:
        task = infer_task(y_all)
    classes = None
    src = f"the labels ({target_name})" if target_name else "the labels"
    if task == "classification":
        keys = {p: ys[p].astype(str) if y_all.dtype.kind in "US" else ys[p] for p in ys}
        labels = np.unique(keys["train"])
        if len(labels) < 2:
            raise DataFormatError(path, f"{src} hold a single class ({_class_name(labels[0])!r}); a classifier "
                                  "needs at least two", "check the label column (--target) or the labels file; "
                                  "for a numeric target use --task regression")
        for p in ("val", "test"):
            if p in keys:
                unseen = np.setdiff1d(np.unique(keys[p]), labels)
                if unseen.size:
                    raise DataFormatError(path, f"y_{p} holds classes absent from the training labels: "
                                          f"{[_class_name(u) for u in unseen[:10]]}",
                                          "make sure every class of the validation and test parts occurs in "
                                          "training, or let deeplasso split the data (store only X and y)")
        classes = tuple(_class_name(c) for c in labels)
        ys = {p: np.searchsorted(labels, keys[p]).astype(np.int64) for p in keys}
    else:
        if y_all.dtype.kind not in "biuf":
            example = [str(v) for v in np.unique(y_all)[:3]]
            raise DataFormatError(path, f"{src} are not numbers (e.g. {example}): regression needs numeric "
                                  "targets", "use --task classification, or choose another label column")
        ys = {p: ys[p].astype(np.float64) for p in ys}
        if np.ptp(ys["train"]) == 0:
            raise DataFormatError(path, f"{src} are constant ({ys['train'][0]!r}): there is nothing to learn",
                                  "check the label column (--target) or the labels file")
    kw = {}
    for p in Xs:
        kw[f"X_{p}"] = Xs[p].reshape(len(Xs[p]), -1)
        kw[f"y_{p}"] = ys[p]
    return ArrayData(task=task, classes=classes, feature_names=names, image_shape=shp, source=str(path),
                     target_name=target_name, **kw)


def _image_shape(path, given, inferred, d):
    if given is None:
        return inferred
    try:
        shp = tuple(int(s) for s in given)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be integers C,H,W (or H,W), got {given!r}") from None
    if len(shp) == 2:
        shp = (1, *shp)
    if len(shp) != 3 or min(shp) < 1:
        raise ValueError(f"image_shape must be positive C,H,W (or H,W), e.g. 1,28,28; got {given!r}")
    if int(np.prod(shp)) != d:
        raise DataFormatError(path, f"image_shape {shp} has {int(np.prod(shp))} pixels but the data has {d} "
                              "features", f"give C,H,W with C*H*W = {d}, or no image_shape (importances are "
                              "then drawn as bars)")
    return shp  # an explicit shape wins over the array's own (e.g. for channels-last images)
