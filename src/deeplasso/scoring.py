"""Held-out metrics the cross-validation estimators can choose lambda by (``scoring``).

Named as scikit-learn names its scorers, higher is better. The CV estimators, the
command line (``--cv-scoring``) and the config reader share these names.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASSIFIER_SCORING", "REGRESSOR_SCORING", "SCORING", "check_scoring", "held_out_metric"]

#: the metrics ``scoring`` may name, per task (scikit-learn's scorer names; higher is better)
CLASSIFIER_SCORING = ("accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss", "roc_auc")
REGRESSOR_SCORING = ("r2", "neg_mean_squared_error", "neg_root_mean_squared_error", "neg_mean_absolute_error")
SCORING = CLASSIFIER_SCORING + REGRESSOR_SCORING  # every name, either task


def check_scoring(scoring, classifier: bool) -> None:
    """Refuse a ``scoring`` name that is not one of the task's metrics, naming them."""
    if scoring is None:
        return
    names = CLASSIFIER_SCORING if classifier else REGRESSOR_SCORING
    if scoring not in names:
        other = REGRESSOR_SCORING if classifier else CLASSIFIER_SCORING
        why = f" ({scoring!r} is a {'regression' if classifier else 'classification'} metric)" if scoring in other \
            else ""
        raise ValueError(f"scoring={scoring!r} is not a {'classification' if classifier else 'regression'} "
                         f"metric{why}; use None (the default: {'accuracy' if classifier else 'R^2'}) or one of "
                         f"{', '.join(names)}.")


def held_out_metric(scoring, y, out, classes=None) -> float:
    """A metric of held-out outputs, higher is better: ``out`` is the classifier's logits
    (n, n_classes) in ``classes`` order, or the regressor's predictions. ``scoring`` None:
    accuracy or R^2."""
    from sklearn import metrics

    if classes is not None:  # classification
        y = np.asarray(y)
        pred = classes[np.argmax(out, axis=1)]
        if scoring in (None, "accuracy"):
            return float(np.mean(pred == y))
        if scoring == "balanced_accuracy":
            return float(metrics.balanced_accuracy_score(y, pred))
        if scoring == "f1_macro":
            return float(metrics.f1_score(y, pred, average="macro", labels=classes, zero_division=0))
        z = out - out.max(axis=1, keepdims=True)
        prob = np.exp(z)
        prob /= prob.sum(axis=1, keepdims=True)
        if scoring == "neg_log_loss":
            return -float(metrics.log_loss(y, prob, labels=classes))
        if scoring == "roc_auc":
            if len(classes) == 2:
                return float(metrics.roc_auc_score(y == classes[1], prob[:, 1]))
            return float(metrics.roc_auc_score(y, prob, multi_class="ovr", labels=classes))
    else:
        y = np.asarray(y).reshape(len(out), -1)
        out = np.asarray(out).reshape(len(out), -1)
        if scoring in (None, "r2"):
            return float(metrics.r2_score(y, out))
        if scoring == "neg_mean_squared_error":
            return -float(metrics.mean_squared_error(y, out))
        if scoring == "neg_root_mean_squared_error":
            return -float(np.sqrt(metrics.mean_squared_error(y, out)))
        if scoring == "neg_mean_absolute_error":
            return -float(metrics.mean_absolute_error(y, out))
    raise ValueError(f"unknown scoring {scoring!r}")
