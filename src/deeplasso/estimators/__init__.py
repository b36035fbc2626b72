"""scikit-learn estimators on top of the path engine: :class:`LassoNetClassifier`,
:class:`LassoNetRegressor`, :class:`LassoNetAutoencoder` (no labels), and
:class:`LassoNetBase`, what they share."""

from .base import LassoNetBase, resolve_device
from .classifier import LassoNetClassifier
from .regressor import LassoNetRegressor
from .autoencoder import LassoNetAutoencoder

__all__ = ["LassoNetClassifier", "LassoNetRegressor", "LassoNetAutoencoder", "LassoNetBase", "resolve_device"]
