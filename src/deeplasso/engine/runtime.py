"""Where and how a path computes: torch's thread count, cuDNN's determinism."""

from __future__ import annotations

import contextlib

import torch

from .config import PathConfig
from .modules import LassoNet

__all__ = ["torch_threads", "deterministic_cudnn", "auto_threads", "threads_for"]


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``n`` intra-op threads, restoring the previous setting after."""
    old = torch.get_num_threads()
    if n is not None and n != old:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


@contextlib.contextmanager
def deterministic_cudnn(X: torch.Tensor):
    """On CUDA, cuDNN's deterministic algorithms (and no autotuning) for the duration: a
    CNN body's convolution gradients are otherwise summed in a varying order, and the
    same seed would not give the same path. Nothing changes on CPU."""
    if X.device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    with cudnn.flags(enabled=cudnn.enabled, benchmark=False, deterministic=True, allow_tf32=cudnn.allow_tf32):
        yield


def auto_threads(X: torch.Tensor, width: int, batch_size: int | None) -> int | None:
    """One thread for small steps on CPU, else leave the setting alone.

    Below about a million multiply-adds per first-layer matmul a second thread costs
    more in synchronisation than it saves, and on a busy machine OpenMP's spinning
    threads make a small step ten times slower (measured: 0.35 ms vs 3.1 ms per step
    on digits with another process running).
    """
    if X.device.type != "cpu":
        return None
    bs = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    return 1 if bs * X.shape[1] * max(width, 1) < 1_000_000 else None


def threads_for(config: PathConfig, X: torch.Tensor, model: LassoNet) -> int | None:
    """The config's thread count, else :func:`auto_threads` for this model's first layer."""
    if config.num_threads is not None:
        return config.num_threads
    return auto_threads(X, model.n_outputs + model.n_hidden0, config.batch_size)
