"""The flat step with the whole epoch in one C call (CPU)."""

from __future__ import annotations

import ctypes

import torch

from ..native import EpochArgs, native_epoch_function
from .flat import FlatStep

__all__ = ["NativeEpochStep"]


class NativeEpochStep(FlatStep):
    """:class:`FlatStep` whose epoch is one C call: per mini-batch the gather of the
    rows, forward and backward through the BLAS gemm PyTorch links, Adam (or SGD)
    and the hier-prox, with no Python between steps. Features in groups run here when
    the groups are the channels of each pixel (:meth:`FeatureGroups.stride`). Where the kernel does not apply
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
        if self.penalty.held_out is not None:  # columns held at zero (a grouped refit): the Python prox does it
            return False
        if self._epoch is None:
            self._epoch = self._bind_epoch() or False
        if not self._epoch:
            return False
        fn, args = self._epoch
        X = X if X.is_contiguous() else X.contiguous()
        perm = perm.to(torch.int64).contiguous()
        y = y.to(torch.int64 if self.task == "classification" else self.flat.dtype).contiguous()  # kept alive
        act = self.active
        da = X.shape[1]
        expect = self.W_in.shape[1] if act is None else int(act.numel())
        if da != expect:
            raise ValueError(f"native_epoch: X has {da} columns, the active set {expect}")
        n = X.shape[0]
        # what changes from call to call (the data, the active set, the update rule after
        # use_sgd, the step count, lambda); _bind_epoch set the rest
        args.X, args.ldx, args.perm, args.n, args.bs = X.data_ptr(), X.stride(0), perm.data_ptr(), n, int(batch_size)
        args.ylab, args.yreg = (y.data_ptr(), None) if self.task == "classification" else (None, y.data_ptr())
        args.da, args.act = da, None if act is None else act.data_ptr()
        args.b1 = self.betas[0] if self.sgd_momentum is None else self.sgd_momentum
        args.sgd, args.t0 = int(self.sgd_momentum is not None), self.t
        args.lam, args.M = float(prox_lam), float(M)
        rc = fn(ctypes.byref(args))
        if rc == 2:
            raise ValueError("native epoch: grouped features with an active set, or a group size that does not "
                             "divide the features")
        if rc:
            raise MemoryError("native epoch: out of memory")
        self.t += (n + batch_size - 1) // batch_size
        self.step_t.fill_(float(self.t))
        return True

    def _bind_epoch(self):
        """The C kernel and its :class:`EpochArgs`, filled with what stays for this
        step's life (shapes, the addresses of the model's buffers, the class weights,
        the learning rate, Adam's beta2 and eps); or None."""
        found = native_epoch_function(self.flat.dtype)
        if found is None:
            return None
        fn, gemm = found
        hid = self.hidden
        widths = torch.tensor([self.W_in.shape[0] - self.K] + [W.shape[0] for W, _, _, _ in hid], dtype=torch.int64)
        # per hidden layer: its weight, bias and their gradients, as four C arrays of addresses
        tables = [(ctypes.c_void_p * max(len(hid), 1))(*[h[i].data_ptr() for h in hid]) for i in range(4)]
        self._keep = {"widths": widths, "tables": tables}  # what the struct points into
        Wh, bh, gWh, gbh = (ctypes.addressof(t) for t in tables)
        args = EpochArgs(
            gemm=gemm, K=self.K, R=self.W_in.shape[0], d=self.W_in.shape[1],
            W_in=self.W_in.data_ptr(), b_in=self.b_in.data_ptr(), gW_in=self.gW_in.data_ptr(),
            gb_in=self.gb_in.data_ptr(), nh=len(hid), widths=widths.data_ptr(), Wh=Wh, bh=bh, gWh=gWh, gbh=gbh,
            W_out=None if self.W_out is None else self.W_out.data_ptr(),
            gW_out=None if self.gW_out is None else self.gW_out.data_ptr(),
            flat=self.flat.data_ptr(), grad=self.grad.data_ptr(), mom=self.exp_avg.data_ptr(),
            vel=self.exp_avg_sq.data_ptr(), np=self.flat.numel(), lr=self.lr, b2=self.betas[1], eps=self.eps,
            cw=None if self.cw is None else self.cw.data_ptr(),
            gs=1 if self.penalty.groups is None else self.penalty.groups.stride())
        return fn, args
