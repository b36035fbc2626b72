"""Held-out parts, subsampling and standardisation of an :class:`~.array_data.ArrayData`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .array_data import PARTS, ArrayData
from .errors import DataFormatError
from .stratify import stratified_indices

__all__ = ["split_arrays", "subsample_train", "standardize_arrays"]


def split_arrays(data: ArrayData, val_fraction: float = 0.1, test_fraction: float = 0.2,
                 random_state=0) -> ArrayData:
    """Fill in missing validation and test parts from the training part.

    The parts the file did not give are split off the training data in one
    seeded draw (stratified by class for classification, via
    :func:`~deeplasso.data.stratify.stratified_indices`); given parts are kept.

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
    for p in PARTS:
        X = getattr(data, f"X_{p}")
        if X is not None:
            kw[f"X_{p}"] = ((X - mean) / std).astype(np.float32) if features else X.astype(np.float32)
    if data.task == "regression":
        c, s = float(data.y_train.mean()), float(data.y_train.std())
        s = s if s > 0 else 1.0
        for p in PARTS:
            y = getattr(data, f"y_{p}")
            if y is not None:
                kw[f"y_{p}"] = (y - c) / s
        kw.update(y_center=c, y_scale=s)
    return replace(data, **kw)
