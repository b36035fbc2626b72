"""The flat step with the whole epoch in one C call (CPU)."""

from __future__ import annotations

import ctypes

import torch

from ..native import native_epoch_function
from .flat import FlatStep

__all__ = ["NativeEpochStep"]


class NativeEpochStep(FlatStep):
    """:class:`FlatStep` whose epoch is one C call: per mini-batch the gather of the
    rows, forward and backward through the BLAS gemm PyTorch links, Adam (or SGD)
    and the hier-prox, with no Python between steps. Where the kernel does not apply
    (no compiler, another dtype) an epoch runs :class:`FlatStep`'s loop, which
    computes the same update."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._epoch = None  # the bound C epoch kernel, once looked up (False: none)

    def epoch(self, X, y, perm, batch_size, lam):
        if self.native_epoch(X, y, perm, batch_size, lam * self.lr, self.penalty.M):
            return self.flat.sum()
        return super().epoch(X, y, perm, batch_size, lam)

    def native_epoch(self, X: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, batch_size: int,
                     prox_lam: float, M: float) -> bool:
        """One shuffled pass in one C call: for each mini-batch ``perm[i:i + batch_size]``
        of the rows of ``X`` (all columns, or the active ones after :meth:`set_active`),
        the same gradient as :meth:`step`, Adam (or SGD, :meth:`use_sgd`), then the hier-prox with threshold
        ``prox_lam`` (lambda times the learning rate) on the input weight. Returns False
        and does nothing where the kernel does not apply (not CPU, no C compiler, no
        BLAS gemm to call); the caller then runs the Python loop."""
        dev = self.flat.device
        if dev.type != "cpu" or X.device != dev or X.dtype != self.flat.dtype or self._adam is None:
            return False
        if self._epoch is None:
            self._epoch = self._bind_epoch() or False
        if not self._epoch:
            return False
        fn, gemm, static = self._epoch
        X = X if X.is_contiguous() else X.contiguous()
        perm = perm.to(torch.int64).contiguous()
        y = y.to(torch.int64 if self.task == "classification" else self.flat.dtype).contiguous()  # kept alive
        ylab, yreg = (y.data_ptr(), None) if self.task == "classification" else (None, y.data_ptr())
        act = self.active
        da = X.shape[1]
        expect = self.W_in.shape[1] if act is None else int(act.numel())
        if da != expect:
            raise ValueError(f"native_epoch: X has {da} columns, the active set {expect}")
        n = X.shape[0]
        (K, R, d, W_in, b_in, gW_in, gb_in, nh, widths, Wh, bh, gWh, gbh, W_out, gW_out,
         flat, grad, m, v, npar) = static
        rc = fn(gemm, X.data_ptr(), X.stride(0), perm.data_ptr(), n, int(batch_size), ylab, yreg,
                None if self.cw is None else self.cw.data_ptr(), K, R, d, da,
                None if act is None else act.data_ptr(), W_in, b_in, gW_in, gb_in, nh, widths, Wh, bh, gWh,
                gbh, W_out, gW_out, flat, grad, m, v, npar, self.lr,
                self.betas[0] if self.sgd_momentum is None else self.sgd_momentum, self.betas[1], self.eps,
                int(self.sgd_momentum is not None), self.t, float(prox_lam), float(M))
        if rc:
            raise MemoryError("native epoch: out of memory")
        self.t += (n + batch_size - 1) // batch_size
        self.step_t.fill_(float(self.t))
        return True

    def _bind_epoch(self):
        found = native_epoch_function(self.flat.dtype)
        if found is None:
            return None
        fn, gemm = found
        P = ctypes.c_void_p
        ptrs = lambda ts: (P * max(len(ts), 1))(*[t.data_ptr() for t in ts])  # noqa: E731
        widths = [self.W_in.shape[0] - self.K] + [W.shape[0] for W, _, _, _ in self.hidden]
        self._keep = {"widths": torch.tensor(widths, dtype=torch.int64)}
        hid = self.hidden
        static = (self.K, self.W_in.shape[0], self.W_in.shape[1], self.W_in.data_ptr(), self.b_in.data_ptr(),
                  self.gW_in.data_ptr(), self.gb_in.data_ptr(), len(hid), self._keep["widths"].data_ptr(),
                  ptrs([h[0] for h in hid]), ptrs([h[1] for h in hid]), ptrs([h[2] for h in hid]),
                  ptrs([h[3] for h in hid]),
                  None if self.W_out is None else self.W_out.data_ptr(),
                  None if self.gW_out is None else self.gW_out.data_ptr(),
                  self.flat.data_ptr(), self.grad.data_ptr(), self.exp_avg.data_ptr(), self.exp_avg_sq.data_ptr(),
                  self.flat.numel())
        return fn, gemm, static
