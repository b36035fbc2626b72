"""The hand-written step equals autograd + torch.optim.Adam + hier-prox."""

import copy

import pytest
import torch
from torch.nn import functional as F

from deeplasso.fast import FastAdamStep, hier_prox_fused_
from deeplasso.modules import LassoNet
from deeplasso.prox import hier_prox


@pytest.mark.parametrize("hidden", [(), (8,), (8, 6)])
@pytest.mark.parametrize("task,weighted", [("classification", False), ("classification", True), ("regression", False)])
def test_fast_step_matches_autograd(hidden, task, weighted):
    torch.manual_seed(0)
    K = 3 if task == "classification" else 2
    ref = LassoNet(7, K, hidden).double()
    fast_model = copy.deepcopy(ref)
    X = torch.randn(50, 7, dtype=torch.float64)
    y = torch.randint(0, K, (50,)) if task == "classification" else torch.randn(50, K, dtype=torch.float64)
    cw = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64) if weighted else None
    opt = torch.optim.Adam(ref.parameters(), lr=1e-2)
    fast = FastAdamStep(fast_model, task, 1e-2, cw)
    lam, M = 0.5, 2.0
    for step in range(12):
        xb, yb = X[step * 4:step * 4 + 16], y[step * 4:step * 4 + 16]
        out = ref(xb)
        loss = F.cross_entropy(out, yb, weight=cw) if task == "classification" else F.mse_loss(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            W = ref.input_weight
            b, w = hier_prox(W[:K], W[K:], 1e-2 * lam, M)
            W[:K], W[K:] = b, w
        fast.step(xb, yb)
        hier_prox_fused_(fast_model.input_weight.data, K, 1e-2 * lam, M)
    for (name, p), q in zip(ref.named_parameters(), fast_model.parameters()):
        torch.testing.assert_close(q, p, rtol=1e-9, atol=1e-11, msg=name)


def test_fused_prox_matches_reference_prox_with_mixed_columns():
    gen = torch.Generator().manual_seed(1)
    K, H, d = 2, 9, 200
    W = torch.randn(K + H, d, generator=gen, dtype=torch.float64)
    W[K:, : d // 2] *= 0.01  # half the columns have an inactive constraint (the fast path)
    W[:, 5] = 0  # an empty column
    for lam in (0.0, 0.05, 0.8, 5.0):
        b, w = hier_prox(W[:K], W[K:], lam, 3.0)
        got = W.clone()
        hier_prox_fused_(got, K, lam, 3.0)
        torch.testing.assert_close(got[:K], b, rtol=0, atol=1e-14)
        torch.testing.assert_close(got[K:], w, rtol=0, atol=1e-14)


def test_module_parameters_are_views_of_the_flat_buffer():
    model = LassoNet(5, 2, (4,))
    fast = FastAdamStep(model, "classification", 1e-3)
    with torch.no_grad():
        fast.flat.zero_()
    assert all(torch.count_nonzero(p) == 0 for p in model.parameters())
    sd = copy.deepcopy(model.state_dict())
    model.load_state_dict(sd)
    assert model.input_weight.data_ptr() == fast.flat.data_ptr()
