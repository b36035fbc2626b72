"""The engine's seams: one chooser of steps, steps that agree, callbacks on the path."""

import numpy as np
import pytest
import torch

from deeplasso import LassoNetClassifier
from deeplasso.engine import (
    AutogradStep, Callback, CudaGraphStep, EarlyStopping, FlatStep, KeepBest, LassoNet, NativeEpochStep, PathConfig,
    PlainMLP, cnn_body, fit_path, select_step,
)
from deeplasso.engine.penalty import InputPenalty

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def _chosen(model, device=CPU, groups=None, **cfg):
    config = PathConfig(groups=groups, **cfg)
    return type(select_step(model, config, device, InputPenalty(model, config.M, groups)))


def test_select_step_is_the_one_chooser():
    mlp = lambda: LassoNet(6, 2, (4,))  # noqa: E731
    assert _chosen(mlp()) is NativeEpochStep
    assert _chosen(mlp(), CUDA) is CudaGraphStep  # (built on a CPU model: only the choice is checked)
    assert _chosen(mlp(), groups=[[0, 1], [2, 3]]) is FlatStep  # the grouped prox runs in Python
    assert _chosen(mlp(), torch.device("meta")) is FlatStep
    assert _chosen(mlp(), fast=False) is AutogradStep
    assert _chosen(mlp(), optimizer="sgd") is AutogradStep
    assert _chosen(LassoNet(6, 2, (4,), dropout=0.2)) is AutogradStep
    assert _chosen(LassoNet(36, 2, body=cnn_body((1, 6, 6), 2, (4,)), input_layer="pixel",
                            image_shape=(1, 6, 6))) is AutogradStep
    assert _chosen(PlainMLP(6, 2, (4,))) is AutogradStep


def _problem(n=240, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).long()
    return X[:180], y[:180], X[180:], y[180:]


def _path(factory=None, callbacks=None, **cfg):
    torch.manual_seed(0)
    model = LassoNet(8, 2, (6,)).double()
    config = PathConfig(**{**dict(batch_size=32, path_multiplier=1.3, max_epochs=8, patience=2, seed=0), **cfg})
    return fit_path(model, *_problem(), config, callbacks=callbacks, step_factory=factory)


def _as(kind):
    return lambda model, config, device, penalty, cw: kind(model, config.task, config.lr, penalty, cw)


@pytest.mark.parametrize("kind", [FlatStep, NativeEpochStep], ids=["python-loop", "c-epoch"])
def test_every_step_computes_the_autograd_path(kind):
    """Float64, same seed: the flat step (Python loop or C epoch) gives the path that
    autograd + torch.optim.Adam + hier-prox gives, point for point."""
    ref = _path(fast=False)
    got = _path(_as(kind))
    assert len(got) == len(ref) > 5 and got[-1].n_selected == 0
    for a, b in zip(got, ref):
        assert a.lambda_ == b.lambda_ and a.epochs == b.epochs
        np.testing.assert_allclose(a.theta_norm, b.theta_norm, rtol=1e-8, atol=1e-11)


def test_a_research_variant_is_a_step_subclass():
    """A subclass passed through step_factory sees every epoch and changes nothing it
    does not override."""
    class Counting(NativeEpochStep):
        epochs = 0

        def epoch(self, *args):
            Counting.epochs += 1
            return super().epoch(*args)

    plain, counted = _path(), _path(_as(Counting))
    assert Counting.epochs >= sum(p.epochs for p in counted)  # (the "auto" start's trial epochs too)
    assert [p.n_selected for p in plain] == [p.n_selected for p in counted]
    for a, b in zip(plain, counted):
        np.testing.assert_array_equal(a.theta_norm, b.theta_norm)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_path_begin(self, trainer, path):
        self.events.append(("path_begin",))

    def on_lambda_begin(self, trainer, step, lam):
        self.events.append(("lambda_begin", step, lam))

    def on_epoch_end(self, trainer, step, lam, epoch, val):
        self.events.append(("epoch", step, epoch))

    def on_lambda_end(self, trainer, step, lam):
        self.events.append(("lambda_end", step))

    def on_point(self, trainer, step, point, path):
        assert path.points[-1] is point
        self.events.append(("point", step, point.epochs))

    def on_next_lambda(self, trainer, path, step, lam):
        self.events.append(("next", step, lam))

    def on_path_end(self, trainer, path):
        self.events.append(("path_end", len(path)))


def test_callbacks_see_every_hook_in_order():
    rec = Recorder()
    path = _path(callbacks=[rec])
    ev = rec.events
    assert ev[0] == ("path_begin",) and ev[-1] == ("path_end", len(path))
    points = [e for e in ev if e[0] == "point"]
    assert [e[1] for e in points] == list(range(len(path)))
    assert [e[2] for e in points] == [p.epochs for p in path]
    # per step: begin, its epochs 1..n, end, the point, then the next lambda is scheduled
    i = 1
    for s, p in enumerate(path):
        assert ev[i] == ("lambda_begin", s, p.lambda_)
        assert ev[i + 1:i + 1 + p.epochs] == [("epoch", s, e) for e in range(1, p.epochs + 1)]
        i += 1 + p.epochs
        assert ev[i:i + 2] == [("lambda_end", s), ("point", s, p.epochs)]
        nxt = ev[i + 2]
        assert nxt[0] == "next" and nxt[1] == s + 1
        if s + 1 < len(path):
            assert nxt[2] == path[s + 1].lambda_
        i += 3
    assert i == len(ev) - 1


def test_a_callback_can_end_training_at_a_lambda():
    class TwoEpochs(Callback):
        def on_epoch_end(self, trainer, step, lam, epoch, val):
            return epoch >= 2

    path = _path(callbacks=[TwoEpochs()], max_epochs=50, patience=50)
    assert all(p.epochs == 2 for p in path)


def test_an_early_stopping_callback_replaces_the_default():
    patient = _path(max_epochs=30, patience=30)
    assert all(p.epochs == 30 for p in patient[1:])
    class Impatient(EarlyStopping):
        used = 0

        def on_lambda_begin(self, trainer, step, lam):
            Impatient.used += 1
            super().on_lambda_begin(trainer, step, lam)

    quick = _path(callbacks=[Impatient(patience=1, tol=0.5)], max_epochs=30, patience=30)
    assert Impatient.used == len(quick)  # it ran every step: the default one did not
    assert all(p.epochs < 30 for p in quick[1:]) and min(p.epochs for p in quick[1:]) == 2
    with pytest.raises(ValueError, match="more than one EarlyStopping"):
        _path(callbacks=[EarlyStopping(), EarlyStopping()])


def test_keep_best_keeps_the_best_point_within_its_limit():
    keep = KeepBest(limit=4)
    path = _path(callbacks=[keep])
    allowed = [i for i, p in enumerate(path) if 0 < p.n_selected <= 4]
    assert allowed
    want = max(allowed, key=lambda i: (path[i].val_score, -path[i].val_loss))
    assert keep.index == want and keep.state is not None


def test_estimator_fit_passes_callbacks_on(xor240):
    X, y = xor240
    rec = Recorder()
    sel = LassoNetClassifier(hidden_dims=(8,), path_multiplier=1.3, max_epochs=5, verbose=0,
                             random_state=0).fit(X, y, callbacks=[rec])
    assert sum(e[0] == "point" for e in rec.events) == len(sel.path_)
