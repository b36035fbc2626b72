"""The path settings of issue 15 (docs/selection.md): epochs that mean the same training
whatever the batch size, the dense model's own patience, the adaptive path multiplier and
the estimators' "auto" path optimiser."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from deeplasso import LassoNet, LassoNetClassifier, PathConfig, fit_path
from deeplasso.engine import Callback, EarlyStopping
from deeplasso.engine.path import AUTO_FIRST, AUTO_MAX, AUTO_MIN, next_multiplier
from deeplasso.engine.results import PathPoint
from deeplasso.engine.trainer import passes_per_epoch


@pytest.mark.parametrize("batch, steps, want", [(64, "auto", 1), (None, "auto", 16), (128, "auto", 2),
                                                (32, "auto", 1), (None, None, 1), (None, 40, 40), (500, 5, 2)])
def test_passes_per_epoch(batch, steps, want):
    assert passes_per_epoch(PathConfig(batch_size=batch, steps_per_epoch=steps), 1005) == want


def test_passes_per_epoch_rejects_nonsense():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        passes_per_epoch(PathConfig(steps_per_epoch="often"), 100)


def _data(n=120, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    return X, y


def test_a_full_batch_epoch_makes_as_many_steps_as_a_batch_64_pass():
    X, y = _data(n=256)
    steps = []

    class Count(Callback):
        def on_epoch_end(self, trainer, step, lam, epoch, val):
            steps.append(trainer.passes)
            return True

    torch.manual_seed(0)
    fit_path(LassoNet(6, 2, (4,)), X, y, X, y, PathConfig(batch_size=None, steps_per_epoch="auto", max_epochs=1,
                                                          lambda_start=1.0, lambda_max=1.0),
             callbacks=[Count()])
    assert steps and set(steps) == {4}  # 256 rows: 4 batches of 64, so 4 full-batch steps per epoch


def test_dense_patience_applies_at_the_dense_model_only():
    X, y = _data()
    torch.manual_seed(0)
    es = EarlyStopping(patience=1, tol=0.5, dense_patience=7)
    path = fit_path(LassoNet(6, 2, (4,)), X, y, X, y,
                    PathConfig(max_epochs=200, lambda_start=1.0, lambda_max=1.0), callbacks=[es])
    assert path[0].epochs >= 8  # at least dense_patience + 1 epochs
    assert path[1].epochs <= 3  # patience 1 with a 50% tolerance stops the lambda step at once


def _pt(lam, n):
    return PathPoint(lambda_=lam, theta_norm=np.ones(n), train_loss=0, train_score=0, val_loss=0, val_score=0,
                     val_objective=0, epochs=1, seconds=0)


def test_next_multiplier():
    fixed = PathConfig(path_multiplier=1.3)
    assert next_multiplier(fixed, _pt(1.0, 10), _pt(1.3, 2)) == 1.3
    auto = PathConfig(path_multiplier="auto", n_features_stop=10)
    assert next_multiplier(auto, _pt(0.0, 100), _pt(5.0, 100)) == AUTO_FIRST
    # nothing left: the log ratio doubles
    assert math.isclose(next_multiplier(auto, _pt(1.0, 100), _pt(1.02, 100)), 1.02 ** 2)
    # 30 left over log(1.02): to remove a tenth of the 50 above the target, 5/30 of that
    assert math.isclose(next_multiplier(auto, _pt(1.0, 90), _pt(1.02, 60)), 1.02 ** (5 / 30))
    assert next_multiplier(auto, _pt(1.0, 1000), _pt(1.02, 11)) == pytest.approx(AUTO_MIN)
    assert next_multiplier(auto, _pt(1.0, 100), _pt(1.25, 100)) == pytest.approx(AUTO_MAX)


def test_auto_multiplier_path_reaches_the_target_a_few_features_at_a_time():
    X, y = _data(n=200, d=12)
    torch.manual_seed(0)
    path = fit_path(LassoNet(12, 2, (8,)), X, y, X, y,
                    PathConfig(path_multiplier="auto", n_features_stop=3, max_epochs=20, patience=3))
    ratios = np.asarray(path.lambdas[2:]) / np.asarray(path.lambdas[1:-1])
    assert path[-1].n_selected <= 3
    assert np.all(ratios >= AUTO_MIN * (1 - 1e-9)) and np.all(ratios <= AUTO_MAX * (1 + 1e-9))


def test_estimator_auto_path_optimizer_is_sgd_for_full_batch_only():
    seen = []

    class Stop(Exception):
        pass

    class Read(Callback):
        def on_path_begin(self, trainer, path):
            seen.append((trainer.cfg.path_optimizer, trainer.cfg.steps_per_epoch))
            raise Stop

    X, y = _data()
    for batch in (None, 64):
        with pytest.raises(Stop):
            LassoNetClassifier(batch_size=batch, path_optimizer="auto", verbose=0, device="cpu").fit(
                X.numpy(), y.numpy(), callbacks=[Read()])
    assert [s[0] for s in seen] == ["sgd", "same"]


@pytest.mark.parametrize("fast", [True, False])
def test_dense_lr_trains_the_dense_model_only(fast):
    """``dense_lr``: the dense model is the one a path at that lr starts with; the lambda
    steps then train at ``lr`` (a fresh optimiser); ``dense_lr == lr`` is the plain path."""
    X, y = _data(n=200)
    base = dict(max_epochs=8, patience=3, lambda_start=0.5, path_multiplier=1.5, batch_size=32, store_weights=True,
                fast=fast, seed=1)

    def run(**kw):
        torch.manual_seed(0)
        return fit_path(LassoNet(6, 2, (4,)), X[:150], y[:150], X[150:], y[150:], PathConfig(**{**base, **kw}))

    slow, fast_path, mixed = run(lr=1e-4), run(lr=1e-2), run(lr=1e-2, dense_lr=1e-4)
    for k in slow[0].state:  # the same dense model as a path run at dense_lr
        np.testing.assert_array_equal(mixed[0].state[k], slow[0].state[k])
    assert not np.array_equal(mixed[0].state["input_weight"], fast_path[0].state["input_weight"])
    # the lambda steps move at lr: after the first one the weights are far from the slow path's
    moved = np.abs(mixed[1].state["input_weight"] - mixed[0].state["input_weight"]).max()
    moved_slow = np.abs(slow[1].state["input_weight"] - slow[0].state["input_weight"]).max()
    assert moved > 5 * moved_slow
    same = run(lr=1e-2, dense_lr=1e-2)
    assert [p.lambda_ for p in same] == [p.lambda_ for p in fast_path]
    for a, b in zip(same, fast_path):
        np.testing.assert_array_equal(a.state["input_weight"], b.state["input_weight"])


def test_estimators_pass_dense_lr_and_refuse_nonsense():
    X, y = _data(n=150)
    X, y = X.numpy(), y.numpy()
    est = LassoNetClassifier(hidden_dims=(4,), dense_lr=1e-4, lambda_start=0.5, path_multiplier=2.0, max_epochs=5,
                             random_state=0).fit(X, y)
    assert est.path_.meta["dense_lr"] == 1e-4 and est.path_.meta["lr"] == 1e-3
    with pytest.raises(ValueError, match="dense_lr"):
        LassoNetClassifier(dense_lr=0.0).fit(X, y)


def test_auto_dense_lr_keeps_the_better_of_lr_and_a_tenth():
    """``dense_lr="auto"`` is the path of ``dense_lr=None`` where the dense model at ``lr``
    validates better, and the path of ``dense_lr=lr/10`` where that one does, bit for bit."""
    X, y = _data(n=200)
    base = dict(max_epochs=8, patience=3, lambda_start=0.5, path_multiplier=1.5, batch_size=32, store_weights=True,
                seed=1)

    def run(**kw):
        torch.manual_seed(0)
        return fit_path(LassoNet(6, 2, (4,)), X[:150], y[:150], X[150:], y[150:], PathConfig(**{**base, **kw}))

    def same(p, q):
        assert [a.lambda_ for a in p] == [b.lambda_ for b in q]
        for a, b in zip(p, q):
            for k in a.state:
                np.testing.assert_array_equal(a.state[k], b.state[k])

    # lr 1e-2 over 8 epochs beats a tenth of it: auto is the plain path
    auto, plain = run(lr=1e-2, dense_lr="auto"), run(lr=1e-2)
    assert auto.meta["dense_lr_used"] == 1e-2
    same(auto, plain)
    # lr 100 is far too large for the dense model: auto takes 10's dense model and goes on at 100
    auto, tenth, big = run(lr=100.0, dense_lr="auto"), run(lr=100.0, dense_lr=10.0), run(lr=100.0)
    assert auto.meta["dense_lr_used"] == pytest.approx(10.0) and auto[0].val_loss < big[0].val_loss
    same(auto, tenth)


@pytest.mark.parametrize("fast", [True, False])
def test_the_path_after_a_slower_dense_model_runs_at_lr_with_its_moments(fast):
    """After the dense model at ``dense_lr`` the step is at ``lr`` (torch's optimisers
    included, whose saved state holds a step size) and keeps the dense run's moments."""
    from deeplasso.engine.trainer import Trainer

    X, y = _data(n=100)
    torch.manual_seed(0)
    cfg = PathConfig(lr=1e-2, dense_lr=1e-4, fast=fast, batch_size=32)
    tr = Trainer(LassoNet(6, 2, (4,)), X, y, X, y, cfg, torch.Generator().manual_seed(0))
    assert tr.step.lr == 1e-4
    tr.run_epoch(0.0)
    before = tr.step.state_dict()
    tr.begin_path()
    assert tr.step.lr == 1e-2
    if not fast:
        assert all(g["lr"] == 1e-2 for g in tr.step.opt.param_groups)
    after = tr.step.state_dict()
    moments = (lambda st: [v for v in st["state"].values()]) if not fast else (lambda st: [st])
    for a, b in zip(moments(before), moments(after)):
        for k in a:
            if isinstance(a[k], torch.Tensor):
                assert torch.equal(a[k], b[k]), k
