"""deeplasso: LassoNet feature selection for deep networks.

Sparse in the *inputs*: a LassoNet ``f(x) = theta x + f_W(x)`` trained along a
warm-started lambda path with mini-batches tells which input features a network
really needs, and the order in which it lets them go.
"""

from .estimators import LassoNetAutoencoder, LassoNetClassifier, LassoNetRegressor
from .cv import LassoNetClassifierCV, LassoNetRegressorCV
from .stability import stability_selection
from .versions import __version__, show_versions
from .engine import (
    CheckpointMismatchError, DegeneratePathWarning, FeatureGroups, LassoNet, NonFiniteLossError, Path, PathConfig,
    PathFormatError, PathPoint, PlainMLP, cnn_body, fit_path, hier_prox, hier_prox_grouped, make_groups, mlp_body,
    refit,
)

__all__ = [
    "LassoNetClassifier",
    "LassoNetRegressor",
    "LassoNetAutoencoder",
    "LassoNetClassifierCV",
    "LassoNetRegressorCV",
    "stability_selection",
    "LassoNet",
    "PlainMLP",
    "mlp_body",
    "cnn_body",
    "Path",
    "PathPoint",
    "PathConfig",
    "fit_path",
    "refit",
    "NonFiniteLossError",
    "CheckpointMismatchError",
    "PathFormatError",
    "DegeneratePathWarning",
    "hier_prox",
    "hier_prox_grouped",
    "make_groups",
    "FeatureGroups",
    "show_versions",
    "__version__",
]
