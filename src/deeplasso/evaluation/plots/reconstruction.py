"""Test images and their reconstructions from a few kept pixels (the autoencoder's run)."""

from __future__ import annotations

import matplotlib
import numpy as np

from .canvas import new_figure, save_png

__all__ = ["reconstructions", "HIDDEN_COLOR"]

#: colour of the pixels that were not kept
HIDDEN_COLOR = "tab:olive"


def _show(img: np.ndarray) -> np.ndarray:
    """(C, H, W) as something imshow draws: (H, W) for one channel, (H, W, 3) in [0, 1] for three."""
    if img.shape[0] == 1:
        return img[0]
    lo, hi = float(img.min()), float(img.max())
    return np.clip((np.moveaxis(img, 0, -1) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)


def reconstructions(originals, rows: dict, image_shape, out, *, title: str | None = None, dpi: int = 100) -> str:
    """A grid: the first row holds the original images, then per number of kept pixels k
    two rows, the kept pixels alone (the others in :data:`HIDDEN_COLOR`) and the reconstruction of every
    pixel from them.

    Parameters
    ----------
    originals : array_like of shape (n_images, C*H*W)
    rows : dict
        ``{label: (kept, reconstructed)}`` in display order, ``kept`` a boolean mask over
        the features and ``reconstructed`` an array like ``originals``.
    image_shape : (C, H, W)
    out : path of the .png
    """
    orig = np.asarray(originals, dtype=float)
    shp = tuple(int(v) for v in image_shape)
    n = orig.shape[0]
    if orig.ndim != 2 or orig.shape[1] != int(np.prod(shp)):
        raise ValueError(f"originals must have shape (n_images, {int(np.prod(shp))}), got {orig.shape}")
    lo, hi = float(orig.min()), float(orig.max())
    n_rows = 1 + 2 * len(rows)
    fig = new_figure((1.1 * n + 1.6, 1.1 * n_rows + (0.4 if title else 0.1)), dpi)
    grid = fig.add_gridspec(n_rows, n, left=1.5 / (1.1 * n + 1.6), right=0.99, top=0.92 if title else 0.99,
                            bottom=0.01, wspace=0.05, hspace=0.1)

    gray = matplotlib.colormaps["gray"].copy()
    gray.set_bad(HIDDEN_COLOR)

    def draw(r, c, vec, label=None, mask=None):
        ax = fig.add_subplot(grid[r, c])
        img = np.asarray(vec, dtype=float).reshape(shp)
        if shp[0] == 1:
            if mask is not None:
                img = np.where(np.asarray(mask).reshape(shp), img, np.nan)
            ax.imshow(img[0], cmap=gray, vmin=lo, vmax=hi, interpolation="nearest")
        else:
            rgb = _show(img)
            if mask is not None:
                rgb[~np.asarray(mask).reshape(shp).any(0)] = matplotlib.colors.to_rgb(HIDDEN_COLOR)
            ax.imshow(rgb, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if label and c == 0:
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)

    for c in range(n):
        draw(0, c, orig[c], "original")
    for i, (label, (kept, rec)) in enumerate(rows.items()):
        rec = np.asarray(rec, dtype=float)
        for c in range(n):
            draw(1 + 2 * i, c, orig[c], f"{label}:\nkept pixels", mask=kept)
            draw(2 + 2 * i, c, rec[c], f"{label}:\nreconstructed")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_png(fig, out, dpi)
