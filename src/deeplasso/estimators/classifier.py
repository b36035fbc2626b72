"""The LassoNet classifier and feature selector."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from .base import LassoNetBase

__all__ = ["LassoNetClassifier"]


class LassoNetClassifier(ClassifierMixin, LassoNetBase):
    """LassoNet classifier and feature selector, trained along a lambda path.

    ``f(x) = theta x + f_W(x)`` with an MLP body ``f_W``; the penalty
    ``lambda * sum_j ||theta_j||_2`` and the hierarchy ``||W0_j||_inf <= M ||theta_j||``
    remove input features one after another as lambda grows (Lemhadri et al., 2021).

    Parameters
    ----------
    hidden_dims : sequence of int, default=(100,)
        Hidden widths of the MLP body; ``()`` gives a linear model (group lasso).
        Ignored for ``body="cnn"``.
    body : {"mlp", "cnn"}, default="mlp"
        ``"cnn"``: images; every pixel has its own feature layer from its channels to
        ``pixel_channels`` channels (what the hier-prox makes sparse, per input
        feature as for the MLP), then 3x3 convolutions + ReLU + 2x2 max pooling of
        widths ``conv_channels``, global average pooling and a linear head.
    image_shape : (C, H, W) or None, default=None
        Shape of one image for ``body="cnn"``, features ordered as ``x.reshape(C, H, W)``;
        ``C*H*W`` must equal ``n_features``. None infers square images with 1 or 3
        channels (``image_shape_`` holds what was used).
    conv_channels : sequence of int, default=(16, 32)
        Widths of the convolutions of the CNN body.
    pixel_channels : int, default=8
        Channels of the per-pixel feature layer of the CNN body (the CNN's ``W0``
        has ``pixel_channels`` rows).
    class_weight : "balanced", dict or None, default=None
        Weight of each class in the loss: ``{label: weight}``, or ``"balanced"`` for
        ``n_samples / (n_classes * count)`` on the training split (scikit-learn's
        ``compute_class_weight``); None: equal weights.
    M : float, default=10
        Hierarchy coefficient: ``||W0_j||_inf <= M ||theta_j||_2`` for every input
        feature j.
    lambda_start : float or "auto", default="auto"
        First lambda after the dense model. ``"auto"``: just below where features begin
        to leave, found by a cheap ramp (one epoch per doubling), or by trial lambda
        steps with ``path_optimizer="sgd"`` (docs/lambda.md).
    path_multiplier : float or "auto", default="auto"
        Ratio between consecutive lambdas (the paper's ``1 + eps``; it uses 1.3).
        ``"auto"``: adaptive; after each step the ratio is set so that about a tenth of
        the features still above ``n_features_to_select`` (at least one) leave next,
        between x1.001 and x1.3: large steps far from the target, a few features at a
        time near it (docs/selection.md).
    lambda_max : float, default=inf
        The path stops past this lambda (inf: no limit).
    n_features_to_select : int, float or None, default=None
        Stop the path once at most this many features remain (a float in (0, 1] is a
        fraction of the features). ``get_support`` then marks exactly that many top
        features by importance, and the fitted model is the best validation point with
        at most that many features. ``None``: run to the empty model and end on the best
        validation point overall.
    refit : bool, default=True
        After the path, train the LassoNet again from its initial weights without
        penalty on the selected features (``support_``), every other feature held at
        zero (:func:`deeplasso.refit`), and predict with it. Far along the path the
        chosen point's weights are shrunk by lambda and it predicts much worse than a
        network trained on the same features. ``path_``, ``feature_importances_`` and
        ``support_`` do not change.
    importance : {"auto", "norm", "lambda"}, default="auto"
        How ``feature_importances_`` (and so ``ranking_`` and, with
        ``n_features_to_select``, ``support_``) is read off the path. ``"norm"``: the sum
        of ``||theta_j||`` over the path's lambda steps (the dense model left out), the
        weight the feature carries along the whole path. ``"lambda"``: the lambda at which
        the feature first left the model (the paper's definition). ``"auto"``: with
        ``n_features_to_select``, the top k by each, a network refit on each from the
        path's initial weights, and the one of lower validation loss (its refit is then
        the fitted model when ``refit=True``; with ``refit=False`` both refits are extra
        work, and a refit that diverges loses); without it, ``"lambda"``. Near the end of a
        mini-batch path features drop out and come back from step to step, so the first
        exit is partly noise: on MNIST and Fashion-MNIST at 50 features, and digits at 8
        and 4, ``"norm"`` selects features that a retrained network scores 3-5 points
        higher with; on CIFAR-10 the first exit does better (docs/selection.md). The path
        itself does not depend on it.
    batch_size : int or None, default=64
        Mini-batch size; ``None`` for full batch.
    max_epochs : int, default=100
        Epochs per lambda at most.
    patience : int, default=5
        Early stopping: epochs in a row without a relative improvement of ``tol`` of
        the validation objective.
    tol : float, default=0.01
        Relative improvement of the validation objective that counts for early
        stopping (at the dense model any improvement counts).
    dense_max_epochs : int or None, default=None
        Epochs of the dense model (lambda 0) and of the refit at most; None: ``max_epochs``.
    dense_patience : int or None, default=None
        Early-stopping patience of the dense model and of the refit; None: ``patience``.
    dense_lr : float, "auto" or None, default="auto"
        Learning rate of the dense model and of the refit; after a dense model at
        another rate the path goes on at ``lr`` with that run's optimiser state. ``"auto"``:
        the dense model is trained at ``lr / 10`` and at ``lr`` from the same start and
        the one of lower validation loss is kept (the path is then exactly that of
        ``dense_lr=None``, where ``lr`` wins). None: ``lr``. On CIFAR-10 the dense
        (80, 100) LassoNet scores 46.1 at lr 1e-3 and 51.1 at 1e-4, a plain MLP of the
        same widths 51.2 (docs/selection.md).
    steps_per_epoch : int, "auto" or None, default="auto"
        Optimiser steps that count as one epoch (the unit of ``max_epochs`` and
        ``patience``): whole passes over the data are repeated until at least this many
        steps ran. ``"auto"``: as many as one pass at batch 64 makes, so a full-batch
        path (``batch_size=None``) trains as much as a batch-64 one (one pass at batch
        64 or smaller); None: one pass.
    lr : float, default=1e-3
        Learning rate; the prox threshold is ``lr * lambda``.
    optimizer : str or callable, default="adam"
        "adam", "adamw", "sgd", "rmsprop" or ``callable(params, lr) -> torch.optim.Optimizer``.
    path_optimizer : {"auto", "same", "sgd"}, default="auto"
        "same": the path goes on with ``optimizer`` (Adam, as the paper). "sgd": the
        dense model with ``optimizer``, then SGD with momentum 0.9 at ``lr`` for every
        lambda > 0, each lambda step ending on its last epoch: the reference package's
        path. Its lambdas are on SGD's scale (the gradient's size), far below Adam's;
        ``lambda_start="auto"`` then runs trial lambda steps to find the start
        (docs/lambda.md). On digits it ranks the strongest features better
        (docs/PERFORMANCE.md). "auto": "sgd" for full batch (``batch_size=None``), where
        Adam's steps of about ``lr`` whatever the gradient make a poor ranking, else
        "same" (docs/selection.md).
    dropout : float or None, default=None
        Dropout after hidden activations (a rate in [0, 1)); None: no dropout.
    groups : list of lists of int or None, default=None
        Features that enter and leave together (lists of column indices, e.g. a
        pixel's colour channels); None: every feature alone.
    validation_fraction : float, default=0.1
        Share of the training data held out when no ``X_val`` is given.
    store_path_weights : bool, default=False
        Keep every point's weights in ``path_`` (needed by ``path_model`` and
        ``path_scores``).
    random_state : int, RandomState or None, default=None
        Seeds the split, initialisation, shuffling and dropout. Same seed, same path
        (bit for bit on CPU).
    verbose : int, default=0
        0 is silent (scikit-learn's convention, quiet inside ``GridSearchCV``); 1 shows a
        progress line per path (lambda steps done, lambda, features left); 2 also leaves
        it on screen.
    device : str, torch.device or None, default=None
        Torch device; None picks CUDA when available, else CPU.

    Attributes
    ----------
    path_ : deeplasso.Path
        One point per lambda (dense first): lambda, support, losses, scores, epochs.
    feature_importances_ : ndarray of shape (n_features,)
        Larger = more important: with ``importance_ == "norm"`` the sum of
        ``||theta_j||`` over the path's lambda steps; with ``"lambda"`` the lambda at
        which the feature left the model (inf if it never did).
    importance_ : {"norm", "lambda"}
        The importance the ranking uses (``importance``, or what ``"auto"`` chose).
    importance_val_loss_ : dict
        With ``importance="auto"`` and two different top-k selections: each rule's
        validation loss of its refit (empty otherwise).
    ranking_ : ndarray of shape (n_features,)
        Features from most to least important.
    support_ : ndarray of bool
        Features kept by ``transform``.
    best_index_ : int
        Index in ``path_`` of the model used by ``predict`` (without ``refit``).
    refit_epochs_ : int
        Epochs of the refit (0 without one); ``refit_val_score_`` is its validation score.
    classes_ : ndarray
        Class labels.
    module_ : deeplasso.LassoNet
        The fitted torch module (at ``best_index_``, or the one trained on ``support_``
        with ``refit=True``).
    image_shape_ : (C, H, W) or None
        The image shape the CNN body used (None for the MLP).
    """

    _task = "classification"
    _parameter_constraints: dict = {**LassoNetBase._parameter_constraints,
                                    "class_weight": [StrOptions({"balanced"}), dict, None]}

    def _encode_y(self, y, fitting: bool = True):
        if fitting:
            check_classification_targets(y)
            self._label_encoder_ = LabelEncoder().fit(y)
            self.classes_ = self._label_encoder_.classes_
            if len(self.classes_) < 2:
                raise ValueError(
                    f"the training labels hold a single class ({self.classes_[0]!r}); a classifier needs "
                    "at least 2 classes."
                )
            return self._label_encoder_.transform(y)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y_val holds labels not seen in y: {unknown[:5].tolist()}.")
        return self._label_encoder_.transform(y)

    def _n_outputs(self, y_enc) -> int:
        return len(self.classes_)

    def _y_tensor(self, y, dev):
        return torch.as_tensor(np.asarray(y, dtype=np.int64), device=dev)

    def _class_weight_tensor(self, y_enc):
        if self.class_weight is None:
            return None
        cw = compute_class_weight(self.class_weight, classes=self.classes_,
                                  y=self._label_encoder_.inverse_transform(y_enc))
        return torch.as_tensor(cw, dtype=torch.float32)

    def __init__(self, hidden_dims=(100,), *, body="mlp", image_shape=None, conv_channels=(16, 32),
                 pixel_channels=8, class_weight=None, M=10.0, lambda_start="auto",
                 path_multiplier="auto", lambda_max=math.inf, n_features_to_select=None, refit=True, importance="auto",
                 batch_size=64,
                 max_epochs=100, patience=5, tol=0.01, dense_max_epochs=None, dense_patience=None,
                 dense_lr="auto", steps_per_epoch="auto", lr=1e-3, optimizer="adam", path_optimizer="auto", dropout=None,
                 groups=None,
                 validation_fraction=0.1, store_path_weights=False, random_state=None, verbose=0, device=None):
        super().__init__(hidden_dims, body=body, image_shape=image_shape, conv_channels=conv_channels,
                         pixel_channels=pixel_channels, M=M, lambda_start=lambda_start, path_multiplier=path_multiplier,
                         lambda_max=lambda_max, n_features_to_select=n_features_to_select, refit=refit,
                         importance=importance,
                         batch_size=batch_size, max_epochs=max_epochs, patience=patience, tol=tol,
                         dense_max_epochs=dense_max_epochs, dense_patience=dense_patience, dense_lr=dense_lr,
                         steps_per_epoch=steps_per_epoch, lr=lr,
                         optimizer=optimizer, path_optimizer=path_optimizer, dropout=dropout, groups=groups,
                         validation_fraction=validation_fraction, store_path_weights=store_path_weights,
                         random_state=random_state, verbose=verbose, device=device)
        self.class_weight = class_weight

    def _score_outputs(self, z, y) -> float:
        return float(np.mean(self.classes_[np.argmax(z, axis=1)] == np.asarray(y)))

    def decision_function(self, X) -> np.ndarray:
        """Logits of the fitted model, shape (n_samples, n_classes); for two classes the
        logit difference (class 1 minus class 0), shape (n_samples,), as scikit-learn
        expects."""
        z = self._forward(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        z = self._forward(X)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels."""
        z = self._forward(X)
        return self.classes_[np.argmax(z, axis=1)]
