"""What every figure shares: an Agg figure of exact size, the atomic PNG write, reading inputs."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ...engine import Path
from ...engine.files import atomic_write

__all__ = ["new_figure", "save_png", "load_path", "as_1d"]


def new_figure(figsize, dpi) -> Figure:
    """A figure on its own Agg canvas (no pyplot, no global backend)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, out, dpi) -> str:
    """Write ``fig`` as PNG to ``out`` atomically; return ``out`` as a string."""
    out = os.fspath(out)
    if not out.lower().endswith(".png"):
        raise ValueError(f"out must be a .png file name, got {out!r}")
    atomic_write(out, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    return out


def load_path(path_or_file):
    """A Path object from a Path, or from a file written by ``Path.save``."""
    if isinstance(path_or_file, Path):
        return path_or_file
    if isinstance(path_or_file, (str, os.PathLike)):
        if not os.path.exists(path_or_file):
            raise FileNotFoundError(f"no saved path at {os.fspath(path_or_file)!r}; write one with Path.save(file)")
        return Path.load(path_or_file)
    raise TypeError(f"expected a deeplasso Path or the file name of a saved one, got {type(path_or_file).__name__}")


def as_1d(values, name) -> np.ndarray:
    """``values`` as a 1-D float array; a ValueError that names ``name`` otherwise."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {values!r:.80}") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    return a
