"""The base of the scikit-learn estimators on top of the path engine.

``__init__`` only stores its arguments; everything is checked in ``fit``. Fitted
state ends in ``_``. Numpy in, numpy out.
"""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real
from typing import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..engine import KeepBest, LassoNet, NonFiniteLossError, PathConfig, cnn_body, fit_path, make_groups
from ..engine.config import check_M
from ..engine.results import IMPORTANCES
from ..engine import refit as train_on_support

__all__ = ["LassoNetBase", "resolve_device"]


def resolve_device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device ('cpu', 'cuda', 'cuda:0', ...): {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; use device='cpu'.")
    return dev


def _top_k(ranking: np.ndarray, d: int, k: int) -> np.ndarray:
    """The boolean support of the first ``k`` features of ``ranking``."""
    support = np.zeros(d, dtype=bool)
    support[ranking[:k]] = True
    return support


class LassoNetBase(SelectorMixin, BaseEstimator):
    """What the LassoNet estimators share: parameters, their checks, the path, the
    selection, refit and prediction. Subclasses say how targets are encoded and scored
    (:class:`LassoNetClassifier`, :class:`LassoNetRegressor`)."""

    _task = "classification"

    def __init__(
        self,
        hidden_dims: Sequence[int] = (100,),
        *,
        body: str = "mlp",
        image_shape: Sequence[int] | None = None,
        conv_channels: Sequence[int] = (16, 32),
        pixel_channels: int = 8,
        M: float = 10.0,
        lambda_start: float | str = "auto",
        path_multiplier: float | str = "auto",
        lambda_max: float = math.inf,
        n_features_to_select: int | float | None = None,
        refit: bool = True,
        importance: str = "auto",
        batch_size: int | None = 64,
        max_epochs: int = 100,
        patience: int = 5,
        tol: float = 0.01,
        dense_max_epochs: int | None = None,
        dense_patience: int | None = None,
        dense_lr: float | str | None = "auto",
        steps_per_epoch: int | str | None = "auto",
        lr: float = 1e-3,
        optimizer="adam",
        path_optimizer: str = "auto",
        dropout: float | None = None,
        groups: Sequence[Sequence[int]] | None = None,
        validation_fraction: float = 0.1,
        store_path_weights: bool = False,
        random_state=None,
        verbose: int = 0,
        device: str | None = None,
    ):
        self.hidden_dims = hidden_dims
        self.body = body
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.pixel_channels = pixel_channels
        self.M = M
        self.lambda_start = lambda_start
        self.path_multiplier = path_multiplier
        self.lambda_max = lambda_max
        self.n_features_to_select = n_features_to_select
        self.refit = refit
        self.importance = importance
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.tol = tol
        self.dense_max_epochs = dense_max_epochs
        self.dense_patience = dense_patience
        self.dense_lr = dense_lr
        self.steps_per_epoch = steps_per_epoch
        self.lr = lr
        self.optimizer = optimizer
        self.path_optimizer = path_optimizer
        self.dropout = dropout
        self.groups = groups
        self.validation_fraction = validation_fraction
        self.store_path_weights = store_path_weights
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    # ------------------------------------------------------------------ checks
    # What scikit-learn's constraint language can say is said here and checked by
    # ``_fit_context`` before fit runs; what depends on the data (n_features) or on a
    # sequence's items is checked by hand in ``_check_params`` / ``_check_body``.
    _parameter_constraints: dict = {
        "hidden_dims": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "body": [StrOptions({"mlp", "cnn"})],
        "image_shape": ["array-like", None],
        "conv_channels": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "pixel_channels": [Interval(Integral, 1, None, closed="left")],
        "M": [Interval(Real, 0, None, closed="neither")],  # M=0 also refused with the reason: check_M
        "lambda_start": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "path_multiplier": [StrOptions({"auto"}), Interval(Real, 1, None, closed="neither")],
        "lambda_max": [Interval(Real, 0, None, closed="right")],
        "n_features_to_select": [Interval(Integral, 1, None, closed="left"),
                                 Interval(RealNotInt, 0, 1, closed="right"), None],
        "refit": ["boolean"],
        "importance": [StrOptions({"auto", *IMPORTANCES})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="left")],
        "dense_max_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "dense_patience": [Interval(Integral, 1, None, closed="left"), None],
        "dense_lr": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither"), None],
        "steps_per_epoch": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), None],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd", "rmsprop"}), callable],
        "path_optimizer": [StrOptions({"same", "sgd", "auto"})],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "groups": ["array-like", None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "store_path_weights": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device, None],  # resolved (and CUDA asked for) in fit
    }

    @staticmethod
    def _positive_ints(name, value, example) -> tuple[int, ...]:
        """An int or a sequence of ints as a tuple, each > 0 (the constraints let any
        array-like through: their items are checked here)."""
        items = (value,) if isinstance(value, Integral) else tuple(value)
        if not all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in items):
            raise ValueError(f"{name}={value!r} is invalid: expected positive ints such as {example}.")
        return tuple(int(v) for v in items)

    #: numeric parameters; scikit-learn's intervals take True and False as 1 and 0
    _NUMBERS = ("hidden_dims", "conv_channels", "pixel_channels", "M", "lambda_start", "path_multiplier",
                "lambda_max", "n_features_to_select", "batch_size", "max_epochs", "patience", "tol", "lr",
                "dense_max_epochs", "dense_patience", "dense_lr", "steps_per_epoch",
                "dropout", "validation_fraction")

    def _validate_params(self):
        # M=0 first, with the reason (the one rule of engine.config.check_M, which deeplasso fit's
        # --M shares); scikit-learn's constraints then name the range of every parameter
        if isinstance(self.M, Real) and not isinstance(self.M, (bool, np.bool_)) and self.M == 0:
            check_M(self.M)
        super()._validate_params()

    def check_parameters(self, n_features: int) -> None:
        """Check every parameter as ``fit`` does for data of ``n_features`` features, without
        fitting: raises the ``ValueError`` that ``fit`` would. ``deeplasso fit`` calls it before
        it writes anything, so that a refused run leaves no run directory behind."""
        self._validate_params()
        self._check_params(n_features)
        self._check_body(n_features)
        if self.groups is not None:
            make_groups(self.groups, n_features)
        resolve_device(self.device)

    def _check_params(self, n_features: int) -> tuple[tuple[int, ...], int]:
        """The hidden widths and the number of features the path stops at (0: none)."""
        for name in self._NUMBERS:
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name}={getattr(self, name)!r} is invalid: expected a number, not a bool.")
        hidden = self._positive_ints("hidden_dims", self.hidden_dims, "(80, 100)")
        k = self.n_features_to_select
        if k is None:
            return hidden, 0
        if isinstance(k, Integral):
            if k > n_features:
                raise ValueError(f"n_features_to_select={k!r} is invalid: expected an int in "
                                 f"[1, n_features={n_features}] (or a fraction in (0, 1]).")
            return hidden, int(k)
        return hidden, max(1, int(round(k * n_features)))

    def _check_body(self, n_features: int) -> tuple[int, int, int] | None:
        """The image shape for ``body="cnn"`` (None for the MLP), checked against the data."""
        if self.body == "mlp":
            return None
        cc = self._positive_ints("conv_channels", self.conv_channels, "(16, 32)")
        if not cc:
            raise ValueError(f"conv_channels={self.conv_channels!r} is invalid: expected a non-empty sequence of "
                             "positive ints such as (16, 32).")
        shape = self.image_shape
        if shape is None:
            # square images with 1 or 3 channels are unambiguous: 3 s^2 is never a square
            for c in (1, 3):
                s = math.isqrt(n_features // c)
                if n_features % c == 0 and s * s * c == n_features:
                    return (c, s, s)
            raise ValueError(f"body='cnn' needs image_shape=(channels, height, width): n_features={n_features} "
                             "is not C*S*S for a square image with 1 or 3 channels, so it cannot be inferred.")
        shape = tuple(shape)
        if len(shape) != 3 or not all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0
                                      for v in shape):
            raise ValueError(f"image_shape={self.image_shape!r} is invalid: expected (channels, height, width) "
                             "as three positive ints, e.g. (1, 28, 28) or (3, 32, 32).")
        if math.prod(shape) != n_features:
            raise ValueError(f"image_shape={self.image_shape!r} holds {math.prod(shape)} values but X has "
                             f"n_features={n_features}; give the shape of one image, whose C*H*W is n_features "
                             "(features ordered as x.reshape(C, H, W)).")
        return tuple(int(v) for v in shape)

    def _build_module(self, d: int, n_outputs: int, hidden, image_shape) -> LassoNet:
        if image_shape is None:
            return LassoNet(d, n_outputs, hidden, self.dropout)
        cc = self._positive_ints("conv_channels", self.conv_channels, "(16, 32)")
        body = cnn_body(image_shape, n_outputs, cc,
                        pixel_channels=int(self.pixel_channels), dropout=self.dropout)
        return LassoNet(d, n_outputs, body=body, input_layer="pixel", image_shape=image_shape)

    def _validate_X(self, X, reset: bool):
        return validate_data(self, X, reset=reset, dtype=[np.float32, np.float64], ensure_all_finite=True)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, X_val=None, y_val=None, checkpoint=None, callbacks=None):
        """Compute the lambda path and end on the best model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs) for regression
        X_val, y_val : array-like, optional
            Validation data for early stopping and model choice; if not given, a
            ``validation_fraction`` of (X, y) is split off (stratified for classifiers).
        checkpoint : path-like, optional
            File for the path's state after every lambda step (see
            :func:`deeplasso.fit_path`). If it exists, the fit resumes from it and ends
            as an uninterrupted fit would; a fit killed at any moment loses at most the
            lambda step in progress.
        callbacks : sequence of deeplasso.engine.Callback, optional
            Hooks on the path (progress, logging, a custom early stopping; see
            :mod:`deeplasso.engine.callbacks`), called after the estimator's own.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], ensure_all_finite=True,
                             multi_output=self._task == "regression", y_numeric=self._task == "regression")
        n, d = X.shape
        if n < 2:
            raise ValueError(f"n_samples={n}: LassoNet needs at least 2 samples to train and validate.")
        hidden, k_stop = self._check_params(d)
        image_shape = self._check_body(d)
        y_enc = self._encode_y(y)
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        if X_val is None and y_val is None:
            X_tr, X_va, y_tr, y_va = self._split(X, y_enc, seed)
        elif X_val is None or y_val is None:
            raise ValueError("give both X_val and y_val, or neither (then a validation_fraction is split off).")
        else:
            X_va = self._validate_X(X_val, reset=False)
            y_va = self._encode_y(np.asarray(y_val), fitting=False)
            if X_va.shape[0] != len(y_va):
                raise ValueError(f"X_val has {X_va.shape[0]} rows but y_val has {len(y_va)}.")
            X_tr, y_tr = X, y_enc
        dev = resolve_device(self.device)
        tX = torch.as_tensor(np.ascontiguousarray(X_tr, dtype=np.float32), device=dev)
        tXv = torch.as_tensor(np.ascontiguousarray(X_va, dtype=np.float32), device=dev)
        ty, tyv = self._y_tensor(y_tr, dev), self._y_tensor(y_va, dev)
        cfg = PathConfig(
            task=self._task, lambda_start=self.lambda_start,
            path_multiplier=self.path_multiplier if self.path_multiplier == "auto" else float(self.path_multiplier),
            lambda_max=float(self.lambda_max), M=float(self.M), lr=float(self.lr), optimizer=self.optimizer,
            path_optimizer=self._path_optimizer(),
            batch_size=self.batch_size, max_epochs=int(self.max_epochs), patience=int(self.patience),
            tol=float(self.tol), n_features_stop=k_stop, groups=self.groups,
            dense_max_epochs=None if self.dense_max_epochs is None else int(self.dense_max_epochs),
            dense_patience=None if self.dense_patience is None else int(self.dense_patience),
            dense_lr=self.dense_lr if self.dense_lr in (None, "auto") else float(self.dense_lr),
            steps_per_epoch=self.steps_per_epoch if self.steps_per_epoch in (None, "auto")
            else int(self.steps_per_epoch),
            class_weight=self._class_weight_tensor(y_tr),
            # with a checkpoint the best point's weights must survive a restart: keep them all
            store_weights=bool(self.store_path_weights) or checkpoint is not None,
            seed=seed, verbose=int(self.verbose),
        )
        best = KeepBest(k_stop if k_stop else d)
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(seed)
            model = self._build_module(d, self._n_outputs(y_enc), hidden, image_shape).to(dev)
            try:
                # points restored from a checkpoint reach no callback: with one, the best is
                # chosen from the whole path afterwards
                path = fit_path(model, tX, ty, tXv, tyv, cfg, checkpoint=checkpoint,
                                callbacks=[*([] if checkpoint else [best]), *(callbacks or [])])
            except NonFiniteLossError as exc:
                self.path_ = exc.path
                raise
        if checkpoint is not None:
            for i, point in enumerate(path):
                best.update(i, point, None)
            best.state = {k: torch.as_tensor(v) for k, v in path[best.index].state.items()}
            if not self.store_path_weights:
                for point in path:
                    point.state = None
        model.load_state_dict(best.state)
        self.path_ = path
        self.image_shape_ = image_shape
        self.best_index_ = best.index
        self.lambda_start_ = path.meta["lambda_start_used"]
        def fresh_refit(support):
            # from the path's own initial weights, not the chosen point's: a network started
            # fresh ends 1-1.5 points better at 16 and 8 digits features than one started
            # from the shrunk point (benchmarks/refit_accuracy.py)
            with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
                torch.manual_seed(seed)
                net = self._build_module(d, self._n_outputs(y_enc), hidden, image_shape).to(dev)
                epochs, val_loss, val_score = train_on_support(net, tX, ty, tXv, tyv, cfg, support)
            return net, epochs, val_loss, val_score

        importance, tried = self._choose_importance(path, d, k_stop, fresh_refit)
        self.importance_ = importance
        # a rule whose refit diverged reads inf; no refits (one rule, or the same top k): empty
        self.importance_val_loss_ = ({by: tried[by][2] if by in tried else math.inf for by in IMPORTANCES}
                                     if tried else {})
        self.feature_importances_ = path.feature_importances(importance)
        self.ranking_ = path.ranking(importance)
        support = _top_k(self.ranking_, d, k_stop) if k_stop else path[self.best_index_].selected.copy()
        self.support_ = support
        self.n_features_selected_ = int(support.sum())
        self.refit_epochs_ = 0
        if self.refit and support.any():
            net, self.refit_epochs_, _, self.refit_val_score_ = tried.get(importance) or fresh_refit(support)
            model = net
        model.eval()
        self.module_ = model
        # predictions in float64: exact enough that a row's output does not depend on
        # which other rows share its batch
        self._predict_module_ = copy.deepcopy(model).double().eval()
        return self

    def _choose_importance(self, path, d, k, refit_on) -> tuple[str, dict]:
        """The importance the ranking uses, and the refits that chose it (rule -> the
        ``refit_on(support)`` result). ``"auto"`` with a number of features to select:
        the top ``k`` by each rule (``"norm"``, ``"lambda"``), a network refit on each from
        the path's initial weights, and the one of lower validation loss (``"norm"`` when
        both rules select the same features); without one, ``"lambda"``: no selection to
        compare, and the paper's definition."""
        if self.importance != "auto":
            return self.importance, {}
        if not k:
            return "lambda", {}
        supports = {by: _top_k(path.ranking(by), d, k) for by in IMPORTANCES}
        if np.array_equal(supports["norm"], supports["lambda"]):
            return "norm", {}
        tried = {}
        for by in IMPORTANCES:
            try:
                tried[by] = refit_on(supports[by])
            except FloatingPointError:  # this rule's refit diverged: the other rule wins
                continue
        if not tried:  # neither refit trains: the paper's rule (a refit=True fit then reports the divergence)
            return "lambda", {}
        return min(tried, key=lambda by: tried[by][2]), tried  # a tie keeps "norm", the first

    def _path_optimizer(self) -> str:
        """``"auto"``: SGD for a full-batch path, else the ``optimizer``. With the exact
        gradient Adam moves every weight by about ``lr`` whatever its gradient's size, so
        the prox removes features in an order that says little about their use; SGD's
        step is proportional to the gradient (docs/selection.md)."""
        if self.path_optimizer == "auto":
            return "sgd" if self.batch_size is None else "same"
        return self.path_optimizer

    def _split(self, X, y, seed):
        n = X.shape[0]
        n_val = int(math.ceil(self.validation_fraction * n))
        need = max(2, len(np.unique(y)) if self._task == "classification" else 2)
        if n >= 10 and n_val >= 2 and n - n_val < need:
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r} leaves {n - n_val} of {n} samples to train on"
                + (f" (fewer than the {need} classes)" if need > 2 else "")
                + "; use a smaller validation_fraction (default 0.1), or pass X_val and y_val to fit.")
        if n < 10 or n_val < 2 or n - n_val < 2:
            # too few samples to hold any out: validate on the training data itself
            return X, X, y, y
        strat = y if self._task == "classification" else None
        if strat is not None:
            counts = np.bincount(strat)
            if counts[counts > 0].min() < 2 or n_val < len(counts):
                strat = None
        return train_test_split(X, y, test_size=n_val, random_state=seed, stratify=strat)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        model = self._predict_module_
        dev = next(model.parameters()).device
        outs = []
        for i in range(0, X.shape[0], 8192):
            xb = torch.as_tensor(np.ascontiguousarray(X[i:i + 8192], dtype=np.float64), device=dev)
            outs.append(model(xb).cpu().numpy())
        return np.concatenate(outs) if outs else np.zeros((0, model.n_outputs))

    def path_model(self, index: int) -> LassoNet:
        """The torch module of path point ``index`` (needs ``store_path_weights=True``), in
        float64, on the device the estimator was fitted on."""
        check_is_fitted(self, "path_")
        point = self.path_[index]
        if point.state is None:
            raise ValueError("this path holds no weights; fit with store_path_weights=True to score its points.")
        model = copy.deepcopy(self.module_)
        model.load_state_dict({k: torch.as_tensor(v) for k, v in point.state.items()})
        return model.double().eval()

    def path_scores(self, X, y) -> np.ndarray:
        """Score (accuracy or R^2) of every path point's model on ``(X, y)``.

        Needs ``store_path_weights=True``. Gives accuracy against the number of
        selected features together with ``path_.n_selected``.
        """
        X = self._validate_X(X, reset=False)
        out = []
        dev = next(self.module_.parameters()).device
        Xt = torch.as_tensor(np.asarray(X, dtype=np.float64), device=dev)
        for i in range(len(self.path_)):
            with torch.no_grad():
                z = self.path_model(i)(Xt).cpu().numpy()
            out.append(self._score_outputs(z, y))
        return np.array(out)

    # targets as float columns, no class weights (regression and reconstruction);
    # the classifier overrides all three
    def _n_outputs(self, y_enc) -> int:
        return y_enc.shape[1]

    def _y_tensor(self, y, dev):
        return torch.as_tensor(np.asarray(y, dtype=np.float32), device=dev)

    def _class_weight_tensor(self, y_enc):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        if self._task == "regression":
            tags.target_tags.multi_output = True
        return tags
