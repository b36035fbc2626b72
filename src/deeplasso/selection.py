"""Moved to :mod:`deeplasso.evaluation.selection` (kept: benchmarks and docs import it)."""

from .evaluation.selection import random_features, retrain_score

__all__ = ["retrain_score", "random_features"]
