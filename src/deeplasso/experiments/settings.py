"""The settings of the main job, ``deeplasso fit`` (:class:`FitSettings`).

Their own module so that reading them from files and flags
(:mod:`deeplasso.experiments.config`) needs neither torch nor the job itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FitSettings"]


@dataclass
class FitSettings:
    """Every setting of the main job (written to ``config.json``).

    ``dataset`` names a built-in image set; ``data`` a user file (then
    ``dataset`` is ignored; :mod:`deeplasso.experiments.config` sets it to
    ``None``).  ``labels``, ``target``, ``task`` and ``image_shape`` apply to
    ``data`` only (see :func:`deeplasso.data.load_arrays`); ``test_fraction``
    is used when the file gives no test part.
    """

    dataset: str | None = "digits"
    data: str | None = None
    labels: str | None = None
    target: str | int | None = None
    task: str | None = None
    image_shape: tuple[int, ...] | None = None
    data_dir: str | None = None
    normalize: str | None = "train"
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    hidden_dims: tuple[int, ...] = (32,)
    batch_size: int | None = 64
    M: float = 10.0
    lambda_start: float | str = "auto"
    path_multiplier: float = 1.1
    max_epochs: int = 100
    patience: int = 5
    lr: float = 1e-3
    dense_lr: float | str | None = "auto"  # the dense model's lr: "auto" (lr or lr/10, on validation), None: lr
    importance: str | None = None  # the ranking: "norm" (sum of ||theta_j||), "lambda" (leaving); None: the estimator's
    fractions: tuple[float, ...] = (0.5, 0.25, 0.125, 0.0625)
    retrain_hidden_dims: tuple[int, ...] | None = None
    seed: int = 0
    max_train: int | None = None
    verbose: int = 1
    extra: dict = field(default_factory=dict)
    split: str = "official"  # or "paper": all images pooled, stratified 80:10:10
    split_seed: int | None = None  # None: ``seed``
    classes: tuple | None = None  # keep only these classes (e.g. (1, 4)), relabelled 0..k-1
    per_class: tuple | None = None  # (n_train, n_val, n_test) images kept per class; None entries keep all
    retrain_max_epochs: int = 100  # the plain networks retrained on selected features
    retrain_patience: int = 5
    body: str = "mlp"  # or "cnn": a per-pixel input layer and a conv stack (image data)
    conv_channels: tuple[int, ...] = (16, 32)
    cv: int | None = None  # K: also cross-validate lambda over K folds of the training split (cv.json)
    choose: str = "1se"  # the CV model's lambda: "1se" (lambda_1se) or "min" (lambda_min)
    cv_scoring: str | None = None  # the CV's held-out metric (a scikit-learn scorer name); None: accuracy or R^2
    stability: int | None = None  # N: also run stability selection over N half-sample paths (stability.json)
    threshold: float = 0.6  # stability selection's probability threshold
