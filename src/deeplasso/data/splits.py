"""Train / validation / test splits of an image data set, class subsets and
per-class subsampling.

All functions take pixels as uint8 and return uint8; call
:func:`deeplasso.data.preprocess` (or :func:`preprocess_split`) when floats
are needed.  All randomness comes from one ``random_state`` argument: an int
seed (default ``0``, deterministic), a :class:`numpy.random.Generator`
(consumed), or ``None`` (fresh OS entropy, not reproducible).  The split
itself is :func:`~deeplasso.data.stratify.stratified_indices` (see
:mod:`.stratify` for its allocation rule).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .dataset import ImageDataset, ImageMeta
from .stratify import as_generator, stratified_indices

__all__ = [
    "Split",
    "as_generator",  # from .stratify, still importable from here
    "stratified_indices",  # from .stratify, still importable from here
    "paper_split",
    "official_split",
    "make_split",
    "select_classes",
    "subsample_per_class",
]


@dataclass(frozen=True, eq=False)
class Split(ImageMeta):
    """Train / validation / test parts of one data set (uint8 pixels).

    Attributes
    ----------
    x_train, x_val, x_test : numpy.ndarray
        uint8 ``(n, C, H, W)``.
    y_train, y_val, y_test : numpy.ndarray
        int64 labels ``0 .. len(classes)-1``.
    classes : tuple of str
        Class names.
    image_shape : tuple of int
        ``(C, H, W)``.
    name : str
        Data set name.
    scheme : str
        How it was made (``"paper"``, ``"official"``, plus any subsetting).
    idx_train, idx_val, idx_test : numpy.ndarray
        Positions of the images in the pooled official data
        (``0 .. n_train-1`` = official train, ``n_train + j`` = official test
        image ``j``), for provenance.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    image_shape: tuple
    name: str = ""
    scheme: str = ""
    idx_train: np.ndarray | None = None
    idx_val: np.ndarray | None = None
    idx_test: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"Split(name={self.name!r}, scheme={self.scheme!r}, train={len(self.y_train)}, "
            f"val={len(self.y_val)}, test={len(self.y_test)}, classes={len(self.classes)}, "
            f"image_shape={self.image_shape})"
        )


def _take_pooled(ds: ImageDataset, idx: np.ndarray):
    """Images/labels at sorted pooled positions without building the pool."""
    n_tr = ds.x_train.shape[0]
    k = int(np.searchsorted(idx, n_tr))
    x = np.empty((idx.size, *ds.image_shape), dtype=np.uint8)
    y = np.empty(idx.size, dtype=np.int64)
    x[:k], y[:k] = ds.x_train[idx[:k]], ds.y_train[idx[:k]]
    x[k:], y[k:] = ds.x_test[idx[k:] - n_tr], ds.y_test[idx[k:] - n_tr]
    return x, y


def paper_split(ds: ImageDataset, fractions=(0.8, 0.1, 0.1), random_state=0) -> Split:
    """The paper's split: pool train and test, then stratified 80:10:10.

    Parameters
    ----------
    ds : ImageDataset
        Official data (e.g. from :func:`load`).
    fractions : (float, float, float)
        Train, validation and test fractions.
    random_state : int, numpy.random.Generator or None
        Source of randomness (default 0).

    Returns
    -------
    Split
        Disjoint parts covering all ``n_train + n_test`` images, each class
        split in the same proportions; each part in pooled order.
    """
    if len(fractions) != 3:
        raise ValueError(f"fractions must be (train, val, test), got {fractions!r}")
    y_all = np.concatenate([ds.y_train, ds.y_test])
    parts = stratified_indices(y_all, fractions, random_state)
    arrays = [_take_pooled(ds, p) for p in parts]
    return Split(*arrays[0], *arrays[1], *arrays[2], ds.classes, ds.image_shape, ds.name, "paper", *parts)


def official_split(ds: ImageDataset, val_fraction: float = 0.1, random_state=0) -> Split:
    """The official train/test split, with a stratified validation part from train.

    Parameters
    ----------
    ds : ImageDataset
        Official data.
    val_fraction : float
        Fraction of the official training images moved to validation
        (``0`` gives an empty validation part).
    random_state : int, numpy.random.Generator or None
        Source of randomness (default 0).

    Returns
    -------
    Split
        The test part is the official test set in official order.
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    tr, va = stratified_indices(ds.y_train, (1 - val_fraction, val_fraction), random_state)
    te = np.arange(ds.y_test.size, dtype=np.int64)
    n_tr = ds.y_train.size
    return Split(
        ds.x_train[tr], ds.y_train[tr], ds.x_train[va], ds.y_train[va], ds.x_test, ds.y_test,
        ds.classes, ds.image_shape, ds.name, "official", tr, va, te + n_tr,
    )


def make_split(ds: ImageDataset, scheme: str = "paper", *, val_fraction: float = 0.1,
               fractions=(0.8, 0.1, 0.1), random_state=0) -> Split:
    """Make a split by name.

    Parameters
    ----------
    ds : ImageDataset
        Official data.
    scheme : {"paper", "official"}
        :func:`paper_split` (pooled, stratified ``fractions``) or
        :func:`official_split` (official test set, ``val_fraction`` of train
        for validation).
    val_fraction : float
        Used by ``"official"``.
    fractions : (float, float, float)
        Used by ``"paper"``.
    random_state : int, numpy.random.Generator or None
        Source of randomness (default 0).

    Returns
    -------
    Split
    """
    if scheme == "paper":
        return paper_split(ds, fractions, random_state)
    if scheme == "official":
        return official_split(ds, val_fraction, random_state)
    raise ValueError(f"unknown split scheme {scheme!r}; use 'paper' (pooled 80:10:10) or 'official'")


def _parts(data):
    if isinstance(data, Split):
        return ("train", "val", "test")
    if isinstance(data, ImageDataset):
        return ("train", "test")
    raise TypeError(f"expected an ImageDataset or a Split, got {type(data).__name__}")


def _subset(data, keep: dict, relabel=None, classes=None, tag=""):
    """New object with data.<x/y/idx>_<part>[keep[part]] (and new labels)."""
    changes = {}
    for part, k in keep.items():
        y = getattr(data, f"y_{part}")[k]
        changes[f"x_{part}"] = getattr(data, f"x_{part}")[k]
        changes[f"y_{part}"] = relabel[y] if relabel is not None else y
        if isinstance(data, Split) and getattr(data, f"idx_{part}") is not None:
            changes[f"idx_{part}"] = getattr(data, f"idx_{part}")[k]
    if classes is not None:
        changes["classes"] = classes
    if isinstance(data, Split):
        changes["scheme"] = f"{data.scheme}+{tag}" if data.scheme else tag
    return replace(data, **changes)


def select_classes(data, classes):
    """Keep only some classes and relabel them ``0 .. k-1`` in the given order.

    Parameters
    ----------
    data : ImageDataset or Split
        Source.
    classes : sequence of int or str
        Labels or class names, e.g. ``[1, 4]`` or ``["cat", "dog"]``.  The
        first becomes label 0, the next label 1, ...; names are kept.

    Returns
    -------
    ImageDataset or Split
        Same type as ``data``; image order is preserved.

    Examples
    --------
    >>> s = select_classes(load("mnist"), [1, 4])   # doctest: +SKIP
    >>> s.classes                                     # doctest: +SKIP
    ('1', '4')
    """
    names = list(data.classes)
    chosen = []
    for c in classes:
        if isinstance(c, str):
            if c not in names:
                raise ValueError(f"unknown class name {c!r}; known: {names}")
            c = names.index(c)
        c = int(c)
        if not 0 <= c < len(names):
            raise ValueError(f"class label {c} out of range 0..{len(names) - 1}")
        if c in chosen:
            raise ValueError(f"class {names[c]!r} given twice")
        chosen.append(c)
    if not chosen:
        raise ValueError("select_classes needs at least one class")
    relabel = np.full(len(names), -1, dtype=np.int64)
    relabel[chosen] = np.arange(len(chosen))
    keep = {p: np.nonzero(relabel[getattr(data, f"y_{p}")] >= 0)[0] for p in _parts(data)}
    return _subset(data, keep, relabel, tuple(names[c] for c in chosen), "classes")


def subsample_per_class(data, n_train=None, n_val=None, n_test=None, random_state=0):
    """Keep at most ``n`` random images per class in each part (quick runs).

    Parameters
    ----------
    data : ImageDataset or Split
        Source.
    n_train, n_val, n_test : int or None
        Images kept per class in that part; ``None`` keeps the part whole.
        Classes with fewer images keep all of them.  ``n_val`` needs a Split.
    random_state : int, numpy.random.Generator or None
        Source of randomness (default 0).

    Returns
    -------
    ImageDataset or Split
        Same type as ``data``; kept images stay in their original order.
    """
    rng = as_generator(random_state)
    want = {"train": n_train, "val": n_val, "test": n_test}
    parts = _parts(data)
    if n_val is not None and "val" not in parts:
        raise ValueError("n_val needs a Split (an ImageDataset has no validation part)")
    keep = {}
    for part in parts:
        n = want[part]
        if n is None:
            continue
        if int(n) < 0:
            raise ValueError(f"n_{part} must be >= 0, got {n}")
        y = getattr(data, f"y_{part}")
        chosen = []
        for c in range(len(data.classes)):
            members = np.nonzero(y == c)[0]
            if members.size > n:
                members = rng.choice(members, size=int(n), replace=False)
            chosen.append(members)
        keep[part] = np.sort(np.concatenate(chosen)) if chosen else np.empty(0, np.int64)
    return _subset(data, keep, tag="subsample")
