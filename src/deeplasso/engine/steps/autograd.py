"""The generic step: autograd and a ``torch.optim`` optimiser, for any body."""

from __future__ import annotations

from typing import Callable

import torch

from .. import objective
from ..penalty import InputPenalty
from .base import Step, batches

__all__ = ["AutogradStep", "make_optimizer"]

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
               "rmsprop": torch.optim.RMSprop}


def make_optimizer(spec: str | Callable, params, lr: float) -> torch.optim.Optimizer:
    """A ``torch.optim`` optimiser by name, or ``spec(params, lr)`` for a callable."""
    params = list(params)
    if callable(spec) and not isinstance(spec, str):
        return spec(params, lr)
    name = str(spec).lower()
    if name not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}; use one of {sorted(_OPTIMIZERS)} or a callable "
                         "(params, lr) -> Optimizer.")
    if name in ("adam", "adamw"):
        # the fused kernel is several times cheaper per step than the for-each one
        try:
            return _OPTIMIZERS[name](params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            pass
    return _OPTIMIZERS[name](params, lr=lr)


class AutogradStep(Step):
    """Forward, ``backward()``, ``optimizer.step()``, prox: any module, any optimiser
    (``optimizer`` is a name or a callable ``(params, lr) -> Optimizer``)."""

    def __init__(self, model: torch.nn.Module, task: str, lr: float, penalty: InputPenalty,
                 class_weight: torch.Tensor | None = None, optimizer: str | Callable = "adam"):
        self.opt = make_optimizer(optimizer, model.parameters(), lr)
        # the optimiser's own lr (a callable may set another): the prox threshold uses it
        super().__init__(model, task, float(self.opt.param_groups[0].get("lr", lr)), penalty, class_weight)

    def epoch(self, X, y, perm, batch_size, lam):
        total = torch.zeros((), dtype=X.dtype, device=X.device)
        model, opt, prox, t = self.model, self.opt, self.penalty.prox, lam * self.lr
        for xb, yb in batches(X, y, perm, batch_size):
            loss = objective.loss(self.task, model(xb), yb, self.cw)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            prox(t)
            total += loss.detach() * xb.shape[0]
        return total / X.shape[0]

    def use_sgd(self, momentum: float) -> None:
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=momentum)

    def state_dict(self) -> dict:
        return self.opt.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.opt.load_state_dict(state)
        for group in self.opt.param_groups:  # the moments, not the saved step size: this step's lr
            group["lr"] = self.lr
