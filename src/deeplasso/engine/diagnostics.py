"""Is a finished path's ranking worth anything? Checks of the path, run at its end.

A path can run without error and still rank nothing: with a learning rate far too
large (Adam at ``lr=10``), or a ``lambda_start`` far above the path's range
(``1e12``), the first lambda step removes every feature at once (``[64, 0]``), and
the ranking is only the tie-break; a dense model that learned nothing ranks noise.
:func:`check_path` names both, with the fix; :func:`fit_path` warns with
:class:`DegeneratePathWarning` and records the messages in ``path.meta["warnings"]``
(``deeplasso fit`` prints them and exits with status 3).
"""

from __future__ import annotations

import math
import warnings

import torch

from . import objective
from .config import PARAMETERS

__all__ = ["DegeneratePathWarning", "check_path", "warn_if_degenerate", "constant_val_loss", "MOST"]

#: The first lambda step removing more than this share of the dense model's features is
#: "most features lost in one step".
MOST = 0.5
#: The default learning rate (PathConfig's, the estimators'): a tenfold larger one is named as
#: the likely cause of a degenerate path.
DEFAULT_LR = PARAMETERS["lr"][0]


class DegeneratePathWarning(UserWarning):
    """The path ran but its ranking means little: most features left in the first lambda
    step, or the dense model is no better than a constant prediction. The message gives
    the fix (a smaller ``lr``, ``lambda_start="auto"`` or a smaller one)."""


@torch.no_grad()
def constant_val_loss(trainer) -> float | None:
    """The validation loss (the path's own loss, class weights included) of the best
    constant prediction on the training data: the class frequencies, weighted as the
    loss weights them, for classification; the mean target for regression. None for
    another task."""
    cfg = trainer.cfg
    y, yv = trainer.y.detach().cpu(), trainer.yv.detach().cpu()
    if cfg.task == "classification":
        k = int(trainer.model.n_outputs)
        w = torch.ones(k, dtype=torch.float64) if trainer.cw is None else trainer.cw.detach().cpu().double()
        p = torch.bincount(y.long(), minlength=k)[:k].double() * w
        logits = torch.log((p / p.sum()).clamp_min(1e-12))
        out = logits.expand(len(yv), k)
        return float(objective.loss("classification", out, yv.long(), None if trainer.cw is None else w))
    if cfg.task == "regression":
        yd = y.double()
        out = yd.mean(0).expand(yv.shape)
        return float(objective.loss("regression", out, yv.double()))
    return None


def check_path(path, trainer) -> list[str]:
    """Why ``path`` (just computed by ``trainer``) is degenerate, each with the fix; empty
    when it is not."""
    cfg = trainer.cfg
    big_lr = cfg.lr > 10 * DEFAULT_LR
    found = []
    if len(path) and path[0].lambda_ == 0:
        dense = path[0]
        const = constant_val_loss(trainer)
        if const is not None and math.isfinite(dense.val_loss) and dense.val_loss >= const:
            if big_lr:
                fix = (f"lr={cfg.lr:g} is far above the default {DEFAULT_LR:g}, and the steps overshoot: use a "
                       "smaller lr")
            else:
                fix = (f"the dense model trained {dense.epochs} epochs (max_epochs={cfg.max_epochs}): train it "
                       "longer, or use a smaller lr if its loss diverged; else the features carry no signal "
                       "about y")
            found.append(
                f"the dense model (lambda=0) is no better on the validation data than a constant prediction "
                f"(validation loss {dense.val_loss:.4g}, a constant's {const:.4g}): the network did not learn, "
                f"so its ranking of the features means nothing. Likely cause and fix: {fix}.")
    if len(path) >= 2 and path[0].lambda_ == 0:
        n0, n1 = path[0].n_selected, path[1].n_selected
        if n0 >= 2 and n0 - n1 > MOST * n0:
            lam = path[1].lambda_
            causes = []
            if cfg.lambda_start != "auto":
                causes.append(f"lambda_start={cfg.lambda_start!r} is too large: use lambda_start='auto' (just "
                              "below where features begin to leave; docs/lambda.md) or a smaller one")
            if big_lr or cfg.lambda_start == "auto":
                causes.append(f"lr={cfg.lr:g} is too large for this model (the prox threshold is lr * lambda, "
                              f"and each step moves a weight by about lr): use a smaller lr (the default is "
                              f"{DEFAULT_LR:g})")
            found.append(
                f"the first lambda step (lambda={lam:.4g}) removed {n0 - n1} of {n0} features at once, so "
                "the path says nothing about their order: the ranking among them comes from the dense model's "
                "weights alone, not from the lambda steps. Likely cause and fix: " + "; or ".join(causes) + ".")
    return found


def warn_if_degenerate(path, trainer) -> list[str]:
    """:func:`check_path`, each finding warned as a :class:`DegeneratePathWarning` and
    kept in ``path.meta["warnings"]``."""
    found = check_path(path, trainer)
    if found:
        path.meta["warnings"] = list(found)
    else:
        path.meta.pop("warnings", None)
    for msg in found:
        warnings.warn(msg, DegeneratePathWarning, stacklevel=4)
    return found
