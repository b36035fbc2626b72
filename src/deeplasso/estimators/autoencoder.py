"""The LassoNet autoencoder: unsupervised feature selection (no labels).

A LassoNet regression whose targets are the inputs themselves (all columns, or
``target_columns``): the skip layer ``theta`` (n_targets x d) and the body reconstruct
X from X, and the penalty removes input columns one after another, so the path ranks
the columns by how much the reconstruction of all of them needs each one. After the
path a decoder is trained without penalty on the kept columns only (``refit=True``),
and ``inverse_transform`` / ``reconstruct`` give every target column from the kept
ones. docs/unsupervised.md describes the design; docs/dev/autoencoder.md the
alternatives that were measured.
"""

from __future__ import annotations

import inspect
from numbers import Integral

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..engine import AutogradStep, Callback
from ..engine.steps import make_optimizer
from .base import LassoNetBase

__all__ = ["LassoNetAutoencoder"]

#: the defaults that differ from LassoNetBase's (why: docs/unsupervised.md, docs/dev/autoencoder.md)
_OWN_DEFAULTS = {"n_features_to_select": 0.1, "refit": True, "path_optimizer": "sgd", "lr": 1e-2,
                 "importance": "lambda"}


class AutogradOptimizer:
    """An optimiser by name as a callable ``(params, lr) -> Optimizer``: the same optimiser,
    but a callable makes :func:`~deeplasso.engine.select_step` train on the autograd step,
    which :class:`Reweighting` needs. Its repr is stable (it goes into the path's settings
    and a checkpoint's fingerprint)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, params, lr):
        return make_optimizer(self.name, params, lr)

    def __repr__(self):
        return f"{self.name} (autograd step)"


class Reweighting(Callback):
    """The reweighted penalty of the autoencoder's path: ``lambda * sum_j w_j ||theta_j||``
    with ``w_j = m / (||theta_j|| + eps m)`` (m: the mean norm of the columns still in),
    recomputed from the current weights before every lambda step after the first (Candes,
    Wakin, Boyd 2008: a log-like, non-convex penalty by convex steps).

    The convex penalty has no reason to prefer one of several correlated columns, and a
    reconstruction fits better from all of them, so neighbouring pixels are kept or dropped
    together; with the weights, the strongest of a group is penalised less and the others
    more, and one wins (docs/dev/autoencoder.md: on MNIST the kept pixels spread out and the
    reconstruction error falls by a fifth).

    The weighted prox is ``w * prox(u / w)`` column by column (the hier-prox is positively
    homogeneous), around the engine's own prox; it needs a step that calls
    ``penalty.prox`` after every update: the path must train on the autograd step (about
    2.7x the time of the C epoch on MNIST), which ``LassoNetAutoencoder`` asks for through
    :class:`AutogradOptimizer`. The weights are recomputed from the model's weights alone, so
    a path resumed from a checkpoint ends as the uninterrupted one.
    """

    def __init__(self, eps: float = 0.1):
        self.eps = float(eps)
        self.weights: torch.Tensor | None = None

    def on_path_begin(self, trainer, path):
        model, penalty = trainer.model, trainer.penalty
        w = model.input_weight
        self.weights = torch.ones(w.shape[1], dtype=w.dtype, device=w.device)
        prox = type(penalty).prox.__get__(penalty)  # the engine's own, unweighted

        def weighted_prox(threshold):
            with torch.no_grad():
                w.div_(self.weights)
                prox(threshold)
                w.mul_(self.weights)

        penalty.prox = weighted_prox
        if not isinstance(trainer.step, AutogradStep):
            raise TypeError("Reweighting needs a step that calls penalty.prox after every update (AutogradStep); "
                            f"this path trains with {type(trainer.step).__name__}.")

    @torch.no_grad()
    def on_lambda_begin(self, trainer, step, lam):
        if step < 2 or self.weights is None:
            return
        norms = trainer.model.theta.norm(dim=0).to(self.weights.dtype)
        alive = norms > 0
        if bool(alive.any()):
            m = norms[alive].mean()
            self.weights.copy_(torch.where(alive, m / (norms + self.eps * m), torch.ones_like(norms)))


class LassoNetAutoencoder(LassoNetBase):
    """LassoNet autoencoder: selects the input columns from which all columns (or
    ``target_columns``) are best reconstructed, without labels.

    ``fit(X)`` trains ``f(x) = theta x + f_W(x)`` to reconstruct the (scaled) targets
    from the (scaled) inputs along a lambda path; the penalty
    ``lambda * sum_j ||theta_j||_2`` (theta_j: column j's skip weights to all targets)
    with the hierarchy ``||W0_j||_inf <= M ||theta_j||`` removes input columns as lambda
    grows. Its path stops at ``n_features_to_select`` columns; ``get_support`` marks the
    top ones by importance, ``transform`` keeps them, and ``inverse_transform`` maps
    the kept columns back to a reconstruction of every target column (the decoder is
    trained on the kept columns only, see ``refit``).

    Takes every parameter of :class:`LassoNetClassifier` (without ``class_weight``),
    with the defaults below where they differ, and:

    Parameters
    ----------
    target_columns : array-like of int or None, default=None
        Column indices to reconstruct; None: every column. The selection may still
        keep any column.
    standardize : "global" or bool, default="global"
        Scaling of inputs and targets before training (undone on output). "global":
        each column centred, all divided by one standard deviation: for columns in one
        unit (pixels, one assay's genes, sensors of one kind); the error weighs columns
        by their variance, as the raw error does. True: each column to mean 0 and
        standard deviation 1: for columns in different units; the error then weighs
        every column alike (on pixels this selects worse than random: near-constant
        pixels become unit-variance noise, docs/dev/autoencoder.md). False: as given.
    reweight : bool, default=True
        Reweight the penalty before every lambda step, ``w_j = m / (||theta_j|| + 0.1 m)``
        (:class:`Reweighting`), so that one of several correlated columns is kept rather
        than all or none of them. False: the plain (convex) penalty, on the faster C
        epoch (``reweight=True`` trains on the autograd step, about 2.7x slower on
        MNIST).
    n_features_to_select : int or float, default=0.1
        Columns to keep (a float in (0, 1] is a fraction of them); the path stops
        there. None runs the path to the empty model and keeps the best validation
        point, which for a reconstruction is close to the dense model: give a k.
    refit : bool, default=True
        After the path, train the LassoNet again from its initial weights without
        penalty on the kept columns (every other column held at zero) and decode with
        it. False decodes with the path's point (shrunk by lambda), its columns outside
        ``support_`` set to zero.
    path_optimizer : {"same", "sgd"}, default="sgd"
        "sgd": the dense model with ``optimizer`` (Adam), then SGD with momentum 0.9 for
        every lambda > 0. With Adam along the path every column is pushed back against
        the prox at about the same rate whatever its gradient, so the columns of a
        reconstruction (all near the identity at the dense end) leave almost together
        and the order is lost; SGD's pull is proportional to the gradient
        (docs/dev/autoencoder.md: 4 of 4 planted generators kept on 5 of 5 seeds, against
        2-4 with Adam).
    lr : float, default=0.01
        Learning rate of the dense model, the path and the refit (SGD's step needs a
        larger one than Adam's default 1e-3).
    importance : {"auto", "norm", "lambda"}, default="lambda"
        As for :class:`LassoNetClassifier`, whose default is ``"auto"``; here the
        lambda at which a column left, with which the unsupervised benchmark was measured
        (docs/unsupervised.md). On a coarse digits path ``"norm"`` kept columns that
        rebuild the others worse than random ones did.

    Attributes
    ----------
    path_, feature_importances_, ranking_, support_, best_index_, module_,
    refit_epochs_, lambda_start_ : as for :class:`LassoNetClassifier`
        ``module_`` is the decoder: it reads the kept columns only.
    target_columns_ : ndarray of int
        The reconstructed columns.
    mean_, scale_ : ndarray of shape (n_features,)
        The scaling applied to the columns (``(x - mean_) / scale_``).
    """

    _task = "regression"
    _parameter_constraints: dict = {**LassoNetBase._parameter_constraints,
                                    "target_columns": ["array-like", None],
                                    "standardize": ["boolean", StrOptions({"global"})],
                                    "reweight": ["boolean"]}

    def __init__(self, hidden_dims=(100,), *, target_columns=None, standardize="global", reweight=True, **params):
        params = {**_OWN_DEFAULTS, **params}
        super().__init__(hidden_dims, **params)
        self.target_columns = target_columns
        self.standardize = standardize
        self.reweight = reweight

    # scikit-learn reads the parameters from the signature of __init__: every
    # LassoNetBase parameter (with this class's defaults) and the two of its own, so
    # the autoencoder follows the base's parameters as they are added.
    _base = inspect.signature(LassoNetBase.__init__).parameters.values()
    __init__.__signature__ = inspect.Signature(
        [p.replace(default=_OWN_DEFAULTS.get(p.name, p.default)) for p in _base]
        + [inspect.Parameter("target_columns", inspect.Parameter.KEYWORD_ONLY, default=None),
           inspect.Parameter("standardize", inspect.Parameter.KEYWORD_ONLY, default="global"),
           inspect.Parameter("reweight", inspect.Parameter.KEYWORD_ONLY, default=True)])
    del _base

    # ------------------------------------------------------------------ targets (the base's hooks)
    def _encode_y(self, y, fitting: bool = True):
        return np.asarray(y, dtype=np.float64).reshape(len(y), -1)

    def _score_outputs(self, z, y) -> float:
        """R^2 of all target columns at once, in the scaled units: ``1 - sum of squared
        errors / sum of squared deviations from the training means``. Each column counts
        with its scaled variance (with ``standardize=True``, alike: about the mean of the
        columns' R^2), and a column that is constant, or nearly, cannot swamp the score as
        it does in a mean of per-column R^2."""
        t = self.target_columns_
        y = (np.asarray(y, dtype=np.float64).reshape(len(z), -1) - self.mean_[t]) / self.scale_[t]
        z = (np.asarray(z, dtype=np.float64) - self.mean_[t]) / self.scale_[t]
        ss = float(((y - y.mean(axis=0)) ** 2).sum())
        err = float(((y - z) ** 2).sum())
        return 1.0 - err / ss if ss > 0 else float(err == 0)

    # ------------------------------------------------------------------ fit
    def _targets(self, d: int) -> np.ndarray:
        if self.target_columns is None:
            return np.arange(d)
        cols = np.asarray(self.target_columns)
        if cols.ndim != 1 or cols.size == 0 or not all(isinstance(v, Integral) and not isinstance(v, (bool, np.bool_))
                                                      for v in cols.tolist()):
            raise ValueError(f"target_columns={self.target_columns!r} is invalid: expected a non-empty sequence of "
                             "column indices (ints).")
        cols = cols.astype(np.int64)
        if cols.min() < 0 or cols.max() >= d or len(np.unique(cols)) != len(cols):
            raise ValueError(f"target_columns={self.target_columns!r} is invalid: expected distinct indices in "
                             f"[0, n_features={d}).")
        return cols

    def _scaling(self, X) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0)
        if self.standardize is False:
            return np.zeros(X.shape[1]), np.ones(X.shape[1])
        if self.standardize == "global":
            sd = float(np.sqrt(((X - mean) ** 2).mean()))
            return mean, np.full(X.shape[1], sd if sd > 0 else 1.0)
        sd = X.std(axis=0)
        return mean, np.where(sd > 0, sd, 1.0)

    def _scaled(self, X) -> np.ndarray:
        return ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, X_val=None, checkpoint=None, callbacks=None):
        """Compute the lambda path of the reconstruction and train the decoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
            Not used; present for the scikit-learn API (labels, if any, play no part).
        X_val : array-like, optional
            Validation rows for early stopping and model choice; if not given, a
            ``validation_fraction`` of X is split off.
        checkpoint, callbacks :
            As for :meth:`LassoNetClassifier.fit`.

        Returns
        -------
        self
        """
        X = validate_data(self, X, dtype=[np.float32, np.float64], ensure_all_finite=True)
        names = getattr(self, "feature_names_in_", None)
        d = X.shape[1]
        targets = self._targets(d)
        self.mean_, self.scale_ = self._scaling(X)
        Z = self._scaled(X)
        Zv = None
        if X_val is not None:
            Zv = self._scaled(validate_data(self, X_val, reset=False, dtype=[np.float32, np.float64],
                                            ensure_all_finite=True))
        own = [Reweighting()] if self.reweight else []
        optimizer = self.optimizer
        if self.reweight and isinstance(optimizer, str):
            # the base builds the path's settings from self.optimizer: for this call only, the
            # same optimiser as a callable, so that the path trains on the autograd step
            self.optimizer = AutogradOptimizer(optimizer)
        try:
            super().fit(Z, Z[:, targets], X_val=Zv, y_val=None if Zv is None else Zv[:, targets],
                        checkpoint=checkpoint, callbacks=[*own, *(callbacks or [])])
        finally:
            self.optimizer = optimizer
        if names is not None:  # the base saw the scaled numpy array, which has no names
            self.feature_names_in_ = names
        self.target_columns_ = targets
        return self

    # ------------------------------------------------------------------ decode
    @torch.no_grad()
    def _decode(self, Z: np.ndarray, X_kept: np.ndarray) -> np.ndarray:
        """Targets from scaled rows ``Z`` (columns outside ``support_`` are ignored), in
        the original units; kept target columns are returned as given (``X_kept``)."""
        model = self._predict_module_
        dev = next(model.parameters()).device
        Z = np.array(Z, dtype=np.float64)
        Z[:, ~self.support_] = 0.0
        outs = []
        for i in range(0, Z.shape[0], 8192):
            outs.append(model(torch.as_tensor(Z[i:i + 8192], device=dev)).cpu().numpy())
        t = self.target_columns_
        out = np.concatenate(outs) if outs else np.zeros((0, len(t)))
        out = out * self.scale_[t] + self.mean_[t]
        kept = np.flatnonzero(self.support_)
        pos = {c: i for i, c in enumerate(kept)}
        for j, c in enumerate(t):
            if c in pos:
                out[:, j] = X_kept[:, pos[c]]
        return out

    def inverse_transform(self, X):
        """Reconstruction of the target columns (every column by default) from the kept
        columns: ``X`` of shape (n_samples, n_features_selected) as ``transform`` gives
        it. Returns (n_samples, n_targets); the kept columns are returned as given, the
        others are the decoder's output."""
        check_is_fitted(self, "support_")
        X = check_array(X, dtype=[np.float64, np.float32], ensure_all_finite=True)
        k = int(self.support_.sum())
        if X.shape[1] != k:
            raise ValueError(f"X has {X.shape[1]} columns but the autoencoder keeps {k}; give transform(X).")
        kept = np.flatnonzero(self.support_)
        Z = np.zeros((X.shape[0], self.n_features_in_))
        Z[:, kept] = (X - self.mean_[kept]) / self.scale_[kept]
        return self._decode(Z, X).astype(X.dtype, copy=False)

    def reconstruct(self, X):
        """The target columns (every column by default) of full rows ``X`` rebuilt from
        their kept columns alone: ``inverse_transform(transform(X))``."""
        return self.inverse_transform(self.transform(X))

    def score(self, X, y=None) -> float:
        """R^2 of ``reconstruct(X)`` against the target columns of X, all columns at once
        in the scaled units (``1 - SSE / SS``; ``y`` is ignored)."""
        X = self._validate_X(X, reset=False)
        return self._score_outputs(self.reconstruct(X), X[:, self.target_columns_])

    def path_scores(self, X, y=None) -> np.ndarray:
        """R^2 of the reconstruction of X's target columns by every path point's model
        (each from the columns it keeps; needs ``store_path_weights=True``)."""
        check_is_fitted(self, "path_")
        X = self._validate_X(X, reset=False)
        Zt = torch.as_tensor(np.asarray(self._scaled(X), dtype=np.float64))
        t = self.target_columns_
        out = []
        for i in range(len(self.path_)):
            model = self.path_model(i)
            with torch.no_grad():
                z = model(Zt.to(next(model.parameters()).device)).cpu().numpy()
            out.append(self._score_outputs(z * self.scale_[t] + self.mean_[t], X[:, t]))
        return np.array(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.target_tags.multi_output = False
        return tags
