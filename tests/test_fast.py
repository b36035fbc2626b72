"""The hand-written step equals autograd + torch.optim.Adam + hier-prox."""

import copy

import pytest
import torch
from torch.nn import functional as F

from deeplasso.engine import CudaGraphStep, LassoNet, NativeEpochStep, hier_prox, hier_prox_fused_
from steps_util import make_step


@pytest.mark.parametrize("hidden", [(), (8,), (8, 6)])
@pytest.mark.parametrize("task,weighted", [("classification", False), ("classification", True), ("regression", False)])
@pytest.mark.parametrize("sgd", [False, True], ids=["adam", "sgd-momentum"])
def test_fast_step_matches_autograd(hidden, task, weighted, sgd):
    torch.manual_seed(0)
    K = 3 if task == "classification" else 2
    ref = LassoNet(7, K, hidden).double()
    fast_model = copy.deepcopy(ref)
    X = torch.randn(50, 7, dtype=torch.float64)
    y = torch.randint(0, K, (50,)) if task == "classification" else torch.randn(50, K, dtype=torch.float64)
    cw = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64) if weighted else None
    fast = make_step(fast_model, task, 1e-2, cw)
    if sgd:
        opt = torch.optim.SGD(ref.parameters(), lr=1e-2, momentum=0.9)
        fast.use_sgd(0.9)
    else:
        opt = torch.optim.Adam(ref.parameters(), lr=1e-2)
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
    fast = make_step(model, "classification", 1e-3)
    with torch.no_grad():
        fast.flat.zero_()
    assert all(torch.count_nonzero(p) == 0 for p in model.parameters())
    sd = copy.deepcopy(model.state_dict())
    model.load_state_dict(sd)
    assert model.input_weight.data_ptr() == fast.flat.data_ptr()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("H", [0, 1, 6, 40])
def test_native_prox_matches_pytorch_prox(dtype, H):
    from deeplasso.engine.native import native_available

    if not native_available():
        pytest.skip("no C compiler: the PyTorch prox is used")
    gen = torch.Generator().manual_seed(H)
    K, d = 3, 240
    W = torch.randn(K + H, d, generator=gen, dtype=dtype)
    W[K:, :60] *= 0.01  # inactive constraint
    W[:, 60:120] *= 1e-3  # dead for the larger thresholds
    W[:, 5] = 0  # empty column
    W[:K, 7] = 0  # theta zero, W0 not
    W[K:, 130:140] = W[K:, 130:131]  # ties inside a column
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    for lam in (0.0, 1e-3, 0.05, 0.8, 5.0, 100.0):
        for M in (0.0, 1.0, 3.0, 10.0):
            want, got = W.clone(), W.clone()
            hier_prox_fused_(want, K, lam, M, native=False)
            hier_prox_fused_(got, K, lam, M)
            torch.testing.assert_close(got, want, rtol=0, atol=tol, msg=f"lam={lam} M={M}")
            # a view with a row stride (the flat buffer's layout) works in place too
            big = torch.zeros(K + H + 2, d, dtype=dtype)
            big[1:-1] = W
            hier_prox_fused_(big[1:-1], K, lam, M)
            torch.testing.assert_close(big[1:-1], want, rtol=0, atol=tol)
            assert not big[0].any() and not big[-1].any()


def test_native_prox_propagates_non_finite_values():
    from deeplasso.engine.native import native_available

    if not native_available():
        pytest.skip("no C compiler")
    W = torch.randn(5, 4)
    W[3, 1] = float("nan")
    W[0, 2] = float("inf")
    hier_prox_fused_(W, 2, 0.1, 3.0)
    assert torch.isnan(W[:, 1]).all() and torch.isnan(W[:, 2]).all()
    assert torch.isfinite(W[:, [0, 3]]).all()


def test_native_prox_can_be_switched_off(tmp_path):
    import subprocess
    import sys

    code = "from deeplasso.engine.native import native_available; print(native_available())"
    env = {"DEEPLASSO_NATIVE": "0", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _native_epoch_or_skip():
    from deeplasso.engine.native import native_epoch_function

    if native_epoch_function(torch.float64) is None:
        pytest.skip("no C compiler or no BLAS gemm symbol here: the path runs the Python loop")


@pytest.mark.parametrize("hidden", [(), (8,), (7, 5, 4)])
@pytest.mark.parametrize("task,weighted,active", [("classification", False, False), ("classification", True, False),
                                                  ("classification", False, True), ("regression", False, False),
                                                  ("regression", False, True)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("sgd", [False, True], ids=["adam", "sgd-momentum"])
def test_native_epoch_matches_python_steps(hidden, task, weighted, active, dtype, sgd):
    """One C call per epoch = the Python loop of step + prox over the same batches
    (last batch short), with and without an active set, with Adam or SGD."""
    _native_epoch_or_skip()
    torch.manual_seed(0)
    n, d, K, bs, lam, M = 70, 12, 3, 16, 0.3, 2.0
    py_model = LassoNet(d, K, hidden).to(dtype)
    c_model = copy.deepcopy(py_model)
    X = torch.randn(n, d, dtype=dtype)
    y = torch.randint(0, K, (n,)) if task == "classification" else torch.randn(n, K, dtype=dtype)
    cw = torch.tensor([0.5, 2.0, 1.0], dtype=dtype) if weighted else None
    py, c = make_step(py_model, task, 1e-2, cw), make_step(c_model, task, 1e-2, cw, kind=NativeEpochStep)
    if sgd:
        py.use_sgd(0.9)
        c.use_sgd(0.9)
    Xa = X
    if active:
        cols = torch.arange(0, d, 3)
        with torch.no_grad():
            for m in (py_model, c_model):
                keep = torch.zeros(d, dtype=torch.bool)
                keep[cols] = True
                m.input_weight[:, ~keep] = 0
        py.set_active(cols)
        c.set_active(cols)
        Xa = X[:, cols].contiguous()
    for _ in range(3):
        perm = torch.randperm(n)
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            py.step(Xa[idx], y[idx])
            hier_prox_fused_(py_model.input_weight.data, K, 1e-2 * lam, M)
        assert c.native_epoch(Xa, y, perm, bs, 1e-2 * lam, M)
    assert c.t == py.t == 3 * 5
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-6)
    for p, q in zip(py_model.parameters(), c_model.parameters()):
        torch.testing.assert_close(q.detach(), p.detach(), **tol)
    if active:  # columns out of the active set stay exactly zero
        out = torch.ones(d, dtype=torch.bool)
        out[cols] = False
        assert (c_model.input_weight[:, out] == 0).all()


def _pixel_groups(C, P):
    return [[c * P + p for c in range(C)] for p in range(P)]


def test_stride_recognises_the_channels_of_each_pixel():
    from deeplasso.engine import make_groups

    assert make_groups(_pixel_groups(3, 5), 15).stride() == 3
    shuffled = [list(reversed(g)) for g in reversed(_pixel_groups(3, 5))]  # any order of groups and members
    assert make_groups(shuffled, 15).stride() == 3
    assert make_groups(None, 15).stride() is None
    assert make_groups([[0, 1, 2], [3, 4, 5]], 6).stride() is None  # neighbours, not channels
    assert make_groups(_pixel_groups(3, 5)[:-1], 15).stride() is None  # one pixel's channels left single
    assert make_groups([[0, 5], [1, 6], [2, 7], [3, 8], [4, 9, 10]], 11).stride() is None


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("hidden", [(), (8,), (7, 5)])
def test_native_epoch_with_pixel_groups_matches_the_grouped_python_steps(dtype, hidden):
    """The C epoch's grouped prox (channels of each pixel) = the Python loop of step +
    hier_prox_grouped, and whole groups leave together."""
    _native_epoch_or_skip()
    from deeplasso.engine import FlatStep, hier_prox_grouped, make_groups
    from deeplasso.engine.penalty import InputPenalty

    torch.manual_seed(0)
    C, P, K, n, bs, thr, M = 3, 6, 3, 70, 16, 0.02, 2.0  # thr: the prox threshold (lr times lambda)
    d = C * P
    groups = _pixel_groups(C, P)
    py_model = LassoNet(d, K, hidden).to(dtype)
    with torch.no_grad():  # pixels 0, 2, 4 start nearly out, so that they leave within the test
        for p in (0, 2, 4):
            py_model.input_weight[:, [c * P + p for c in range(C)]] *= 0.01
    c_model = copy.deepcopy(py_model)
    X = torch.randn(n, d, dtype=dtype)
    y = torch.randint(0, K, (n,))
    # lr 1e-4: Adam's steps stay far below the threshold, so that a group set to zero stays zero
    py = FlatStep(py_model, "classification", 1e-4, InputPenalty(py_model, M, groups))
    c = NativeEpochStep(c_model, "classification", 1e-4, InputPenalty(c_model, M, groups))
    fg = make_groups(groups, d)
    for _ in range(2):
        perm = torch.randperm(n)
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            py.step(X[idx], y[idx])
            W = py_model.input_weight.data
            b, w = hier_prox_grouped(W[:K], W[K:], thr, M, fg)
            W[:K], W[K:] = b, w
        assert c.native_epoch(X, y, perm, bs, thr, M)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-6)
    for p, q in zip(py_model.parameters(), c_model.parameters()):
        torch.testing.assert_close(q.detach(), p.detach(), **tol)
    theta = c_model.input_weight[:K].detach()
    gone = (theta == 0).all(0).reshape(C, P)
    assert gone.all(0).tolist() == [True, False, True, False, True, False]  # the three started near zero
    assert (gone.all(0) | ~gone.any(0)).all()  # a pixel's channels leave together


def test_the_path_takes_the_c_epoch_for_pixel_groups_only():
    from deeplasso.engine import FlatStep, PathConfig
    from deeplasso.engine.penalty import InputPenalty
    from deeplasso.engine.steps import select_step

    model = LassoNet(12, 2, (4,))
    cfg = PathConfig()
    pick = lambda groups: type(select_step(model, cfg, torch.device("cpu"), InputPenalty(model, 10.0, groups)))
    assert pick(_pixel_groups(3, 4)) is NativeEpochStep
    assert pick([[0, 1, 2], [3, 4, 5]]) is FlatStep
    assert pick(None) is NativeEpochStep


def test_native_epoch_rejects_wrong_columns():
    _native_epoch_or_skip()
    model = LassoNet(6, 2, (4,)).double()
    fast = make_step(model, "classification", 1e-2, kind=NativeEpochStep)
    fast.set_active(torch.tensor([0, 2, 4]))
    with pytest.raises(ValueError, match="3"):
        fast.native_epoch(torch.randn(8, 6, dtype=torch.float64), torch.zeros(8, dtype=torch.int64),
                          torch.arange(8), 4, 0.0, 1.0)


def test_path_runs_its_epochs_in_c(monkeypatch):
    """The trainer takes the C epoch where it applies, and the Python loop with it off."""
    _native_epoch_or_skip()
    from deeplasso.engine import PathConfig, fit_path

    calls = []
    real = NativeEpochStep.native_epoch

    def counting(self, *a, **k):
        ok = real(self, *a, **k)
        calls.append(ok)
        return ok

    monkeypatch.setattr(NativeEpochStep, "native_epoch", counting)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(120, 6, generator=g)
    y = (X[:, 0] > 0).long()
    cfg = PathConfig(lambda_start=1.0, path_multiplier=2.0, max_epochs=3, patience=1, n_features_stop=3)
    fit_path(LassoNet(6, 2, (4,)), X[:90], y[:90], X[90:], y[90:], cfg)
    assert calls and all(calls)
    calls.clear()
    monkeypatch.setenv("DEEPLASSO_NATIVE_EPOCH", "0")
    fit_path(LassoNet(6, 2, (4,)), X[:90], y[:90], X[90:], y[90:], cfg)
    assert calls and not any(calls)


def test_graph_epoch_is_cuda_only():
    """On CPU the graph epoch declines (the C epoch or the Python loop runs) and touches
    nothing; tests/test_cuda.py covers it on a GPU."""
    torch.manual_seed(0)
    model = LassoNet(6, 2, (4,))
    fast = make_step(model, "classification", 1e-2, kind=CudaGraphStep)
    before = fast.flat.clone()
    X, y = torch.randn(20, 6), torch.randint(0, 2, (20,))
    assert not fast.graph_epoch(X, y, torch.randperm(20), 8, 0.01, 10.0)
    assert fast.t == 0 and torch.equal(fast.flat, before) and not fast._graphs
