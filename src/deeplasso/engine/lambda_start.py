"""Where the path starts: the ``"auto"`` lambda_start estimators.

See ``docs/lambda.md`` for the lambda scale and how it relates to the paper's
``lambda_start = 5e2``.
"""

from __future__ import annotations

import contextlib
import copy
import math

import torch

from .modules import LassoNet
from .trainer import Trainer

__all__ = ["lambda_scale", "prox_size", "informative", "trial", "estimate_lambda_start",
           "estimate_sgd_lambda_start", "auto_lambda_start"]


def lambda_scale(model: LassoNet, M: float) -> float:
    """Scale of lambda at which Adam + hier-prox empties the model.

    Adam moves every weight by at most about ``lr`` per step, and the prox removes
    a feature whose ``||theta_j|| + M ||W0_j||_1`` falls below ``lr * lambda``; so no
    feature can be held in the model once ``lambda`` exceeds about
    ``sqrt(n_outputs) + M * hidden_dims[0]``. The path's interesting range lies below.
    """
    return math.sqrt(model.n_outputs) + M * model.n_hidden0


def prox_size(model: LassoNet, M: float) -> torch.Tensor:
    W = model.input_weight.detach()
    K = model.n_outputs
    return torch.linalg.vector_norm(W[:K], dim=0) + M * W[K:].abs().sum(0)


#: The ``"auto"`` lambda_start is never below this fraction of :func:`lambda_scale`.
_AUTO_FLOOR = 0.1


def informative(X: torch.Tensor, d: int) -> torch.Tensor:
    """The features that vary in X (all of them if none does, or X has one row)."""
    live = (X.std(0) > 0) if X.shape[0] > 1 else torch.ones(d, dtype=torch.bool, device=X.device)
    return live if bool(live.any()) else torch.ones_like(live)


@contextlib.contextmanager
def trial(trainer: Trainer):
    """Train freely inside; the weights and optimiser state are put back after."""
    snap = trainer.snapshot()
    opt_state = copy.deepcopy(trainer.step.state_dict())
    try:
        yield
    finally:
        trainer.restore(snap)
        trainer.step.load_state_dict(opt_state)


def estimate_lambda_start(trainer: Trainer, quantile: float = 0.05, shrink: float = 0.95) -> float:
    """The ``"auto"`` lambda_start: a fast, coarse pre-path from the dense model.

    From the dense weights it trains one epoch per lambda, doubling lambda from
    ``1e-4 * lambda_scale``, and watches each informative (non-constant) feature's
    prox size ``||theta_j|| + M ||W0_j||_1``. Once the ``quantile`` of the per-epoch
    size ratios falls ``shrink`` below its value in a control epoch without penalty
    (or a feature has left) at two doublings in a row, the penalty has begun to win against the loss for the
    weakest features; the real path starts at the last lambda before that, so that the first features leave within its
    first steps. The dense weights and optimiser state are restored afterwards. It
    costs one epoch per doubling (10-17 epochs).
    """
    model = trainer.model
    M = trainer.cfg.M
    live = informative(trainer.X, model.n_features)

    def q_ratio(new: torch.Tensor, old: torch.Tensor) -> float:
        ratio = torch.where(old > 0, new / torch.where(old > 0, old, torch.ones_like(old)), torch.ones_like(old))
        return float(torch.quantile(ratio.double(), quantile))

    scale = lambda_scale(model, M)
    with trial(trainer):
        # control: how much do the weakest sizes move in one epoch without any penalty?
        prev = prox_size(model, M)[live]
        trainer.run_epoch(0.0)
        size = prox_size(model, M)[live]
        control = min(1.0, q_ratio(size, prev))
        prev = size
        lam = 1e-4 * scale
        last_quiet = lam
        hits = 0
        while lam < 10 * scale:
            trainer.run_epoch(lam)
            size = prox_size(model, M)[live]
            shrinking = bool((size == 0).any()) or q_ratio(size, prev) < shrink * control
            prev = size
            # two doublings in a row: one epoch of ordinary training noise can look like a shrink
            hits = hits + 1 if shrinking else 0
            if hits == 2:
                break
            if not shrinking:
                last_quiet = lam
            lam *= 2.0
    # On data with many steps per epoch the weakest features shrink long before any
    # leaves (measured: first features leave at 0.15-0.19 of lambda_scale on digits,
    # MNIST and CIFAR-10 alike, while the ramp alone said 0.003-0.006 on the latter
    # two): never start below a tenth of the scale.
    return float(max(last_quiet, _AUTO_FLOOR * scale))


def estimate_sgd_lambda_start(trainer: Trainer) -> float:
    """The ``"auto"`` lambda_start of an SGD path: trial lambda steps, doubling.

    With SGD a weak feature's weights move slowly, and what removes one is the shrink
    summed over a whole lambda step of many epochs, which no one-epoch ramp sees (on
    digits no feature reaches zero within one epoch up to lambda 265, where the path
    removes them from 2.5 on). So from ``1e-4 * lambda_scale`` each doubling trains one
    real lambda step (warm-started, early stopping, as on the path) until an informative
    feature has left; the path starts at the lambda before. Its own first step, from the
    dense weights, has less shrink behind it than that trial step had, so no feature
    leaves there at once. The dense weights and optimiser state are restored afterwards.
    """
    model, M = trainer.model, trainer.cfg.M
    live = informative(trainer.X, model.n_features)
    scale = lambda_scale(model, M)
    lam = last_quiet = 1e-4 * scale
    with trial(trainer):
        while lam < 10 * scale:
            trainer.train_lambda(lam, trainer.cfg.max_epochs)
            if bool((prox_size(model, M)[live] == 0).any()):
                break
            last_quiet = lam
            lam *= 2.0
    return float(last_quiet)


def auto_lambda_start(trainer: Trainer) -> float:
    """The ``"auto"`` start for ``trainer``'s path (SGD's trial steps or Adam's ramp)."""
    return estimate_sgd_lambda_start(trainer) if trainer.sgd_path else estimate_lambda_start(trainer)
