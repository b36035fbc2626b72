"""The paper's Table 1 study: accuracy against features, one curve per starting lambda."""

from __future__ import annotations

import math
from typing import Mapping

import matplotlib
import numpy as np

from .canvas import new_figure, save_png
from .curves import draw_curves

__all__ = ["lambda_start_study"]


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
    fig = new_figure(figsize or ((10.5, 4.2) if show_epochs else (6.4, 4.2)), dpi)
    axes = fig.subplots(1, 2 if show_epochs else 1, squeeze=False)[0]
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
    draw_curves(ax, curves, True, colors=colors, labels=labels)
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
    return save_png(fig, out, dpi)
