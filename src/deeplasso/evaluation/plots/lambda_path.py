"""One path: selected features and train/validation score against lambda."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .canvas import as_1d, load_path, new_figure, save_png

__all__ = ["path_plot"]

_PATH_KEYS = ("lambdas", "n_selected", "val_score", "train_score")


def _path_arrays(p) -> dict:
    if isinstance(p, Mapping):
        missing = [k for k in _PATH_KEYS[:3] if k not in p]
        if missing:
            raise ValueError(f"path dict lacks {missing}; give {list(_PATH_KEYS)} (train_score optional)")
        a = {k: as_1d(p[k], k) for k in _PATH_KEYS if p.get(k) is not None}
    else:
        path = load_path(p)
        a = {"lambdas": path.lambdas.astype(float), "n_selected": path.n_selected.astype(float),
             "val_score": np.array([q.val_score for q in path], float),
             "train_score": np.array([q.train_score for q in path], float)}
    n = a["lambdas"].size
    if n == 0:
        raise ValueError("the path has no points")
    bad = [k for k, v in a.items() if v.size != n]
    if bad:
        raise ValueError(f"{bad} must have one value per lambda ({n})")
    return a


def path_plot(path_or_file, out, *, score_label="accuracy", title=None, figsize=(6.4, 5.2), dpi=100) -> str:
    """Number of selected features and train/validation score against lambda (log x) for one path.

    Parameters
    ----------
    path_or_file : Path or str or os.PathLike or dict
        A :class:`~deeplasso.Path`, a file written by ``Path.save``, or
        plain data ``{"lambdas", "n_selected", "val_score", "train_score"
        (optional)}``.  Points with ``lambda <= 0`` (the dense model fitted
        first) cannot sit on the log axis: their values are drawn as dotted
        horizontal lines labelled "dense".
    out : str or os.PathLike
        PNG file to write.
    score_label : str
        y label of the score panel (``val_score`` is accuracy for
        classification, R^2 for regression).
    title : str, optional
        Figure title.
    figsize : (float, float)
        Inches.
    dpi : int
        Dots per inch.

    Returns
    -------
    str
        ``out``.
    """
    a = _path_arrays(path_or_file)
    lam = a["lambdas"]
    pos = lam > 0
    if not pos.any():
        raise ValueError("the path has no point with lambda > 0 to draw on a log axis")
    fig = new_figure(figsize, dpi)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    order = np.argsort(lam[pos], kind="stable")
    x = lam[pos][order]
    ax1.plot(x, a["n_selected"][pos][order], marker=".", color="C0")
    ax1.set_ylabel("selected features")
    series = [("validation", "val_score", "C1"), ("train", "train_score", "C2")]
    for label, key, color in series:
        if key in a:
            ax2.plot(x, a[key][pos][order], marker=".", color=color, label=label)
    if (~pos).any():
        dense = np.flatnonzero(~pos)[0]
        ax1.axhline(a["n_selected"][dense], color="C0", linestyle=":", linewidth=1, label="dense (lambda = 0)")
        for label, key, color in series:
            if key in a:
                ax2.axhline(a[key][dense], color=color, linestyle=":", linewidth=1, label=f"{label}, dense")
        ax1.legend(fontsize=8)
    ax2.set_ylabel(score_label)
    ax2.set_xlabel("lambda")
    ax2.set_xscale("log")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, out, dpi)
