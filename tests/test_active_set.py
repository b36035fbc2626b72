"""The active set: features that left are dropped from the first layer's matmuls."""

import copy

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from deeplasso.engine import FlatStep, LassoNet, PathConfig, Trainer, fit_path, hier_prox_fused_
from steps_util import make_step


@pytest.mark.parametrize("hidden", [(), (8,), (8, 5)])
def test_active_step_equals_full_step_when_dropped_columns_are_zero(hidden):
    """With the dropped features' inputs and weights zero, the full step never moves
    them either: both steps then compute the same thing (up to summation order)."""
    torch.manual_seed(0)
    d, K = 12, 3
    out_cols = torch.tensor([1, 4, 5, 9])
    active = torch.tensor([j for j in range(d) if j not in out_cols.tolist()])
    full_model = LassoNet(d, K, hidden).double()
    with torch.no_grad():
        full_model.input_weight[:, out_cols] = 0
    act_model = copy.deepcopy(full_model)
    X = torch.randn(64, d, dtype=torch.float64)
    X[:, out_cols] = 0
    y = torch.randint(0, K, (64,))
    full = make_step(full_model, "classification", 1e-2)
    act = make_step(act_model, "classification", 1e-2)
    act.set_active(active)
    Xa = X[:, active].contiguous()
    for step in range(10):
        sl = slice(step * 6, step * 6 + 16)
        full.step(X[sl], y[sl])
        act.step(Xa[sl], y[sl])
        hier_prox_fused_(full_model.input_weight.data, K, 0.02, 3.0)
        hier_prox_fused_(act_model.input_weight.data, K, 0.02, 3.0)
    assert not act_model.input_weight[:, out_cols].any()
    for p, q in zip(full_model.parameters(), act_model.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-10, atol=1e-12)
    # back to all columns: the frozen second moment returns, the step runs as before
    act.set_active(None)
    act.step(X[:16], y[:16])
    full.step(X[:16], y[:16])
    for p, q in zip(full_model.parameters(), act_model.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_input_gradient_matches_autograd(task):
    torch.manual_seed(1)
    d, K = 9, 3
    model = LassoNet(d, K, (6,)).double()
    ref = copy.deepcopy(model)
    X = torch.randn(70, d, dtype=torch.float64)
    y = torch.randint(0, K, (70,)) if task == "classification" else torch.randn(70, K, dtype=torch.float64)
    fast = make_step(model, task, 1e-3)
    cols = torch.tensor([0, 3, 8])
    G = fast.input_gradient(X, y, cols, chunk=32)  # uneven chunks
    out = ref(X)
    loss = F.cross_entropy(out, y) if task == "classification" else F.mse_loss(out, y)
    loss.backward()
    torch.testing.assert_close(G, ref.input_weight.grad[:, cols], rtol=1e-10, atol=1e-13)
    # and it moved nothing
    for p, q in zip(ref.parameters(), model.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=0)


def _problem(seed=0, n=360, d=40, k=5):
    g = np.random.default_rng(seed)
    X = g.standard_normal((n, d)).astype(np.float32)
    w = np.zeros((d, 3))
    w[:k] = g.standard_normal((k, 3)) * 2
    y = (X @ w + 0.5 * np.sin(X[:, :k]).sum(1, keepdims=True)).argmax(1)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    return X[:280], y[:280], X[280:], y[280:]


def test_path_with_active_set_matches_path_without(monkeypatch):
    X, y, Xv, yv = _problem()
    used = []
    orig = FlatStep.set_active

    def spy(self, active):
        used.append(None if active is None else int(active.numel()))
        return orig(self, active)

    monkeypatch.setattr(FlatStep, "set_active", spy)
    paths = {}
    for on in (False, True):
        torch.manual_seed(0)
        model = LassoNet(X.shape[1], 3, (8,))
        cfg = PathConfig(active_set=on, batch_size=32, path_multiplier=1.1, patience=3, max_epochs=20, seed=0)
        paths[on] = fit_path(model, X, y, Xv, yv, cfg)
    assert any(u is not None and u < X.shape[1] for u in used), "the active set was never used"
    a, b = paths[False], paths[True]
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) <= 1
    same = sum(np.array_equal(a[i].selected, b[i].selected) for i in range(n))
    assert same >= 0.9 * n
    np.testing.assert_allclose([p.val_loss for p in b][:n], [p.val_loss for p in a][:n], atol=0.05)
    top = lambda p: set(np.argsort(-p.feature_importances(), kind="stable")[:5].tolist())  # noqa: E731
    assert top(a) == top(b)


def test_screen_keeps_features_that_the_gradient_would_push_back():
    """A zero column whose gradient is large (relative to Adam's scale) stays active."""
    X, y, Xv, yv = _problem()
    torch.manual_seed(0)
    model = LassoNet(X.shape[1], 3, (8,))
    cfg = PathConfig(batch_size=32, seed=0)
    tr = Trainer(model, X, y, Xv, yv, cfg, torch.Generator().manual_seed(0))
    for _ in range(3):
        tr.run_epoch(0.0)
    with torch.no_grad():
        model.input_weight[:, :30] = 0  # features 0-4 carry the signal; 5-29 are noise
    tr.screening.screen(tr, 40.0)
    tr.screening.screen(tr, 40.0)  # zero at two screenings in a row
    active = set(tr.step.active.tolist())
    assert set(range(5)) <= active  # the informative ones come back in
    assert set(range(30, 40)) <= active
    assert len(active) < 40
