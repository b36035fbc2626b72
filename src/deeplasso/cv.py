"""Cross-validation over lambda: :class:`LassoNetClassifierCV`, :class:`LassoNetRegressorCV`.

``fit`` runs a path on all of the data first; its ``lambda_start_used`` and
``path_multiplier`` define the common grid ``lambda_start * multiplier**t`` (its points
after the dense model). Then one path per fold, started at that same lambda and stopped
at the grid's last one, each a task of :func:`deeplasso.runner.run_tasks` (serial, a
local Dask cluster, or a running one); a callback scores the held-out fold at every
point (accuracy or R^2, or the metric ``scoring`` names). A fold whose path ends early (no feature left) keeps its last, empty-model score
for the remaining lambdas. From the folds' scores: the mean and its standard error at
every lambda, ``lambda_min_`` (best mean) and ``lambda_1se_`` (the largest lambda whose
mean is within one standard error of the best, as glmnet's ``lambda.1se``). The fitted
model is the full-data path's point at the chosen lambda (``choose``), or with
``refit=True`` a network trained again on that point's features.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import os
import warnings
from numbers import Integral
from pathlib import Path as FsPath

import numpy as np
import torch
from sklearn.base import _fit_context, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .engine import Callback
from .engine import refit as train_on_support
from .estimators import LassoNetClassifier, LassoNetRegressor
from .runner import Task, run_tasks
from .scoring import SCORING, check_scoring, held_out_metric

__all__ = ["LassoNetClassifierCV", "LassoNetRegressorCV", "cv_summary", "CV_PARAMETERS"]


def cv_summary(scores, lambdas, candidates=None) -> dict:
    """Mean, standard error, ``lambda_min`` and ``lambda_1se`` of a (n_folds, n_lambdas)
    score table (higher is better).

    The standard error at each lambda is the folds' standard deviation (``ddof=1``) over
    ``sqrt(n_folds)``. ``lambda_min``: the lambda of the best mean (the largest such
    lambda under ties, as glmnet). ``lambda_1se``: the largest lambda whose mean is at
    least the best mean minus its standard error. ``candidates``: a boolean mask of the
    lambdas that may be chosen (all by default). Returns a dict of ``mean``, ``se``,
    ``index_min``, ``index_1se``, ``lambda_min``, ``lambda_1se``.
    """
    scores = np.asarray(scores, dtype=float)
    lambdas = np.asarray(lambdas, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != lambdas.shape[0] or scores.shape[1] == 0:
        raise ValueError(f"scores must be (n_folds, n_lambdas) with n_lambdas = {lambdas.shape[0]} > 0; "
                         f"got shape {scores.shape}.")
    k = scores.shape[0]
    mean = scores.mean(axis=0)
    se = scores.std(axis=0, ddof=1) / math.sqrt(k) if k > 1 else np.zeros_like(mean)
    ok = np.ones(len(lambdas), dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    if not ok.any():
        raise ValueError("no lambda may be chosen (candidates is all False).")
    best = np.max(mean[ok])
    i_min = int(np.flatnonzero(ok & (mean >= best))[np.argmax(lambdas[ok & (mean >= best)])])
    within = ok & (mean >= mean[i_min] - se[i_min])
    i_1se = int(np.flatnonzero(within)[np.argmax(lambdas[within])])
    return {"mean": mean, "se": se, "index_min": i_min, "index_1se": i_1se,
            "lambda_min": float(lambdas[i_min]), "lambda_1se": float(lambdas[i_1se])}


# --------------------------------------------------------------------------- callbacks


class _KeepAll(Callback):
    """Keeps the initial weights, every point's weights (on the CPU) and the path's
    training tensors and config (for a refit on the chosen support)."""

    def __init__(self):
        self.states: list[dict] = []
        self.initial = self.trainer = None

    def on_path_begin(self, trainer, path):
        self.trainer = trainer
        self.initial = {k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()}

    def on_point(self, trainer, step, point, path):
        self.states.append({k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()})


class HeldOutScore(Callback):
    """Scores the model on held-out data at every point of a path: accuracy (with the
    estimator's ``classes_``) for classifiers, R^2 for regressors, or the metric
    ``scoring`` names (:func:`held_out_metric`). ``lambdas``, ``scores`` and
    ``n_selected`` hold one entry per point (the dense model first)."""

    def __init__(self, estimator, X, y, scoring=None):
        self.estimator, self.X, self.y, self.scoring = estimator, np.asarray(X), np.asarray(y), scoring
        self.lambdas, self.scores, self.n_selected = [], [], []

    def on_path_begin(self, trainer, path):
        self._X = torch.as_tensor(np.ascontiguousarray(self.X), dtype=trainer.X.dtype, device=trainer.X.device)

    @torch.no_grad()
    def on_point(self, trainer, step, point, path):
        model = trainer.model
        was_training = model.training
        model.eval()
        try:
            out = torch.cat([model(self._X[i:i + 8192]) for i in range(0, self._X.shape[0], 8192)])
        finally:
            model.train(was_training)
        z = out.double().cpu().numpy()
        if is_classifier(self.estimator):
            score = held_out_metric(self.scoring, self.y, z, self.estimator.classes_)
        else:
            # the regressor trains on a standardised target: its outputs back on y's scale
            z = z * self.estimator.y_scale_ + self.estimator.y_mean_
            score = held_out_metric(self.scoring, self.y, z)
        self.lambdas.append(float(point.lambda_))
        self.scores.append(score)
        self.n_selected.append(int(point.n_selected))

    def on_path_end(self, trainer, path):
        self._X = None


def fold_scores(estimator_class, params, X, y, train, test, scoring=None) -> dict:
    """A runner task: the path of ``estimator_class(**params)`` on ``X[train]`` and its
    held-out score (``scoring``) on ``X[test]`` at every point (the dense model first)."""
    est = estimator_class(**params)
    scorer = HeldOutScore(est, X[test], y[test], scoring)
    est.fit(X[train], y[train], callbacks=[scorer])
    return {"lambdas": scorer.lambdas, "scores": scorer.scores, "n_selected": scorer.n_selected}


def scores_on_grid(lambdas, fold: dict) -> np.ndarray:
    """A fold's held-out scores (a :func:`fold_scores` result, dense model first) at each
    of ``lambdas``: a path that ended early (no feature left) keeps its last score for the
    remaining lambdas; one with only the dense model scores it everywhere."""
    lambdas = np.asarray(lambdas, dtype=float)
    lam = np.asarray(fold["lambdas"][1:], dtype=float)
    s = np.asarray(fold["scores"], dtype=float)
    m = min(lam.size, lambdas.size)
    if not np.allclose(lam[:m], lambdas[:m], rtol=1e-9, atol=0):
        raise RuntimeError(f"a fold's lambdas left the common grid: {lam[:3]} against {lambdas[:3]}")
    out = np.full(lambdas.size, s[m])  # s[m]: the last point kept (the dense model when m == 0)
    out[:m] = s[1:1 + m]
    return out


def data_digest(*arrays, **settings) -> str:
    """A short digest of arrays and settings: the task keys of a run folder, so that a
    rerun with other data or settings never reuses a stale result."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(repr((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    h.update(json.dumps({k: repr(v) for k, v in sorted(settings.items())}).encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- estimators


class _CVMixin:
    """What the two CV estimators share; the base class (``_base``) does the paths."""

    _base = LassoNetClassifier

    def _base_params(self) -> dict:
        names = self._base._get_param_names()
        return {k: getattr(self, k) for k in names}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, cv_groups=None, callbacks=None):
        """Cross-validate lambda and end on the full-data path's point at the chosen one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs) for regression
        cv_groups : array-like of shape (n_samples,), optional
            Group labels for a group-aware splitter (``GroupKFold``...), passed to
            ``cv.split``.
        callbacks : sequence of deeplasso.engine.Callback, optional
            Hooks on the full-data path.

        Returns
        -------
        self
        """
        classifier = is_classifier(self)
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite=True,
                             multi_output=not classifier, y_numeric=not classifier)
        n, d = X.shape
        check_scoring(self.scoring, classifier)
        splitter = check_cv(self.cv, y, classifier=classifier)
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y, cv_groups)]
        if len(folds) < 2:
            raise ValueError(f"cv={self.cv!r} gives {len(folds)} split; cross-validation needs at least 2.")

        rs = self.random_state
        if isinstance(rs, Integral):
            full_seed, fold_seeds = int(rs), [int(rs)] * len(folds)
        else:  # None or a RandomState: draw the seeds once, then every path is seeded
            draws = check_random_state(rs).randint(np.iinfo(np.int32).max, size=len(folds) + 1)
            full_seed, fold_seeds = int(draws[0]), [int(s) for s in draws[1:]]
        k_max = self.n_features_to_select
        if isinstance(k_max, Integral) and k_max > d:
            raise ValueError(f"n_features_to_select={k_max!r} is invalid: expected an int in [1, n_features={d}] "
                             "(or a fraction in (0, 1]).")
        if k_max is not None and not isinstance(k_max, Integral):
            k_max = max(1, int(round(k_max * d)))

        # 1. the path on all of the data; its start and multiplier define the grid
        params = self._base_params()
        params.update(n_features_to_select=None, refit=False, random_state=full_seed)
        full = self._base(**params)
        keep = _KeepAll()
        full.fit(X, y, callbacks=[keep, *(callbacks or [])])
        path = full.path_
        lambdas = np.array([p.lambda_ for p in path.points[1:]], dtype=float)
        if lambdas.size == 0:
            raise ValueError(f"the full-data path has no point with lambda > 0 (lambda_max={self.lambda_max!r} is "
                             f"below lambda_start={path.meta.get('lambda_start_used')!r}?): nothing to "
                             "cross-validate.")
        n_features = np.array([p.n_selected for p in path.points[1:]], dtype=int)
        lambda_start = float(path.meta["lambda_start_used"])

        # 2. one path per fold on the same grid, through the runner
        fold_params = dict(params, lambda_start=lambda_start, lambda_max=float(lambdas[-1]), verbose=0,
                           store_path_weights=False)
        run_dir = None if self.run_dir is None else FsPath(self.run_dir)
        tasks = []
        data_key = data_digest(X, y) if run_dir is not None else ""
        metric = {} if self.scoring is None else {"scoring": self.scoring}  # None: the keys of before
        for i, (tr, te) in enumerate(folds):
            fp = dict(fold_params, random_state=int(fold_seeds[i]))
            key = f"cv-fold{i}-" + data_digest(tr, te, data=data_key, cls=self._base.__name__, **metric,
                                               **{k: v for k, v in fp.items() if k != "verbose"})
            tasks.append(Task(key, fold_scores,
                              dict(estimator_class=self._base, params=fp, X=X, y=y, train=tr, test=te,
                                   scoring=self.scoring),
                              path=None if run_dir is None else run_dir / f"{key}.json"))
        results = run_tasks(tasks, workers=self.workers, address=self.address, progress=bool(self.verbose))
        scores = np.stack([scores_on_grid(lambdas, results[t.key]) for t in tasks])

        # 3. choose
        candidates = None if k_max is None else n_features <= k_max
        if candidates is not None and not candidates.any():
            warnings.warn(f"no full-data path point has at most n_features_to_select={self.n_features_to_select!r} "
                          "features; choosing among all lambdas.", stacklevel=2)
            candidates = None
        summary = cv_summary(scores, lambdas, candidates)
        chosen = summary["index_1se"] if self.choose == "1se" else summary["index_min"]

        # 4. the fitted model: the full-data path's point at the chosen lambda
        for k, v in vars(full).items():
            if k not in params:
                setattr(self, k, v)
        model = full.module_
        model.load_state_dict({k: v.to(next(model.parameters()).device) for k, v in keep.states[chosen + 1].items()})
        support = path[chosen + 1].selected.copy()
        self.best_index_ = chosen + 1
        self.support_ = support
        self.n_features_selected_ = int(support.sum())
        self.refit_epochs_ = 0
        if self.refit and support.any():
            tr = keep.trainer
            dev = tr.X.device
            model.load_state_dict({k: v.to(dev) for k, v in keep.initial.items()})
            model.train()
            with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
                torch.manual_seed(int(tr.cfg.seed) + 2)  # dropout in the refit: seeded, as the path
                self.refit_epochs_, _, self.refit_val_score_ = train_on_support(model, tr.X, tr.y, tr.Xv, tr.yv,
                                                                                tr.cfg, support)
        model.eval()
        self.module_ = model
        self._predict_module_ = copy.deepcopy(model).double().eval()
        self.lambdas_ = lambdas
        self.n_features_ = n_features
        self.cv_scores_ = scores
        self.cv_mean_ = summary["mean"]
        self.cv_se_ = summary["se"]
        self.lambda_min_ = summary["lambda_min"]
        self.lambda_1se_ = summary["lambda_1se"]
        self.best_lambda_ = float(lambdas[chosen])
        self.n_splits_ = len(folds)
        return self

    def score(self, X, y, sample_weight=None):
        """The ``scoring`` metric of the fitted model on ``(X, y)`` (accuracy or R^2 when
        ``scoring`` is None, with ``sample_weight`` as the base estimator takes it)."""
        if self.scoring is None:
            return super().score(X, y, sample_weight=sample_weight)
        if sample_weight is not None:
            raise ValueError(f"sample_weight is not supported with scoring={self.scoring!r}; pass scoring=None.")
        if is_classifier(self):
            return held_out_metric(self.scoring, y, self._forward(X), self.classes_)
        return held_out_metric(self.scoring, y, self.predict(X))


_CV_CONSTRAINTS = {
    "cv": ["cv_object"],
    "scoring": [StrOptions(set(SCORING)), None],
    "choose": [StrOptions({"1se", "min"})],
    "workers": [Interval(Integral, 1, None, closed="left"), None],
    "address": [str, None],
    "run_dir": [str, os.PathLike, None],
}

_CV_DOC = """

    Cross-validation parameters (besides every parameter of the base estimator)
    --------------------------------------------------------------------------
    cv : int, cross-validation generator or iterable, default=5
        Folds, as scikit-learn's ``check_cv`` reads them (stratified for classifiers).
    scoring : str or None, default=None
        The held-out metric lambda is chosen by (higher is better), by scikit-learn's
        scorer name. None: accuracy (classifiers) or R^2 (regressors). Classifiers:
        ``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``neg_log_loss``, ``roc_auc``
        (one-vs-rest for more than two classes). Regressors: ``r2``,
        ``neg_mean_squared_error``, ``neg_root_mean_squared_error``,
        ``neg_mean_absolute_error``. ``score`` uses it too.
    choose : {"1se", "min"}, default="1se"
        The lambda the fitted model is taken at: ``lambda_1se_`` (the sparsest model
        within one standard error of the best mean score, as glmnet) or ``lambda_min_``.
        With ``n_features_to_select``, only lambdas whose full-data model has at most
        that many features can be chosen (the paths still run to the empty model).
    workers : int or None, default=None
        None: the fold paths run one after another in this process. n > 1: on a local
        Dask cluster of n worker processes (``pip install deeplasso[distributed]``).
    address : str or None, default=None
        A running Dask scheduler (``"tcp://head:8786"``) to run the fold paths on.
    run_dir : path-like or None, default=None
        A folder for the folds' results (on a multi-node cluster, storage every node
        sees); a fit run again with the same data and settings reuses the folds that
        finished. None: nothing is written.

    Attributes (besides those of the base estimator)
    ------------------------------------------------
    lambdas_ : ndarray of shape (n_lambdas,)
        The common grid: the full-data path's lambdas after the dense model.
    n_features_ : ndarray of shape (n_lambdas,)
        Features selected by the full-data path at each lambda.
    cv_scores_ : ndarray of shape (n_folds, n_lambdas)
        Held-out score (``scoring``; accuracy or R^2 by default) of each fold's path at
        each lambda.
    cv_mean_, cv_se_ : ndarray of shape (n_lambdas,)
        Mean over folds and its standard error (std with ddof=1 over sqrt(n_folds)).
    lambda_min_, lambda_1se_, best_lambda_ : float
        The best mean's lambda, the largest lambda within one standard error of it,
        and the one chosen (``choose``).
    best_index_ : int
        Index in ``path_`` of the chosen point (``lambdas_[best_index_ - 1]``).
    support_ : ndarray of bool
        The chosen point's features.
    """


#: the parameters the CV estimators add to their base estimator's, with their defaults
CV_PARAMETERS = {"cv": 5, "scoring": None, "choose": "1se", "workers": None, "address": None, "run_dir": None}


def _cv_init(base):
    """An ``__init__`` taking every parameter of ``base`` plus :data:`CV_PARAMETERS`.

    Its signature (what scikit-learn's ``get_params`` and ``clone`` read) is the base's,
    with the CV parameters after ``hidden_dims``, built from the base's own signature, so
    a parameter added to the base estimators is a parameter of the CV estimators too, with
    the same default. Like every scikit-learn ``__init__`` it only stores its arguments.
    """

    def __init__(self, *args, **kwargs):
        cv_args = {k: kwargs.pop(k, default) for k, default in CV_PARAMETERS.items()}
        base.__init__(self, *args, **kwargs)
        for k, v in cv_args.items():
            setattr(self, k, v)

    sig = inspect.signature(base.__init__)
    params = list(sig.parameters.values())
    extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in CV_PARAMETERS.items()]
    __init__.__signature__ = sig.replace(parameters=[*params[:2], *extra, *params[2:]])
    __init__.__qualname__ = f"{base.__name__}CV.__init__"
    return __init__


class LassoNetClassifierCV(_CVMixin, LassoNetClassifier):
    """LassoNet classifier whose lambda is chosen by cross-validation (held-out accuracy,
    or the metric ``scoring`` names).

    Parameters: those of :class:`~deeplasso.LassoNetClassifier`, plus ``cv``, ``scoring``, ``choose``,
    ``workers``, ``address``, ``run_dir``.
    """

    _base = LassoNetClassifier
    _parameter_constraints: dict = {**LassoNetClassifier._parameter_constraints, **_CV_CONSTRAINTS}
    __init__ = _cv_init(LassoNetClassifier)


class LassoNetRegressorCV(_CVMixin, LassoNetRegressor):
    """LassoNet regressor whose lambda is chosen by cross-validation (held-out R^2, or
    the metric ``scoring`` names).

    Parameters: those of :class:`~deeplasso.LassoNetRegressor`, plus ``cv``, ``scoring``, ``choose``,
    ``workers``, ``address``, ``run_dir``.
    """

    _base = LassoNetRegressor
    _parameter_constraints: dict = {**LassoNetRegressor._parameter_constraints, **_CV_CONSTRAINTS}
    __init__ = _cv_init(LassoNetRegressor)


for _cls in (LassoNetClassifierCV, LassoNetRegressorCV):
    _cls.__doc__ = _cls.__doc__.rstrip() + _CV_DOC
