"""Several baselines on one split, written to a JSON file as they finish."""

from __future__ import annotations

import json
import os
import sys
from typing import Mapping

from ...engine.files import write_json
from .knn import knn_baseline
from .pca_lr import pca_lr_baseline
from .results import to_plain
from .svm import svm_baseline

__all__ = ["METHODS", "run_baselines", "save_results", "load_results"]

#: Method name -> function, in the paper's Table 2 order.
METHODS = {"knn": knn_baseline, "svm": svm_baseline, "pca_lr": pca_lr_baseline}

_PARTS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


def _split_arrays(split) -> dict:
    if isinstance(split, Mapping):
        get = split.get
    else:
        def get(k):
            return getattr(split, k, None)
    if get("X_train") is None and get("x_train") is not None:
        raise TypeError("run_baselines needs float features, got a split of uint8 images; preprocess it first: "
                        "deeplasso.data.preprocess_split(split, 'imagenet')")
    missing = [k for k in _PARTS if get(k) is None]
    if missing:
        raise TypeError(f"split lacks {', '.join(missing)}; pass a deeplasso.data.PreparedSplit or a mapping "
                        f"with the keys {', '.join(_PARTS)}")
    return {k: get(k) for k in _PARTS}


def save_results(results: dict, file) -> str:
    """Write results as JSON atomically (temporary file, fsync, then ``os.replace``).

    Parameters
    ----------
    results : dict
        E.g. the return value of :func:`run_baselines`.
    file : str or os.PathLike
        Destination.

    Returns
    -------
    str
        The destination path.
    """
    return os.fspath(write_json(file, to_plain(results)))


def load_results(file) -> dict:
    """Read results written by :func:`save_results`."""
    with open(file) as fh:
        return json.load(fh)


def run_baselines(split, methods=("knn", "svm", "pca_lr"), *, subsample=None, random_state=0, options=None,
                  out=None, resume=True, verbose=0) -> dict:
    """Run several baselines on one split; return plain data.

    Parameters
    ----------
    split : PreparedSplit or mapping
        Float features and labels: anything with ``X_train``, ``y_train``,
        ``X_val``, ``y_val``, ``X_test``, ``y_test`` (attributes or keys), e.g.
        ``deeplasso.data.preprocess_split(paper_split(load("cifar10")))``.
    methods : sequence of str
        Any of ``"knn"``, ``"svm"``, ``"pca_lr"``, run in the order given.
    subsample : int, optional
        Keep at most this many training rows (stratified, seeded), passed to
        every method as ``max_train``.  Validation and test parts stay whole.
    random_state : int or None
        One seed for everything.
    options : dict, optional
        Extra keyword arguments per method, e.g. ``{"svm": {"solver": "sgd"},
        "knn": {"grid": [1, 5, 9]}}``.
    out : str or os.PathLike, optional
        JSON file rewritten atomically after each method, so a long run keeps
        what it finished.
    resume : bool
        With ``out`` existing: keep its methods that were run with the same
        ``subsample``, ``random_state`` and options, and run only the others.
    verbose : int
        ``> 0`` prints one line per method to stderr.

    Returns
    -------
    dict
        ``{method: BaselineResult.to_dict()}`` plus ``"settings"`` (subsample,
        random_state, options); JSON-serialisable.
    """
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown method(s) {unknown or methods}; choose from {list(METHODS)}")
    options = dict(options or {})
    bad = [k for k in options if k not in METHODS]
    if bad:
        raise ValueError(f"options has keys {bad} that are not methods; use {list(METHODS)}")
    arrays = _split_arrays(split)
    settings = to_plain({"subsample": subsample, "random_state": random_state, "options": options})
    results = {"settings": settings}
    if out is not None and resume and os.path.exists(out):
        old = load_results(out)
        if old.get("settings") == settings:
            results.update({m: old[m] for m in methods if m in old})
    for m in methods:
        if m in results:
            if verbose:
                print(f"[baselines] {m}: kept from {out}", file=sys.stderr)
            continue
        kwargs = dict(options.get(m, {}))
        kwargs.setdefault("max_train", subsample)
        kwargs.setdefault("random_state", random_state)
        r = METHODS[m](**arrays, **kwargs)
        results[m] = r.to_dict()
        if verbose:
            print(f"[baselines] {m}: {r.params} ({r.selection}) test accuracy {r.test_accuracy:.4f}, "
                  f"{r.total_seconds:.1f} s", file=sys.stderr)
        if out is not None:
            save_results(results, out)
    return results
