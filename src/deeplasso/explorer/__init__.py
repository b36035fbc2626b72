"""An interactive page over a lambda path: ``explorer.html``.

One self-contained HTML file (inline script and style, no request to any server):
a slider over the path's points with lambda, the number of features kept and the
train / validation / test scores there; for images the mask of kept pixels (per
channel and combined) beside the importance map, for other data a sortable list
of features; linked plots of the score against the number of features, the
coefficient path (``||theta_j||`` against log lambda) and, when the run
cross-validated, the CV curve with lambda_min and lambda_1se. See
``docs/explorer.md``.

``write_explorer(source, out=None, ...)`` writes it for a run directory, a
``path.npz``, a :class:`deeplasso.Path` or a fitted estimator;
``deeplasso explore RUN_DIR`` does the same from the command line, and every
``deeplasso fit`` run writes one into its directory.
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath

from ..engine.results import Path
from .data import ExplorerData, check_cv, from_estimator, from_path, from_run_dir
from .page import PAGE_NAME, render, write_page

__all__ = ["write_explorer", "explore_run_dir", "explorer", "explorer_data", "ExplorerData", "render", "check_cv",
           "PAGE_NAME"]


def explorer_data(source, **kw) -> ExplorerData:
    """The data of the page for ``source``: a run directory, a saved ``.npz`` path, a
    :class:`deeplasso.Path`, a fitted estimator, or :class:`ExplorerData` itself.
    Keyword arguments as :func:`write_explorer`."""
    if isinstance(source, ExplorerData):
        if kw:
            raise TypeError(f"ExplorerData takes no further arguments, got {sorted(kw)}")
        return source
    if isinstance(source, Path):
        return from_path(source, **kw)
    if isinstance(source, (str, os.PathLike)):
        p = FsPath(source)
        if p.is_dir():
            return from_run_dir(p, **kw)
        if p.exists():
            return from_path(p, **kw)
        raise FileNotFoundError(f"{p} does not exist (expected a run directory or a path .npz file)")
    if hasattr(source, "path_"):
        return from_estimator(source, **kw)
    raise TypeError(f"cannot explore a {type(source).__name__}: expected a run directory, a path .npz file, "
                    "a deeplasso.Path or a fitted LassoNet estimator")


def write_explorer(source, out=None, *, image_shape=None, feature_names=None, test_scores=None, selection=None,
                   cv=None, title=None, X_test=None, y_test=None, compress: bool = True) -> str:
    """Write the explorer page for ``source`` and return its file name.

    Parameters
    ----------
    source : run directory, path ``.npz`` file, Path, fitted estimator or ExplorerData
        A ``deeplasso fit`` run directory gives everything it saved: test scores per
        point, retrained top-k / random-k scores, the image shape, feature names,
        and cross-validation (``results.json``'s ``"cv"`` or ``cv.json``).
    out : str or os.PathLike, optional
        The HTML file. Default: ``explorer.html`` in the run directory, beside the
        ``.npz`` file, or in the current directory for a Path or an estimator.
    image_shape : (C, H, W), optional
        Draw masks and the importance map as images (features in channel-major,
        row, column order). Default: the run's or the estimator's, else a list.
    feature_names : list of str, optional
    test_scores : array of one score per point, optional
    selection : list of dicts, optional
        Test scores of networks retrained on the top-k and on k random features:
        ``{"k", "top", "random"}`` (or ``results.json``'s ``selection`` rows).
    cv : dict, optional
        Cross-validation: ``lambdas``, ``mean``, ``se``, ``lambda_min``,
        ``lambda_1se`` (optional ``label``, ``n_folds``); see :func:`check_cv`.
    X_test, y_test : arrays, optional
        For an estimator fitted with ``store_path_weights=True``: test scores along
        the path.
    compress : bool
        zlib-compress the large arrays (the page inflates them with the browser's
        ``DecompressionStream``; about 3x smaller for image paths).
    """
    kw = {k: v for k, v in dict(image_shape=image_shape, feature_names=feature_names, test_scores=test_scores,
                                 selection=selection, cv=cv, title=title).items() if v is not None}
    if X_test is not None or y_test is not None:
        if not hasattr(source, "path_"):
            raise TypeError("X_test and y_test apply to a fitted estimator only")
        kw.update(X_test=X_test, y_test=y_test)
    data = explorer_data(source, **kw)
    if out is None:
        if isinstance(source, (str, os.PathLike)):
            p = FsPath(source)
            out = p / PAGE_NAME if p.is_dir() else p.with_name(PAGE_NAME)
        else:
            out = PAGE_NAME
    return write_page(data, out, compress=compress)


def explore_run_dir(run_dir, out=None) -> list[str]:
    """Pages for a run directory: one for a ``deeplasso fit`` run (``path.npz`` there),
    one per path run inside a ``deeplasso reproduce`` directory (each beside its
    ``path.npz``). ``out`` names the file for a single run only. Returns the files."""
    run_dir = FsPath(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir} is not a directory")
    if (run_dir / "path.npz").exists():
        return [write_explorer(run_dir, out)]
    runs = sorted(p.parent for p in run_dir.rglob("path.npz"))
    if not runs:
        raise FileNotFoundError(f"{run_dir} holds no path.npz (a run directory of 'deeplasso fit' or "
                                "'deeplasso reproduce')")
    if out is not None:
        raise ValueError(f"{run_dir} holds {len(runs)} paths; --out applies to a directory with one")
    return [write_explorer(r) for r in runs]


def explorer(source, out=None, **kw) -> str:
    """:func:`write_explorer` under the name ``deeplasso.plots.explorer``."""
    return write_explorer(source, out, **kw)
