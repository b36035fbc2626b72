"""The settings of one path: :class:`PathConfig`, the one table of path parameters.

Every field is declared once, with its default and a one-line meaning
(:func:`_param`); :data:`PARAMETERS` (name -> (default, meaning)) and the
Attributes section of :class:`PathConfig`'s docstring are read from those
declarations. The other tables of the same parameters (the estimators, the
``deeplasso fit`` settings, its flags and TOML keys) use these names and
defaults, or ``tests/test_config_table.py`` lists the deliberate difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Callable, Sequence

import torch

__all__ = ["PathConfig", "PARAMETERS", "check_M"]


def _param(default, doc: str):
    """A field with its default and its one-line meaning (``metadata["doc"]``)."""
    return field(default=default, metadata={"doc": doc})


@dataclass
class PathConfig:
    """Settings of one path (:func:`deeplasso.engine.fit_path`).

    The estimators' parameters of the same name mean the same; the estimators
    derive ``n_features_stop`` from ``n_features_to_select``, ``store_weights``
    from ``store_path_weights`` and ``seed`` from ``random_state``.
    """

    task: str = _param("classification", '"classification" (cross-entropy loss, accuracy) or "regression" '
                                         "(mean squared error, R^2)")
    lambda_start: float | str = _param("auto", 'first lambda after the dense model; "auto": just below where '
                                               "features begin to leave (docs/lambda.md)")
    path_multiplier: float | str = _param(1.02, "ratio between consecutive lambdas (the paper's 1 + eps; it uses "
                                                "1.3); \"auto\": adaptive, each step aiming to remove about a tenth "
                                                "of the features still above n_features_stop, between x1.001 and x1.3 "
                                                "(engine/path.py, docs/selection.md)")
    lambda_max: float = _param(math.inf, "the path stops past this lambda (inf: no limit)")
    M: float = _param(10.0, "hierarchy coefficient: ||W0_j||_inf <= M ||theta_j||_2 for every input feature j")
    lr: float = _param(1e-3, "learning rate; the prox threshold is lr * lambda")
    optimizer: str | Callable = _param("adam", '"adam", "adamw", "sgd", "rmsprop" or callable(params, lr) -> '
                                               "torch.optim.Optimizer")
    path_optimizer: str = _param("same", '"same": the path goes on with optimizer; "sgd": SGD with momentum 0.9 '
                                         "at lr for every lambda > 0")
    batch_size: int | None = _param(64, "mini-batch size; None for full batch")
    max_epochs: int = _param(100, "epochs per lambda at most")
    patience: int = _param(5, "early stopping: epochs in a row without a relative improvement of tol of the "
                              "validation objective")
    tol: float = _param(0.0, "relative improvement of the validation objective that counts for early stopping "
                             "(at the dense model any improvement counts)")
    dense_max_epochs: int | None = _param(None, "epochs of the dense model (lambda 0) at most; None: max_epochs")
    dense_patience: int | None = _param(None, "early-stopping patience of the dense model (lambda 0); None: "
                                              "patience")
    dense_lr: float | str | None = _param(None, "learning rate of the dense model (lambda 0) and of refit; the "
                                                "path then goes on at lr with that run's optimiser state; \"auto\": "
                                                "trained at lr/10 and at lr from the same start, the lower "
                                                "validation loss kept; None: lr")
    steps_per_epoch: int | str | None = _param(None, "optimiser steps that count as one epoch (the unit of "
                                                     "max_epochs and patience, and how often the validation "
                                                     "objective is checked): whole passes over the data are "
                                                     "repeated until at least this many steps ran; \"auto\": the "
                                                     "steps of one pass at batch 64, so that full batch trains as "
                                                     "much as batch 64; None: one pass")
    n_features_stop: int = _param(0, "the path stops once at most this many features remain; 0 runs to the "
                                     "empty model")
    groups: Sequence[Sequence[int]] | None = _param(None, "features that enter and leave together (lists of "
                                                          "column indices); None: every feature alone")
    class_weight: torch.Tensor | None = _param(None, "weight of each class in the loss (one per class); None: "
                                                     "equal weights")
    store_weights: bool = _param(False, "keep every point's weights in the path (PathPoint.state)")
    fast: bool = _param(True, "use the fastest step for the model and optimizer (select_step); False: "
                              "always autograd and torch.optim")
    active_set: bool = _param(True, "leave features that cannot come back out of the first layer's matmuls "
                                    "(Adam paths without groups; see engine/screening.py)")
    num_threads: int | None = _param(None, "torch CPU threads during the path; None: one for small steps, "
                                           "else torch's setting")
    seed: int = _param(0, "seed of the mini-batch order (the caller seeds the initial weights)")
    verbose: int = _param(0, "0 is silent; 1 shows a progress bar per path; 2 also leaves it on screen")


#: name -> (default, one-line meaning) of every :class:`PathConfig` field, in field order.
PARAMETERS: dict[str, tuple[object, str]] = {f.name: (f.default, f.metadata["doc"]) for f in fields(PathConfig)}


def check_M(M) -> None:
    """The one rule for ``M``, the estimators' and ``deeplasso fit``'s (``--M``): a number
    > 0. ``M = 0`` would hold every first-layer weight at zero (``||W0_j||_inf <= 0``): the
    network is then linear (only the skip layer learns) while its hidden layers are still
    trained, which nobody wants by accident; a linear model is ``hidden_dims=()``."""
    if isinstance(M, bool) or not isinstance(M, (int, float)) or math.isnan(M):
        raise ValueError(f"M={M!r} is invalid: expected a positive number (> 0; default 10).")
    if M == 0:
        raise ValueError("M=0 is invalid: M must be > 0. The hierarchy ||W0_j||_inf <= M ||theta_j|| with M=0 holds "
                         "every first-layer weight at zero, so the network would be linear (only the skip layer "
                         "learns) while its hidden layers are trained for nothing. For a linear model (the group "
                         "lasso) use hidden_dims=() (deeplasso fit --hidden-dims ''); otherwise M > 0 (default 10).")
    if M < 0:
        raise ValueError(f"M={M!r} is invalid: expected a positive number (> 0; default 10).")


def _attributes_section() -> str:
    lines = ["", "", "    Attributes", "    ----------"]
    for f in fields(PathConfig):
        lines += [f"    {f.name} : {f.type}, default={f.default!r}", f"        {f.metadata['doc'][:1].upper()}{f.metadata['doc'][1:]}."]
    return "\n".join(lines) + "\n"


if PathConfig.__doc__ is not None:  # None under python -OO
    PathConfig.__doc__ = PathConfig.__doc__.rstrip() + _attributes_section()
