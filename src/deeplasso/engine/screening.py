"""Screening: which input columns a lambda step can leave out of its matmuls."""

from __future__ import annotations

import torch

__all__ = ["Screening"]


class Screening:
    """Chooses the active set before each lambda step (steps with
    ``supports_active_set`` only, on an Adam path, without groups).

    A feature leaves the first layer's matmuls when its column (theta_j and W0_j)
    was exactly zero at the end of the last two lambda steps and the full-batch
    gradient at zero cannot push it back in: with Adam the step of an entry is
    about ``lr * g / sqrt(v)``, and the prox keeps the column at zero while
    ``||g_theta / s|| + M ||g_W0 / s||_1 <= lambda`` (``s = sqrt(v_hat) + eps``, the
    second moment kept from when it left). Excluded features are checked again
    at every lambda step and come back (with their second moment) once their
    score passes ``SCREEN_MARGIN * lambda``. Below ``ACTIVE_MIN_OUT`` of the
    features out, everything stays in (the gathers would cost more than they
    save).
    """

    #: the share of features that must be out before the step runs on the active columns
    ACTIVE_MIN_OUT = 0.25
    #: a column stays out while its score is below this share of lambda
    SCREEN_MARGIN = 0.5

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        #: the columns found zero at the previous screening
        self.zero_prev: torch.Tensor | None = None

    @torch.no_grad()
    def screen(self, trainer, lam: float) -> None:
        """Set ``trainer``'s active set for the lambda step about to run."""
        opt = trainer.step
        if not (opt.supports_active_set and self.enabled and trainer.penalty.groups is None) or trainer.sgd_path:
            return  # (the screening score is Adam's; an SGD path keeps every column)
        W = trainer.model.input_weight.detach()
        d = W.shape[1]
        zero = (W == 0).all(0)
        excluded = torch.zeros_like(zero)
        if opt.active is not None:
            excluded.fill_(True)[opt.active] = False
        cand = excluded | (zero & self.zero_prev) if self.zero_prev is not None else excluded
        self.zero_prev = zero
        cols = torch.nonzero(cand).squeeze(1)
        out = torch.zeros_like(zero)
        if cols.numel():
            t = float(opt.t)
            bc1 = 1.0 - opt.betas[0] ** t if t > 0 else 1.0
            bc2 = 1.0 - opt.betas[1] ** t if t > 0 else 1.0
            G = opt.input_gradient(trainer.X, trainer.y, cols)
            v = torch.where(excluded[cols], opt.v_frozen[:, cols], opt.v_in[:, cols])
            r = (G / bc1).div_((v / bc2).sqrt_().add_(opt.eps))
            K = trainer.penalty.K
            score = torch.linalg.vector_norm(r[:K], dim=0) + trainer.penalty.M * r[K:].abs().sum(0)
            out[cols] = score <= self.SCREEN_MARGIN * lam
        n_out = int(out.sum())
        if n_out < self.ACTIVE_MIN_OUT * d:
            if opt.active is not None:
                trainer.set_active(None)
            return
        active = torch.nonzero(~out).squeeze(1)
        if opt.active is not None and torch.equal(active, opt.active):
            return
        trainer.set_active(active)
