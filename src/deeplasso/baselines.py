"""Moved to :mod:`deeplasso.evaluation.baselines` (kept: tests and docs import it)."""

from .evaluation.baselines import (
    CRAMMER_SINGER_MAX_SIZE, CV_MAX_TRAIN, KNN_GRID, METHODS, PCA_GRID, SVM_ALPHA_GRID, SVM_C_GRID, BaselineResult,
    knn_baseline, load_results, pca_lr_baseline, run_baselines, save_results, subsample_train, svm_baseline,
)

__all__ = ["BaselineResult", "METHODS", "KNN_GRID", "SVM_ALPHA_GRID", "SVM_C_GRID", "PCA_GRID",
           "CRAMMER_SINGER_MAX_SIZE", "CV_MAX_TRAIN", "knn_baseline", "svm_baseline", "pca_lr_baseline",
           "run_baselines", "subsample_train", "save_results", "load_results"]
