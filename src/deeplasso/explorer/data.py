"""What the explorer page shows, gathered from a run directory, a :class:`deeplasso.Path`
or a fitted estimator, and packed compactly for the page.

:class:`ExplorerData` holds plain arrays (one row per path point, one column per
feature). :meth:`ExplorerData.payload` turns it into the JSON object the page reads:
scalars per point as JSON lists, and the large arrays as base64 blobs:

- ``norms``: ``||theta_j||`` of every point and feature as ``uint16`` codes on a
  log scale (:func:`quantise_norms`): 0 for a zero norm, 1..65535 for the
  non-zero ones, so the support of every point (``norm > 0``) is exact and a
  value is within 0.03% (norms span up to 8 decades along a path: the dense
  model's are 20x the first penalised point's); zlib-compressed (the page
  inflates it with the browser's own ``DecompressionStream``);
- ``importance``: the lambda at which each feature left (``float32``, ``inf``:
  never left); ``ranking``: feature indices, most important first (``int32``).
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import numpy as np

from ..engine.results import Path

__all__ = ["ExplorerData", "from_path", "from_estimator", "from_run_dir", "check_cv", "encode_array", "quantise_norms",
           "dequantise_norms"]

_METRIC_LABELS = {"accuracy": "accuracy", "r2": "R^2", "score": "score"}
_CHANNEL_NAMES = {1: ("gray",), 3: ("red", "green", "blue")}
#: Largest quantised norm.
NORM_LEVELS = 65535


@dataclass
class ExplorerData:
    """Everything the page draws. Arrays are per point (``T``) and per feature (``d``).

    ``scores`` maps ``"train"``, ``"validation"``, ``"test"`` to ``T`` values (NaN where
    unknown); ``selection`` is a list of ``{"k", "top", "random"}`` (test score of a
    network retrained on the top-k / k random features); ``cv`` a checked
    cross-validation dict (:func:`check_cv`).
    """

    lambdas: np.ndarray
    theta_norm: np.ndarray
    importances: np.ndarray
    ranking: np.ndarray
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    metric: str = "score"
    image_shape: tuple[int, int, int] | None = None
    feature_names: list[str] | None = None
    channel_names: list[str] | None = None
    selection: list[dict] | None = None
    cv: dict | None = None
    best_index: int | None = None
    epochs: np.ndarray | None = None
    title: str = "LassoNet path"
    info: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.lambdas = np.asarray(self.lambdas, dtype=float)
        self.theta_norm = np.asarray(self.theta_norm, dtype=float)
        T, d = self.theta_norm.shape if self.theta_norm.ndim == 2 else (0, 0)
        if self.theta_norm.ndim != 2 or T == 0 or d == 0:
            raise ValueError(f"theta_norm must be (points, features) with both > 0, got shape {self.theta_norm.shape}")
        if self.lambdas.shape != (T,):
            raise ValueError(f"{T} points but {self.lambdas.size} lambdas")
        self.importances = np.asarray(self.importances, dtype=float)
        self.ranking = np.asarray(self.ranking, dtype=np.int64)
        if self.importances.shape != (d,) or self.ranking.shape != (d,):
            raise ValueError(f"importances and ranking need {d} entries")
        if not np.array_equal(np.sort(self.ranking), np.arange(d)):
            raise ValueError("ranking must be a permutation of the features")
        for k, v in list(self.scores.items()):
            if v is None:
                del self.scores[k]
                continue
            v = np.asarray(v, dtype=float)
            if v.shape != (T,):
                raise ValueError(f"scores[{k!r}] has {v.size} values for {T} points")
            self.scores[k] = v
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if len(shape) == 2:
                shape = (1, *shape)
            if len(shape) != 3 or math.prod(shape) != d:
                raise ValueError(f"image_shape {tuple(self.image_shape)} does not hold {d} features")
            self.image_shape = shape
            if self.channel_names is None:
                self.channel_names = list(_CHANNEL_NAMES.get(shape[0], [f"channel {c}" for c in range(shape[0])]))
        if self.feature_names is not None:
            self.feature_names = [str(n) for n in self.feature_names]
            if len(self.feature_names) != d:
                raise ValueError(f"{len(self.feature_names)} feature names for {d} features")
        if self.cv is not None:
            self.cv = check_cv(self.cv)
        if self.best_index is not None and not 0 <= int(self.best_index) < T:
            raise ValueError(f"best_index {self.best_index} is not a point of the path")

    @property
    def n_points(self) -> int:
        return self.theta_norm.shape[0]

    @property
    def n_features(self) -> int:
        return self.theta_norm.shape[1]

    @property
    def support(self) -> np.ndarray:
        """(points, features) boolean: which features each point keeps."""
        return self.theta_norm > 0

    def payload(self, compress: bool = True) -> dict:
        """The JSON object embedded in the page."""
        q, norm_log10 = quantise_norms(self.theta_norm)
        return {
            "format": 1,
            "title": self.title,
            "info": list(self.info),
            "metric": _METRIC_LABELS.get(self.metric, self.metric),
            "n_points": self.n_points,
            "n_features": self.n_features,
            "lambda": _floats(self.lambdas),
            "n_kept": [int(n) for n in self.support.sum(axis=1)],
            "epochs": None if self.epochs is None else [int(e) for e in self.epochs],
            "scores": {k: _floats(v) for k, v in self.scores.items()},
            "best_index": None if self.best_index is None else int(self.best_index),
            "image_shape": None if self.image_shape is None else list(self.image_shape),
            "channel_names": self.channel_names,
            "feature_names": self.feature_names,
            "selection": self.selection,
            "cv": self.cv,
            "norm_log10": norm_log10,
            "norms": encode_array(q, compress),
            "importance": encode_array(self.importances.astype("<f4"), compress),
            "ranking": encode_array(self.ranking.astype("<i4"), compress),
        }


def quantise_norms(norms: np.ndarray) -> tuple[np.ndarray, list[float] | None]:
    """``uint16`` codes of non-negative norms and the ``[lo, hi]`` range of their
    ``log10``: code 0 is exactly 0, code ``c >= 1`` is ``10 ** (lo + (c - 1) / (NORM_LEVELS
    - 1) * (hi - lo))``. Norms below ``hi - 12`` decades are coded 1 (still non-zero)."""
    norms = np.asarray(norms, dtype=float)
    nz = norms > 0
    if not nz.any():
        return np.zeros(norms.shape, "<u2"), None
    logs = np.log10(norms[nz])
    hi = float(logs.max())
    lo = max(float(logs.min()), hi - 12.0)
    span = hi - lo
    q = np.zeros(norms.shape, "<u2")
    if span == 0:
        q[nz] = 1
    else:
        q[nz] = 1 + np.round((np.clip(logs, lo, hi) - lo) / span * (NORM_LEVELS - 1)).astype(np.int64)
    return q, [lo, hi]


def dequantise_norms(q: np.ndarray, norm_log10) -> np.ndarray:
    """The norms :func:`quantise_norms` coded (what the page shows)."""
    q = np.asarray(q)
    if norm_log10 is None:
        return np.zeros(q.shape)
    lo, hi = norm_log10
    return np.where(q > 0, 10.0 ** (lo + (q.astype(float) - 1) / (NORM_LEVELS - 1) * (hi - lo)), 0.0)


def encode_array(a: np.ndarray, compress: bool = True) -> dict:
    """A numeric array as ``{"dtype", "shape", "enc", "data"}``: little-endian bytes,
    zlib-compressed when ``compress`` (``enc="deflate"``, what the browser's
    ``DecompressionStream("deflate")`` reads) else raw, then base64."""
    a = np.ascontiguousarray(a)
    dtype = {"<u2": "uint16", "<f4": "float32", "<i4": "int32", "|u1": "uint8"}[a.dtype.str]
    raw = a.tobytes()
    enc = "raw"
    if compress:
        packed = zlib.compress(raw, 9)
        if len(packed) < len(raw):
            raw, enc = packed, "deflate"
    return {"dtype": dtype, "shape": list(a.shape), "enc": enc, "data": base64.b64encode(raw).decode("ascii")}


def _floats(v) -> list:
    """Floats for JSON: NaN becomes null; infinities stay (as strings the page reads)."""
    out = []
    for x in np.asarray(v, dtype=float).tolist():
        if math.isnan(x):
            out.append(None)
        elif math.isinf(x):
            out.append("inf" if x > 0 else "-inf")
        else:
            out.append(x)
    return out


def check_cv(cv: dict) -> dict:
    """Check a cross-validation result and return it as plain JSON data.

    Keys: ``lambdas`` (grid), ``mean`` (mean score or loss over folds per lambda),
    ``se`` (its standard error), ``lambda_min`` and ``lambda_1se`` (the lambdas
    chosen by the minimum and the one-standard-error rule); optional ``label``
    (the y axis, default ``"CV score"``) and ``n_folds``.
    """
    if not isinstance(cv, dict):
        raise TypeError(f"cv must be a dict, got {type(cv).__name__}")
    missing = [k for k in ("lambdas", "mean") if k not in cv]
    if missing:
        raise ValueError(f"cv is missing {', '.join(missing)} (expected lambdas, mean, se, lambda_min, lambda_1se)")
    lambdas = np.asarray(cv["lambdas"], dtype=float).ravel()
    mean = np.asarray(cv["mean"], dtype=float).ravel()
    se = np.zeros_like(mean) if cv.get("se") is None else np.asarray(cv["se"], dtype=float).ravel()
    if not (lambdas.size == mean.size == se.size) or lambdas.size == 0:
        raise ValueError(f"cv: lambdas, mean and se must have one (same) length, got {lambdas.size}, {mean.size}, "
                         f"{se.size}")
    out = {"lambdas": _floats(lambdas), "mean": _floats(mean), "se": _floats(se),
           "label": str(cv.get("label") or "CV score")}
    for k in ("lambda_min", "lambda_1se"):
        v = cv.get(k)
        out[k] = None if v is None else float(v)
    if cv.get("n_folds") is not None:
        out["n_folds"] = int(cv["n_folds"])
    return out


def _selection_rows(rows) -> list[dict] | None:
    """Retrained top-k / random-k rows of a ``results.json`` (or already as ``{k, top, random}``)."""
    if not rows:
        return None
    out = []
    for r in rows:
        top = r.get("top", r.get("retrained_top_k"))
        rnd = r.get("random", r.get("retrained_random_k"))
        out.append({"k": int(r["k"]), "top": None if top is None else float(top),
                    "random": None if rnd is None else float(rnd)})
    return sorted(out, key=lambda r: r["k"])


def from_path(path: Path | str | FsPath, *, image_shape=None, feature_names=None, test_scores=None,
              selection=None, cv=None, metric=None, title=None, best_index=None, info=(),
              ranking=None) -> ExplorerData:
    """Explorer data of a :class:`deeplasso.Path` (or a saved ``path.npz``).

    ``test_scores``: one test score per point (e.g. ``estimator.path_scores(X_test,
    y_test)``); ``selection``: retrained top-k / random-k rows (``results.json``'s
    ``selection`` or ``{"k", "top", "random"}`` dicts); ``cv``: see :func:`check_cv`;
    ``ranking``: the features' order, most important first (an estimator's ``ranking_``);
    None: ``path.ranking()``. The importance map always shows the lambda at which each
    feature left (the paper's picture).
    """
    if not isinstance(path, Path):
        path = Path.load(path)
    if len(path) == 0:
        raise ValueError("the path has no points")
    if metric is None:
        metric = {"classification": "accuracy", "regression": "r2"}.get(path.meta.get("task"), "score")
    scores = {"train": [p.train_score for p in path], "validation": [p.val_score for p in path]}
    if test_scores is not None:
        scores["test"] = test_scores
    meta = path.meta
    if not info:
        bits = [f"{path.n_features} features", f"{len(path)} points"]
        if meta.get("path_multiplier"):
            bits.append(f"lambda x{meta['path_multiplier']} per step")
        if meta.get("batch_size") is not None:
            bits.append(f"batch {meta['batch_size']}")
        if meta.get("M") is not None:
            bits.append(f"M = {meta['M']}")
        info = ["; ".join(bits)]
    return ExplorerData(
        lambdas=path.lambdas, theta_norm=path.theta_norms,
        importances=path.feature_importances(), ranking=path.ranking() if ranking is None else ranking,
        scores=scores, metric=metric,
        image_shape=image_shape, feature_names=feature_names, selection=_selection_rows(selection), cv=cv,
        best_index=best_index, epochs=np.array([p.epochs for p in path]), title=title or "LassoNet path",
        info=list(info))


def from_estimator(estimator, *, X_test=None, y_test=None, image_shape=None, feature_names=None, **kw) -> ExplorerData:
    """Explorer data of a fitted :class:`~deeplasso.LassoNetClassifier` /
    :class:`~deeplasso.LassoNetRegressor`. With ``X_test, y_test`` (and a path fitted
    with ``store_path_weights=True``) the page shows test scores along the path too; a
    cross-validated estimator (``LassoNetClassifierCV``, ...) brings its CV curve."""
    if not hasattr(estimator, "path_"):
        raise ValueError("the estimator is not fitted (it has no path_)")
    if X_test is not None and y_test is not None and "test_scores" not in kw:
        kw["test_scores"] = estimator.path_scores(X_test, y_test)
    if image_shape is None:
        image_shape = getattr(estimator, "image_shape_", None) or getattr(estimator, "image_shape", None)
    if feature_names is None and hasattr(estimator, "feature_names_in_"):
        feature_names = list(estimator.feature_names_in_)
    kw.setdefault("best_index", getattr(estimator, "best_index_", None))
    if kw.get("cv") is None and hasattr(estimator, "cv_mean_") and hasattr(estimator, "lambdas_"):
        # a cross-validated estimator (deeplasso.cv): its curve over the common lambda grid
        metric = "accuracy" if estimator.path_.meta.get("task") == "classification" else "R^2"
        kw["cv"] = {"lambdas": estimator.lambdas_, "mean": estimator.cv_mean_, "se": estimator.cv_se_,
                    "lambda_min": estimator.lambda_min_, "lambda_1se": estimator.lambda_1se_,
                    "label": f"CV {metric}", "n_folds": getattr(estimator, "n_splits_", None)}
    kw.setdefault("title", f"{type(estimator).__name__}: LassoNet path")
    kw.setdefault("ranking", getattr(estimator, "ranking_", None))
    return from_path(estimator.path_, image_shape=image_shape, feature_names=feature_names, **kw)


def _read_json(file: FsPath) -> dict | None:
    return json.loads(file.read_text()) if file.exists() else None


def from_run_dir(run_dir, *, cv=None, **kw) -> ExplorerData:
    """Explorer data of a ``deeplasso fit`` run directory: ``path.npz`` with, when present,
    ``results.json`` (test scores per point, retrained top-k / random-k, image shape,
    feature names, the fitted model's point, cross-validation under ``"cv"``),
    ``config.json`` (settings for the header) and ``cv.json`` (a cross-validation result,
    see :func:`check_cv`)."""
    run_dir = FsPath(run_dir)
    if not (run_dir / "path.npz").exists():
        raise FileNotFoundError(f"{run_dir} holds no path.npz (a directory written by 'deeplasso fit')")
    path = Path.load(run_dir / "path.npz")
    res = _read_json(run_dir / "results.json") or {}
    cfg = (_read_json(run_dir / "config.json") or {}).get("settings", {})
    metric = res.get("metric")
    if cv is None:
        cv = res.get("cv") or _read_json(run_dir / "cv.json")
    rows = res.get("path") or []
    test = None
    if metric and len(rows) == len(path) and all(f"test_{metric}" in r for r in rows):
        test = [np.nan if r[f"test_{metric}"] is None else r[f"test_{metric}"] for r in rows]
    image_shape = res.get("image_shape")
    names = res.get("feature_names")
    dataset = res.get("dataset") or cfg.get("dataset") or run_dir.name
    info = []
    if res:
        info.append(f"{dataset}: {res.get('n_features', path.n_features)} features, {res.get('n_train')}/"
                    f"{res.get('n_val')}/{res.get('n_test')} train/validation/test samples")
    bits = [f"{len(path)} points"]
    if cfg:
        body = (f"CNN body {tuple(cfg.get('conv_channels') or ())}" if cfg.get("body") == "cnn"
                else f"MLP {tuple(cfg.get('hidden_dims') or ())}")
        bits += [body, f"batch {cfg.get('batch_size')}", f"M = {cfg.get('M')}",
                 f"lambda x{cfg.get('path_multiplier')} per step", f"seed {cfg.get('seed')}"]
    info.append("; ".join(bits))
    kw.setdefault("title", f"{dataset}: LassoNet path")
    kw.setdefault("best_index", res.get("best_index"))
    if res.get("ranking") is not None and len(res["ranking"]) == path.n_features:
        kw.setdefault("ranking", np.asarray(res["ranking"], dtype=np.int64))  # the run's own order
    return from_path(path, image_shape=kw.pop("image_shape", None) or image_shape,
                     feature_names=kw.pop("feature_names", None) or names, test_scores=kw.pop("test_scores", test),
                     selection=kw.pop("selection", None) or res.get("selection"), cv=cv, metric=metric,
                     info=kw.pop("info", None) or info, **kw)
