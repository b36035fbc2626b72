"""Parsers of the user file formats ``.npz``, ``.npy`` and ``.csv``/``.tsv``.

Each reader turns one file into raw arrays and names, raising
:class:`~deeplasso.data.errors.DataFormatError` for anything it cannot read;
:func:`~deeplasso.data.arrays.load_arrays` then checks the content (shapes,
finite values, labels) the same way for all three.  The formats are described
in :mod:`.arrays`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .array_data import PARTS
from .errors import DataFormatError

__all__ = ["ARRAY_SUFFIXES", "read_npz", "read_npy", "read_csv"]

ARRAY_SUFFIXES = (".npz", ".npy", ".csv", ".tsv")

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


#: What a file numpy can read begins with: a zip archive (``numpy.savez``; an empty one
#: starts with the end-of-archive record) or an ``.npy`` header. numpy reads anything else
#: as a pickle and refuses it with "pickled data ... allow_pickle", which sends a user to
#: a setting we never use; so the first bytes are checked here and named.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"


def _sniff(path, kind: str) -> None:
    """Refuse a file that is neither a zip archive nor an ``.npy`` array, naming it as
    not a valid ``kind`` (".npz" or ".npy") file."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return  # np.load reports it
    if head.startswith(_ZIP_MAGIC) or head.startswith(_NPY_MAGIC):
        return
    what = "it is empty" if not head else (
        "it is neither a zip archive (what numpy.savez writes) nor a .npy array: it holds other bytes")
    fix = "save the arrays with numpy.savez(file, X=..., y=...)" if kind == ".npz" else \
        "save a plain numeric array with numpy.save(file, array)"
    raise DataFormatError(path, f"not a valid {kind} file ({what})", fix)


def _load_npy(path, what="array") -> np.ndarray:
    _sniff(path, ".npy")
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


def read_npz(path: Path, unlabeled: bool = False):
    """Parts and feature names of an ``.npz`` archive (``unlabeled``: the labels may be
    missing, each part's then ``(X, None)``).

    Returns
    -------
    parts : dict
        ``{"train": (X, y)}`` plus ``"val"`` / ``"test"`` when the file holds them.
    names : tuple of str or None
        The ``feature_names`` array, if any.
    """
    _sniff(path, ".npz")
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
        if found[("y", "train")] is None and not unlabeled:
            raise DataFormatError(path, f"no labels found next to the features {found[('X', 'train')]!r}; "
                                  f"keys found: {keys}; {expected}", fix)
        parts = {}
        for p in PARTS:
            kx, ky = found[("X", p)], found[("y", p)]
            if unlabeled and found[("y", "train")] is None:
                if kx is not None:
                    parts[p] = (_npz_array(z, kx, path), None)
                continue
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


def read_npy(path: Path, labels, target, unlabeled: bool = False):
    """Features, labels and the label source of a ``.npy`` matrix.

    The labels come from the file ``labels`` or else from column ``target``
    (default: the last), which is then dropped from the features; ``unlabeled``
    with neither: every column is a feature and the labels are ``None``.
    """
    X = _load_npy(path, "feature matrix")
    if unlabeled and labels is None and target is None:
        return X, None, None
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


def read_csv(path: Path, target, unlabeled: bool = False):
    """Features, labels, feature names (None without a header) and label column name of a CSV file
    (``unlabeled`` without ``target``: every column is a feature, labels and their name ``None``)."""
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
    cells = np.array(rows, dtype=str)
    if unlabeled and target is None:
        X = _csv_numbers(path, cells, list(names), lines, None, None)
        return X, None, names if header else None, None
    if width < 2:
        raise DataFormatError(path, "the file has a single column: no room for both features and a label",
                              "add the feature columns (and check the separator: , ; or tab)")
    j = _target_column(path, target, names, header)
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
        label = "no label column" if target_name is None else f"the label column is {target_name!r}"
        raise DataFormatError(path, f"non-numeric feature column{'s' if len(bad_cols) > 1 else ''} {listed}{more} "
                              f"({label})",
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
