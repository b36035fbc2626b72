"""The paper's Table 2 baselines, all scikit-learn, on flattened features.

Three classifiers with one tuned hyperparameter each, chosen on the training
data only, then scored once on the test part:

=========  ==========================================================  =====================
name       model                                                        tuned on
=========  ==========================================================  =====================
``knn``    k-nearest neighbours, brute force, Euclidean, uniform vote   5-fold CV on train
``svm``    linear SVM, multiclass hinge + L2 (solver: see below)        5-fold CV on train, or
                                                                        the validation split
                                                                        for large data
``pca_lr`` PCA (fit on train) + multinomial logistic regression         the validation split
=========  ==========================================================  =====================

Linear SVM solvers.  The paper writes the multiclass hinge loss
``sum_{j != y} max(0, f_j - f_y + Delta)`` (the Weston-Watkins form); scikit-learn
has no solver for it.  ``solver="crammer_singer"`` uses
``LinearSVC(multi_class="crammer_singer")`` (the closest multiclass hinge:
``max_{j != y}`` instead of the sum), which is exact but slow, the more so the
larger C: 50 s (C=0.001) to 330 s (C=0.1) for 2,000 CIFAR-10 rows, and 8 s
(C=1) for 1,000 x 100 synthetic rows, on this project's 2-core machine.  ``solver="sgd"`` uses
``SGDClassifier(loss="hinge", penalty="l2")``, one binary hinge-loss SVM per
class (one-vs-rest), 50 epochs at most; about 5 s for the same 2,000 rows.
``solver="auto"`` (default) takes Crammer-Singer when ``n_train * n_features
<= 20_000`` and SGD otherwise.  The result's ``details["solver"]`` says which.

Every function returns a :class:`BaselineResult`; :func:`run_baselines` runs
several on one split and returns plain, JSON-serialisable data, optionally
written to a file as it goes.  All randomness (fold assignment, training-set
subsampling, SGD) comes from one ``random_state``.

Measured numbers for CIFAR-10 and the command that made them are in
``docs/baselines.md``.

Modules: ``results`` (:class:`BaselineResult`, plain JSON data), ``tuning`` (the
checks, subsampling, folds and grid search the methods share), one module per
method (``knn``, ``svm``, ``pca_lr``) and ``run`` (:func:`run_baselines`, the
results file).
"""

from .knn import KNN_GRID, knn_baseline
from .pca_lr import PCA_GRID, pca_lr_baseline
from .results import BaselineResult
from .run import METHODS, load_results, run_baselines, save_results
from .svm import CRAMMER_SINGER_MAX_SIZE, CV_MAX_TRAIN, SVM_ALPHA_GRID, SVM_C_GRID, svm_baseline
from .tuning import subsample_train

__all__ = [
    "BaselineResult",
    "METHODS",
    "KNN_GRID",
    "SVM_ALPHA_GRID",
    "SVM_C_GRID",
    "PCA_GRID",
    "CRAMMER_SINGER_MAX_SIZE",
    "CV_MAX_TRAIN",
    "knn_baseline",
    "svm_baseline",
    "pca_lr_baseline",
    "run_baselines",
    "subsample_train",
    "save_results",
    "load_results",
]
