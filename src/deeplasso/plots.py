"""Figures drawn from saved results only: plain arrays and dicts, or a saved :class:`~deeplasso.path.Path`.

Nothing here touches a live model.  Every function builds its own
:class:`matplotlib.figure.Figure` on the Agg canvas (no pyplot, no global
backend switch, safe in threads and on machines without a display), writes the
PNG atomically (a temporary file in the destination folder, then
``os.replace``) and returns the path written.  The image is exactly
``figsize * dpi`` pixels (no tight bounding box), so callers can rely on its
size.

=========================  ===================================================================
function                   figure
=========================  ===================================================================
:func:`importance_map`     feature importances as images, one panel per channel + combined
:func:`importance_bars`    feature importances as bars (features that are not pixels)
:func:`accuracy_vs_features` accuracy against the number of selected features, several curves
:func:`path_plot`          n_selected and train/validation score against lambda for one path
:func:`lambda_start_study` accuracy against features, one curve per starting lambda (+ epochs)
=========================  ===================================================================
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ._io import atomic_write
from .data import features_to_image

__all__ = [
    "importance_map",
    "importance_image",
    "importance_bars",
    "accuracy_vs_features",
    "path_plot",
    "lambda_start_study",
    "NEVER_LEFT_COLOR",
]

#: Colour of features that never left the path (``inf`` importance) with ``inf_as="top"``:
#: brighter than the top of the default colormap.
NEVER_LEFT_COLOR = "white"

_CHANNEL_NAMES = {1: ("gray",), 3: ("red", "green", "blue")}


# --------------------------------------------------------------------------- shared


def _new_figure(figsize, dpi) -> Figure:
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out, dpi) -> str:
    """Write ``fig`` as PNG to ``out`` atomically; return ``out`` as a string."""
    out = os.fspath(out)
    if not out.lower().endswith(".png"):
        raise ValueError(f"out must be a .png file name, got {out!r}")
    atomic_write(out, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    return out


def _load_path(path_or_file):
    """A Path object from a Path, or from a file written by ``Path.save``."""
    from .path import Path  # torch import only when a Path file is drawn

    if isinstance(path_or_file, Path):
        return path_or_file
    if isinstance(path_or_file, (str, os.PathLike)):
        if not os.path.exists(path_or_file):
            raise FileNotFoundError(f"no saved path at {os.fspath(path_or_file)!r}; write one with Path.save(file)")
        return Path.load(path_or_file)
    raise TypeError(f"expected a deeplasso Path or the file name of a saved one, got {type(path_or_file).__name__}")


def _1d(values, name) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {values!r:.80}") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    return a


# --------------------------------------------------------------------------- importance maps


def importance_image(importances, image_shape, *, scale="log", inf_as="top"):
    """Importances mapped to colour-scale values in image form (the data behind :func:`importance_map`).

    Parameters
    ----------
    importances : array_like or Path or str
        One value per feature (the lambda at which each feature left the path,
        ``inf`` = never left), e.g. ``Path.feature_importances()``; or a Path /
        saved Path file, whose importances are used.
    image_shape : (int, int, int)
        ``(C, H, W)``; ``len(importances)`` must be ``C*H*W``.
    scale : {"log", "linear", "rank"}
        ``"log"`` (default): ``log10(lambda)``, since path lambdas grow
        geometrically; values ``<= 0`` (features gone after the dense fit,
        whose lambda is 0) are drawn at the smallest positive value.
        ``"linear"``: the values themselves.  ``"rank"``: the rank of each
        value among all features, scaled to [0, 1] (ties share their mean rank).
    inf_as : {"top", "max"}
        ``"top"``: never-left features get a value above ``vmax`` (drawn in
        :data:`NEVER_LEFT_COLOR`).  ``"max"``: they are drawn as the largest
        finite value.

    Returns
    -------
    values : numpy.ndarray
        float ``(C, H, W)`` on the colour scale; ``inf`` where a feature never left
        (with ``inf_as="top"``).
    vmin, vmax : float
        Range of the finite values.
    """
    if isinstance(importances, (str, os.PathLike)) or hasattr(importances, "feature_importances"):
        importances = _load_path(importances).feature_importances()
    v = _1d(importances, "importances")
    shp = tuple(int(s) for s in image_shape)
    if len(shp) != 3 or min(shp) < 1:
        raise ValueError(f"image_shape must be (channels, height, width), got {image_shape!r}")
    d = shp[0] * shp[1] * shp[2]
    if v.size != d:
        raise ValueError(f"importances has {v.size} values but image_shape {shp} needs {d} (= C*H*W); pass the "
                         "image_shape of the data the path was fitted on")
    if np.isnan(v).any() or np.isneginf(v).any():
        raise ValueError("importances contain NaN or -inf; expected lambdas >= 0, with +inf for features that never "
                         "left the path")
    if scale not in ("log", "linear", "rank"):
        raise ValueError(f"scale must be 'log', 'linear' or 'rank', got {scale!r}")
    if inf_as not in ("top", "max"):
        raise ValueError(f"inf_as must be 'top' or 'max', got {inf_as!r}")
    never = np.isposinf(v)
    finite = v[~never]
    disp = np.empty_like(v)
    if scale == "rank":
        from scipy.stats import rankdata

        disp = (rankdata(v) - 1) / max(d - 1, 1)
    elif scale == "log":
        pos = finite[finite > 0]
        floor = pos.min() if pos.size else 1.0
        disp[~never] = np.log10(np.maximum(finite, floor))
    else:
        disp[~never] = finite
    if finite.size:
        vmin, vmax = float(disp[~never].min()), float(disp[~never].max())
    else:  # nothing ever left: one flat colour
        vmin, vmax = 0.0, 1.0
    if vmax <= vmin:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    disp[never] = np.inf if inf_as == "top" else vmax
    return features_to_image(disp, shp), vmin, vmax


def importance_map(importances, image_shape, out, per_channel=True, *, combine="max", scale="log", inf_as="top",
                   cmap="inferno", title=None, channel_names=None, figsize=None, dpi=100) -> str:
    """Draw feature importances as images; brighter = more important.

    Parameters
    ----------
    importances : array_like or Path or str
        One value per feature in deeplasso's feature order (channel-major,
        then row, then column: ``deeplasso.data.features_to_image``): the
        lambda at which each feature left the path, ``inf`` for features that
        never left.  A Path or a saved Path file is read with
        ``Path.feature_importances()``.
    image_shape : (int, int, int)
        ``(C, H, W)``, e.g. ``(3, 32, 32)`` or ``(1, 28, 28)``.
    out : str or os.PathLike
        PNG file to write.
    per_channel : bool
        For multi-channel images: one panel per channel plus the combined one
        (default), or only the combined panel.  One-channel images always get a
        single panel.
    combine : {"max", "mean"}
        How channels combine into one pixel: ``"max"`` (default; a pixel is as
        important as its most important channel; never-left if any channel
        never left) or ``"mean"`` of the colour-scale values (never-left
        channels count as the largest finite value; never-left only if all
        channels are).
    scale : {"log", "linear", "rank"}
        Colour scale, see :func:`importance_image`.  Default ``"log"``.
    inf_as : {"top", "max"}
        Never-left features: ``"top"`` (default) draws them in
        :data:`NEVER_LEFT_COLOR`, above the colormap, shown as the colour bar's
        extension labelled "never left"; ``"max"`` draws them as the largest
        finite value.
    cmap : str
        A sequential colormap going dark to bright (default ``"inferno"``).
    title : str, optional
        Figure title.
    channel_names : sequence of str, optional
        Panel titles (default red/green/blue for 3 channels).
    figsize : (float, float), optional
        Inches; default ``(2.6 * panels + 1.2, 3.0)``.
    dpi : int
        Dots per inch; the PNG is ``figsize * dpi`` pixels.

    Returns
    -------
    str
        ``out``.

    Raises
    ------
    ValueError
        If the number of importances is not ``C*H*W``, or values are NaN or
        ``-inf``, or an option is unknown.
    """
    if combine not in ("max", "mean"):
        raise ValueError(f"combine must be 'max' or 'mean', got {combine!r}")
    img, vmin, vmax = importance_image(importances, image_shape, scale=scale, inf_as=inf_as)
    C = img.shape[0]
    names = list(channel_names) if channel_names is not None else list(
        _CHANNEL_NAMES.get(C, [f"channel {c}" for c in range(C)]))
    if len(names) != C:
        raise ValueError(f"channel_names has {len(names)} names for {C} channels")
    panels = []
    if C == 1:
        panels.append((names[0] if channel_names is not None else "importance", img[0]))
    else:
        if per_channel:
            panels.extend(zip(names, img))
        if combine == "max":
            comb = img.max(axis=0)
        else:
            all_never = np.isinf(img).all(axis=0)
            comb = np.where(np.isinf(img), vmax, img).mean(axis=0)
            comb[all_never] = np.inf
        panels.append((f"{combine} over channels", comb))
    n = len(panels)
    fig = _new_figure(figsize or (2.6 * n + 1.2, 3.0), dpi)
    axes = fig.subplots(1, n, squeeze=False)[0]
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(over=NEVER_LEFT_COLOR)
    norm = Normalize(vmin, vmax)
    im = None
    for ax, (name, data) in zip(axes, panels):
        im = ax.imshow(np.where(np.isinf(data), vmax + 1.0, data), cmap=cm, norm=norm, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    any_never = inf_as == "top" and np.isinf(img).any()
    cb = fig.colorbar(im, ax=list(axes), fraction=0.046 / max(1, n ** 0.5), pad=0.03,
                      extend="max" if any_never else "neither")
    labels = {"log": "log10 lambda at exit", "linear": "lambda at exit", "rank": "rank of exit lambda (0-1)"}
    cb.set_label(labels[scale], fontsize=8)
    cb.ax.tick_params(labelsize=7)
    if any_never:
        cb.ax.text(0.5, 1.06, "never left", transform=cb.ax.transAxes, ha="center", va="bottom", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, out, dpi)


def importance_bars(importances, out, *, feature_names=None, top=30, title=None, figsize=None, dpi=100) -> str:
    """Draw feature importances as horizontal bars, most important on top.

    For features that are not pixels (no ``image_shape``).  The bar length is
    ``log10`` of the lambda at which the feature left the path (scaled like
    :func:`importance_image`'s ``"log"`` scale); features that never left get
    the longest bar, drawn in a second colour.

    Parameters
    ----------
    importances : array_like or Path or str
        One value per feature (``inf`` = never left), or a Path / saved Path file.
    out : str or os.PathLike
        PNG file to write.
    feature_names : sequence of str, optional
        Labels (default ``"feature j"``).
    top : int or None
        Draw only the ``top`` most important features (default 30); ``None``: all.
    title : str, optional
    figsize : (float, float), optional
        Default: height grows with the number of bars.
    dpi : int

    Returns
    -------
    str
        ``out``.
    """
    if isinstance(importances, (str, os.PathLike)) or hasattr(importances, "feature_importances"):
        importances = _load_path(importances).feature_importances()
    v = _1d(importances, "importances")
    if v.size == 0:
        raise ValueError("importances is empty; expected one value per feature")
    if np.isnan(v).any() or np.isneginf(v).any():
        raise ValueError("importances contain NaN or -inf; expected lambdas >= 0, with +inf for features that never "
                         "left the path")
    names = [f"feature {j}" for j in range(v.size)] if feature_names is None else [str(n) for n in feature_names]
    if len(names) != v.size:
        raise ValueError(f"feature_names has {len(names)} names for {v.size} importances")
    order = np.lexsort((np.arange(v.size), -v))  # most important first, ties by index
    if top is not None:
        order = order[:max(1, int(top))]
    img, vmin, vmax = importance_image(v, (1, 1, v.size), scale="log", inf_as="top")
    disp = img.ravel()
    never = np.isinf(disp)
    span = vmax - vmin
    # bars start one tenth of the range below the smallest value, so that every bar shows
    base = vmin - 0.1 * span
    length = np.where(never, vmax + 0.1 * span, disp) - base
    k = len(order)
    fig = _new_figure(figsize or (6.4, 1.0 + 0.22 * k), dpi)
    ax = fig.subplots()
    ypos = np.arange(k)[::-1]
    colors = ["C1" if never[j] else "C0" for j in order]
    ax.barh(ypos, length[order], left=base, color=colors)
    ax.set_yticks(ypos)
    ax.set_yticklabels([names[j] for j in order], fontsize=7 if k > 20 else 8)
    ax.set_xlabel("log10 lambda at exit (longer = more important)")
    if never.any():
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color="C1", label="never left the path")], fontsize=7, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    shown = "" if k == v.size else f" (top {k} of {v.size})"
    ax.set_title((title + shown) if title else f"feature importance{shown}", fontsize=10)
    fig.tight_layout()
    return _save(fig, out, dpi)


# --------------------------------------------------------------------------- accuracy curves


def _curve_arrays(name, c):
    if not isinstance(c, Mapping):
        raise TypeError(f"curve {name!r} must be a dict with 'n_features' and 'accuracy', got {type(c).__name__}")
    for key in ("n_features", "accuracy"):
        if key not in c:
            raise ValueError(f"curve {name!r} lacks {key!r}; give 'n_features' (x) and 'accuracy' (y, one value "
                             "per point, or one row per seed) and optionally 'std'")
    x = _1d(c["n_features"], f"curve {name!r} n_features")
    y = np.asarray(c["accuracy"], dtype=float)
    std = None if c.get("std") is None else _1d(c["std"], f"curve {name!r} std")
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


def _draw_curves(ax, curves, logx, colors=None, labels=None):
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
    fig = _new_figure(figsize, dpi)
    ax = fig.subplots()
    _draw_curves(ax, curves, logx)
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
    return _save(fig, out, dpi)


# --------------------------------------------------------------------------- one path


_PATH_KEYS = ("lambdas", "n_selected", "val_score", "train_score")


def _path_arrays(p) -> dict:
    if isinstance(p, Mapping):
        missing = [k for k in _PATH_KEYS[:3] if k not in p]
        if missing:
            raise ValueError(f"path dict lacks {missing}; give {list(_PATH_KEYS)} (train_score optional)")
        a = {k: _1d(p[k], k) for k in _PATH_KEYS if p.get(k) is not None}
    else:
        path = _load_path(p)
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
        A :class:`~deeplasso.path.Path`, a file written by ``Path.save``, or
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
    fig = _new_figure(figsize, dpi)
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
    return _save(fig, out, dpi)


# --------------------------------------------------------------------------- starting lambda


def lambda_start_study(results, out, *, show_epochs=None, title=None, ylabel="accuracy", figsize=None,
                       dpi=100) -> str:
    """Accuracy against the number of features, one curve per starting lambda (the paper's Table 1 study).

    Parameters
    ----------
    results : sequence of dict, or mapping of lambda_start to dict
        One entry per run: ``{"lambda_start": 500.0, "n_features": [...],
        "accuracy": [...], "std": [...] (optional), "epochs": 2596 (optional),
        "seconds": ... (optional), "label": ... (optional legend text)}`` (with a mapping, the key is the
        ``lambda_start``).  ``accuracy`` may be 2-D (one row per seed).
    out : str or os.PathLike
        PNG file to write.
    show_epochs : bool, optional
        Add a second panel with the total epochs (and seconds, if given) of
        each run against ``lambda_start``.  Default: when every run has
        ``"epochs"``.
    title, ylabel : str, optional
        Labels.
    figsize : (float, float), optional
        Inches; default ``(6.4, 4.2)``, or ``(10.5, 4.2)`` with the epochs panel.
    dpi : int
        Dots per inch.

    Returns
    -------
    str
        ``out``.
    """
    if isinstance(results, Mapping):
        runs = [dict(v, lambda_start=k) for k, v in results.items()]
    else:
        runs = [dict(r) for r in results]
    if not runs:
        raise ValueError("results is empty; give one dict per starting lambda")
    for r in runs:
        if "lambda_start" not in r:
            raise ValueError(f"a run lacks 'lambda_start': keys {sorted(r)}")
        ls = float(r["lambda_start"])
        if not (ls > 0 and math.isfinite(ls)):
            raise ValueError(f"lambda_start must be positive and finite, got {r['lambda_start']!r}")
    runs.sort(key=lambda r: float(r["lambda_start"]))
    if show_epochs is None:
        show_epochs = all(r.get("epochs") is not None for r in runs)
    elif show_epochs and any(r.get("epochs") is None for r in runs):
        raise ValueError("show_epochs=True needs 'epochs' in every run")
    fig = _new_figure(figsize or ((10.5, 4.2) if show_epochs else (6.4, 4.2)), dpi)
    axes = fig.subplots(1, 2 if show_epochs else 1, squeeze=False)[0]
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    logs = np.log10([float(r["lambda_start"]) for r in runs])
    span = logs.max() - logs.min()
    colors = [cmap(0.9 * (v - logs.min()) / span if span > 0 else 0.5) for v in logs]
    curves = {}
    labels = {}
    for r in runs:
        key = f"{float(r['lambda_start']):.3g}"
        if key in curves:
            raise ValueError(f"lambda_start {key} appears twice")
        curves[key] = r
        extra = f", {int(r['epochs'])} epochs" if r.get("epochs") is not None else ""
        labels[key] = f"{r.get('label') or f'lambda_start = {key}'}{extra}"
    ax = axes[0]
    _draw_curves(ax, curves, True, colors=colors, labels=labels)
    ax.set_xlabel("number of selected features")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    if show_epochs:
        ax = axes[1]
        ls = [float(r["lambda_start"]) for r in runs]
        ax.plot(ls, [float(r["epochs"]) for r in runs], marker="o", color="0.2", label="epochs")
        ax.set_xscale("log")
        ax.set_xlabel("lambda_start")
        ax.set_ylabel("total epochs along the path")
        ax.grid(True, alpha=0.3)
        if all(r.get("seconds") is not None for r in runs):
            ax2 = ax.twinx()
            ax2.plot(ls, [float(r["seconds"]) for r in runs], marker="s", color="C3", linestyle="--",
                     label="seconds")
            ax2.set_ylabel("seconds", color="C3")
            lines = ax.get_lines() + ax2.get_lines()
            ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out, dpi)
