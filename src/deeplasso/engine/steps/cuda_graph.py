"""The flat step with every mini-batch one replay of a captured CUDA graph."""

from __future__ import annotations

import os

import torch

from ..prox import hier_prox_fused_
from .flat import FlatStep

__all__ = ["CudaGraphStep", "graphs_enabled"]


def graphs_enabled() -> bool:
    """CUDA graphs are used unless ``DEEPLASSO_CUDA_GRAPHS=0`` (then the eager loop runs)."""
    return os.environ.get("DEEPLASSO_CUDA_GRAPHS", "1").lower() not in ("0", "false", "no", "off")


class CudaGraphStep(FlatStep):
    """:class:`FlatStep` on CUDA whose epoch replays one captured graph per mini-batch
    (see :meth:`graph_epoch`); with graphs switched off (``DEEPLASSO_CUDA_GRAPHS=0``)
    an epoch runs :class:`FlatStep`'s eager loop, which computes the same update."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # CUDA graphs of one step (see graph_epoch), by batch size; dropped by set_active and
        # when what they depend on (_graph_key) changes
        self._graphs: dict = {}
        self._graph_key = None
        self._thr = torch.zeros((), dtype=self.flat.dtype, device=self.flat.device)  # the graphs' prox threshold

    def epoch(self, X, y, perm, batch_size, lam):
        if self.graph_epoch(X, y, perm, batch_size, lam * self.lr, self.penalty.M):
            return self.flat.sum()
        return super().epoch(X, y, perm, batch_size, lam)

    @torch.no_grad()
    def set_active(self, active):
        super().set_active(active)
        self._graphs.clear()  # they gather and multiply the old columns

    @torch.no_grad()
    def graph_epoch(self, X: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, batch_size: int,
                    prox_lam: float, M: float) -> bool:
        """One shuffled pass on CUDA with one graph launch per mini-batch: the same
        update as :meth:`step` followed by the hier-prox, in the same order, as
        :meth:`native_epoch` does on CPU.

        Why: a step is about fifty small kernels (most of them the prox's), each a few
        microseconds of GPU work but tens of microseconds of Python and launch overhead.
        The step is captured once per batch size (gather of the batch's rows from ``X``
        by an index buffer, forward, backward, Adam or SGD, prox with the threshold read
        from a device scalar, so one graph serves every lambda); each batch then costs a
        copy of its indices and one replay, and nothing waits for the GPU. Returns False
        where it does not apply (not CUDA, graphs switched off); the caller then runs
        the eager loop, which computes the same thing.
        """
        dev = self.flat.device
        if dev.type != "cuda" or X.device != dev or not graphs_enabled():
            return False
        # what a captured step depends on besides the buffers it owns (the update rule too:
        # Adam's, or SGD's after use_sgd)
        key = (X.data_ptr(), tuple(X.shape), y.data_ptr(), float(M), self.sgd_momentum)
        if key != self._graph_key:
            self._graphs.clear()
            self._graph_key = key
        self._thr.fill_(float(prox_lam))
        self.step_t.fill_(float(self.t))
        perm = perm.to(device=dev, dtype=torch.int64)
        n = X.shape[0]
        for start in range(0, n, batch_size):
            B = min(batch_size, n - start)
            graph, idx = self._graphs[B][:2] if B in self._graphs else self._capture(X, y, B, M)
            idx.copy_(perm[start:start + B])
            graph.replay()
        self.t += (n + batch_size - 1) // batch_size
        return True

    def _graph_body(self, X, y, idx, xb, yb, M: float) -> None:
        torch.index_select(X, 0, idx, out=xb)
        torch.index_select(y, 0, idx, out=yb)
        self._backward(xb, yb)
        if self.sgd_momentum is not None:
            self.exp_avg.mul_(self.sgd_momentum).add_(self.grad)
            self.flat.add_(self.exp_avg, alpha=-self.lr)
        else:
            self.step_t.add_(1.0)
            torch._fused_adam_(
                [self.flat], [self.grad], [self.exp_avg], [self.exp_avg_sq], [], [self.step_t],
                lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], weight_decay=0.0, eps=self.eps,
                amsgrad=False, maximize=False,
            )
        hier_prox_fused_(self.W_in, self.K, self._thr, M, native=False)

    @torch.no_grad()
    def _capture(self, X, y, B: int, M: float):
        """Capture one step of batch size ``B``. A warm-up step on a side stream first
        (it initialises cuBLAS and the allocator), then the state is put back: the
        capture itself runs nothing."""
        idx = torch.zeros(B, dtype=torch.int64, device=X.device)
        xb = X.new_empty((B,) + tuple(X.shape[1:]))
        yb = y.new_empty((B,) + tuple(y.shape[1:]))
        state = (self.flat, self.grad, self.exp_avg, self.exp_avg_sq, self.step_t)
        saved = [t.clone() for t in state]
        side = torch.cuda.Stream(device=X.device)
        side.wait_stream(torch.cuda.current_stream(X.device))
        with torch.cuda.stream(side):
            self._graph_body(X, y, idx, xb, yb, M)
        torch.cuda.current_stream(X.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self._graph_body(X, y, idx, xb, yb, M)
        except RuntimeError as exc:
            raise RuntimeError(f"capturing the training step as a CUDA graph failed ({exc}); set the environment "
                               "variable DEEPLASSO_CUDA_GRAPHS=0 to train with the eager step instead") from exc
        finally:
            for t, s in zip(state, saved):
                t.copy_(s)
        # the graph reads and writes these buffers at fixed addresses: they must live as
        # long as it does (a freed xb would be handed to the next allocation, e.g. the
        # next epoch's order, and overwritten by every replay)
        self._graphs[B] = (graph, idx, xb, yb)
        return graph, idx
