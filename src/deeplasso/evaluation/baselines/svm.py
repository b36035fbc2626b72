"""The linear SVM baseline (solvers: see :mod:`deeplasso.evaluation.baselines`)."""

from __future__ import annotations

import time

from sklearn.linear_model import SGDClassifier
from sklearn.svm import LinearSVC

from .results import BaselineResult, make_result
from .tuning import accuracy, check_cv, check_grid, check_parts, check_seed, fit_quiet, subsample_train, tune

__all__ = ["SVM_ALPHA_GRID", "SVM_C_GRID", "CRAMMER_SINGER_MAX_SIZE", "CV_MAX_TRAIN", "svm_baseline"]

#: Default ``alpha`` grid for the SGD linear SVM (objective ``mean hinge + alpha/2 ||w||^2``).
SVM_ALPHA_GRID = (1e-4, 1e-3, 1e-2, 1e-1)
#: Default ``C`` grid for the Crammer-Singer ``LinearSVC`` (objective ``C * sum loss + 1/2 ||W||^2``).
SVM_C_GRID = (1e-3, 1e-2, 1e-1, 1.0)
#: ``solver="auto"`` uses Crammer-Singer up to this ``n_train * n_features``.
CRAMMER_SINGER_MAX_SIZE = 20_000
#: ``cv="auto"`` of the SVM cross-validates up to this many training rows, above it uses the validation split.
CV_MAX_TRAIN = 10_000


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
        Weston-Watkins sum form, which scikit-learn lacks (see :mod:`deeplasso.evaluation.baselines`).
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
    seed = check_seed(random_state)
    if solver not in ("auto", "crammer_singer", "sgd"):
        raise ValueError(f"solver must be 'auto', 'crammer_singer' or 'sgd', got {solver!r}")
    parts = check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val=False)
    t0 = time.perf_counter()
    Xtr, ytr = subsample_train(*parts["train"], max_train, seed)
    parts["train"] = (Xtr, ytr)
    if solver == "auto":
        solver = "crammer_singer" if Xtr.shape[0] * Xtr.shape[1] <= CRAMMER_SINGER_MAX_SIZE else "sgd"
    cv = check_cv(cv, len(ytr), CV_MAX_TRAIN)
    if cv == "val" and parts["val"][0] is None:
        raise ValueError("choosing the regularisation on the validation split needs X_val and y_val; pass them "
                         "or use cv=5")
    if solver == "crammer_singer":
        param, grid = "C", check_grid(SVM_C_GRID if grid is None else grid, "grid")
        iters = 1000 if max_iter is None else int(max_iter)

        def make(v):
            return LinearSVC(multi_class="crammer_singer", C=v, max_iter=iters, random_state=seed)

        estimator = f"LinearSVC(multi_class='crammer_singer', max_iter={iters})"
    else:
        param, grid = "alpha", check_grid(SVM_ALPHA_GRID if grid is None else grid, "grid")
        iters = 50 if max_iter is None else int(max_iter)

        def make(v):
            return SGDClassifier(loss="hinge", penalty="l2", alpha=v, max_iter=iters, tol=1e-3,
                                 random_state=seed, n_jobs=n_jobs)

        estimator = f"SGDClassifier(loss='hinge', penalty='l2', max_iter={iters}, tol=1e-3), one-vs-rest"
    Xv, yv = parts["val"]
    scores, stds, converged, best, fitted = tune(make, grid, cv, Xtr, ytr, Xv, yv, seed)
    t_sel = time.perf_counter() - t0
    if fitted is None:  # cross-validated: refit the chosen value on all training rows
        fitted = make(grid[best])
        final_converged = fit_quiet(fitted, Xtr, ytr)
    else:
        final_converged = converged[best]
    t_fit = time.perf_counter() - t0
    acc = accuracy(fitted, *parts["test"])
    t_total = time.perf_counter() - t0
    details = {"solver": solver, "estimator": estimator, "converged": converged,
               "final_converged": final_converged, "select_seconds": t_sel, "refit_seconds": t_fit - t_sel,
               "test_seconds": t_total - t_fit, "max_train": max_train}
    return make_result("svm", acc, param, grid, scores, stds, cv, t_fit, t_total, parts, seed, details)
