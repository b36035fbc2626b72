"""Accuracy against the number of selected features, several named curves."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .canvas import as_1d, new_figure, save_png

__all__ = ["accuracy_vs_features", "draw_curves"]


def _curve_arrays(name, c):
    if not isinstance(c, Mapping):
        raise TypeError(f"curve {name!r} must be a dict with 'n_features' and 'accuracy', got {type(c).__name__}")
    for key in ("n_features", "accuracy"):
        if key not in c:
            raise ValueError(f"curve {name!r} lacks {key!r}; give 'n_features' (x) and 'accuracy' (y, one value "
                             "per point, or one row per seed) and optionally 'std'")
    x = as_1d(c["n_features"], f"curve {name!r} n_features")
    y = np.asarray(c["accuracy"], dtype=float)
    std = None if c.get("std") is None else as_1d(c["std"], f"curve {name!r} std")
    if y.ndim == 2:  # one row per seed
        if std is not None:
            raise ValueError(f"curve {name!r}: give either per-seed rows in 'accuracy' or a 'std', not both")
        y, std = np.nanmean(y, axis=0), (np.nanstd(y, axis=0) if y.shape[0] > 1 else None)
    if y.ndim != 1 or y.size != x.size:
        raise ValueError(f"curve {name!r}: 'accuracy' has shape {np.shape(c['accuracy'])} but there are {x.size} "
                         "n_features values; give one accuracy per point (or an (n_seeds, n_points) array)")
    if std is not None and std.size != x.size:
        raise ValueError(f"curve {name!r}: 'std' has {std.size} values for {x.size} points")
    return x, y, std


def _baseline_value(name, v) -> float:
    if isinstance(v, Mapping):
        if "test_accuracy" not in v:
            raise ValueError(f"baseline {name!r} is a dict without 'test_accuracy'")
        v = v["test_accuracy"]
    return float(v)


def draw_curves(ax, curves, logx, colors=None, labels=None):
    """Plot each curve; points with n_features <= 0 cannot sit on a log axis and are left out."""
    for i, (name, c) in enumerate(curves.items()):
        x, y, std = _curve_arrays(name, c)
        keep = x > 0 if logx else np.ones(x.size, bool)
        if logx and not keep.any():
            raise ValueError(f"curve {name!r} has no point with n_features > 0 to draw on a log axis; use "
                             "logx=False")
        order = np.argsort(x[keep], kind="stable")
        xs, ys = x[keep][order], y[keep][order]
        kw = dict(marker=c.get("marker", "o"), markersize=3.5, linewidth=1.4, label=(labels or {}).get(name, name))
        if colors is not None:
            kw["color"] = colors[i]
        if c.get("linestyle"):
            kw["linestyle"] = c["linestyle"]
        if std is not None:
            ax.errorbar(xs, ys, yerr=std[keep][order], capsize=2.5, **kw)
        else:
            ax.plot(xs, ys, **kw)
    if logx:
        ax.set_xscale("log")


def accuracy_vs_features(curves, out, *, baselines=None, logx=True, title=None, xlabel="number of selected features",
                         ylabel="test accuracy", ylim=None, figsize=(6.4, 4.2), dpi=100) -> str:
    """Accuracy against the number of selected features, one line per named curve.

    Parameters
    ----------
    curves : mapping of str to dict
        ``{"LassoNet path": {"n_features": [...], "accuracy": [...]}, "random
        features": {"n_features": [...], "accuracy": [[seed 0 ...], [seed 1 ...]]},
        ...}``.  ``accuracy`` is one value per point, or a 2-D array with one
        row per seed (drawn as mean +- std over seeds).  ``std`` (optional)
        gives error bars directly.  ``marker`` / ``linestyle`` (optional) style
        the line.  Points are sorted by ``n_features``; NaN accuracies leave
        gaps.  With ``logx``, points with ``n_features <= 0`` (the empty model
        at the end of a path) are left out.
    out : str or os.PathLike
        PNG file to write.
    baselines : mapping of str to float or dict, optional
        Horizontal dashed lines, e.g. ``{"KNN": 0.339}``, or the output of
        ``deeplasso.baselines.run_baselines`` (each dict's ``test_accuracy``;
        its ``"settings"`` entry is skipped).
    logx : bool
        Log-scaled x axis (default).
    title, xlabel, ylabel : str, optional
        Labels.
    ylim : (float, float), optional
        y range.
    figsize : (float, float)
        Inches.
    dpi : int
        Dots per inch.

    Returns
    -------
    str
        ``out``.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {name: {'n_features': [...], 'accuracy': [...]}}")
    fig = new_figure(figsize, dpi)
    ax = fig.subplots()
    draw_curves(ax, curves, logx)
    if baselines:
        styles = ["--", ":", "-."]
        items = [(k, v) for k, v in baselines.items() if k != "settings"]
        for i, (name, v) in enumerate(items):
            ax.axhline(_baseline_value(name, v), color="0.35", linestyle=styles[i % 3], linewidth=1.0,
                       label=f"{name} ({_baseline_value(name, v):.3g})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return save_png(fig, out, dpi)
