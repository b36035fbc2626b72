"""deeplasso: LassoNet feature selection for deep networks."""

from .prox import FeatureGroups, hier_prox, hier_prox_grouped, make_groups

__version__ = "0.1.0"

__all__ = ["hier_prox", "hier_prox_grouped", "make_groups", "FeatureGroups", "__version__"]
