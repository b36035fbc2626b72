"""The paper's Table 2 baselines, all scikit-learn, on flattened features.

Three classifiers with one tuned hyperparameter each, chosen on the training
data only, then scored once on the test part:

=========  ==========================================================  =====================
name       model                                                        tuned on
=========  ==========================================================  =====================
``knn``    k-nearest neighbours, brute force, Euclidean, uniform vote   5-fold CV on train
``svm``    linear SVM, multiclass hinge + L2 (solver: see below)        5-fold CV on train, or
                                                                        the validation split
                                                                        for large data
``pca_lr`` PCA (fit on train) + multinomial logistic regression         the validation split
=========  ==========================================================  =====================

Linear SVM solvers.  The paper writes the multiclass hinge loss
``sum_{j != y} max(0, f_j - f_y + Delta)`` (the Weston-Watkins form); scikit-learn
has no solver for it.  ``solver="crammer_singer"`` uses
``LinearSVC(multi_class="crammer_singer")`` (the closest multiclass hinge:
``max_{j != y}`` instead of the sum), which is exact but slow, the more so the
larger C: 50 s (C=0.001) to 330 s (C=0.1) for 2,000 CIFAR-10 rows, and 8 s
(C=1) for 1,000 x 100 synthetic rows, on this project's 2-core machine.  ``solver="sgd"`` uses
``SGDClassifier(loss="hinge", penalty="l2")``, one binary hinge-loss SVM per
class (one-vs-rest), 50 epochs at most; about 5 s for the same 2,000 rows.
``solver="auto"`` (default) takes Crammer-Singer when ``n_train * n_features
<= 20_000`` and SGD otherwise.  The result's ``details["solver"]`` says which.

Every function returns a :class:`BaselineResult`; :func:`run_baselines` runs
several on one split and returns plain, JSON-serialisable data, optionally
written to a file as it goes.  All randomness (fold assignment, training-set
subsampling, SGD) comes from one ``random_state``.

Measured numbers for CIFAR-10 and the command that made them are in
``docs/baselines.md``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.svm import LinearSVC

from ._io import write_json
from .data import stratified_indices

__all__ = [
    "BaselineResult",
    "METHODS",
    "KNN_GRID",
    "SVM_ALPHA_GRID",
    "SVM_C_GRID",
    "PCA_GRID",
    "CRAMMER_SINGER_MAX_SIZE",
    "CV_MAX_TRAIN",
    "knn_baseline",
    "svm_baseline",
    "pca_lr_baseline",
    "run_baselines",
    "subsample_train",
    "save_results",
    "load_results",
]

#: Default odd k for KNN (odd k avoids most two-class ties).
KNN_GRID = (1, 3, 5, 7, 9, 11, 13, 15)
#: Default ``alpha`` grid for the SGD linear SVM (objective ``mean hinge + alpha/2 ||w||^2``).
SVM_ALPHA_GRID = (1e-4, 1e-3, 1e-2, 1e-1)
#: Default ``C`` grid for the Crammer-Singer ``LinearSVC`` (objective ``C * sum loss + 1/2 ||W||^2``).
SVM_C_GRID = (1e-3, 1e-2, 1e-1, 1.0)
#: Default numbers of principal components tried (capped by ``min(n_train, n_features)``).
PCA_GRID = (10, 20, 50, 100, 200)
#: ``solver="auto"`` uses Crammer-Singer up to this ``n_train * n_features``.
CRAMMER_SINGER_MAX_SIZE = 20_000
#: ``cv="auto"`` of the SVM cross-validates up to this many training rows, above it uses the validation split.
CV_MAX_TRAIN = 10_000


@dataclass
class BaselineResult:
    """Outcome of one baseline: the tuned hyperparameter, its scores and the test accuracy.

    Attributes
    ----------
    method : str
        ``"knn"``, ``"svm"`` or ``"pca_lr"``.
    test_accuracy : float
        Accuracy of the final model on the test part (scored once).
    params : dict
        The chosen hyperparameter, e.g. ``{"n_neighbors": 7}``.
    param_name : str
        Name of the tuned hyperparameter (the key of ``params``).
    grid : list
        The values tried, in order.
    scores : list of float
        Selection score of each grid value: mean cross-validated accuracy or
        validation accuracy (see ``selection``).  The chosen value is the
        first maximum.
    scores_std : list of float or None
        Standard deviation over folds (cross-validation only).
    selection : str
        How the value was chosen, e.g. ``"5-fold CV on train"`` or ``"validation split"``.
    fit_seconds : float
        Wall time of selection plus final fit.
    total_seconds : float
        ``fit_seconds`` plus scoring the test part.
    n_train, n_val, n_test, n_features, n_classes : int
        Sizes of the data actually used (``n_train`` after ``max_train``).
    random_state : int or None
        The seed used.
    details : dict
        Method specifics: the estimator and its fixed settings, the solver,
        convergence flags, selection and refit times.
    """

    method: str
    test_accuracy: float
    params: dict
    param_name: str
    grid: list
    scores: list
    scores_std: list | None
    selection: str
    fit_seconds: float
    total_seconds: float
    n_train: int
    n_val: int
    n_test: int
    n_features: int
    n_classes: int
    random_state: int | None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable copy (numpy scalars become Python numbers)."""
        return _plain(asdict(self))


# --------------------------------------------------------------------------- helpers


def _plain(o):
    """Recursively turn numpy scalars/arrays and tuples into JSON types."""
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, np.ndarray):
        return _plain(o.tolist())
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    return o


def _check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val: bool):
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


def _seed(random_state) -> int | None:
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return None if random_state is None else int(random_state)
    raise TypeError(f"random_state must be an int or None, got {type(random_state).__name__}")


def _grid(values, name: str, kind=float) -> list:
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


def _cv(cv, n_train: int, auto_limit: int | None):
    """Normalise ``cv`` to an int >= 2 or the string "val"."""
    if cv == "auto":
        return 5 if auto_limit is None or n_train <= auto_limit else "val"
    if cv == "val":
        return "val"
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool) and cv >= 2:
        return int(cv)
    raise ValueError(f"cv must be an int >= 2 (folds on the training split), 'val' (the validation split) or "
                     f"'auto', got {cv!r}")


def _folds(y, cv: int, seed):
    counts = np.unique(y, return_counts=True)[1]
    if counts.min() < cv:
        raise ValueError(f"cv={cv} folds need at least {cv} training rows per class, the smallest class has "
                         f"{counts.min()}; use fewer folds or cv='val'")
    return list(StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _selection_name(cv) -> str:
    return "validation split" if cv == "val" else f"{cv}-fold CV on train"


def _first_argmax(scores) -> int:
    return int(np.argmax(np.asarray(scores, dtype=float)))


def _fit_quiet(est, X, y) -> bool:
    """Fit; return False if scikit-learn warned that the solver did not converge."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    return not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _accuracy(est, X, y) -> float:
    return float(np.mean(est.predict(X) == y))


def _tune(make: Callable[[Any], Any], grid, cv, Xtr, ytr, Xv, yv, seed):
    """Score every grid value; return (scores, stds, converged, best index, fitted best or None)."""
    scores, stds, converged = [], [], []
    fitted = None
    best_score = -np.inf
    if cv == "val":
        for v in grid:
            est = make(v)
            converged.append(_fit_quiet(est, Xtr, ytr))
            s = _accuracy(est, Xv, yv)
            scores.append(s)
            if s > best_score:
                best_score, fitted = s, est
        return scores, None, converged, _first_argmax(scores), fitted
    folds = _folds(ytr, cv, seed)
    for v in grid:
        fold_scores, ok = [], True
        for tr, te in folds:
            est = make(v)
            ok &= _fit_quiet(est, Xtr[tr], ytr[tr])
            fold_scores.append(_accuracy(est, Xtr[te], ytr[te]))
        scores.append(float(np.mean(fold_scores)))
        stds.append(float(np.std(fold_scores)))
        converged.append(bool(ok))
    return scores, stds, converged, _first_argmax(scores), None


def _result(method, test_accuracy, param_name, grid, scores, stds, cv, t_fit, t_total, parts, seed,
            details) -> BaselineResult:
    Xtr, ytr = parts["train"]
    Xv, _ = parts["val"]
    Xte, _ = parts["test"]
    best = _first_argmax(scores)
    return BaselineResult(
        method=method,
        test_accuracy=float(test_accuracy),
        params={param_name: grid[best]},
        param_name=param_name,
        grid=list(grid),
        scores=[float(s) for s in scores],
        scores_std=None if stds is None else [float(s) for s in stds],
        selection=_selection_name(cv),
        fit_seconds=float(t_fit),
        total_seconds=float(t_total),
        n_train=int(len(Xtr)),
        n_val=int(0 if Xv is None else len(Xv)),
        n_test=int(len(Xte)),
        n_features=int(Xtr.shape[1]),
        n_classes=int(len(np.unique(ytr))),
        random_state=seed,
        details=_plain(details),
    )


# --------------------------------------------------------------------------- KNN


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
    seed = _seed(random_state)
    cv = _cv(cv, 0, None)
    parts = _check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val=cv == "val")
    grid = _grid(grid, "grid", int)
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
        jobs = [(tr, Xtr[te], yenc[te]) for tr, te in _folds(ytr, cv, seed)]
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
    k = grid[_first_argmax(scores)]
    final = KNeighborsClassifier(n_neighbors=k, algorithm="brute", n_jobs=n_jobs).fit(Xtr, ytr)
    t_fit = time.perf_counter() - t0
    acc = _accuracy(final, *parts["test"])
    t_total = time.perf_counter() - t0
    details = {"estimator": "KNeighborsClassifier(algorithm='brute', weights='uniform', metric='euclidean')",
               "select_seconds": t_sel, "refit_seconds": t_fit - t_sel,
               "test_seconds": t_total - t_fit, "max_train": max_train}
    return _result("knn", acc, "n_neighbors", grid, scores, stds, cv, t_fit, t_total, parts, seed, details)


# --------------------------------------------------------------------------- linear SVM


def svm_baseline(X_train, y_train, X_val, y_val, X_test, y_test, *, solver="auto", grid=None,
                 cv="auto", max_iter=None, max_train=None, random_state=0, n_jobs=None) -> BaselineResult:
    """Linear SVM (multiclass hinge loss + L2), regularisation chosen by CV or validation.

    Parameters
    ----------
    X_train, y_train, X_val, y_val, X_test, y_test : numpy.ndarray
        Flattened features ``(n, d)`` and labels.  ``X_val`` and ``y_val``
        may be ``None`` when the regularisation is cross-validated.
    solver : {"auto", "crammer_singer", "sgd"}
        ``"crammer_singer"``: ``LinearSVC(multi_class="crammer_singer", C=C)``,
        a joint multiclass hinge loss, exact but slow.  ``"sgd"``:
        ``SGDClassifier(loss="hinge", penalty="l2", alpha=alpha)``, one-vs-rest
        binary hinge SVMs trained by SGD for at most ``max_iter`` epochs
        (``tol=1e-3``).  ``"auto"``: Crammer-Singer if ``n_train * n_features <=``
        :data:`CRAMMER_SINGER_MAX_SIZE`, else SGD.  The paper's loss is the
        Weston-Watkins sum form, which scikit-learn lacks (module docstring).
    grid : sequence of float, optional
        ``C`` values for Crammer-Singer (default :data:`SVM_C_GRID`; larger C =
        weaker regularisation) or ``alpha`` values for SGD (default
        :data:`SVM_ALPHA_GRID`; larger alpha = stronger).  In the paper's
        ``lambda * ||W||^2`` form: ``lambda = alpha / 2`` (SGD) and
        ``lambda = 1 / (2 C n_train)`` (Crammer-Singer).
    cv : int, "val" or "auto"
        Folds on the training split, or the validation split.  ``"auto"``
        (default): 5-fold CV up to :data:`CV_MAX_TRAIN` training rows, the
        validation split above (each fit on 48,000 CIFAR-10 rows takes minutes).
    max_iter : int, optional
        Epochs (SGD, default 50) or liblinear iterations (Crammer-Singer,
        default 1000).  Non-convergence is recorded in
        ``details["converged"]``, not warned.
    max_train : int, optional
        Keep at most this many training rows (stratified, seeded).
    random_state : int or None
        Seeds the subsample, the folds and the solver.
    n_jobs : int, optional
        Parallel one-vs-rest fits (SGD only).

    Returns
    -------
    BaselineResult
        ``params={"C": ...}`` or ``{"alpha": ...}``; ``details["solver"]`` is
        ``"crammer_singer"`` or ``"sgd"``.
    """
    seed = _seed(random_state)
    if solver not in ("auto", "crammer_singer", "sgd"):
        raise ValueError(f"solver must be 'auto', 'crammer_singer' or 'sgd', got {solver!r}")
    parts = _check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val=False)
    t0 = time.perf_counter()
    Xtr, ytr = subsample_train(*parts["train"], max_train, seed)
    parts["train"] = (Xtr, ytr)
    if solver == "auto":
        solver = "crammer_singer" if Xtr.shape[0] * Xtr.shape[1] <= CRAMMER_SINGER_MAX_SIZE else "sgd"
    cv = _cv(cv, len(ytr), CV_MAX_TRAIN)
    if cv == "val" and parts["val"][0] is None:
        raise ValueError("choosing the regularisation on the validation split needs X_val and y_val; pass them "
                         "or use cv=5")
    if solver == "crammer_singer":
        param, grid = "C", _grid(SVM_C_GRID if grid is None else grid, "grid")
        iters = 1000 if max_iter is None else int(max_iter)

        def make(v):
            return LinearSVC(multi_class="crammer_singer", C=v, max_iter=iters, random_state=seed)

        estimator = f"LinearSVC(multi_class='crammer_singer', max_iter={iters})"
    else:
        param, grid = "alpha", _grid(SVM_ALPHA_GRID if grid is None else grid, "grid")
        iters = 50 if max_iter is None else int(max_iter)

        def make(v):
            return SGDClassifier(loss="hinge", penalty="l2", alpha=v, max_iter=iters, tol=1e-3,
                                 random_state=seed, n_jobs=n_jobs)

        estimator = f"SGDClassifier(loss='hinge', penalty='l2', max_iter={iters}, tol=1e-3), one-vs-rest"
    Xv, yv = parts["val"]
    scores, stds, converged, best, fitted = _tune(make, grid, cv, Xtr, ytr, Xv, yv, seed)
    t_sel = time.perf_counter() - t0
    if fitted is None:  # cross-validated: refit the chosen value on all training rows
        fitted = make(grid[best])
        final_converged = _fit_quiet(fitted, Xtr, ytr)
    else:
        final_converged = converged[best]
    t_fit = time.perf_counter() - t0
    acc = _accuracy(fitted, *parts["test"])
    t_total = time.perf_counter() - t0
    details = {"solver": solver, "estimator": estimator, "converged": converged,
               "final_converged": final_converged, "select_seconds": t_sel, "refit_seconds": t_fit - t_sel,
               "test_seconds": t_total - t_fit, "max_train": max_train}
    return _result("svm", acc, param, grid, scores, stds, cv, t_fit, t_total, parts, seed, details)


# --------------------------------------------------------------------------- PCA + logistic regression


def pca_lr_baseline(X_train, y_train, X_val, y_val, X_test, y_test, *, grid=PCA_GRID, C=1.0, max_iter=1000,
                    max_train=None, random_state=0) -> BaselineResult:
    """PCA + multinomial logistic regression, number of components chosen on validation.

    PCA is fitted once on the training rows with the largest number of
    components of the grid (exact solver: ``"covariance_eigh"`` when
    ``n_train >= n_features``, else ``"full"``), so a smaller number of
    components is the leading columns of the same projection, identical to a
    PCA fitted with that number.  Projections are whitened (unit variance per
    component), which only conditions the solver.  For each grid value a
    ``LogisticRegression(C=C, solver="lbfgs")`` (multinomial for more than two
    classes) is fitted on train and scored on validation; the first best is
    scored on test.

    Parameters
    ----------
    X_train, y_train, X_val, y_val, X_test, y_test : numpy.ndarray
        Flattened features ``(n, d)`` and labels.
    grid : sequence of int
        Numbers of components (default 10, 20, 50, 100, 200).  Values above
        ``min(n_train, n_features)`` are dropped; if none is left, that cap
        alone is tried (recorded in ``details["grid_requested"]``).
    C : float
        Inverse L2 strength of the logistic regression (fixed, not tuned).
    max_iter : int
        lbfgs iterations; non-convergence goes to ``details["converged"]``.
    max_train : int, optional
        Keep at most this many training rows (stratified, seeded).
    random_state : int or None
        Seeds the subsample.

    Returns
    -------
    BaselineResult
        ``params={"n_components": n}``; ``details["explained_variance"]`` is
        the fraction of training variance kept by each grid value.
    """
    seed = _seed(random_state)
    parts = _check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val=True)
    requested = _grid(grid, "grid", int)
    t0 = time.perf_counter()
    Xtr, ytr = subsample_train(*parts["train"], max_train, seed)
    parts["train"] = (Xtr, ytr)
    cap = min(Xtr.shape)
    grid = [g for g in requested if g <= cap] or [cap]
    solver = "covariance_eigh" if Xtr.shape[0] >= Xtr.shape[1] else "full"
    pca = PCA(n_components=max(grid), whiten=True, svd_solver=solver).fit(Xtr)
    Ztr = pca.transform(Xtr)
    Zv = pca.transform(parts["val"][0])
    t_pca = time.perf_counter() - t0
    yv = parts["val"][1]

    scores, converged, models = [], [], []
    for n in grid:
        lr = LogisticRegression(C=C, max_iter=int(max_iter))
        converged.append(_fit_quiet(lr, Ztr[:, :n], ytr))
        scores.append(float(np.mean(lr.predict(Zv[:, :n]) == yv)))
        models.append(lr)
    best = _first_argmax(scores)
    t_fit = time.perf_counter() - t0
    Zte = pca.transform(parts["test"][0])[:, :grid[best]]
    acc = float(np.mean(models[best].predict(Zte) == parts["test"][1]))
    t_total = time.perf_counter() - t0
    cum = np.cumsum(pca.explained_variance_ratio_)
    details = {"estimator": f"PCA(whiten=True, svd_solver='{solver}') + LogisticRegression(C={C}, "
                            f"solver='lbfgs', max_iter={int(max_iter)})",
               "grid_requested": requested, "explained_variance": [float(cum[n - 1]) for n in grid],
               "converged": converged, "pca_seconds": t_pca, "select_seconds": t_fit - t_pca,
               "test_seconds": t_total - t_fit, "max_train": max_train}
    return _result("pca_lr", acc, "n_components", grid, scores, None, "val", t_fit, t_total, parts, seed, details)


# --------------------------------------------------------------------------- all of them

#: Method name -> function, in the paper's Table 2 order.
METHODS = {"knn": knn_baseline, "svm": svm_baseline, "pca_lr": pca_lr_baseline}

_PARTS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


def _split_arrays(split) -> dict:
    if isinstance(split, Mapping):
        get = split.get
    else:
        def get(k):
            return getattr(split, k, None)
    if get("X_train") is None and get("x_train") is not None:
        raise TypeError("run_baselines needs float features, got a split of uint8 images; preprocess it first: "
                        "deeplasso.data.preprocess_split(split, 'imagenet')")
    missing = [k for k in _PARTS if get(k) is None]
    if missing:
        raise TypeError(f"split lacks {', '.join(missing)}; pass a deeplasso.data.PreparedSplit or a mapping "
                        f"with the keys {', '.join(_PARTS)}")
    return {k: get(k) for k in _PARTS}


def save_results(results: dict, file) -> str:
    """Write results as JSON atomically (temporary file, fsync, then ``os.replace``).

    Parameters
    ----------
    results : dict
        E.g. the return value of :func:`run_baselines`.
    file : str or os.PathLike
        Destination.

    Returns
    -------
    str
        The destination path.
    """
    return os.fspath(write_json(file, _plain(results)))


def load_results(file) -> dict:
    """Read results written by :func:`save_results`."""
    with open(file) as fh:
        return json.load(fh)


def run_baselines(split, methods=("knn", "svm", "pca_lr"), *, subsample=None, random_state=0, options=None,
                  out=None, resume=True, verbose=0) -> dict:
    """Run several baselines on one split; return plain data.

    Parameters
    ----------
    split : PreparedSplit or mapping
        Float features and labels: anything with ``X_train``, ``y_train``,
        ``X_val``, ``y_val``, ``X_test``, ``y_test`` (attributes or keys), e.g.
        ``deeplasso.data.preprocess_split(paper_split(load("cifar10")))``.
    methods : sequence of str
        Any of ``"knn"``, ``"svm"``, ``"pca_lr"``, run in the order given.
    subsample : int, optional
        Keep at most this many training rows (stratified, seeded), passed to
        every method as ``max_train``.  Validation and test parts stay whole.
    random_state : int or None
        One seed for everything.
    options : dict, optional
        Extra keyword arguments per method, e.g. ``{"svm": {"solver": "sgd"},
        "knn": {"grid": [1, 5, 9]}}``.
    out : str or os.PathLike, optional
        JSON file rewritten atomically after each method, so a long run keeps
        what it finished.
    resume : bool
        With ``out`` existing: keep its methods that were run with the same
        ``subsample``, ``random_state`` and options, and run only the others.
    verbose : int
        ``> 0`` prints one line per method to stderr.

    Returns
    -------
    dict
        ``{method: BaselineResult.to_dict()}`` plus ``"settings"`` (subsample,
        random_state, options); JSON-serialisable.
    """
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown method(s) {unknown or methods}; choose from {list(METHODS)}")
    options = dict(options or {})
    bad = [k for k in options if k not in METHODS]
    if bad:
        raise ValueError(f"options has keys {bad} that are not methods; use {list(METHODS)}")
    arrays = _split_arrays(split)
    settings = _plain({"subsample": subsample, "random_state": random_state, "options": options})
    results = {"settings": settings}
    if out is not None and resume and os.path.exists(out):
        old = load_results(out)
        if old.get("settings") == settings:
            results.update({m: old[m] for m in methods if m in old})
    for m in methods:
        if m in results:
            if verbose:
                print(f"[baselines] {m}: kept from {out}", file=sys.stderr)
            continue
        kwargs = dict(options.get(m, {}))
        kwargs.setdefault("max_train", subsample)
        kwargs.setdefault("random_state", random_state)
        r = METHODS[m](**arrays, **kwargs)
        results[m] = r.to_dict()
        if verbose:
            print(f"[baselines] {m}: {r.params} ({r.selection}) test accuracy {r.test_accuracy:.4f}, "
                  f"{r.total_seconds:.1f} s", file=sys.stderr)
        if out is not None:
            save_results(results, out)
    return results
