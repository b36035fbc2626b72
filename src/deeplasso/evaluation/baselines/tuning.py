"""Shared steps of the baselines: checking the parts, subsampling, grids, folds, tuning."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from ...data import stratified_indices
from .results import first_argmax

__all__ = ["check_parts", "subsample_train", "check_seed", "check_grid", "check_cv", "stratified_folds",
           "fit_quiet", "accuracy", "tune"]


def check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val: bool):
    """Validate shapes; return arrays (X 2-D, y 1-D)."""
    parts = {"train": (X_train, y_train), "val": (X_val, y_val), "test": (X_test, y_test)}
    out = {}
    d = None
    for name, (X, y) in parts.items():
        if X is None and y is None and name == "val" and not need_val:
            out[name] = (None, None)
            continue
        if X is None or y is None:
            raise ValueError(f"X_{name} and y_{name} are required; pass both arrays")
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(
                f"X_{name} must be 2-D (n_samples, n_features), got shape {X.shape}; flatten images with "
                "deeplasso.data.preprocess or X.reshape(len(X), -1)")
        if X.dtype.kind not in "fiub":
            raise ValueError(f"X_{name} must be numeric, got dtype {X.dtype}")
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y_{name} must be 1-D with one label per row of X_{name}: got y shape {y.shape} "
                             f"for X shape {X.shape}")
        if len(X) == 0:
            raise ValueError(f"X_{name} is empty")
        if d is None:
            d = X.shape[1]
        elif X.shape[1] != d:
            raise ValueError(f"X_{name} has {X.shape[1]} features but X_train has {d}; all parts must be "
                             "preprocessed the same way")
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise ValueError(f"X_{name} contains NaN or inf; impute or drop those rows first")
        out[name] = (X, y)
    if len(np.unique(out["train"][1])) < 2:
        raise ValueError("y_train holds a single class; a classifier needs at least two")
    return out


def subsample_train(X, y, max_train, random_state=0):
    """Stratified, seeded subsample of at most ``max_train`` rows.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, d)`` features.
    y : numpy.ndarray
        ``(n,)`` labels.
    max_train : int or None
        Rows to keep; ``None`` or ``>= n`` keeps everything (no copy).
    random_state : int, numpy.random.Generator or None
        Seed of the draw.

    Returns
    -------
    X_sub, y_sub : numpy.ndarray
        The kept rows, in their original order.  Each class keeps ``floor`` or
        ``ceil`` of its proportional share (``deeplasso.data.stratified_indices``).
    """
    n = len(y)
    if max_train is None or int(max_train) >= n:
        return X, y
    m = int(max_train)
    n_classes = len(np.unique(y))
    if m < n_classes:
        raise ValueError(f"max_train={m} is smaller than the number of classes ({n_classes}); keep at least "
                         "one row per class")
    keep = stratified_indices(y, [m, n - m], random_state)[0]
    return X[keep], y[keep]


def check_seed(random_state) -> int | None:
    """``random_state`` as an int or None; any other type is a TypeError."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return None if random_state is None else int(random_state)
    raise TypeError(f"random_state must be an int or None, got {type(random_state).__name__}")


def check_grid(values, name: str, kind=float) -> list:
    """A non-empty grid of distinct positive values."""
    try:
        g = [kind(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if not g:
        raise ValueError(f"{name} is empty; give at least one value to try")
    if len(set(g)) != len(g):
        raise ValueError(f"{name} has repeated values: {g}")
    if any(not v > 0 for v in g):
        raise ValueError(f"{name} values must be positive, got {g}")
    return g


def check_cv(cv, n_train: int, auto_limit: int | None):
    """Normalise ``cv`` to an int >= 2 or the string "val"."""
    if cv == "auto":
        return 5 if auto_limit is None or n_train <= auto_limit else "val"
    if cv == "val":
        return "val"
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool) and cv >= 2:
        return int(cv)
    raise ValueError(f"cv must be an int >= 2 (folds on the training split), 'val' (the validation split) or "
                     f"'auto', got {cv!r}")


def stratified_folds(y, cv: int, seed):
    """Stratified, shuffled ``(train, test)`` index pairs of ``cv`` folds."""
    counts = np.unique(y, return_counts=True)[1]
    if counts.min() < cv:
        raise ValueError(f"cv={cv} folds need at least {cv} training rows per class, the smallest class has "
                         f"{counts.min()}; use fewer folds or cv='val'")
    return list(StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def fit_quiet(est, X, y) -> bool:
    """Fit; return False if scikit-learn warned that the solver did not converge."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    return not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def accuracy(est, X, y) -> float:
    """Fraction of rows ``est`` predicts right."""
    return float(np.mean(est.predict(X) == y))


def tune(make: Callable[[Any], Any], grid, cv, Xtr, ytr, Xv, yv, seed):
    """Score every grid value; return (scores, stds, converged, best index, fitted best or None)."""
    scores, stds, converged = [], [], []
    fitted = None
    best_score = -np.inf
    if cv == "val":
        for v in grid:
            est = make(v)
            converged.append(fit_quiet(est, Xtr, ytr))
            s = accuracy(est, Xv, yv)
            scores.append(s)
            if s > best_score:
                best_score, fitted = s, est
        return scores, None, converged, first_argmax(scores), fitted
    folds = stratified_folds(ytr, cv, seed)
    for v in grid:
        fold_scores, ok = [], True
        for tr, te in folds:
            est = make(v)
            ok &= fit_quiet(est, Xtr[tr], ytr[tr])
            fold_scores.append(accuracy(est, Xtr[te], ytr[te]))
        scores.append(float(np.mean(fold_scores)))
        stds.append(float(np.std(fold_scores)))
        converged.append(bool(ok))
    return scores, stds, converged, first_argmax(scores), None
