"""The CUDA paths: the captured step (CUDA graphs) equals the eager step, nothing in an
epoch waits for the GPU, and a path on CUDA gives what it gives on CPU.

Skipped where CUDA is not available (CI has no GPU); run on a GPU machine with
``python -m pytest -q tests/test_cuda.py``.
"""

import copy

import numpy as np
import pytest
import torch

from deeplasso import LassoNet, LassoNetClassifier, PathConfig, fit_path
from deeplasso.engine import CudaGraphStep, Trainer, hier_prox_fused_
from steps_util import make_step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
CUDA = torch.device("cuda")


def _data(n, d, K, task, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=dtype)
    if task == "classification":
        y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 1).long() * (K - 2 if K > 2 else 0)
    else:
        y = torch.stack([X[:, 0] * X[:, 1], X[:, 2]], 1)[:, :K].to(dtype)
    return X.to(CUDA), y.to(CUDA)


@pytest.mark.parametrize("hidden", [(), (8,), (8, 6)])
@pytest.mark.parametrize("task,weighted", [("classification", False), ("classification", True), ("regression", False)])
@pytest.mark.parametrize("sgd", [False, True], ids=["adam", "sgd-momentum"])
@pytest.mark.parametrize("active", [False, True], ids=["all", "active-set"])
def test_graph_epoch_equals_eager_loop(hidden, task, weighted, sgd, active):
    """Three epochs at three lambdas (one graph serves them all), batch 16 with a last
    partial batch of 2: the same weights and optimiser state as the eager loop."""
    torch.manual_seed(0)
    K = 3 if task == "classification" else 2
    X, y = _data(50, 7, K, task, torch.float64)
    cw = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64, device=CUDA) if weighted else None
    eager_model = LassoNet(7, K, hidden).double().to(CUDA)
    graph_model = copy.deepcopy(eager_model)
    eager = make_step(eager_model, task, 1e-2, cw)
    graph = make_step(graph_model, task, 1e-2, cw, kind=CudaGraphStep)
    if sgd:
        eager.use_sgd(0.9)
        graph.use_sgd(0.9)
    Xa = X
    if active:
        keep = torch.tensor([0, 1, 2, 4, 6], device=CUDA)
        for m, f in ((eager_model, eager), (graph_model, graph)):
            with torch.no_grad():
                m.input_weight[:, [3, 5]] = 0
            f.set_active(keep)
        Xa = X.index_select(1, keep)
    M, bs = 2.0, 16
    gen = torch.Generator().manual_seed(3)
    for lam in (0.0, 0.5, 3.0):
        perm = torch.randperm(50, generator=gen).to(CUDA)
        for start in range(0, 50, bs):
            idx = perm[start:start + bs]
            eager.step(Xa.index_select(0, idx), y.index_select(0, idx))
            hier_prox_fused_(eager_model.input_weight.data, K, 1e-2 * lam, M)
        assert graph.graph_epoch(Xa, y, perm, bs, 1e-2 * lam, M)
    assert graph.t == eager.t == 12
    assert len(graph._graphs) == 2  # batch sizes 16 and 2, captured once each
    for (name, p), q in zip(eager_model.named_parameters(), graph_model.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-12, atol=1e-14, msg=name)
    torch.testing.assert_close(graph.exp_avg, eager.exp_avg, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(graph.exp_avg_sq, eager.exp_avg_sq, rtol=1e-12, atol=1e-14)
    if active:
        assert torch.count_nonzero(graph_model.input_weight[:, [3, 5]]) == 0


def test_graphs_can_be_switched_off(monkeypatch):
    model = LassoNet(5, 2, (4,)).to(CUDA)
    fast = make_step(model, "classification", 1e-3, kind=CudaGraphStep)
    X, y = _data(20, 5, 2, "classification", torch.float32)
    monkeypatch.setenv("DEEPLASSO_CUDA_GRAPHS", "0")
    assert not fast.graph_epoch(X, y, torch.arange(20, device=CUDA), 8, 0.0, 10.0)
    assert fast.t == 0


@pytest.mark.parametrize("graphs", ["1", "0"], ids=["graphs", "eager"])
def test_an_epoch_never_waits_for_the_gpu(monkeypatch, graphs):
    """After the first epoch (which captures), a whole epoch of the path runs without a
    host-device synchronisation: torch's sync debug mode raises on any."""
    monkeypatch.setenv("DEEPLASSO_CUDA_GRAPHS", graphs)
    X, y = _data(300, 20, 2, "classification", torch.float32)
    torch.manual_seed(0)
    model = LassoNet(20, 2, (16,)).to(CUDA)
    cfg = PathConfig(batch_size=32, M=10.0)
    trainer = Trainer(model, X, y, X[:50], y[:50], cfg, torch.Generator().manual_seed(0))
    assert isinstance(trainer.step, CudaGraphStep)
    trainer.run_epoch(5.0)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = trainer.run_epoch(5.0)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert torch.isfinite(out)
    assert trainer.step.t == 2 * 10  # ten batches per epoch


def _path(device, X, y, Xv, yv, hidden=(8,), **kw):
    torch.manual_seed(0)
    model = LassoNet(X.shape[1], 2, hidden).double().to(device)
    cfg = PathConfig(batch_size=32, M=10.0, path_multiplier=1.3, max_epochs=30, patience=3, seed=0, **kw)
    return fit_path(model, X.to(device), y.to(device), Xv.to(device), yv.to(device), cfg)


def test_path_on_cuda_equals_path_on_cpu():
    """Same seed, same batches (the order is drawn on the CPU for both), float64: the same
    path on both devices, point for point (the CPU runs the C epoch, CUDA the graphs)."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 10, generator=g, dtype=torch.float64)
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).long()
    Xv, yv = X[300:], y[300:]
    X, y = X[:300], y[:300]
    cpu = _path("cpu", X, y, Xv, yv)
    gpu = _path(CUDA, X, y, Xv, yv)
    assert len(cpu.points) == len(gpu.points) > 5
    for a, b in zip(cpu.points, gpu.points):
        assert a.epochs == b.epochs
        assert a.lambda_ == pytest.approx(b.lambda_, rel=1e-9)
        np.testing.assert_allclose(b.theta_norm, a.theta_norm, rtol=1e-6, atol=1e-9)
    assert gpu.points[-1].n_selected == 0


def test_classifier_on_cuda_finds_the_planted_features(xor240):
    X, y = xor240
    sel = LassoNetClassifier(hidden_dims=(16,), batch_size=32, path_multiplier=1.1, random_state=0, verbose=0,
                             device="cuda").fit(X, y)
    assert next(sel.module_.parameters()).is_cuda
    assert set(sel.ranking_[:3]) == {0, 1, 2}
    pred = sel.predict(X)
    assert isinstance(pred, np.ndarray) and pred.shape == (240,)
    assert (pred == y).mean() > 0.8
