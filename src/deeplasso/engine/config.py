"""The settings of one path: :class:`PathConfig`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

__all__ = ["PathConfig"]


@dataclass
class PathConfig:
    """Settings of one path. Every field has the meaning of the estimator parameter
    of the same name."""

    task: str = "classification"  # or "regression"
    lambda_start: float | str = "auto"
    path_multiplier: float = 1.02
    lambda_max: float = math.inf
    M: float = 10.0
    lr: float = 1e-3
    optimizer: str | Callable = "adam"
    path_optimizer: str = "same"  # or "sgd": SGD with momentum 0.9 for every lambda > 0
    batch_size: int | None = 64
    max_epochs: int = 100
    patience: int = 5
    tol: float = 0.0
    dense_max_epochs: int | None = None
    n_features_stop: int = 0
    groups: Sequence[Sequence[int]] | None = None
    class_weight: torch.Tensor | None = None
    store_weights: bool = False
    fast: bool = True
    active_set: bool = True
    num_threads: int | None = None
    seed: int = 0
    verbose: int = 0
