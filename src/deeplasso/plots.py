"""Moved to :mod:`deeplasso.evaluation.plots` (kept: tests and docs import it; needs matplotlib)."""

from .evaluation.plots import (
    NEVER_LEFT_COLOR, accuracy_vs_features, importance_bars, importance_image, importance_map, lambda_start_study,
    path_plot,
)

__all__ = ["importance_map", "importance_image", "importance_bars", "accuracy_vs_features", "path_plot",
           "lambda_start_study", "NEVER_LEFT_COLOR"]

from .explorer import explorer  # noqa: E402  the interactive path page, explorer.html (docs/explorer.md)

__all__ += ["explorer"]
