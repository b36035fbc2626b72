"""Moved to :mod:`deeplasso.engine.prox`; kept so that old imports work."""

from .engine.prox import FeatureGroups, hier_prox, hier_prox_fused_, hier_prox_grouped, make_groups  # noqa: F401

__all__ = ["hier_prox", "hier_prox_grouped", "FeatureGroups", "make_groups"]
