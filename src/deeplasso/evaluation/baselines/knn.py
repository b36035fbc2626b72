"""The k-nearest-neighbours baseline."""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from .results import BaselineResult, first_argmax, make_result
from .tuning import accuracy, check_cv, check_grid, check_parts, check_seed, stratified_folds, subsample_train

__all__ = ["KNN_GRID", "knn_baseline"]

#: Default odd k for KNN (odd k avoids most two-class ties).
KNN_GRID = (1, 3, 5, 7, 9, 11, 13, 15)


def _knn_votes_accuracy(labels_nn: np.ndarray, y_true: np.ndarray, grid: Sequence[int], n_classes: int):
    """Accuracy of the uniform k-NN vote for every k in ``grid`` from one sorted neighbour list.

    ``labels_nn`` (n_query, k_max) holds encoded labels of the neighbours, nearest
    first.  Ties go to the smallest class index, as in ``KNeighborsClassifier``.
    """
    n = len(labels_nn)
    counts = np.zeros((n, n_classes), dtype=np.int32)
    rows = np.arange(n)
    want = set(grid)
    acc = {}
    for k in range(1, max(grid) + 1):
        counts[rows, labels_nn[:, k - 1]] += 1
        if k in want:
            acc[k] = float(np.mean(np.argmax(counts, axis=1) == y_true))
    return [acc[k] for k in grid]


def knn_baseline(X_train, y_train, X_val, y_val, X_test, y_test, *, grid=KNN_GRID, cv=5,
                 max_train=None, random_state=0, n_jobs=None) -> BaselineResult:
    """K-nearest neighbours with k chosen by cross-validation, refit, test accuracy.

    Brute-force Euclidean neighbours with a uniform vote
    (``KNeighborsClassifier(algorithm="brute")``).  For each fold the neighbours
    are searched once for the largest k and every k of the grid is scored from
    that one sorted list, so the grid costs no more than its largest k; the
    fold accuracies equal those of ``cross_val_score`` with the same folds.

    Parameters
    ----------
    X_train, y_train, X_val, y_val, X_test, y_test : numpy.ndarray
        Flattened features ``(n, d)`` and labels.  ``X_val`` and ``y_val``
        may be ``None`` unless ``cv="val"``.
    grid : sequence of int
        Values of k to try (default 1, 3, ..., 15).
    cv : int or "val"
        Stratified, shuffled folds on the training split (default 5, as in
        the paper), or ``"val"`` to score each k on the validation split.
    max_train : int, optional
        Keep at most this many training rows (stratified, seeded) for quick runs.
    random_state : int or None
        Seeds the subsample and the folds.
    n_jobs : int, optional
        Threads for the neighbour search (scikit-learn's meaning).

    Returns
    -------
    BaselineResult
        ``params={"n_neighbors": k}``; ``scores`` are the mean fold (or
        validation) accuracies of the grid; k is the first maximum.
    """
    seed = check_seed(random_state)
    cv = check_cv(cv, 0, None)
    parts = check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val=cv == "val")
    grid = check_grid(grid, "grid", int)
    t0 = time.perf_counter()
    Xtr, ytr = subsample_train(*parts["train"], max_train, seed)
    parts["train"] = (Xtr, ytr)
    classes, yenc = np.unique(ytr, return_inverse=True)

    def encode(y):
        pos = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        return np.where(classes[pos] == y, pos, -1)  # unseen labels never match

    if cv == "val":
        jobs = [(np.arange(len(ytr)), parts["val"][0], encode(parts["val"][1]))]
    else:
        jobs = [(tr, Xtr[te], yenc[te]) for tr, te in stratified_folds(ytr, cv, seed)]
    smallest = min(len(tr) for tr, _, _ in jobs)
    if max(grid) > smallest:
        raise ValueError(f"k={max(grid)} exceeds the {smallest} training rows available per fit; "
                         "use smaller k or more training data")
    per_fold = []
    for tr, Xq, yq in jobs:
        nn = NearestNeighbors(n_neighbors=max(grid), algorithm="brute", n_jobs=n_jobs).fit(Xtr[tr])
        idx = nn.kneighbors(Xq, return_distance=False)
        per_fold.append(_knn_votes_accuracy(yenc[tr][idx], yq, grid, len(classes)))
    per_fold = np.asarray(per_fold)
    scores = per_fold.mean(axis=0)
    stds = None if cv == "val" else per_fold.std(axis=0)
    t_sel = time.perf_counter() - t0
    k = grid[first_argmax(scores)]
    final = KNeighborsClassifier(n_neighbors=k, algorithm="brute", n_jobs=n_jobs).fit(Xtr, ytr)
    t_fit = time.perf_counter() - t0
    acc = accuracy(final, *parts["test"])
    t_total = time.perf_counter() - t0
    details = {"estimator": "KNeighborsClassifier(algorithm='brute', weights='uniform', metric='euclidean')",
               "select_seconds": t_sel, "refit_seconds": t_fit - t_sel,
               "test_seconds": t_total - t_fit, "max_train": max_train}
    return make_result("knn", acc, "n_neighbors", grid, scores, stds, cv, t_fit, t_total, parts, seed, details)
