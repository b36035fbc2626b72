"""Stability selection (Meinshausen & Buehlmann, 2010) over LassoNet paths.

:func:`stability_selection` fits ``n_paths`` paths, each on a seeded random subsample
of the rows (``sample_fraction``; 1.0 keeps all rows, so only the networks' seeds
differ) and with its own network seed, all on one lambda grid
``lambda_start * path_multiplier**t`` whose start comes from a path on all of the data
(as in cross-validation). A feature's selection probability at a lambda is the share of
paths whose model selects it there; its probability path is that against lambda.

On a LassoNet path every feature is in the model at the start, so the maximum of the
probability over the whole grid is 1 for all of them. The maximum is taken over the
*stability region*: the lambdas at which the paths select on average at most
``n_features_max`` features (Meinshausen & Buehlmann's q; default half of the
features). A feature is selected when its maximum probability there is at least
``threshold``; the expected number of wrongly selected features is then at most
``q_region**2 / ((2 threshold - 1) n_features)`` (their Theorem 1, ``q_region`` the
paths' mean number of features selected anywhere in the region), reported as
``expected_false``. To control that number instead, give ``expected_false``: the region
is then sized so that the bound holds (``q = sqrt(expected_false (2 threshold - 1)
n_features)``); it is strict, and for few features or a threshold near 0.5 it leaves a
region of very sparse models.

Every path is a task of :func:`deeplasso.runner.run_tasks`; its subsample and seed
depend on ``random_state`` and its index only, so the result is the same serially or on
any number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path as FsPath

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils.validation import check_X_y

from .cv import _CVMixin, data_digest
from .estimators import LassoNetClassifier, LassoNetRegressor
from .runner import Task, run_tasks

__all__ = ["stability_selection", "StabilityResult"]


@dataclass
class StabilityResult:
    """The outcome of :func:`stability_selection`.

    Attributes
    ----------
    lambdas : ndarray (n_lambdas,)
        The common grid (the points after the dense model).
    probabilities : ndarray (n_lambdas, n_features)
        Share of paths selecting each feature at each lambda (a path that ended, with
        no feature left, selects none).
    n_selected_mean : ndarray (n_lambdas,)
        Mean number of features the paths select at each lambda.
    region : ndarray of bool (n_lambdas,)
        The stability region: the lambdas where ``n_selected_mean <= n_features_max``.
    max_probability : ndarray (n_features,)
        Each feature's largest probability in the region.
    support : ndarray of bool (n_features,)
        ``max_probability >= threshold``.
    selected : ndarray of int
        The selected features, most stable first.
    ranking : ndarray of int (n_features,)
        All features by ``max_probability``, ties broken by the mean probability over the
        whole grid (the area under its probability path).
    expected_false : float
        Meinshausen and Buehlmann's bound on the expected number of falsely selected
        features, ``q**2 / ((2 threshold - 1) n_features)`` with q the paths' mean number
        of features selected anywhere in the region (inf for a threshold <= 0.5).
    threshold, n_features_max : float
    seeds : list of int
        The network seed of each path; ``rows`` the subsample each was fitted on.
    lambda_start : float
    """

    lambdas: np.ndarray
    probabilities: np.ndarray
    n_selected_mean: np.ndarray
    region: np.ndarray
    max_probability: np.ndarray
    support: np.ndarray
    selected: np.ndarray
    ranking: np.ndarray
    expected_false: float
    threshold: float
    n_features_max: float
    seeds: list
    lambda_start: float
    rows: list = field(repr=False, default_factory=list)


def _subsample_path(estimator_class, params, X, y, rows) -> dict:
    """A runner task: the path of ``estimator_class(**params)`` on ``X[rows]``; for every
    point after the dense model its lambda and its selected features (packed bits, hex)."""
    est = estimator_class(**params)
    est.fit(X[rows], y[rows])
    pts = est.path_.points[1:]
    return {"lambdas": [float(p.lambda_) for p in pts],
            "selected": [np.packbits(p.selected).tobytes().hex() for p in pts]}


def _unpack(hexes, d) -> np.ndarray:
    if not hexes:
        return np.zeros((0, d), dtype=bool)
    return np.stack([np.unpackbits(np.frombuffer(bytes.fromhex(h), dtype=np.uint8), count=d).astype(bool)
                     for h in hexes])


def _base_of(estimator):
    if isinstance(estimator, _CVMixin):
        return estimator._base(**estimator._base_params())
    if not isinstance(estimator, (LassoNetClassifier, LassoNetRegressor)):
        raise TypeError(f"stability_selection needs a LassoNetClassifier or LassoNetRegressor (unfitted template), "
                        f"got {type(estimator).__name__}.")
    return clone(estimator)


def stability_selection(
    estimator,
    X,
    y,
    n_paths: int = 20,
    sample_fraction: float = 0.5,
    threshold: float = 0.6,
    n_features_max: float | None = None,
    expected_false: float | None = None,
    seeds=None,
    random_state: int = 0,
    workers: int | None = None,
    address: str | None = None,
    run_dir=None,
) -> StabilityResult:
    """Selection probability of each feature over paths on random subsamples.

    Parameters
    ----------
    estimator : LassoNetClassifier or LassoNetRegressor
        A template (cloned; ``n_features_to_select`` and ``refit`` are ignored: every
        path runs to the empty model).
    X, y : array-like
    n_paths : int
        Number of subsample paths.
    sample_fraction : float in (0, 1]
        Share of the rows each path is fitted on, drawn without replacement (the
        classic choice is a half). 1.0: all rows, only the seeds differ.
    threshold : float in (0, 1]
        Selection probability a feature must reach in the region.
    n_features_max : float or None
        The region: lambdas where the paths select on average at most this many
        features. None: half of the features (or what ``expected_false`` gives).
    expected_false : float or None
        Size the region so that Meinshausen and Buehlmann's bound on the expected number
        of falsely selected features is this (needs a threshold > 0.5):
        ``n_features_max = sqrt(expected_false (2 threshold - 1) n_features)``. Give
        either this or ``n_features_max``.
    seeds : sequence of int or None
        The network seed (``random_state``) of each path, ``n_paths`` of them; None:
        drawn from ``random_state``.
    random_state : int
        Seeds the subsamples (and the seeds when not given) and the full-data path
        that fixes the grid's start.
    workers, address : see :func:`deeplasso.runner.run_tasks`
    run_dir : path-like or None
        A folder for the paths' results: a call run again with the same data and
        settings reuses the paths that finished. None: nothing is written.

    Returns
    -------
    StabilityResult
    """
    base = _base_of(estimator)
    classifier = is_classifier(base)
    X, y = check_X_y(X, y, dtype=[np.float32, np.float64], multi_output=not classifier, y_numeric=not classifier)
    n, d = X.shape
    if not isinstance(n_paths, Integral) or n_paths < 1:
        raise ValueError(f"n_paths={n_paths!r} is invalid: expected a positive int.")
    if not 0 < sample_fraction <= 1:
        raise ValueError(f"sample_fraction={sample_fraction!r} is invalid: expected a float in (0, 1].")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold!r} is invalid: expected a float in (0, 1].")
    if not isinstance(random_state, Integral):
        raise ValueError(f"random_state={random_state!r} is invalid: stability selection is seeded, give an int.")
    m = max(2, int(round(sample_fraction * n)))
    if m > n:
        raise ValueError(f"{n} samples are too few for subsamples of at least 2.")
    master = np.random.default_rng([int(random_state), 0x5AB])
    if seeds is None:
        seeds = [int(s) for s in master.integers(np.iinfo(np.int32).max, size=n_paths)]
    else:
        seeds = [int(s) for s in seeds]
        if len(seeds) != n_paths:
            raise ValueError(f"seeds holds {len(seeds)} seeds for n_paths={n_paths}; give one per path.")
    if expected_false is not None:
        if n_features_max is not None:
            raise ValueError("give n_features_max or expected_false, not both.")
        if threshold <= 0.5 or not expected_false > 0:
            raise ValueError(f"expected_false={expected_false!r} with threshold={threshold!r}: the bound needs "
                             "expected_false > 0 and a threshold > 0.5.")
        n_features_max = math.sqrt(expected_false * (2 * threshold - 1) * d)
    elif n_features_max is None:
        n_features_max = d / 2
    elif not n_features_max > 0:
        raise ValueError(f"n_features_max={n_features_max!r} is invalid: expected a number > 0.")

    params = base.get_params()
    params.update(n_features_to_select=None, refit=False, store_path_weights=False, verbose=0)
    lambda_start = params["lambda_start"]
    if lambda_start == "auto":
        # the start of a path on all of the data: the dense model and the "auto" start, then
        # stop (lambda_max below any lambda)
        probe = base.__class__(**dict(params, lambda_max=np.finfo(float).tiny, random_state=int(random_state)))
        probe.fit(X, y)
        lambda_start = float(probe.path_.meta["lambda_start_used"])
    lambda_start = float(lambda_start)
    params["lambda_start"] = lambda_start

    run_dir = None if run_dir is None else FsPath(run_dir)
    tasks, rows_all = [], []
    data_key = data_digest(X, y) if run_dir is not None else ""
    for i in range(n_paths):
        # each path's rows depend on (random_state, i) only: the same in any order, on any worker
        rows = np.sort(np.random.default_rng([int(random_state), i]).choice(n, size=m, replace=False))
        rows_all.append(rows)
        p = dict(params, random_state=seeds[i])
        key = f"stability-{i}-" + data_digest(rows, data=data_key, cls=type(base).__name__,
                                              **{k: v for k, v in p.items() if k != "verbose"})
        tasks.append(Task(key, _subsample_path, dict(estimator_class=type(base), params=p, X=X, y=y, rows=rows),
                          path=None if run_dir is None else run_dir / f"{key}.json"))
    results = run_tasks(tasks, workers=workers, address=address)

    sels = [_unpack(results[t.key]["selected"], d) for t in tasks]
    lams = [np.asarray(results[t.key]["lambdas"], dtype=float) for t in tasks]
    longest = int(np.argmax([len(lam) for lam in lams]))
    lambdas = lams[longest]
    for lam in lams:
        if not np.allclose(lam, lambdas[:len(lam)], rtol=1e-9, atol=0):
            raise RuntimeError("a subsample path left the common lambda grid")
    T = len(lambdas)
    counts = np.zeros((T, d))
    for s in sels:
        counts[:len(s)] += s
    probabilities = counts / n_paths
    n_selected_mean = probabilities.sum(axis=1)
    region = n_selected_mean <= n_features_max
    if region.any():
        max_probability = probabilities[region].max(axis=0)
        # the mean size of each path's union of selections over the region
        q = float(np.mean([s[region[:len(s)]].any(axis=0).sum() if len(s) else 0 for s in sels]))
    else:
        max_probability, q = np.zeros(d), 0.0
    expected_false = q * q / ((2 * threshold - 1) * d) if threshold > 0.5 else math.inf
    area = probabilities.mean(axis=0) if T else np.zeros(d)
    ranking = np.lexsort((np.arange(d), -area, -max_probability))
    support = max_probability >= threshold
    selected = ranking[support[ranking]]
    return StabilityResult(lambdas=lambdas, probabilities=probabilities, n_selected_mean=n_selected_mean,
                           region=region, max_probability=max_probability, support=support, selected=selected,
                           ranking=ranking, expected_false=float(expected_false), threshold=float(threshold),
                           n_features_max=float(n_features_max), seeds=seeds, lambda_start=lambda_start,
                           rows=rows_all)
