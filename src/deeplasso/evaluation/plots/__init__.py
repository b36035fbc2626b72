"""Figures drawn from saved results only: plain arrays and dicts, or a saved :class:`~deeplasso.Path`.

Nothing here touches a live model.  Every function builds its own
:class:`matplotlib.figure.Figure` on the Agg canvas (no pyplot, no global
backend switch, safe in threads and on machines without a display), writes the
PNG atomically (a temporary file in the destination folder, then
``os.replace``) and returns the path written.  The image is exactly
``figsize * dpi`` pixels (no tight bounding box), so callers can rely on its
size.

=========================  ===================================================================
function                   figure
=========================  ===================================================================
:func:`importance_map`     feature importances as images, one panel per channel + combined
:func:`importance_bars`    feature importances as bars (features that are not pixels)
:func:`accuracy_vs_features` accuracy against the number of selected features, several curves
:func:`path_plot`          n_selected and train/validation score against lambda for one path
:func:`lambda_start_study` accuracy against features, one curve per starting lambda (+ epochs)
:func:`reconstructions`    test images, their kept pixels and their reconstructions at a few k
=========================  ===================================================================
"""

from .curves import accuracy_vs_features
from .importance import NEVER_LEFT_COLOR, importance_bars, importance_image, importance_map
from .lambda_path import path_plot
from .lambda_start import lambda_start_study
from .reconstruction import reconstructions

__all__ = [
    "importance_map",
    "importance_image",
    "importance_bars",
    "accuracy_vs_features",
    "path_plot",
    "lambda_start_study",
    "reconstructions",
    "NEVER_LEFT_COLOR",
]
