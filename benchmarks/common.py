"""What the benchmark scripts share: the digits split, the k lists, timing and
statistics helpers, retraining on top-k features, the reference `lassonet`'s path
helpers and tie rules, and JSON-lines output.

Every script puts its own folder first on ``sys.path`` and imports from here, so
``python benchmarks/NAME.py`` works from the repository root (or anywhere). Only
public deeplasso names are used: ``deeplasso.__all__``, ``deeplasso.selection`` and
``deeplasso.data``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from pathlib import Path as FsPath

import numpy as np
import torch

from deeplasso import LassoNet, PathConfig, fit_path
from deeplasso.selection import random_features, retrain_score

#: top-k feature counts retrained on digits (half, a quarter, an eighth, a sixteenth of 64 pixels)
KS = (32, 16, 8, 4)


def say(*a):
    print(*a, flush=True)


# --------------------------------------------------------------------------- data


def digits_split(seed=0):
    """scikit-learn's digits, standardised on train: an 80/20 stratified split, then 12.5%
    of train for validation (1005 / 432 / 360 images). Returns
    ``(X_train, y_train, X_val, y_val, X_test, y_test)``, the order of ``retrain_score``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    Xtr, Xva, ytr, yva = train_test_split(Xtr, ytr, test_size=0.125, random_state=seed, stratify=ytr)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xva, Xte = (sc.transform(a).astype(np.float32) for a in (Xtr, Xva, Xte))
    return Xtr, ytr, Xva, yva, Xte, yte


# --------------------------------------------------------------------------- timing and statistics


def alternating_medians(cases: dict, repeats: int, measure) -> dict:
    """Run ``measure(case)`` (seconds) for every case in turn, ``repeats`` times, so that
    load on a shared machine falls on all of them alike. Returns name -> median."""
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            times[name].append(measure(case))
    return {name: statistics.median(v) for name, v in times.items()}


def median(xs):
    return statistics.median(xs) if len(xs) else math.nan


def mean_se(values):
    """Mean and standard error of the mean over the first axis (nan with fewer than two)."""
    a = np.asarray(values, dtype=float)
    n = a.shape[0]
    se = a.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(a.shape[1:], math.nan)
    return a.mean(axis=0), se


def points_pm(diffs) -> list[str]:
    """Accuracy differences (fractions, one row per seed) as 'mean +- se' in points."""
    m, se = mean_se(100 * np.asarray(diffs, dtype=float))
    return [f"{a:+.1f} +- {b:.1f}" for a, b in zip(np.atleast_1d(m), np.atleast_1d(se))]


def lambda_step_seconds(model: LassoNet, X, y, X_val, y_val, lam: float, epochs: int, *, dense_epochs=1,
                        warm_up=True, clock="wall", **config):
    """Seconds per epoch of one lambda step of exactly ``epochs`` epochs at ``lam``, as
    ``fit_path`` runs it: every mini-batch step, Adam and the hier-prox, then the
    validation objective after each epoch (early stopping is off). Before it: a dense
    fit of ``dense_epochs`` epochs and, with ``warm_up``, one step of ``epochs`` epochs
    at ``lam`` (so the prox sees a mid-path mix of columns). ``clock="cpu"`` counts this
    process's CPU time from the point before (the timed step's end-of-step evaluation
    included). ``config``: further ``PathConfig`` fields. Returns (seconds per epoch, the
    timed ``PathPoint``)."""
    mult = 1 + 1e-6
    n_steps = 2 if warm_up else 1
    cfg = PathConfig(lambda_start=float(lam), path_multiplier=mult, lambda_max=lam * mult ** (n_steps - 1) * (1 + 1e-9),
                     max_epochs=epochs, dense_max_epochs=dense_epochs, patience=epochs + 1, tol=0.0, **config)
    cpu = []

    def mark(i, point, m):
        cpu.append(time.process_time())

    path = fit_path(model, X, y, X_val, y_val, cfg, callback=mark)
    if len(path) != n_steps + 1:
        raise SystemExit(f"the path ended after {len(path)} points (no features left at lambda {lam:g}?)")
    point = path.points[-1]
    seconds = point.seconds if clock == "wall" else cpu[-1] - cpu[-2]
    return seconds / point.epochs, point


# --------------------------------------------------------------------------- selection quality


def retrained(data, ranking, ks, *, hidden_dims, seed, device="cpu"):
    """Test accuracy of a plain MLP retrained on the top k of ``ranking``, for each k.
    ``data``: ``(X_train, y_train, X_val, y_val, X_test, y_test)``."""
    return [retrain_score(*data, np.asarray(ranking[:k]), hidden_dims=hidden_dims, seed=seed, device=device)
            for k in ks]


def retrained_random(data, ks, *, hidden_dims, seed, device="cpu"):
    """The same on k random features (``random_features(d, k, seed)``)."""
    d = data[0].shape[1]
    return [retrain_score(*data, random_features(d, k, seed), hidden_dims=hidden_dims, seed=seed, device=device)
            for k in ks]


def norm_sum(path) -> np.ndarray:
    """Each feature's ``||theta_j||`` summed over a deeplasso path's points (its tie-break)."""
    return np.stack([p.theta_norm for p in path.points]).sum(axis=0)


def tie_rankings(importances, norm_sum) -> dict:
    """The two ways to order features that left at the same lambda: by index (what the
    reference's importances give through a stable sort) and by the sum over the path of
    ``||theta_j||`` (deeplasso's ``Path.ranking``)."""
    imp, ns = np.asarray(importances, dtype=float), np.asarray(norm_sum, dtype=float)
    return {"index": np.argsort(-imp, kind="stable"), "norm": np.lexsort((-ns, -imp))}


# --------------------------------------------------------------------------- the reference `lassonet`


def reference_importances(ref) -> np.ndarray:
    """A fitted reference estimator's importances as float64 numpy (inf: never left)."""
    return torch.as_tensor(ref.feature_importances_).cpu().numpy().astype(float)


class ReferenceNormSum:
    """A reference path callback (``callback(estimator, history)``) that adds up each
    feature's ``||theta_j||`` (its skip layer's column norm) over the path's points. It
    reads the model only, so the path and its random state stay as they are."""

    def __init__(self):
        self.total = 0.0

    def __call__(self, ref, hist):
        self.total = self.total + ref.model.skip.weight.detach().norm(dim=0).double().cpu().numpy()


def reference_digits_path(data, seed, batch_size=64, patience=10, device="cpu"):
    """The reference's full path on the digits split with the settings of
    ``digits_selection.py`` (hidden (32,), M = 10, multiplier 1.02, its own defaults
    otherwise). Returns (seconds, importances, norm sum, number of points)."""
    from lassonet import LassoNetClassifier as Ref

    Xtr, ytr, Xva, yva = data[:4]
    ref = Ref(hidden_dims=(32,), batch_size=batch_size, path_multiplier=1.02, M=10, patience=patience,
              random_state=seed, torch_seed=seed, verbose=0, device=torch.device(device))
    norms = ReferenceNormSum()
    t = time.perf_counter()
    path = ref.path(Xtr, ytr, X_val=Xva, y_val=yva, return_state_dicts=False, callback=norms)
    return time.perf_counter() - t, reference_importances(ref), norms.total, len(path)


# --------------------------------------------------------------------------- output


class JsonLines:
    """Appends one JSON object per line to ``path`` (None: nothing is written), flushed
    and fsynced after each, so a killed run keeps everything it finished. ``common``
    fields go into every record."""

    def __init__(self, path, **common):
        self.path, self.common = path, common
        if path:
            FsPath(path).parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, **rec):
        rec = {**self.common, **rec, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(jsonable(rec), default=float) + "\n")
                f.flush()
                os.fsync(f.fileno())
        return rec


def jsonable(o: dict) -> dict:
    """Arrays as lists (importances may be inf: JSON's Infinity, which Python reads back)."""
    return {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in o.items()}


def read_jsonl(path) -> list[dict]:
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
