"""scikit-learn estimators on top of the path engine: :class:`LassoNetClassifier`,
:class:`LassoNetRegressor`, and :class:`LassoNetBase`, what they share."""

from .base import LassoNetBase, resolve_device
from .classifier import LassoNetClassifier
from .regressor import LassoNetRegressor

__all__ = ["LassoNetClassifier", "LassoNetRegressor", "LassoNetBase", "resolve_device"]
