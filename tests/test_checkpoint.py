"""A path killed mid-way resumes from its checkpoint and ends exactly as an
uninterrupted one; mismatched checkpoints are refused."""

import numpy as np
import pytest
import torch

from deeplasso import CheckpointMismatchError, LassoNet, LassoNetClassifier, PathConfig, fit_path

QUICK = dict(hidden_dims=(8,), lr=3e-3, max_epochs=15, patience=3, path_multiplier=1.4, batch_size=32,
             verbose=0)


@pytest.fixture(scope="module")
def data(xor240):
    return xor240


class Crash(RuntimeError):
    pass


def _engine_inputs(data, fast=True, path_optimizer="same", dense_lr=None):
    X, y = data
    t = torch.as_tensor
    cfg = PathConfig(lr=3e-3, max_epochs=10, patience=3, path_multiplier=1.5, batch_size=32, seed=3,
                     store_weights=True, fast=fast, path_optimizer=path_optimizer, dense_lr=dense_lr)
    torch.manual_seed(0)
    model = LassoNet(10, 2, (8,))
    return model, t(X[:200]), t(y[:200]), t(X[200:]), t(y[200:]), cfg


def _same(p, q):
    assert len(p) == len(q)
    for a, b in zip(p, q):
        assert a.lambda_ == b.lambda_ and a.epochs == b.epochs
        np.testing.assert_array_equal(a.theta_norm, b.theta_norm)
        assert a.val_loss == b.val_loss
        for k in a.state:
            np.testing.assert_array_equal(a.state[k], b.state[k])


@pytest.mark.parametrize("fast, crash_at, path_optimizer, dense_lr",
                         [(fast, c, o, None) for fast in (True, False) for c in (0, 3) for o in ("same", "sgd")]
                         + [(True, 3, o, dl) for o in ("same", "sgd") for dl in (1e-3, "auto")])
def test_resume_after_crash_is_bit_for_bit(data, tmp_path, fast, crash_at, path_optimizer, dense_lr):
    full = fit_path(*_engine_inputs(data, fast, path_optimizer, dense_lr))
    ckpt = tmp_path / "ckpt.pt"

    def die(i, point, model):
        if i == crash_at:
            raise Crash

    with pytest.raises(Crash):
        fit_path(*_engine_inputs(data, fast, path_optimizer, dense_lr), callback=die, checkpoint=ckpt)
    assert ckpt.exists() == (crash_at > 0)  # the dense point's checkpoint comes after lambda_start
    seen = []
    resumed = fit_path(*_engine_inputs(data, fast, path_optimizer, dense_lr), checkpoint=ckpt,
                       callback=lambda i, p, m: seen.append(i))
    _same(full, resumed)
    assert resumed.meta["lambda_start_used"] == full.meta["lambda_start_used"]
    # finished steps are not redone
    assert seen == list(range(crash_at, len(full)))


def test_checkpoint_of_finished_path_returns_it(data, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    first = fit_path(*_engine_inputs(data), checkpoint=ckpt)
    calls = []
    again = fit_path(*_engine_inputs(data), checkpoint=ckpt, callback=lambda *a: calls.append(a))
    _same(first, again)
    assert calls == []


def test_mismatched_checkpoint_is_refused(data, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    fit_path(*_engine_inputs(data), checkpoint=ckpt)
    model, X, y, Xv, yv, cfg = _engine_inputs(data)
    cfg.path_multiplier = 1.3
    with pytest.raises(CheckpointMismatchError, match="path_multiplier=1.5 there, 1.3 now"):
        fit_path(model, X, y, Xv, yv, cfg, checkpoint=ckpt)
    model, X, y, Xv, yv, cfg = _engine_inputs(data)
    with pytest.raises(CheckpointMismatchError, match="other data"):
        fit_path(model, X * 2, y, Xv, yv, cfg, checkpoint=ckpt)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatchError, match="Delete it"):
        fit_path(*_engine_inputs(data), checkpoint=tmp_path / "junk.pt")


def test_estimator_resumes_to_the_same_model(data, tmp_path):
    X, y = data
    ref = LassoNetClassifier(**QUICK, random_state=0).fit(X, y)
    ckpt = tmp_path / "est.pt"
    # simulate a kill: fit to a point, keep the checkpoint as it was then
    with_ckpt = LassoNetClassifier(**QUICK, random_state=0).fit(X, y, checkpoint=ckpt)
    assert with_ckpt.best_index_ == ref.best_index_
    np.testing.assert_array_equal(with_ckpt.feature_importances_, ref.feature_importances_)
    np.testing.assert_array_equal(with_ckpt.predict_proba(X), ref.predict_proba(X))
    # weights were kept only for the checkpoint, not in path_
    assert all(p.state is None for p in with_ckpt.path_)
    resumed = LassoNetClassifier(**QUICK, random_state=0).fit(X, y, checkpoint=ckpt)
    np.testing.assert_array_equal(resumed.predict_proba(X), ref.predict_proba(X))


def test_resume_is_exact_while_the_active_set_is_engaged(tmp_path):
    """Crash at a point where features are out of the first layer's matmuls: the
    resumed path screens, trains and ends exactly as the uninterrupted one."""
    from deeplasso.engine import FlatStep

    g = np.random.default_rng(0)
    X = g.standard_normal((360, 40)).astype(np.float32)
    w = np.zeros((40, 3))
    w[:5] = g.standard_normal((5, 3)) * 2
    y = (X @ w + 0.5 * np.sin(X[:, :5]).sum(1, keepdims=True)).argmax(1)
    t = torch.as_tensor

    def inputs():
        torch.manual_seed(0)
        cfg = PathConfig(batch_size=32, path_multiplier=1.1, patience=3, max_epochs=20, seed=0, store_weights=True)
        return LassoNet(40, 3, (8,)), t(X[:280]), t(y[:280]), t(X[280:]), t(y[280:]), cfg

    points_done = [0]
    engaged_at = []  # points finished when the active set was first engaged
    orig = FlatStep.set_active

    def spy(self, active):
        if active is not None:
            engaged_at.append(points_done[0])
        return orig(self, active)

    def count(i, point, model):
        points_done[0] = i + 1

    FlatStep.set_active = spy
    try:
        full = fit_path(*inputs(), callback=count)
        assert engaged_at, "the active set was never used"
        crash_at = engaged_at[0] + 2  # two lambda steps trained on the active columns
        assert crash_at < len(full) - 1, "the active set engaged too late for this test"
        ckpt = tmp_path / "ckpt.pt"

        def die(i, point, model):
            if i == crash_at:
                raise Crash

        with pytest.raises(Crash):
            fit_path(*inputs(), callback=die, checkpoint=ckpt)
        resumed = fit_path(*inputs(), checkpoint=ckpt)
    finally:
        FlatStep.set_active = orig
    _same(full, resumed)
