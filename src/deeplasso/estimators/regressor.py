"""The LassoNet regressor and feature selector."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import RegressorMixin

from .base import LassoNetBase

__all__ = ["LassoNetRegressor"]


class LassoNetRegressor(RegressorMixin, LassoNetBase):
    """LassoNet regressor and feature selector, trained along a lambda path.

    Same parameters and attributes as :class:`LassoNetClassifier` (without
    ``class_weight`` and ``classes_``); the loss is the mean squared error and the
    score R^2. ``y`` may have several columns (multi-output regression: each feature's
    skip weights over all outputs share one norm).
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
        return y

    def _n_outputs(self, y_enc) -> int:
        return y_enc.shape[1]

    def _y_tensor(self, y, dev):
        return torch.as_tensor(np.asarray(y, dtype=np.float32), device=dev)

    def _class_weight_tensor(self, y_enc):
        return None

    def _score_outputs(self, z, y) -> float:
        from sklearn.metrics import r2_score

        return float(r2_score(np.asarray(y, dtype=np.float64).reshape(len(z), -1), z))

    def predict(self, X) -> np.ndarray:
        """Predictions, shape (n_samples,) or (n_samples, n_outputs) as ``y`` was."""
        out = self._forward(X)
        return out[:, 0] if self._y_ndim_ == 1 else out
