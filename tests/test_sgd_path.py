"""path_optimizer="sgd": the reference package's path (SGD with momentum after an Adam
dense model, steps ending on their last epoch), in the C epoch."""

import numpy as np
import pytest
import torch

from deeplasso import LassoNet, LassoNetClassifier, PathConfig, fit_path
from deeplasso.engine import Callback


@pytest.fixture(scope="module")
def planted(xor240):
    return xor240


def _path(planted, fast):
    X, y = planted
    t = torch.as_tensor
    cfg = PathConfig(lr=3e-3, max_epochs=10, patience=3, path_multiplier=1.5, batch_size=32, seed=3,
                     lambda_start=0.05, fast=fast, path_optimizer="sgd")
    torch.manual_seed(0)
    model = LassoNet(10, 2, (8,)).double()
    return fit_path(model, t(X[:200]).double(), t(y[:200]), t(X[200:]).double(), t(y[200:]), cfg)


def test_fast_sgd_path_equals_torch_sgd(planted):
    """The whole path on the fast step (C epoch, SGD in the kernel) equals the one through
    autograd + torch.optim.SGD(momentum=0.9) + hier-prox, in float64."""
    fast, slow = _path(planted, True), _path(planted, False)
    assert len(fast) == len(slow) > 5 and fast[-1].n_selected == 0
    for a, b in zip(fast, slow):
        assert a.lambda_ == b.lambda_ and a.epochs == b.epochs
        np.testing.assert_allclose(a.theta_norm, b.theta_norm, rtol=1e-9, atol=1e-12)


def test_sgd_path_switches_after_the_dense_model(planted):
    X, y = planted
    t = torch.as_tensor
    cfg = PathConfig(lr=3e-3, max_epochs=5, patience=3, path_multiplier=1.5, batch_size=32, seed=3,
                     lambda_start=0.05, path_optimizer="sgd", n_features_stop=9)
    torch.manual_seed(0)
    model = LassoNet(10, 2, (8,))
    modes = []

    class UpdateRule(Callback):  # the step's rule after every epoch
        def on_epoch_end(self, trainer, step, lam, epoch, val):
            modes.append(trainer.step.sgd_momentum)

    path = fit_path(model, t(X[:200]), t(y[:200]), t(X[200:]), t(y[200:]), cfg, callbacks=[UpdateRule()])
    dense = path[0].epochs
    assert all(m is None for m in modes[:dense])  # Adam for the dense model
    assert modes[-1] == 0.9  # SGD with momentum on the path


def test_estimator_sgd_path_recovers_the_planted_support(planted):
    X, y = planted
    clf = LassoNetClassifier(hidden_dims=(8,), lr=3e-3, max_epochs=30, patience=5, path_multiplier=1.2,
                             batch_size=32, path_optimizer="sgd", random_state=0, verbose=0).fit(X, y)
    assert clf.path_[-1].n_selected == 0
    assert set(clf.ranking_[:3]) == {0, 1, 2}
    # "auto" on SGD's scale: the first step keeps every feature, and they begin to leave
    # within the next three
    n = [p.n_selected for p in clf.path_]
    assert n[1] == 10 and min(n[2:5]) < 10
    with pytest.raises(ValueError, match="path_optimizer"):
        LassoNetClassifier(path_optimizer="momentum", max_epochs=2, verbose=0).fit(X, y)
