"""The penalty on a LassoNet's input layer: its value and its proximal step.

``lambda * sum_g ||theta_g||_2`` over features (or groups of features), with the
hierarchy ``||W0_j||_inf <= M ||theta_j||``; after every optimiser step the
hier-prox with threshold ``lr * lambda`` solves the proximal problem exactly.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from .modules import LassoNet
from .native import native_prox_bound
from .prox import FeatureGroups, hier_prox_fused_, hier_prox_grouped, make_groups

__all__ = ["InputPenalty"]


class InputPenalty:
    """The penalty of ``model``'s input layer (nothing for a model that is not a
    :class:`LassoNet`, e.g. a plain network being retrained).

    Parameters
    ----------
    model : torch.nn.Module
    M : float
        Hierarchy coefficient.
    groups : sequence of sequences of int, optional
        Features that share one norm (enter and leave together).
    device : torch.device
    """

    def __init__(self, model: torch.nn.Module, M: float, groups: Sequence[Sequence[int]] | None = None,
                 device: torch.device | None = None):
        self.model = model
        self.is_lassonet = isinstance(model, LassoNet)
        self.K = getattr(model, "n_outputs", 0)
        self.M = M
        self.groups: FeatureGroups | None = None
        if groups is not None and self.is_lassonet:
            self.groups = make_groups(groups, model.n_features).to(device)
        #: features held at exactly zero by :meth:`prox` whatever their gradient (a refit
        #: on a support through a step without an active set)
        self.held_out: torch.Tensor | None = None

    def norms(self) -> torch.Tensor:
        """``||theta_g||_2`` of every feature (or group)."""
        theta = self.model.theta.detach()
        col2 = (theta * theta).sum(0)
        if self.groups is None:
            return col2.sqrt()
        g = self.groups.group_of
        return torch.zeros(self.groups.n_groups, dtype=col2.dtype, device=col2.device).index_add_(0, g, col2).sqrt()

    def value(self, lam: float) -> float:
        """``lam * sum_g ||theta_g||`` (0 at lambda 0 and for a model without a skip layer)."""
        return lam * float(self.norms().sum()) if lam > 0 and self.is_lassonet else 0.0

    @torch.no_grad()
    def prox(self, threshold: float) -> None:
        """The hier-prox with this threshold (``lr * lambda``), in place."""
        if not self.is_lassonet:
            return
        w = self.model.input_weight
        K = self.K
        if self.groups is None:
            hier_prox_fused_(w, K, threshold, self.M)
        else:
            b, u = hier_prox_grouped(w[:K], w[K:], threshold, self.M, self.groups)
            w[:K] = b
            w[K:] = u
        if self.held_out is not None:
            w[:, self.held_out] = 0

    def bound(self, threshold: float) -> Callable[[], None]:
        """``self.prox(threshold)`` as a no-argument callable, bound once per epoch: the
        C kernel with its arguments ready where it applies (saves the per-step checks)."""
        if self.is_lassonet and self.groups is None:
            kernel = native_prox_bound(self.model.input_weight.data, self.K, threshold, self.M)
            if kernel is not None:
                return kernel
        return lambda: self.prox(threshold)
