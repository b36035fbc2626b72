"""Evaluation of a selection: plain networks retrained on the selected features
(and on random ones), the paper's scikit-learn baselines, and figures.

=====================  ==========================================================
module                 what
=====================  ==========================================================
``selection``          :func:`retrain_score`, :func:`random_features`
``baselines``          KNN, linear SVM, PCA + logistic regression; :func:`run_baselines`
``plots``              figures from saved results (needs matplotlib, so not
                       imported here: ``from deeplasso.evaluation import plots``)
=====================  ==========================================================

Uses the engine's public names only; knows nothing of run directories or of the experiments.
"""

from .baselines import run_baselines
from .selection import random_features, retrain_score

__all__ = ["retrain_score", "random_features", "run_baselines"]
