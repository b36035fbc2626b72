"""Hier-prox optimality against an independent one-dimensional solver, and edge cases."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq, minimize

from deeplasso import hier_prox, hier_prox_grouped, make_groups


def reference_prox(v, u, lam, M):
    """Independent solution of one problem by root finding on phi'(r) (float64).

    For a fixed radius r = ||b|| the best b is r v/||v|| and the best w clips u to
    [-M r, M r]; phi(r) is convex, so its minimiser is the root of phi' or 0.
    """
    v = np.asarray(v, dtype=np.float64).ravel()
    u = np.asarray(u, dtype=np.float64).ravel()
    nv = np.linalg.norm(v)
    if nv == 0:
        return np.zeros_like(v), np.zeros_like(u)

    def dphi(r):
        return r - nv + lam - M * np.clip(np.abs(u) - M * r, 0, None).sum()

    if dphi(0.0) >= 0:
        r = 0.0
    else:
        hi = 1.0
        while dphi(hi) <= 0:
            hi *= 2
        r = brentq(dphi, 0.0, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
    return r * v / nv, np.sign(u) * np.minimum(np.abs(u), M * r)


def objective(b, w, v, u, lam):
    return 0.5 * np.sum((b - v) ** 2) + 0.5 * np.sum((w - u) ** 2) + lam * np.linalg.norm(b)


def random_instance(rng, K, H, d, scale_theta=1.0):
    theta = rng.normal(size=(K, d)) * scale_theta
    W = rng.normal(size=(H, d)) * rng.choice([0.01, 0.3, 3.0], size=(1, d))
    return theta, W


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("K,H", [(1, 1), (1, 7), (3, 20), (10, 64)])
def test_matches_independent_solution(dtype, K, H):
    rng = np.random.default_rng(K * 100 + H)
    tol = 1e-9 if dtype == torch.float64 else 2e-5
    for trial in range(20):
        d = 40
        theta, W = random_instance(rng, K, H, d, scale_theta=rng.choice([0.05, 1.0, 5.0]))
        lam = float(rng.choice([0.0, 0.01, 0.3, 2.0, 10.0]))
        M = float(rng.choice([0.1, 1.0, 10.0]))
        tn, wn = hier_prox(torch.tensor(theta, dtype=dtype), torch.tensor(W, dtype=dtype), lam, M)
        assert tn.dtype == dtype and wn.dtype == dtype
        tn, wn = tn.double().numpy(), wn.double().numpy()
        scale = 1.0 + np.abs(theta).max() + np.abs(W).max()
        for j in range(d):
            b, w = reference_prox(theta[:, j], W[:, j], lam, M)
            np.testing.assert_allclose(tn[:, j], b, atol=tol * scale, rtol=0)
            np.testing.assert_allclose(wn[:, j], w, atol=tol * scale, rtol=0)
            # feasibility
            assert np.abs(wn[:, j]).max() <= M * np.linalg.norm(tn[:, j]) + tol * scale


def test_global_minimum_against_generic_optimizer():
    """No feasible point found by a generic local search from many starts does better."""
    rng = np.random.default_rng(7)
    for _ in range(15):
        K, H = rng.integers(1, 4), rng.integers(1, 6)
        v, u = rng.normal(size=K), rng.normal(size=H) * 2
        lam, M = float(rng.uniform(0, 2)), float(rng.uniform(0.1, 3))
        tn, wn = hier_prox(torch.tensor(v[:, None]), torch.tensor(u[:, None]), lam, M)
        best = objective(tn[:, 0].numpy(), wn[:, 0].numpy(), v, u, lam)
        cons = {"type": "ineq", "fun": lambda z: M * np.linalg.norm(z[:K]) - np.abs(z[K:])}
        for _start in range(5):
            z0 = rng.normal(size=K + H)
            res = minimize(lambda z: objective(z[:K], z[K:], v, u, lam), z0, constraints=[cons],
                           method="SLSQP", options={"maxiter": 500, "ftol": 1e-12})
            if res.success and np.all(cons["fun"](res.x) >= -1e-8):
                assert best <= res.fun + 1e-7


def test_zero_theta_keeps_feature_out():
    theta = torch.zeros(2, 3, dtype=torch.float64)
    W = torch.tensor([[5.0, 0.0, -1.0], [2.0, 0.0, 3.0]], dtype=torch.float64)
    tn, wn = hier_prox(theta, W, 0.0, 10.0)
    assert torch.all(tn == 0) and torch.all(wn == 0)


def test_zero_columns_stay_zero_and_inputs_untouched():
    theta = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    W = torch.tensor([[0.5, 0.0], [-0.2, 0.0]], dtype=torch.float64)
    t0, w0 = theta.clone(), W.clone()
    tn, wn = hier_prox(theta, W, 0.1, 1.0)
    assert torch.equal(theta, t0) and torch.equal(W, w0)
    assert torch.all(tn[:, 1] == 0) and torch.all(wn[:, 1] == 0)


def test_huge_lambda_zeroes_everything():
    rng = np.random.default_rng(1)
    theta, W = random_instance(rng, 3, 16, 50)
    tn, wn = hier_prox(torch.tensor(theta), torch.tensor(W), 1e9, 2.0)
    assert torch.count_nonzero(tn) == 0 and torch.count_nonzero(wn) == 0


def test_exact_threshold_of_leaving():
    """A feature leaves exactly when lam >= ||v|| + M ||u||_1 (phi'(0) >= 0)."""
    v = torch.tensor([[0.3], [0.4]], dtype=torch.float64)  # norm 0.5
    u = torch.tensor([[0.1], [-0.2]], dtype=torch.float64)  # l1 0.3
    M = 2.0
    thr = 0.5 + M * 0.3
    t_in, _ = hier_prox(v, u, thr * (1 - 1e-9), M)
    t_out, w_out = hier_prox(v, u, thr, M)
    assert torch.linalg.vector_norm(t_in) > 0
    assert torch.count_nonzero(t_out) == 0 and torch.count_nonzero(w_out) == 0


def test_M_zero_is_group_soft_threshold_and_kills_W():
    rng = np.random.default_rng(2)
    theta, W = random_instance(rng, 4, 8, 30)
    lam = 1.5
    tn, wn = hier_prox(torch.tensor(theta), torch.tensor(W), lam, 0.0)
    norms = np.linalg.norm(theta, axis=0)
    expected = theta * np.clip(1 - lam / norms, 0, None)
    np.testing.assert_allclose(tn.numpy(), expected, atol=1e-12)
    assert torch.count_nonzero(wn) == 0


def test_lam_zero_is_projection_and_feasible_points_are_fixed():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(2, 25))
    M = 1.5
    W = rng.uniform(-1, 1, size=(6, 25)) * M * np.linalg.norm(theta, axis=0)  # feasible
    tn, wn = hier_prox(torch.tensor(theta), torch.tensor(W), 0.0, M)
    np.testing.assert_allclose(tn.numpy(), theta, atol=1e-12)
    np.testing.assert_allclose(wn.numpy(), W, atol=1e-12)
    # an infeasible point is moved onto the boundary of the constraint set
    W_bad = W * 10
    tn, wn = hier_prox(torch.tensor(theta), torch.tensor(W_bad), 0.0, M)
    lhs = np.abs(wn.numpy()).max(axis=0)
    rhs = M * np.linalg.norm(tn.numpy(), axis=0)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


def test_ties_in_W():
    v = torch.tensor([[1.0]], dtype=torch.float64)
    for M in [0.5, 1.0, 3.0]:
        for lam in [0.0, 0.5, 2.0]:
            u = torch.tensor([[2.0], [-2.0], [2.0], [0.5], [0.5]], dtype=torch.float64)
            tn, wn = hier_prox(v, u, lam, M)
            b, w = reference_prox(v.numpy(), u.numpy(), lam, M)
            np.testing.assert_allclose(tn.numpy().ravel(), b, atol=1e-12)
            np.testing.assert_allclose(wn.numpy().ravel(), w, atol=1e-12)


def test_no_hidden_units():
    theta = torch.tensor([[3.0, 0.5]], dtype=torch.float64)
    W = torch.zeros(0, 2, dtype=torch.float64)
    tn, wn = hier_prox(theta, W, 1.0, 1.0)
    np.testing.assert_allclose(tn.numpy(), [[2.0, 0.0]])
    assert wn.shape == (0, 2)


@pytest.mark.parametrize("bad", [dict(lam=-1.0), dict(M=-0.5), dict(M=float("inf")), dict(lam=float("nan"))])
def test_bad_arguments(bad):
    kw = dict(lam=0.1, M=1.0) | bad
    with pytest.raises(ValueError, match="lam|M"):
        hier_prox(torch.ones(1, 3), torch.ones(4, 3), **kw)


def test_shape_errors():
    with pytest.raises(ValueError, match="feature columns"):
        hier_prox(torch.ones(1, 3), torch.ones(4, 2), 0.1, 1.0)
    with pytest.raises(ValueError, match="2-D"):
        hier_prox(torch.ones(3), torch.ones(4, 3), 0.1, 1.0)


def test_grouped_matches_independent_solution():
    rng = np.random.default_rng(4)
    K, H, d = 2, 5, 12
    groups = [[0, 1, 2], [5, 3], [7, 11, 9, 10]]  # 4, 6, 8 stay single
    fg = make_groups(groups, d)
    assert fg.n_groups == 6
    for _ in range(20):
        theta, W = random_instance(rng, K, H, d)
        lam, M = float(rng.choice([0.0, 0.5, 3.0])), float(rng.choice([0.2, 1.0, 5.0]))
        for dtype, tol in [(torch.float64, 1e-9), (torch.float32, 3e-5)]:
            tn, wn = hier_prox_grouped(torch.tensor(theta, dtype=dtype), torch.tensor(W, dtype=dtype), lam, M, fg)
            tn, wn = tn.double().numpy(), wn.double().numpy()
            for g in groups + [[4], [6], [8]]:
                b, w = reference_prox(theta[:, g], W[:, g], lam, M)
                np.testing.assert_allclose(tn[:, g].ravel(), b, atol=tol * 10)
                np.testing.assert_allclose(wn[:, g].ravel(), w, atol=tol * 10)


def test_singleton_groups_equal_flat():
    rng = np.random.default_rng(5)
    theta, W = random_instance(rng, 3, 9, 20)
    t1, w1 = hier_prox(torch.tensor(theta), torch.tensor(W), 0.7, 2.0)
    t2, w2 = hier_prox_grouped(torch.tensor(theta), torch.tensor(W), 0.7, 2.0, make_groups(None, 20))
    assert torch.allclose(t1, t2, atol=1e-14) and torch.allclose(w1, w2, atol=1e-14)


def test_group_leaves_as_a_whole():
    theta = torch.tensor([[1.0, 0.01, 2.0]], dtype=torch.float64)
    W = torch.zeros(3, 3, dtype=torch.float64)
    fg = make_groups([[0, 1]], 3)
    tn, _ = hier_prox_grouped(theta, W, 0.5, 1.0, fg)
    # the small feature 1 stays in because it shares a norm with feature 0
    assert tn[0, 1] != 0 and tn[0, 0] != 0
    # group norm sqrt(1 + 1e-4) ~ 1.00005: just above it the whole group leaves
    tn, _ = hier_prox_grouped(theta, W, 1.0001, 1.0, fg)
    assert tn[0, 0] == 0 and tn[0, 1] == 0 and tn[0, 2] != 0


@pytest.mark.parametrize(
    "groups,msg",
    [([[0, 1], [1, 2]], "disjoint"), ([[0, 5]], "outside"), ([[]], "empty"), ([[0, 0]], "more than once")],
)
def test_bad_groups(groups, msg):
    with pytest.raises(ValueError, match=msg):
        make_groups(groups, 4)


def test_many_clipped_entries_take_the_full_sort():
    """Columns with more clipped entries than the top-k shortcut looks at are exact too."""
    rng = np.random.default_rng(11)
    K, H, d = 2, 60, 30
    theta = rng.normal(size=(K, d)) * 0.05
    W = rng.uniform(0.5, 1.0, size=(H, d)) * rng.choice([-1, 1], size=(H, d))
    for lam, M in [(0.0, 0.02), (0.01, 0.05), (0.0, 1.0)]:
        tn, wn = hier_prox(torch.tensor(theta), torch.tensor(W), lam, M)
        clipped = (np.abs(W) > np.abs(wn.numpy()) + 1e-12).sum(axis=0)
        for j in range(d):
            b, w = reference_prox(theta[:, j], W[:, j], lam, M)
            np.testing.assert_allclose(tn[:, j].numpy(), b, atol=1e-10)
            np.testing.assert_allclose(wn[:, j].numpy(), w, atol=1e-10)
        if M < 0.1:
            assert clipped.max() > 16  # the shortcut's k: this instance needs the fallback
