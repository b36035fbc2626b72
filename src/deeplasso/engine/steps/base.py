"""The interface every training step implements: :class:`Step`."""

from __future__ import annotations

from typing import Iterator

import torch

from ..penalty import InputPenalty

__all__ = ["Step", "batches", "SHUFFLE_COPY_BYTES"]

#: up to this size the epoch's rows are gathered once in shuffled order (then every
#: batch is a contiguous view); beyond it each batch is gathered on its own
SHUFFLE_COPY_BYTES = 1 << 30


def batches(X: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, batch_size: int) -> Iterator[tuple]:
    """The mini-batches of one pass over ``X[perm]``, ``y[perm]``."""
    n = X.shape[0]
    if X.numel() * X.element_size() <= SHUFFLE_COPY_BYTES:
        Xp, yp = X.index_select(0, perm), y.index_select(0, perm)
        for start in range(0, n, batch_size):
            yield Xp[start:start + batch_size], yp[start:start + batch_size]
    else:
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            yield X.index_select(0, idx), y.index_select(0, idx)


class Step:
    """One epoch of training: for every mini-batch of a permutation, the optimiser's
    update, then the penalty's prox.

    Every implementation computes the same update (the tests compare them); they
    differ in speed and in what they support. :func:`deeplasso.engine.steps.select_step`
    is the one place that chooses one. A research variant subclasses one of them.

    Parameters
    ----------
    model : torch.nn.Module
    task : {"classification", "regression"}
    lr : float
    penalty : InputPenalty
    class_weight : torch.Tensor, optional
    """

    #: whether :meth:`set_active` is supported (the active-set screening needs it)
    supports_active_set = False

    def __init__(self, model: torch.nn.Module, task: str, lr: float, penalty: InputPenalty,
                 class_weight: torch.Tensor | None = None):
        self.model = model
        self.task = task
        self.lr = float(lr)
        self.penalty = penalty
        self.cw = class_weight
        #: the input columns being trained (sorted indices), None for all
        self.active: torch.Tensor | None = None

    def epoch(self, X: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, batch_size: int,
              lam: float) -> torch.Tensor:
        """One pass over the rows ``perm`` of ``(X, y)`` in mini-batches of ``batch_size``
        at penalty ``lam``. ``X`` holds only the active columns after :meth:`set_active`.
        Returns a scalar tensor that is finite iff training is healthy."""
        raise NotImplementedError

    def use_sgd(self, momentum: float) -> None:
        """From now on update with SGD and this momentum (fresh buffer) at the same lr."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """The optimiser's state (weights are the model's)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict) -> None:
        raise NotImplementedError

    def set_active(self, active: torch.Tensor | None) -> None:
        """Train only the input columns ``active``; the others stay exactly zero."""
        raise NotImplementedError(f"{type(self).__name__} has no active set")
