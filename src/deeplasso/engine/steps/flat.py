"""The flat step: a LassoNet MLP's update without autograd, in one flat buffer.

Small LassoNet steps are dominated by per-operation overhead, not arithmetic:
eager autograd plus ``torch.optim.Adam`` plus the prox issue about a hundred small
kernels per step. Here all parameters live in one flat tensor (the module's
parameters become views of it, so the module still evaluates, saves and loads as
usual), gradients are written by ``out=`` matmuls straight into one flat gradient
buffer, Adam is a single fused kernel over the whole buffer, and the prox runs in
place with a fast path for features whose constraint is inactive. The result is
the same update as autograd + ``Adam`` + hier-prox (``tests/test_fast.py`` checks).

Used for ``optimizer="adam"`` with an MLP body without dropout; its subclasses run
the whole epoch in C (:mod:`.native_epoch`) or as CUDA-graph replays
(:mod:`.cuda_graph`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..modules import LassoNet
from ..native import native_adam_bound
from ..penalty import InputPenalty
from .base import Step, batches

__all__ = ["FlatStep"]


class FlatStep(Step):
    """Adam (or SGD after :meth:`use_sgd`) + hier-prox for a :class:`LassoNet` MLP
    without dropout, with a hand-written backward into one flat gradient buffer.

    Parameters
    ----------
    model : LassoNet
        Its parameters are moved into one flat buffer (they become views of it).
    task : {"classification", "regression"}
    lr : float
    penalty : InputPenalty
    class_weight : torch.Tensor or None
    betas, eps : Adam's constants (PyTorch defaults).
    """

    supports_active_set = True

    @staticmethod
    def supports(model: nn.Module, optimizer) -> bool:
        return (
            isinstance(model, LassoNet)
            and model.is_mlp  # a CNN or user body trains through autograd
            and isinstance(optimizer, str)
            and optimizer.lower() == "adam"
            and not model.dropout
            and model.input_weight.dtype in (torch.float32, torch.float64)
        )

    def __init__(self, model: LassoNet, task: str, lr: float, penalty: InputPenalty,
                 class_weight: torch.Tensor | None = None, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(model, task, lr, penalty, class_weight)
        self.betas = betas
        self.eps = eps
        self.K = model.n_outputs
        params = list(model.parameters())
        ref = params[0]
        n = sum(p.numel() for p in params)
        self.flat = torch.empty(n, dtype=ref.dtype, device=ref.device)
        self.grad = torch.zeros_like(self.flat)
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.step_t = torch.zeros((), dtype=torch.float32, device=ref.device)
        self.t = 0  # steps taken; step_t follows it where the torch kernel needs it
        grads = []
        off = 0
        for p in params:
            k = p.numel()
            self.flat[off:off + k].copy_(p.data.reshape(-1))
            p.data = self.flat[off:off + k].view_as(p)
            grads.append(self.grad[off:off + k].view_as(p))
            off += k
        self.W_in, self.b_in = params[0], params[1]
        self.gW_in, self.gb_in = grads[0], grads[1]
        body = [m for m in (model.body or []) if isinstance(m, nn.Linear)]
        # hidden layers after the first: (W, b, gW, gb); then the bias-free output layer
        self.hidden = []
        i = 2
        for lin in body[:-1]:
            self.hidden.append((params[i], params[i + 1], grads[i], grads[i + 1]))
            i += 2
        self.W_out = params[i] if body else None
        self.gW_out = grads[i] if body else None
        self.cw = None if class_weight is None else class_weight.to(device=ref.device, dtype=ref.dtype).contiguous()
        # transposed views, made once: every step reads the same storage
        self.W_in_t = self.W_in.t()
        self.hidden_t = [W.t() for W, _, _, _ in self.hidden]
        self.W_out_t = self.W_out.t() if self.W_out is not None else None
        self._bufs: dict[int, dict] = {}
        self._arange: dict[int, torch.Tensor] = {}
        n_in = self.W_in.numel()
        self.m_in = self.exp_avg[:n_in].view_as(self.W_in)
        self.v_in = self.exp_avg_sq[:n_in].view_as(self.W_in)
        # active set (see set_active): gathered weight and gradient buffers
        self._act: dict = {}
        self.v_frozen = torch.zeros_like(self.W_in)
        self._adam = native_adam_bound(self.flat, self.grad, self.exp_avg, self.exp_avg_sq, self.lr, betas, eps)
        # SGD with this momentum instead of Adam (see use_sgd); exp_avg is then its buffer
        self.sgd_momentum: float | None = None
        self._neg_one = torch.tensor(-1.0, dtype=ref.dtype, device=ref.device)
        self._thr_bw = torch.ops.aten.threshold_backward.default
        self._thr_bw_out = torch.ops.aten.threshold_backward.grad_input

    def _buffers(self, B: int, like: torch.Tensor) -> dict:
        """Work buffers for batch size ``B`` (at most two sizes per epoch): every
        intermediate of the step is written with ``out=``, nothing is allocated."""
        bufs = self._bufs.get(B)
        if bufs is None:
            K = self.K
            new = lambda *shape: torch.empty(*shape, dtype=like.dtype, device=like.device)  # noqa: E731
            z = new(B, self.W_in.shape[0])
            # dz = d loss / d z, [dout | dh0]: one matmul and one sum give the input
            # layer's whole gradient; dout and dh0 are written into its two blocks
            dz = new(B, self.W_in.shape[0])
            bufs = {"z": z, "z_skip": z[:, :K], "z_h": z[:, K:], "sm": new(B, K), "dz": dz,
                    "dout": dz[:, :K] if self.W_out is not None else dz, "dh0": dz[:, K:],
                    "onehot": new(B, K)}
            if self.task == "classification":
                # row c of neg_eye is -e_c / B: d mean-CE / d out = softmax / B + neg_eye[y]
                bufs["neg_eye"] = torch.eye(K, dtype=like.dtype, device=like.device).mul_(-1.0 / B)
            if self.W_out is not None:
                widths = [self.W_in.shape[0] - K] + [W.shape[0] for W, _, _, _ in self.hidden]
                bufs["h"] = [new(B, w) for w in widths]
                bufs["dh"] = [new(B, w) for w in widths]
                bufs["out"] = new(B, K)
            self._bufs[B] = bufs
        return bufs

    # ---- active set
    @torch.no_grad()
    def set_active(self, active: torch.Tensor | None) -> None:
        """Train only the input-weight columns ``active`` (sorted feature indices;
        ``None``: all). The others must be zero; they stay exactly zero: their gradient
        is zero, their first moment is set to zero (so Adam does not move them) and
        their second moment is kept aside (``v_frozen``), restored when they come
        back. ``step`` then expects batches of the active columns only."""
        d = self.W_in.shape[1]
        old = torch.ones(d, dtype=torch.bool, device=self.flat.device)
        if self.active is not None:
            old.zero_()[self.active] = True
        new = torch.ones_like(old)
        if active is not None:
            new.zero_()[active] = True
        leaving = torch.nonzero(old & ~new).squeeze(1)
        back = torch.nonzero(new & ~old).squeeze(1)
        if leaving.numel():
            self.v_frozen[:, leaving] = self.v_in[:, leaving]
            self.m_in[:, leaving] = 0
            self.gW_in[:, leaving] = 0
        if back.numel():
            self.v_in[:, back] = self.v_frozen[:, back]
        if active is None or int(active.numel()) == d:
            self.active, self._act = None, {}
            return
        rows = self.W_in.shape[0]
        self.active = active
        self._act = {"W": self.W_in.new_empty(rows, active.numel()), "g": self.W_in.new_empty(rows, active.numel())}

    @torch.no_grad()
    def input_gradient(self, X: torch.Tensor, y: torch.Tensor, cols: torch.Tensor,
                       chunk: int = 4096) -> torch.Tensor:
        """Gradient of the mean training loss over (X, y) with respect to the input
        weight's columns ``cols``, at the current weights: (K + H0, len(cols)). Runs the
        step's forward and backward over chunks of X; moves no weight (the gradient
        buffer is scratch between steps)."""
        n = X.shape[0]
        G = self.W_in.new_zeros(self.W_in.shape[0], cols.numel())
        act = self.active
        for start in range(0, n, chunk):
            xb, yb = X[start:start + chunk], y[start:start + chunk]
            xa = xb if act is None else xb.index_select(1, act)
            dz = self._input_dz(xa, yb)
            G.addmm_(dz.t(), xb.index_select(1, cols), alpha=xb.shape[0] / n)
        return G

    def _input_dz(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """d mean-loss / d (first pre-activations z), (B, K + H0): the step's backward
        without the update (it overwrites the gradient buffer, which is scratch)."""
        self._backward(xb, yb)
        return self._bufs[xb.shape[0]]["dz"]

    @torch.no_grad()
    def use_sgd(self, momentum: float) -> None:
        """From now on update with SGD and this momentum (as ``torch.optim.SGD(lr,
        momentum)``, buffer starting at zero) instead of Adam: the reference package's
        path optimiser. The Adam moments are dropped; ``exp_avg`` holds the buffer."""
        self.sgd_momentum = float(momentum)
        self.exp_avg.zero_()
        self.exp_avg_sq.zero_()

    # the optimiser interface the trainer uses for snapshots
    def state_dict(self) -> dict:
        return {"exp_avg": self.exp_avg.clone(), "exp_avg_sq": self.exp_avg_sq.clone(),
                "step": torch.tensor(float(self.t), dtype=torch.float32),
                "sgd_momentum": self.sgd_momentum}

    def load_state_dict(self, state: dict) -> None:
        self.exp_avg.copy_(state["exp_avg"])
        self.exp_avg_sq.copy_(state["exp_avg_sq"])
        self.t = int(state["step"])
        self.step_t.fill_(float(self.t))
        self.sgd_momentum = state.get("sgd_momentum")

    @torch.no_grad()
    def step(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        """One mini-batch step: the gradient of the mean loss, then Adam (the caller
        applies the prox). About fifteen kernels, all writing into preallocated buffers."""
        self._backward(xb, yb)
        self.t += 1
        if self.sgd_momentum is not None:
            self.exp_avg.mul_(self.sgd_momentum).add_(self.grad)
            self.flat.add_(self.exp_avg, alpha=-self.lr)
            return
        if self._adam is not None:
            self._adam(self.t)
            return
        self.step_t.fill_(float(self.t))
        torch._fused_adam_(
            [self.flat], [self.grad], [self.exp_avg], [self.exp_avg_sq], [], [self.step_t],
            lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], weight_decay=0.0, eps=self.eps,
            amsgrad=False, maximize=False,
        )

    def _backward(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        """The gradient of the batch's mean loss into the flat gradient buffer."""
        K = self.K
        B = xb.shape[0]
        bufs = self._buffers(B, xb)
        act = self.active
        if act is None:
            z = torch.addmm(self.b_in, xb, self.W_in_t, out=bufs["z"])
        else:  # xb holds the active columns only
            Wa = torch.index_select(self.W_in, 1, act, out=self._act["W"])
            z = torch.addmm(self.b_in, xb, Wa.t(), out=bufs["z"])
        if self.W_out is not None:
            hs = bufs["h"]
            torch.clamp_min(bufs["z_h"], 0.0, out=hs[0])
            for j, (W, b, _, _) in enumerate(self.hidden):
                torch.addmm(b, hs[j], self.hidden_t[j], out=hs[j + 1]).clamp_min_(0.0)
            out = torch.addmm(bufs["z_skip"], hs[-1], self.W_out_t, out=bufs["out"])
        else:
            out = z
        # d mean-loss / d out
        dout = bufs["dout"]
        if self.task == "classification":
            sm = torch.softmax(out, dim=1, out=bufs["sm"])
            if self.cw is None:
                onehot = torch.index_select(bufs["neg_eye"], 0, yb, out=bufs["onehot"])
                torch.add(onehot, sm, alpha=1.0 / B, out=dout)
            else:
                sm.index_put_((self._ar(B, xb), yb), self._neg_one, accumulate=True)
                w = self.cw[yb]
                torch.mul(sm, (w / w.sum()).unsqueeze(1), out=dout)
        else:
            torch.sub(out, yb, out=dout).mul_(2.0 / (B * K))
        if self.W_out is not None:
            hs, dhs = bufs["h"], bufs["dh"]
            torch.mm(dout.t(), hs[-1], out=self.gW_out)
            dh = torch.mm(dout, self.W_out, out=dhs[-1])
            for j in range(len(self.hidden) - 1, -1, -1):
                W, b, gW, gb = self.hidden[j]
                dh = self._thr_bw(dh, hs[j + 1], 0.0)
                torch.mm(dh.t(), hs[j], out=gW)
                torch.sum(dh, dim=0, out=gb)
                dh = torch.mm(dh, W, out=dhs[j])
            self._thr_bw_out(dh, hs[0], 0.0, grad_input=bufs["dh0"])
        gW = self.gW_in if act is None else self._act["g"]
        dz = bufs["dz"]
        torch.mm(dz.t(), xb, out=gW)
        torch.sum(dz, dim=0, out=self.gb_in)
        if act is not None:
            self.gW_in.index_copy_(1, act, gW)

    def epoch(self, X, y, perm, batch_size, lam):
        step, prox = self.step, self.penalty.bound(lam * self.lr)
        for xb, yb in batches(X, y, perm, batch_size):
            step(xb, yb)
            prox()
        return self.flat.sum()


    def _ar(self, B: int, like: torch.Tensor) -> torch.Tensor:
        ar = self._arange.get(B)
        if ar is None:
            ar = self._arange[B] = torch.arange(B, device=like.device)
        return ar
