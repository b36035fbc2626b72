"""The PCA + logistic regression baseline."""

from __future__ import annotations

import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from .results import BaselineResult, first_argmax, make_result
from .tuning import check_grid, check_parts, check_seed, fit_quiet, subsample_train

__all__ = ["PCA_GRID", "pca_lr_baseline"]

#: Default numbers of principal components tried (capped by ``min(n_train, n_features)``).
PCA_GRID = (10, 20, 50, 100, 200)


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
    seed = check_seed(random_state)
    parts = check_parts(X_train, y_train, X_val, y_val, X_test, y_test, need_val=True)
    requested = check_grid(grid, "grid", int)
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
        converged.append(fit_quiet(lr, Ztr[:, :n], ytr))
        scores.append(float(np.mean(lr.predict(Zv[:, :n]) == yv)))
        models.append(lr)
    best = first_argmax(scores)
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
    return make_result("pca_lr", acc, "n_components", grid, scores, None, "val", t_fit, t_total, parts, seed, details)
