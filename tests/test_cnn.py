"""CNN bodies: the per-pixel feature layer, the hier-prox on it, CNN paths, errors."""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone

from deeplasso import LassoNetClassifier, PathConfig, fit_path
from deeplasso.engine import AutogradStep, CNNBody, FlatStep, LassoNet, Trainer, cnn_body, mlp_body

SHAPE = (1, 6, 6)
PATCH = [2 * 6 + 2, 2 * 6 + 3, 3 * 6 + 2, 3 * 6 + 3]  # the 2x2 patch that carries the label
FAST = dict(body="cnn", conv_channels=(4,), pixel_channels=2, batch_size=64, lr=1e-2, max_epochs=8,
            patience=2, path_multiplier=1.5, verbose=0)


def planted(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 36)).astype(np.float32)
    y = (X[:, PATCH].sum(1) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = planted()
    return LassoNetClassifier(**FAST, store_path_weights=True, random_state=0).fit(X, y)


def test_pixel_layer_equals_a_dense_block_diagonal_layer():
    torch.manual_seed(0)
    C, H, W, C0, K = 3, 4, 5, 2, 4
    d = C * H * W
    body = cnn_body((C, H, W), K, (6, 5), pixel_channels=C0)
    assert isinstance(body, CNNBody) and body.in_features == C0 * H * W
    model = LassoNet(d, K, body=body, input_layer="pixel", image_shape=(C, H, W)).double()
    assert model.input_weight.shape == (K + C0, d) and model.input_bias.shape == (K + C0 * H * W,)
    assert model.n_hidden0 == C0 and not model.is_mlp
    # the same model with a dense input layer whose W0 only links a pixel to its own units
    dense = LassoNet(d, K, body=copy.deepcopy(body)).double()
    P = H * W
    W0 = torch.zeros(C0 * P, d, dtype=torch.float64)
    w0 = model.W0.detach().view(C0, C, P)
    for o in range(C0):
        for c in range(C):
            W0[o * P + torch.arange(P), c * P + torch.arange(P)] = w0[o, c]
    with torch.no_grad():
        dense.input_weight.copy_(torch.cat([model.theta, W0]))
        dense.input_bias.copy_(model.input_bias)
    x = torch.randn(7, d, dtype=torch.float64)
    out = model(x)
    assert out.shape == (7, K) and out.dtype == torch.float64
    torch.testing.assert_close(out, dense(x), rtol=1e-12, atol=1e-12)


def test_cnn_and_user_bodies_take_the_autograd_step():
    cnn = LassoNet(36, 2, body=cnn_body(SHAPE, 2, (4,)), input_layer="pixel", image_shape=SHAPE)
    assert not FlatStep.supports(cnn, "adam")
    assert not FlatStep.supports(LassoNet(36, 2, body=torch.nn.Linear(5, 2, bias=False)), "adam")
    assert FlatStep.supports(LassoNet(36, 2, (8,)), "adam")
    assert FlatStep.supports(LassoNet(36, 2, body=mlp_body((8,), 2)), "adam")
    X = torch.randn(20, 36)
    trainer = Trainer(cnn, X, torch.zeros(20, dtype=torch.int64), X, torch.zeros(20, dtype=torch.int64),
                       PathConfig(), torch.Generator())
    assert isinstance(trainer.step, AutogradStep)


def test_cnn_path_runs_to_empty_keeps_the_hierarchy_and_ranks_the_planted_patch_top(fitted):
    path = fitted.path_
    assert path.n_selected[0] == 36 and path.n_selected[-1] == 0
    assert set(fitted.ranking_[:4].tolist()) == set(PATCH)
    M = fitted.M
    for point in list(path)[1:]:
        w = torch.as_tensor(point.state["input_weight"])
        theta, W0 = w[:2], w[2:]
        assert W0.shape == (2, 36)
        assert bool((W0.abs().amax(0) <= M * theta.norm(dim=0) + 1e-6).all())
    m = fitted.module_
    assert bool((m.W0.abs().amax(0) <= M * m.theta.norm(dim=0) + 1e-6).all())
    X, y = planted(200, seed=1)
    assert fitted.score(X, y) > 0.8
    assert fitted.image_shape_ == SHAPE  # inferred: a square one-channel image
    assert np.isfinite(fitted.path_scores(X, y)).all()


def test_same_seed_same_cnn_path(fitted):
    X, y = planted()
    again = LassoNetClassifier(**FAST, store_path_weights=True, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.path_.lambdas, fitted.path_.lambdas)
    for a, b in zip(again.path_, fitted.path_):
        np.testing.assert_array_equal(a.theta_norm, b.theta_norm)


def test_float64_cnn_path_is_deterministic():
    X, y = planted(120)

    def run():
        torch.manual_seed(3)
        model = LassoNet(36, 2, body=cnn_body(SHAPE, 2, (3,), pixel_channels=2), input_layer="pixel",
                         image_shape=SHAPE).double()
        Xt = torch.as_tensor(X, dtype=torch.float64)
        yt = torch.as_tensor(y)
        cfg = PathConfig(lambda_start=1.0, path_multiplier=2.0, max_epochs=3, patience=1, lr=1e-2, seed=3)
        return fit_path(model, Xt, yt, Xt, yt, cfg)

    a, b = run(), run()
    assert a[0].theta_norm.dtype == np.float64 and a.n_selected[-1] == 0
    np.testing.assert_array_equal(np.stack([p.theta_norm for p in a]), np.stack([p.theta_norm for p in b]))


def test_cnn_with_pixel_groups_keeps_a_pixels_channels_together():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2 * 4 * 4)).astype(np.float32)
    y = (X[:, 5] + X[:, 16 + 5] > 0).astype(int)  # both channels of pixel 5
    groups = [[p, 16 + p] for p in range(16)]
    est = LassoNetClassifier(**{**FAST, "path_multiplier": 2.0}, image_shape=(2, 4, 4), groups=groups,
                             random_state=0).fit(X, y)
    sel = est.path_.selected
    np.testing.assert_array_equal(sel[:, :16], sel[:, 16:])
    assert set(est.ranking_[:2].tolist()) == {5, 21}


def test_cnn_parameters_survive_clone_and_set_params():
    est = LassoNetClassifier(body="cnn", image_shape=(1, 6, 6), conv_channels=(8,), pixel_channels=3)
    params = clone(est).get_params()
    assert params["body"] == "cnn" and params["image_shape"] == (1, 6, 6)
    assert params["conv_channels"] == (8,) and params["pixel_channels"] == 3
    assert clone(est.set_params(conv_channels=(2, 2))).conv_channels == (2, 2)


@pytest.mark.parametrize("params,match", [
    (dict(body="rnn"), r"'body' parameter .* must be a str among .*'cnn'.*Got 'rnn'"),
    (dict(body="cnn", image_shape=(1, 5, 5)), r"holds 25 values but X has n_features=36"),
    (dict(body="cnn", image_shape=(6, 6)), r"expected \(channels, height, width\)"),
    (dict(body="cnn", image_shape=(1, 6, -6)), "three positive ints"),
    (dict(body="cnn", conv_channels=()), "conv_channels=.* is invalid"),
    (dict(body="cnn", pixel_channels=0), r"'pixel_channels' parameter .* must be an int in the range \[1, inf\)\. Got 0"),
])
def test_bad_cnn_parameters_raise_clear_errors(params, match):
    X, y = planted(40)
    with pytest.raises(ValueError, match=match):
        LassoNetClassifier(verbose=0, **params).fit(X, y)


def test_image_shape_that_cannot_be_inferred_is_asked_for():
    X, y = planted(40)
    with pytest.raises(ValueError, match="needs image_shape"):
        LassoNetClassifier(body="cnn", verbose=0).fit(X[:, :10], y)


def test_module_errors_on_bodies_it_cannot_wire():
    with pytest.raises(ValueError, match="in_features"):
        LassoNet(36, 2, body=torch.nn.Sequential(torch.nn.Linear(5, 2)))
    with pytest.raises(ValueError, match="image_shape"):
        LassoNet(36, 2, body=cnn_body(SHAPE, 2), input_layer="pixel", image_shape=(1, 5, 5))
    with pytest.raises(ValueError, match="input_layer"):
        LassoNet(36, 2, body=cnn_body(SHAPE, 2), input_layer="conv")
