"""Feature importances drawn as images (pixels) or as bars (other features)."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.patches import Patch

from ...data import features_to_image
from .canvas import as_1d, load_path, new_figure, save_png

__all__ = ["importance_image", "importance_map", "importance_bars", "NEVER_LEFT_COLOR"]

#: Colour of features that never left the path (``inf`` importance) with ``inf_as="top"``:
#: brighter than the top of the default colormap.
NEVER_LEFT_COLOR = "white"

_CHANNEL_NAMES = {1: ("gray",), 3: ("red", "green", "blue")}


def _importances(importances) -> np.ndarray:
    """The importances as a 1-D float array, read from a Path or a saved Path file if given one."""
    if isinstance(importances, (str, os.PathLike)) or hasattr(importances, "feature_importances"):
        importances = load_path(importances).feature_importances()
    return as_1d(importances, "importances")


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
    v = _importances(importances)
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
        from scipy.stats import rankdata  # scipy is optional: needed for scale='rank' only

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
                   cmap="inferno", title=None, channel_names=None, figsize=None, dpi=100, by="lambda") -> str:
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
    by : {"lambda", "norm"}
        What the values are, for the colour bar's label: the lambda at which
        each feature left (default), or the sum of ``||theta_j||`` over the
        path's lambda steps (``Path.feature_importances("norm")``).

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
    label = _axis_label(by, scale)  # checks `by` before a figure exists
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
    fig = new_figure(figsize or (2.6 * n + 1.2, 3.0), dpi)
    # constrained layout keeps the figure title above the panels' titles and the colour bar's
    # label inside the figure (a one-panel map had both wrong: issue 19)
    fig.set_layout_engine("constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    cm = matplotlib.colormaps[cmap].with_extremes(over=NEVER_LEFT_COLOR)
    norm = Normalize(vmin, vmax)
    im = None
    for ax, (name, data) in zip(axes, panels):
        im = ax.imshow(np.where(np.isinf(data), vmax + 1.0, data), cmap=cm, norm=norm, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    any_never = inf_as == "top" and np.isinf(img).any()
    cb = fig.colorbar(im, ax=list(axes), fraction=0.046 / max(1, n ** 0.5), pad=0.03, shrink=0.9,
                      extend="max" if any_never else "neither")
    cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    if any_never:
        # above the extension's tip, clear of the top tick label (which sits at the bar's top)
        cb.ax.set_title("never left", fontsize=7, pad=4)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_png(fig, out, dpi)


def _axis_label(by, scale):
    what = {"lambda": "lambda at exit", "norm": "sum of ||theta_j|| over the path"}
    if by not in what:
        raise ValueError(f"by={by!r}: expected 'lambda' or 'norm' (the rule the importances were read by)")
    return {"log": f"log10 {what[by]}", "linear": what[by], "rank": f"rank of {what[by]} (0-1)"}[scale]


def importance_bars(importances, out, *, feature_names=None, top=30, title=None, figsize=None, dpi=100,
                    by="lambda") -> str:
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
    by : {"lambda", "norm"}
        What the values are, for the axis label (see :func:`importance_map`).

    Returns
    -------
    str
        ``out``.
    """
    label = _axis_label(by, "log")  # the bars are log10 of the values
    v = _importances(importances)
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
    fig = new_figure(figsize or (6.4, 1.0 + 0.22 * k), dpi)
    ax = fig.subplots()
    ypos = np.arange(k)[::-1]
    colors = ["C1" if never[j] else "C0" for j in order]
    ax.barh(ypos, length[order], left=base, color=colors)
    ax.set_yticks(ypos)
    ax.set_yticklabels([names[j] for j in order], fontsize=7 if k > 20 else 8)
    ax.set_xlabel(f"{label} (longer = more important)")
    if never.any():
        ax.legend(handles=[Patch(color="C1", label="never left the path")], fontsize=7, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    shown = "" if k == v.size else f" (top {k} of {v.size})"
    ax.set_title((title + shown) if title else f"feature importance{shown}", fontsize=10)
    fig.tight_layout()
    return save_png(fig, out, dpi)
