"""The LassoNet regressor and feature selector."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from .base import LassoNetBase

__all__ = ["LassoNetRegressor"]


class LassoNetRegressor(RegressorMixin, LassoNetBase):
    """LassoNet regressor and feature selector, trained along a lambda path.

    Same parameters and attributes as :class:`LassoNetClassifier` (without
    ``class_weight`` and ``classes_``); the loss is the mean squared error and the
    score R^2. ``y`` may have several columns (multi-output regression: each feature's
    skip weights over all outputs share one norm).

    The target is standardised inside ``fit``: the path is trained on
    ``(y - y_mean_) / y_scale_`` (per output; a constant output keeps scale 1), and
    ``predict`` undoes it, so ``y`` may be on any scale, as with scikit-learn's
    regressors. (Unscaled, a target like scikit-learn's diabetes, std 77, sat far outside
    the range that ``lambda_start``, ``lr`` and the penalty are tuned for: test R^2
    between -0.19 and -2.48, against 0.51 standardised.) Hence ``path_.train_loss``,
    ``path_.val_loss`` and ``val_objective``, the losses of ``refit``, and the outputs of
    ``module_`` and :meth:`path_model` are on the standardised scale; scores (R^2:
    ``score``, ``path_.val_score``, :meth:`path_scores`) do not depend on it.

    Attributes
    ----------
    (besides those of :class:`LassoNetClassifier`)

    y_mean_ : ndarray of shape (n_outputs,)
        Mean of each target column in ``fit``.
    y_scale_ : ndarray of shape (n_outputs,)
        Standard deviation of each target column in ``fit`` (1 where it is 0).
    """

    _task = "regression"

    def _encode_y(self, y, fitting: bool = True):
        y = np.asarray(y, dtype=np.float64)
        if fitting:
            self._y_ndim_ = y.ndim
            if y.ndim == 2 and y.shape[1] == 0:
                raise ValueError("y has 0 columns; give at least one target.")
        if fitting and not np.isfinite(y).all():
            raise ValueError("y holds NaN or infinite values; drop or impute them before fit.")
        y = y.reshape(len(y), -1)
        if not fitting and y.shape[1] != self._n_outputs_:
            raise ValueError(f"y_val has {y.shape[1]} targets but y has {self._n_outputs_}.")
        if fitting:
            self._n_outputs_ = y.shape[1]
            self.y_mean_ = y.mean(axis=0)
            scale = y.std(axis=0)
            self.y_scale_ = np.where(scale > 0, scale, 1.0)
        return (y - self.y_mean_) / self.y_scale_

    def _decode(self, z) -> np.ndarray:
        """Model outputs (standardised scale) on the target's own scale."""
        return np.asarray(z, dtype=np.float64) * self.y_scale_ + self.y_mean_

    def _score_outputs(self, z, y) -> float:
        """R^2 of model outputs ``z`` (standardised scale) against ``y`` (its own scale)."""
        from sklearn.metrics import r2_score

        return float(r2_score(np.asarray(y, dtype=np.float64).reshape(len(z), -1), self._decode(z)))

    def predict(self, X) -> np.ndarray:
        """Predictions on the scale of ``y``, shape (n_samples,) or (n_samples, n_outputs)
        as ``y`` was."""
        out = self._decode(self._forward(X))
        return out[:, 0] if self._y_ndim_ == 1 else out
