"""Figures of cross-validation and stability selection (needs matplotlib).

:func:`cv_curve`: the mean held-out score with standard-error bars against lambda (log
scale), the number of features of the full-data path on a second axis, and vertical
lines at ``lambda_min`` and ``lambda_1se``. :func:`stability_paths`: each feature's
selection probability against lambda, the selected features in colour, the threshold
and the stability region.

Like the other figures, each builds its own Agg figure (no pyplot), writes the PNG
atomically and returns the file name; the image is exactly ``figsize * dpi`` pixels.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["cv_curve", "stability_paths"]


def _figure(figsize, dpi):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, out, dpi) -> str:
    from .engine.files import atomic_write

    out = os.fspath(out)
    if not out.lower().endswith(".png"):
        raise ValueError(f"out must be a .png file name, got {out!r}")
    atomic_write(out, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    return out


def _get(obj, *names):
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if not isinstance(obj, dict) and hasattr(obj, name):
            return getattr(obj, name)
    raise ValueError(f"expected a fitted LassoNet*CV estimator or a dict with {names[0]!r}")


def cv_curve(cv, out, *, figsize=(6.4, 4.2), dpi=100, title=None, score_name=None) -> str:
    """Cross-validation curve of a fitted :class:`~deeplasso.LassoNetClassifierCV` /
    :class:`~deeplasso.LassoNetRegressorCV`, or of a dict with ``lambdas``, ``mean``,
    ``se``, ``n_features``, ``lambda_min``, ``lambda_1se``.

    The mean held-out score over the folds with standard-error bars against lambda (log
    scale), the full-data path's number of features at the top, dashed lines at
    ``lambda_min`` and ``lambda_1se``. Writes a PNG to ``out`` and returns its name.
    """
    lambdas = np.asarray(_get(cv, "lambdas_", "lambdas"), dtype=float)
    mean = np.asarray(_get(cv, "cv_mean_", "mean"), dtype=float)
    se = np.asarray(_get(cv, "cv_se_", "se"), dtype=float)
    n_feat = np.asarray(_get(cv, "n_features_", "n_features"), dtype=int)
    lam_min = float(_get(cv, "lambda_min_", "lambda_min"))
    lam_1se = float(_get(cv, "lambda_1se_", "lambda_1se"))
    if not (lambdas.shape == mean.shape == se.shape == n_feat.shape) or lambdas.size == 0:
        raise ValueError("lambdas, mean, se and n_features must be non-empty and of one length; got "
                         f"{lambdas.shape}, {mean.shape}, {se.shape}, {n_feat.shape}")
    if score_name is None:
        from sklearn.base import is_regressor

        score_name = "R^2" if (not isinstance(cv, dict) and is_regressor(cv)) else "accuracy"
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.errorbar(lambdas, mean, yerr=se, fmt="o", ms=3, color="tab:red", ecolor="0.6", elinewidth=1, capsize=2,
                label="mean over folds +- se")
    ax.set_xscale("log")
    ax.axvline(lam_min, color="k", ls="--", lw=1, label=f"lambda_min = {lam_min:.3g}")
    ax.axvline(lam_1se, color="tab:blue", ls="--", lw=1, label=f"lambda_1se = {lam_1se:.3g}")
    ax.set_xlabel("lambda")
    ax.set_ylabel(f"held-out {score_name}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    top = ax.twiny()
    top.set_xscale("log")
    top.set_xlim(ax.get_xlim())
    idx = np.unique(np.linspace(0, len(lambdas) - 1, min(8, len(lambdas))).round().astype(int))
    top.set_xticks(lambdas[idx])
    top.set_xticklabels([str(n) for n in n_feat[idx]], fontsize=8)
    top.minorticks_off()
    top.set_xlabel("features selected (full-data path)", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.82 if title else 0.86)
    return _save(fig, out, dpi)


def stability_paths(result, out, *, figsize=(6.4, 4.2), dpi=100, title=None, max_labels=10) -> str:
    """Stability paths of a :class:`~deeplasso.stability.StabilityResult` (or a dict with
    ``lambdas``, ``probabilities``, ``threshold``, ``support`` and optionally ``region``):
    each feature's selection probability against lambda (log scale), the selected
    features in colour (the ``max_labels`` most stable, by ``ranking`` when given, named
    in the legend), the others in grey, the threshold as a dashed line and the stability
    region shaded."""
    lambdas = np.asarray(_get(result, "lambdas"), dtype=float)
    prob = np.asarray(_get(result, "probabilities"), dtype=float)
    threshold = float(_get(result, "threshold"))
    support = np.asarray(_get(result, "support"), dtype=bool)
    try:
        region = np.asarray(_get(result, "region"), dtype=bool)
    except ValueError:
        region = None
    if prob.ndim != 2 or prob.shape[0] != lambdas.size or prob.shape[1] != support.size or lambdas.size == 0:
        raise ValueError(f"probabilities must be (n_lambdas={lambdas.size}, n_features={support.size}); got "
                         f"{prob.shape}")
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    for j in np.flatnonzero(~support):
        ax.plot(lambdas, prob[:, j], color="0.75", lw=0.8)
    try:  # most stable first: the result's ranking, else the largest probability in the region
        ranking = np.asarray(_get(result, "ranking"), dtype=int)
    except ValueError:
        rows = prob[region] if region is not None and region.any() else prob
        ranking = np.argsort(-rows.max(axis=0), kind="stable")
    order = ranking[support[ranking]]
    colors = [f"C{i % 10}" for i in range(len(order))]
    for i, j in enumerate(order):
        ax.plot(lambdas, prob[:, j], color=colors[i], lw=1.5, label=f"feature {j}" if i < max_labels else None)
    ax.axhline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    if region is not None and region.any():
        ax.axvspan(lambdas[region].min(), lambdas[region].max(), color="tab:green", alpha=0.08,
                   label="stability region")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("lambda")
    ax.set_ylabel("selection probability")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=7, ncol=2)
    ax.set_title(title or f"stability paths: {int(support.sum())} of {support.size} features selected", fontsize=10)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.12, top=0.9)
    return _save(fig, out, dpi)
