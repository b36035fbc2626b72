"""The training objective's data term and the score reported beside it."""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["loss", "score"]


def loss(task: str, out: torch.Tensor, y: torch.Tensor, class_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean loss over the samples: cross-entropy (nats) for classification, squared
    error averaged over samples and outputs for regression."""
    if task == "classification":
        return F.cross_entropy(out, y, weight=class_weight)
    return F.mse_loss(out, y)


def score(task: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Accuracy for classification; R^2 averaged over the outputs for regression (1
    for a constant target fitted exactly, 0 for a constant target missed)."""
    if task == "classification":
        return (out.argmax(1) == y).to(out.dtype).mean()
    ss_res = ((y - out) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    r2 = torch.where(ss_tot > 0, 1 - ss_res / torch.where(ss_tot > 0, ss_tot, torch.ones_like(ss_tot)),
                     torch.where(ss_res > 0, torch.zeros_like(ss_res), torch.ones_like(ss_res)))
    return r2.mean()
