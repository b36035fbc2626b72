"""Your own arrays: ``.npz``, ``.npy`` and ``.csv`` files as train / validation / test parts.

:func:`load_arrays` reads one file, checks it and returns an :class:`ArrayData`
holding the parts the file gives (train always; validation and test when an
``.npz`` holds them).  :func:`split_arrays` fills in the missing parts with a
seeded split (stratified for classification), :func:`standardize_arrays`
standardises features (and regression targets) with training statistics.

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

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .errors import DataFormatError
from .splits import stratified_indices

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

TASKS = ("classification", "regression")
ARRAY_SUFFIXES = (".npz", ".npy", ".csv", ".tsv")
#: At most this many distinct integer labels for classification to be inferred.
MAX_INFERRED_CLASSES = 20

_PARTS = ("train", "val", "test")
# accepted .npz key spellings (compared lower-case), per role and part
_NPZ_KEYS = {
    ("X", "train"): ("x", "data", "features", "inputs", "x_train", "train_x", "xtrain", "data_train",
                     "train_data", "features_train", "train_features"),
    ("y", "train"): ("y", "target", "targets", "label", "labels", "y_train", "train_y", "ytrain",
                     "target_train", "train_target", "labels_train", "train_labels"),
    ("X", "val"): ("x_val", "x_valid", "x_validation", "val_x", "valid_x", "xval", "data_val", "val_data"),
    ("y", "val"): ("y_val", "y_valid", "y_validation", "val_y", "valid_y", "yval", "target_val",
                   "val_target", "labels_val", "val_labels"),
    ("X", "test"): ("x_test", "test_x", "xtest", "data_test", "test_data"),
    ("y", "test"): ("y_test", "test_y", "ytest", "target_test", "test_target", "labels_test", "test_labels"),
}
_NPZ_NAMES = ("feature_names", "features_names", "columns", "column_names")
_MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


@dataclass(frozen=True, eq=False)
class ArrayData:
    """Features and labels of a user data set, as train / validation / test parts.

    Attributes
    ----------
    X_train, y_train : numpy.ndarray
        Features ``(n, d)`` (float) and labels ``(n,)``: int64 ``0 .. k-1`` for
        classification (``classes[k]`` is the name of label ``k``), float for
        regression.
    X_val, y_val, X_test, y_test : numpy.ndarray or None
        The other parts; ``None`` until given by the file or :func:`split_arrays`.
    task : {"classification", "regression"}
    classes : tuple of str or None
        Class names (classification only).
    feature_names : tuple of str or None
        Column names (a CSV header, an ``.npz`` ``feature_names`` array).
    image_shape : tuple of int or None
        ``(C, H, W)`` when the features are pixels (``C*H*W == d``).
    source : str
        The file read.
    target_name : str or None
        The label column (CSV / ``.npy`` label column) or labels file.
    y_center, y_scale : float
        Regression targets were standardised as ``(y - y_center) / y_scale``
        (by :func:`standardize_arrays`); ``0`` and ``1`` otherwise.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    task: str = "classification"
    classes: tuple | None = None
    feature_names: tuple | None = None
    image_shape: tuple | None = None
    source: str = ""
    target_name: str | None = None
    y_center: float = 0.0
    y_scale: float = 1.0

    @property
    def n_features(self) -> int:
        """Number of features."""
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        n = {p: (None if getattr(self, f"y_{p}") is None else len(getattr(self, f"y_{p}"))) for p in _PARTS}
        return (f"ArrayData(source={self.source!r}, task={self.task!r}, n_features={self.n_features}, "
                f"train={n['train']}, val={n['val']}, test={n['test']}, "
                f"classes={None if self.classes is None else len(self.classes)}, image_shape={self.image_shape})")


# --------------------------------------------------------------------------- reading


def load_arrays(path, *, labels=None, target=None, task=None, image_shape=None) -> ArrayData:
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
        parts, names = _read_npz(path)
    elif suffix == ".npy":
        X, y, target_name = _read_npy(path, labels, target)
        parts = {"train": (X, y)}
    else:
        X, y, names, target_name = _read_csv(path, target)
        parts = {"train": (X, y)}
    return _assemble(path, parts, names, target_name, task, image_shape)


def _load_npy(path, what="array") -> np.ndarray:
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataFormatError(path, f"cannot read the {what}: {exc}",
                              "save a plain numeric array with numpy.save (no Python objects)") from None
    except (OSError, EOFError) as exc:
        raise DataFormatError(path, f"not a readable .npy file ({exc})", "save it with numpy.save") from None
    if isinstance(a, np.lib.npyio.NpzFile):  # .npy name, .npz content
        a.close()
        raise DataFormatError(path, "this is an .npz archive with a .npy name", "rename it to .npz")
    return a


def _read_npz(path: Path):
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataFormatError(path, f"not a readable .npz archive ({exc})",
                              "save it with numpy.savez(file, X=..., y=...)") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise DataFormatError(path, "this is a single .npy array with an .npz name",
                              "rename it to .npy and give the labels with --labels, or save X and y with "
                              "numpy.savez(file, X=..., y=...)")
    with z:
        keys = list(z.files)
        lower = {}
        for k in keys:
            lower.setdefault(k.lower(), []).append(k)
        expected = ("expected 'X' and 'y' (also accepted: 'x', 'data'/'target', 'x_train'/'y_train', "
                    "'features'/'labels', ...), optionally 'X_val'/'y_val' and 'X_test'/'y_test'")
        fix = "save the arrays as numpy.savez(file, X=features, y=labels)"

        def find(role, part):
            hits = [k for name in _NPZ_KEYS[(role, part)] for k in lower.get(name, [])]
            if len(hits) > 1:
                raise DataFormatError(path, f"ambiguous keys {hits} could all be the {_role(role, part)}; "
                                      f"keys found: {keys}; {expected}", "keep one of them")
            return hits[0] if hits else None

        found = {(r, p): find(r, p) for r, p in _NPZ_KEYS}
        if found[("X", "train")] is None:
            raise DataFormatError(path, f"no feature matrix found; keys found: {keys}; {expected}", fix)
        if found[("y", "train")] is None:
            raise DataFormatError(path, f"no labels found next to the features {found[('X', 'train')]!r}; "
                                  f"keys found: {keys}; {expected}", fix)
        parts = {}
        for p in _PARTS:
            kx, ky = found[("X", p)], found[("y", p)]
            if (kx is None) != (ky is None):
                have, lack = (kx, "y") if ky is None else (ky, "X")
                raise DataFormatError(path, f"{have!r} has no matching {lack}_{p}; keys found: {keys}",
                                      f"store both X_{p} and y_{p}, or neither (then they are split off "
                                      "the training data)")
            if kx is not None:
                parts[p] = (_npz_array(z, kx, path), _npz_array(z, ky, path))
        names = None
        name_keys = [k for n in _NPZ_NAMES for k in lower.get(n, [])]
        if name_keys:
            names = tuple(str(s) for s in np.asarray(_npz_array(z, name_keys[0], path)).ravel())
    return parts, names


def _role(role, part):
    return ("features" if role == "X" else "labels") + {"train": "", "val": " of the validation part",
                                                          "test": " of the test part"}[part]


def _npz_array(z, key, path):
    try:
        return z[key]
    except ValueError as exc:
        raise DataFormatError(path, f"cannot read array {key!r}: {exc}",
                              "store plain numeric (or string) arrays, no Python objects") from None


def _read_npy(path: Path, labels, target):
    X = _load_npy(path, "feature matrix")
    if labels is not None:
        if target is not None:
            raise DataFormatError(path, "give either a labels file or a label column (target), not both",
                                  "drop --target, or drop --labels")
        lpath = Path(labels)
        if not lpath.is_file():
            raise FileNotFoundError(f"{lpath}: no such labels file (give a .npy file with one label per row)")
        if lpath.suffix.lower() != ".npy":
            raise DataFormatError(lpath, "the labels file must be a .npy array",
                                  "save the labels with numpy.save('labels.npy', y)")
        return X, _load_npy(lpath, "labels"), lpath.name
    if X.ndim != 2:
        raise DataFormatError(path, f"the array has shape {X.shape}; without a labels file it must be a 2-D "
                              "matrix whose label is one of its columns",
                              "give the labels with --labels y.npy (features may then be images (n, H, W))")
    if X.shape[1] < 2:
        raise DataFormatError(path, f"shape {X.shape}: one column cannot hold both features and the label",
                              "give the labels with --labels y.npy")
    if target is None:
        j = X.shape[1] - 1
    else:
        try:
            j = int(target)
        except (TypeError, ValueError):
            raise DataFormatError(path, f"target {target!r} is not a column index (a .npy file has no column "
                                  "names)", "give the label column as an index such as 0 or -1") from None
        if not -X.shape[1] <= j < X.shape[1]:
            raise DataFormatError(path, f"target column {j} is out of range for {X.shape[1]} columns",
                                  f"give an index from {-X.shape[1]} to {X.shape[1] - 1}")
        j %= X.shape[1]
    return np.delete(X, j, axis=1), X[:, j], f"column {j}"


def _read_csv(path: Path, target):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not UTF-8 text ({exc})", "save the CSV file as UTF-8") from None
    if path.suffix.lower() == ".tsv":
        dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows, lines = [], []
    for row in reader:
        if row and any(c.strip() for c in row):
            rows.append([c.strip() for c in row])
            lines.append(reader.line_num)
    if not rows:
        raise DataFormatError(path, "the file holds no rows", "write one sample per row, the label in a column")
    width = len(rows[0])
    for row, line in zip(rows, lines):
        if len(row) != width:
            raise DataFormatError(path, f"line {line} has {len(row)} fields but line {lines[0]} has {width}",
                                  "give every row the same number of columns (quote fields holding the "
                                  "separator)")
    header = _has_header(rows)
    if header:
        names = tuple(c if c else f"column {j}" for j, c in enumerate(rows[0]))
        rows, lines = rows[1:], lines[1:]
    else:
        names = tuple(f"column {j}" for j in range(width))
    if not rows:
        raise DataFormatError(path, "the file holds a header but no data rows", "add one row per sample")
    if width < 2:
        raise DataFormatError(path, "the file has a single column: no room for both features and a label",
                              "add the feature columns (and check the separator: , ; or tab)")
    j = _target_column(path, target, names, header)
    cells = np.array(rows, dtype=str)
    feat_cols = [c for c in range(width) if c != j]
    X = _csv_numbers(path, cells[:, feat_cols], [names[c] for c in feat_cols], lines, j, names[j])
    y = _csv_labels(path, cells[:, j], names[j], lines)
    return X, y, tuple(names[c] for c in feat_cols) if header else None, names[j]


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _has_header(rows) -> bool:
    """A header: some column with text in the first row and numbers below it (or a
    first row of text only, above rows that are not)."""
    if len(rows) < 2:
        return not all(_is_number(c) for c in rows[0])
    first, rest = rows[0], rows[1:6]
    for j, c in enumerate(first):
        if not _is_number(c) and c.lower() not in _MISSING and any(_is_number(r[j]) for r in rest):
            return True
    return False


def _target_column(path, target, names, header) -> int:
    width = len(names)
    if target is None:
        return width - 1
    if isinstance(target, str):
        if header and target in names:
            return names.index(target)
        if header:
            folded = [n for n in names if n.lower() == target.lower()]
            if len(folded) == 1:
                return names.index(folded[0])
        try:
            idx = int(target)
        except ValueError:
            known = f"the columns are {list(names)}" if header else "the file has no header row"
            raise DataFormatError(path, f"no column named {target!r}; {known}",
                                  "give the label column by its name or index (--target)") from None
    else:
        idx = int(target)
    if not -width <= idx < width:
        raise DataFormatError(path, f"target column {idx} is out of range for {width} columns",
                              f"give an index from {-width} to {width - 1} or a column name")
    return idx % width


def _csv_numbers(path, cells, names, lines, target_col, target_name) -> np.ndarray:
    try:
        X = cells.astype(np.float64)
    except ValueError:
        X = None
    if X is None or not np.isfinite(X).all():
        _diagnose_csv(path, cells, names, lines, target_name)
    return X


def _diagnose_csv(path, cells, names, lines, target_name):
    bad_cols, missing = [], []
    for c in range(cells.shape[1]):
        first_bad = None
        for r in range(cells.shape[0]):
            s = str(cells[r, c])
            if s.lower() in _MISSING:
                missing.append((r, c))
            elif not _is_number(s):
                if first_bad is None:
                    first_bad = (r, s)
            elif not np.isfinite(float(s)):
                missing.append((r, c))
        if first_bad is not None:
            bad_cols.append((names[c], lines[first_bad[0]], first_bad[1]))
    if bad_cols:
        listed = ", ".join(f"{n!r} (line {ln}: {v!r})" for n, ln, v in bad_cols[:10])
        more = f" and {len(bad_cols) - 10} more" if len(bad_cols) > 10 else ""
        raise DataFormatError(path, f"non-numeric feature column{'s' if len(bad_cols) > 1 else ''} {listed}{more} "
                              f"(the label column is {target_name!r})",
                              "features must be numbers: encode categories as numbers (e.g. one-hot columns) "
                              "or drop those columns; if one of them is the label, choose it with --target NAME")
    r, c = missing[0]
    cols = sorted({names[c] for _, c in missing})
    raise DataFormatError(path, f"missing or non-finite value {str(cells[r, c])!r} at line {lines[r]}, column "
                          f"{names[c]!r} ({len(missing)} such cell{'s' if len(missing) > 1 else ''} in all, in "
                          f"column{'s' if len(cols) > 1 else ''} {cols[:10]})",
                          "fill them in (impute) or drop those rows or columns")


def _csv_labels(path, col, name, lines) -> np.ndarray:
    miss = [r for r, s in enumerate(col) if s.lower() in _MISSING]
    if miss:
        raise DataFormatError(path, f"the label column {name!r} is empty at line {lines[miss[0]]} "
                              f"({len(miss)} missing label{'s' if len(miss) > 1 else ''} in all)",
                              "drop the rows without a label, or choose another label column with --target")
    try:
        return col.astype(np.float64)
    except ValueError:
        return col.astype(str)


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


# --------------------------------------------------------------------------- splitting, scaling


def split_arrays(data: ArrayData, val_fraction: float = 0.1, test_fraction: float = 0.2,
                 random_state=0) -> ArrayData:
    """Fill in missing validation and test parts from the training part.

    The parts the file did not give are split off the training data in one
    seeded draw (stratified by class for classification, via
    :func:`~deeplasso.data.splits.stratified_indices`); given parts are kept.

    Parameters
    ----------
    data : ArrayData
    val_fraction, test_fraction : float
        Shares of the samples for the missing parts (of all the samples in the
        training part as read).
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    ArrayData
        With all three parts.
    """
    need = [p for p in ("val", "test") if getattr(data, f"y_{p}") is None]
    if not need:
        return data
    fr = {"val": float(val_fraction), "test": float(test_fraction)}
    for p in need:
        if not 0 < fr[p] < 1:
            raise ValueError(f"{p}_fraction must be in (0, 1), got {fr[p]}")
    train_fr = 1.0 - sum(fr[p] for p in need)
    if train_fr <= 0:
        raise ValueError(f"val_fraction + test_fraction must be below 1, got {sum(fr[p] for p in need)}")
    y = data.y_train
    n = len(y)
    strat = y if data.task == "classification" else np.zeros(n, dtype=np.int64)
    if data.task == "classification":
        counts = np.bincount(y, minlength=len(data.classes))
        rare = [(data.classes[c], int(k)) for c, k in enumerate(counts) if 0 < k < 2]
        if rare:
            raise DataFormatError(data.source, f"class(es) {rare[:10]} (name, count) have fewer than 2 samples: "
                                  "too few to split into training and held-out parts",
                                  "add samples, drop or merge the rare classes, or store your own X_val/y_val "
                                  "and X_test/y_test in an .npz")
    if min(round(n * fr[p]) for p in need) < 1 or round(n * train_fr) < 2:
        raise DataFormatError(data.source, f"{n} samples are too few to split off {' and '.join(need)} parts",
                              "give more samples (at least ~20)")
    idx = stratified_indices(strat, [train_fr] + [fr[p] for p in need], random_state)
    kw = {"X_train": data.X_train[idx[0]], "y_train": y[idx[0]]}
    for p, ix in zip(need, idx[1:]):
        kw[f"X_{p}"], kw[f"y_{p}"] = data.X_train[ix], y[ix]
    if data.task == "classification":
        missing = np.setdiff1d(np.unique(y), np.unique(kw["y_train"]))
        if missing.size:  # pragma: no cover - needs a training fraction below one half
            raise DataFormatError(data.source, f"classes {[data.classes[c] for c in missing]} ended up outside "
                                  "the training part", "use smaller val_fraction / test_fraction")
    return replace(data, **kw)


def subsample_train(data: ArrayData, n_train: int, random_state=0) -> ArrayData:
    """Keep ``n_train`` random training samples (stratified for classification)."""
    n = len(data.y_train)
    if n_train is None or n_train >= n:
        return data
    if n_train < 2:
        raise ValueError(f"n_train must be at least 2, got {n_train}")
    strat = data.y_train if data.task == "classification" else np.zeros(n, dtype=np.int64)
    keep = stratified_indices(strat, [n_train, n - n_train], random_state)[0]
    return replace(data, X_train=data.X_train[keep], y_train=data.y_train[keep])


def standardize_arrays(data: ArrayData, features: bool = True) -> ArrayData:
    """float32 features standardised per feature with the training part's mean and
    std (constant features: std 1), and regression targets as
    ``(y - y_center) / y_scale`` with the training mean and std (R^2 is unchanged).

    Parameters
    ----------
    data : ArrayData
        With all parts (see :func:`split_arrays`).
    features : bool
        Standardise the features (else only cast to float32).
    """
    kw = {}
    if features:
        Xtr = data.X_train.astype(np.float64)
        mean = Xtr.mean(0)
        std = Xtr.std(0)
        std = np.where(std > 0, std, 1.0)
    for p in _PARTS:
        X = getattr(data, f"X_{p}")
        if X is not None:
            kw[f"X_{p}"] = ((X - mean) / std).astype(np.float32) if features else X.astype(np.float32)
    if data.task == "regression":
        c, s = float(data.y_train.mean()), float(data.y_train.std())
        s = s if s > 0 else 1.0
        for p in _PARTS:
            y = getattr(data, f"y_{p}")
            if y is not None:
                kw[f"y_{p}"] = (y - c) / s
        kw.update(y_center=c, y_scale=s)
    return replace(data, **kw)
