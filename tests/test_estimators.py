"""Estimator behaviour: planted support, determinism, the path's properties, errors."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deeplasso import LassoNetClassifier, LassoNetRegressor, NonFiniteLossError, Path

QUICK = dict(hidden_dims=(16,), lr=3e-3, max_epochs=30, patience=5, path_multiplier=1.25, batch_size=64,
             verbose=0)


@pytest.fixture(scope="module")
def planted_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 12)).astype(np.float32)
    y = 2 * X[:, 0] + 2 * np.sin(2 * X[:, 1]) + 1.5 * X[:, 2] * X[:, 3] + 0.1 * rng.normal(size=600)
    return X, y


@pytest.fixture(scope="module")
def planted_classification():
    """Labels from features 0, 1, 2 only, through an XOR (no linear model separates them)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 15)).astype(np.float32)
    y = ((X[:, 0] + X[:, 1] > 0) ^ (X[:, 2] > 0)).astype(np.int64)
    return X, y


@pytest.fixture(scope="module")
def fitted_regressor(planted_regression):
    X, y = planted_regression
    return LassoNetRegressor(**QUICK, random_state=0, store_path_weights=True).fit(X, y)


def test_recovers_planted_support_regression(fitted_regressor):
    top = set(fitted_regressor.ranking_[:4].tolist())
    assert top == {0, 1, 2, 3}
    # the interaction pair x2*x3 and sin(x1) are non-linear: a plain lasso could not rank them
    assert fitted_regressor.score(*_holdout_regression()) > 0.7


def _holdout_regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 12)).astype(np.float32)
    y = 2 * X[:, 0] + 2 * np.sin(2 * X[:, 1]) + 1.5 * X[:, 2] * X[:, 3]
    return X, y


def test_recovers_planted_support_classification(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**QUICK, random_state=0, n_features_to_select=3).fit(X, y)
    assert set(np.flatnonzero(clf.get_support()).tolist()) == {0, 1, 2}
    assert clf.transform(X).shape == (600, 3)
    assert clf.score(X, y) > 0.9


def test_path_runs_from_all_features_to_none(fitted_regressor):
    path = fitted_regressor.path_
    assert path[0].lambda_ == 0.0 and path[0].n_selected == 12
    assert path[-1].n_selected == 0
    lambdas = path.lambdas
    assert np.all(np.diff(lambdas) > 0)
    np.testing.assert_allclose(lambdas[2:] / lambdas[1:-1], QUICK["path_multiplier"])
    imp = path.feature_importances("lambda")
    assert isinstance(imp, np.ndarray) and np.all(np.isfinite(imp)) and np.all(imp <= lambdas[-1])
    sel = path.selected
    never_back = ~(np.diff(sel.astype(int), axis=0) > 0).any(axis=0)
    first_out = np.argmax(~sel, axis=0)
    # a feature that never came back has the lambda at which it left as importance
    np.testing.assert_allclose(imp[never_back], lambdas[first_out[never_back]])
    # with no n_features_to_select, importance="auto" (the default) is the paper's lambda
    assert fitted_regressor.importance_ == "lambda" and fitted_regressor.importance_val_loss_ == {}
    np.testing.assert_array_equal(fitted_regressor.feature_importances_, imp)
    # importance "norm": the sum of ||theta_j|| over the lambda steps, the dense model left
    # out, computed here independently from the stored weights
    norms = np.array([[np.linalg.norm(p.state["input_weight"][:1, j]) for j in range(12)] for p in path])
    np.testing.assert_allclose(path.feature_importances("norm"), norms[1:].sum(axis=0), rtol=1e-5)
    order = path.ranking("norm")
    assert np.all(np.diff(path.feature_importances("norm")[order]) <= 0)


def test_hierarchy_constraint_holds_at_every_point(fitted_regressor):
    M = fitted_regressor.M
    for point in fitted_regressor.path_:
        W = point.state["input_weight"]
        theta, W0 = W[:1], W[1:]
        lhs = np.abs(W0).max(axis=0)
        rhs = M * np.linalg.norm(theta, axis=0)
        assert np.all(lhs <= rhs * (1 + 1e-5) + 1e-7)
        # a feature out of the skip layer is out of the first layer too
        assert np.all(W0[:, point.theta_norm == 0] == 0)


def test_fit_ends_on_best_validation_point(fitted_regressor):
    path = fitted_regressor.path_
    best = fitted_regressor.best_index_
    assert path[best].val_score == max(p.val_score for p in path if p.n_selected > 0)


def test_same_seed_same_path_bit_for_bit(planted_classification):
    X, y = planted_classification
    a = LassoNetClassifier(**QUICK, random_state=3).fit(X, y)
    b = LassoNetClassifier(**QUICK, random_state=3).fit(X, y)
    assert len(a.path_) == len(b.path_)
    for p, q in zip(a.path_, b.path_):
        assert p.lambda_ == q.lambda_ and p.val_loss == q.val_loss and p.epochs == q.epochs
        assert np.array_equal(p.theta_norm, q.theta_norm)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = LassoNetClassifier(**QUICK, random_state=4).fit(X, y)
    assert any(p.val_loss != q.val_loss for p, q in zip(a.path_, c.path_))


def test_string_labels_proba_and_numpy_out(planted_classification):
    X, y = planted_classification
    names = np.array(["cat", "dog"])[y]
    clf = LassoNetClassifier(**QUICK, random_state=0, class_weight="balanced").fit(X, names)
    assert list(clf.classes_) == ["cat", "dog"]
    pred = clf.predict(X)
    assert isinstance(pred, np.ndarray) and set(pred) <= {"cat", "dog"}
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.shape == (600, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert isinstance(clf.score(X, names), float)
    assert clf.get_feature_names_out().shape == (clf.n_features_selected_,)


def test_multi_output_regression(planted_regression):
    X, y = planted_regression
    Y = np.stack([y, X[:, 4] * 3], axis=1)
    reg = LassoNetRegressor(**QUICK, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (600, 2)
    assert set(reg.ranking_[:5].tolist()) == {0, 1, 2, 3, 4}


def test_dropout_model_predicts_in_eval_mode(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**QUICK, dropout=0.5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_clone_pipeline_gridsearch_keep_hyperparameters(planted_classification):
    X, y = planted_classification
    est = LassoNetClassifier(**QUICK, M=3.0, groups=[[0, 1]], random_state=0)
    assert clone(est).get_params() == est.get_params()
    pipe = make_pipeline(StandardScaler(), est)
    gs = GridSearchCV(pipe, {"lassonetclassifier__M": [1.0, 5.0]}, cv=2).fit(X[:200], y[:200])
    best = gs.best_estimator_[-1]
    assert best.M in (1.0, 5.0) and best.groups == [[0, 1]] and best.path_multiplier == QUICK["path_multiplier"]


def test_groups_leave_together(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**QUICK, groups=[[5, 6, 7], [8, 9]], random_state=0).fit(X, y)
    for point in clf.path_:
        s = point.selected
        assert s[5] == s[6] == s[7] and s[8] == s[9]


def test_n_features_to_select_stops_the_path(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**QUICK, n_features_to_select=0.4, random_state=0).fit(X, y)
    assert clf.path_[-1].n_selected <= 6 < clf.path_[-2].n_selected
    assert clf.get_support().sum() == 6
    assert clf.path_[clf.best_index_].n_selected <= 6


@pytest.mark.parametrize("extra", [{}, {"optimizer": "adam"}, {"groups": [[3, 4], [5, 6]]}],
                         ids=["fast-step", "torch-optimizer", "groups"])
def test_refit_trains_only_the_support_and_beats_the_shrunk_path_model(planted_classification, extra):
    """``refit=True`` leaves the path and the selection alone, keeps every other feature at
    exactly zero and the hierarchy in force, and, far along the path, predicts much better
    than the penalised point. Runs on the fast step (the support as active set), on a
    torch optimiser and with groups (both: the held-out columns zeroed after every step)."""
    X, y = planted_classification
    kw = dict(QUICK, n_features_to_select=3, random_state=0, **extra)
    if "optimizer" in extra:  # a callable bypasses the fast step
        kw["optimizer"] = lambda params, lr: torch.optim.Adam(params, lr=lr)
    plain = LassoNetClassifier(**kw, refit=False).fit(X, y)
    refitted = LassoNetClassifier(**kw, refit=True).fit(X, y)
    assert plain.refit_epochs_ == 0 and refitted.refit_epochs_ >= 1
    np.testing.assert_array_equal(refitted.support_, plain.support_)
    np.testing.assert_array_equal(refitted.feature_importances_, plain.feature_importances_)
    assert refitted.best_index_ == plain.best_index_
    W = refitted.module_.input_weight.detach().cpu().numpy()
    assert not W[:, ~refitted.support_].any()
    K = refitted.module_.n_outputs
    # the hierarchy still holds on the refit model
    assert np.all(np.abs(W[K:]).max(0) <= 10.0 * np.linalg.norm(W[:K], axis=0) * (1 + 1e-5) + 1e-7)
    # shrunk by lambda, the path model is unsure even where it is right
    loss_plain = log_loss(y, plain.predict_proba(X))
    loss_refitted = log_loss(y, refitted.predict_proba(X))
    assert loss_refitted < 0.75 * loss_plain
    assert refitted.score(X, y) >= plain.score(X, y)


def test_refit_with_pixel_groups_holds_the_other_columns_at_zero(planted_classification):
    """Groups laid out as the channels of pixels train in the C epoch; the refit on a
    support holds every other column at exactly zero there too (it falls back to the
    Python loop, whose prox zeroes them after every step)."""
    X, y = planted_classification
    groups = [[p, p + 5, p + 10] for p in range(5)]
    est = LassoNetClassifier(**QUICK, groups=groups, n_features_to_select=6, random_state=0, refit=True).fit(X, y)
    assert est.refit_epochs_ >= 1
    W = est.module_.input_weight.detach().cpu().numpy()
    assert est.support_.sum() == 6 and not W[:, ~est.support_].any() and W[:, est.support_].any()


def test_refit_is_deterministic_and_checked(planted_classification):
    X, y = planted_classification
    kw = dict(QUICK, n_features_to_select=4, refit=True, random_state=3)
    a = LassoNetClassifier(**kw).fit(X, y)
    b = LassoNetClassifier(**kw).fit(X, y)
    for pa, pb in zip(a.module_.parameters(), b.module_.parameters()):
        assert torch.equal(pa, pb)
    with pytest.raises(ValueError, match="refit"):
        LassoNetClassifier(**dict(kw, refit="yes")).fit(X, y)


def test_refit_function_relaxes_a_path_point(planted_classification):
    """``deeplasso.refit`` on a path point's weights (a relaxed LassoNet): the held-out
    columns stay zero, the validation loss falls well below the penalised point's, and a
    support of the wrong shape is refused."""
    from deeplasso import PathConfig, refit

    X, y = planted_classification
    clf = LassoNetClassifier(**QUICK, n_features_to_select=3, store_path_weights=True, random_state=0).fit(X, y)
    point = clf.path_model(clf.best_index_).float()
    dev = point.input_weight.device  # where the estimator was fitted
    tX, ty = torch.as_tensor(X, device=dev), torch.as_tensor(y, device=dev)
    with torch.no_grad():
        before = float(torch.nn.functional.cross_entropy(point(tX), ty))
    cfg = PathConfig(batch_size=64, lr=3e-3, max_epochs=30, patience=5)
    epochs, val_loss, val_score = refit(point, tX, ty, tX, ty, cfg, clf.support_)
    assert 1 <= epochs <= 30
    assert not point.input_weight.detach().cpu()[:, ~clf.support_].any()
    assert val_loss < 0.6 * before and val_score > 0.9
    with pytest.raises(ValueError, match="one flag per feature"):
        refit(point, tX, ty, tX, ty, cfg, np.ones(3, dtype=bool))


def test_path_save_load_round_trip(fitted_regressor, tmp_path):
    f = tmp_path / "path.npz"
    fitted_regressor.path_.save(f)
    loaded = Path.load(f)
    assert len(loaded) == len(fitted_regressor.path_)
    for p, q in zip(loaded, fitted_regressor.path_):
        assert p.lambda_ == q.lambda_ and p.val_score == q.val_score and p.epochs == q.epochs
        np.testing.assert_array_equal(p.theta_norm, q.theta_norm)
        np.testing.assert_array_equal(p.state["input_weight"], q.state["input_weight"])
    np.testing.assert_array_equal(loaded.feature_importances(), fitted_regressor.feature_importances_)
    np.testing.assert_array_equal(loaded.ranking(), fitted_regressor.ranking_)
    assert loaded.meta["M"] == fitted_regressor.M


def test_importance_is_lambda_of_first_exit():
    from deeplasso.engine import feature_importances_from

    lambdas = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    sel = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 1, 0], [1, 0, 1, 1, 1], [0, 0, 0, 1, 1], [0, 0, 0, 1, 1]],
                   dtype=bool)
    imp = feature_importances_from(lambdas, sel)
    # feature 0 left at 4, feature 1 at 2; feature 2 left at 1 (its return does not count);
    # features 3 and 4 are in the final model: inf, even though 4 was out at lambda 1
    np.testing.assert_array_equal(imp, [4.0, 2.0, 1.0, np.inf, np.inf])
    assert (feature_importances_from(lambdas[:1], sel[:1]) == np.inf).all()
    np.testing.assert_array_equal(feature_importances_from(lambdas[:1], ~sel[:1]), np.zeros(5))


class NaNAfter:
    """Optimizer factory whose optimiser poisons the weights after a number of steps."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, params, lr):
        opt = torch.optim.Adam(params, lr=lr)
        count = {"n": 0}
        original = opt.step

        def step(*a, **k):
            out = original(*a, **k)
            count["n"] += 1
            if count["n"] == self.steps:
                with torch.no_grad():
                    for group in opt.param_groups:
                        for p in group["params"]:
                            p.fill_(float("nan"))
            return out

        opt.step = step
        return opt


def test_non_finite_loss_names_the_step_and_keeps_the_path(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**{**QUICK, "max_epochs": 3}, lambda_start=1.0, optimizer=NaNAfter(150),
                             random_state=0)
    with pytest.raises(NonFiniteLossError, match=r"lambda step \d+ \(lambda=") as info:
        clf.fit(X, y)
    assert info.value.step >= 1
    assert len(clf.path_) == info.value.step and clf.path_[0].lambda_ == 0.0


X_OK = np.random.default_rng(0).normal(size=(40, 4))
Y_OK = np.array([0, 1] * 20)


@pytest.mark.parametrize(
    "X,y,kw,match",
    [
        (np.where(np.eye(40, 4) > 0, np.nan, X_OK), Y_OK, {}, "NaN"),
        (np.where(np.eye(40, 4) > 0, np.inf, X_OK), Y_OK, {}, "infinity"),
        (X_OK[:, :, None], Y_OK, {}, "dim"),
        (X_OK, Y_OK[:30], {}, "inconsistent numbers of samples"),
        (X_OK, np.zeros(40), {}, "single class"),
        (np.zeros((0, 4)), np.zeros(0), {}, "0 sample"),
        (np.array([["a", "b"]] * 40), Y_OK, {}, "could not convert|numeric"),
        (X_OK, Y_OK, {"n_features_to_select": 5}, "n_features_to_select"),
        (X_OK, Y_OK, {"n_features_to_select": 1.5}, "n_features_to_select"),
        (X_OK, Y_OK, {"M": -1}, r"'M' parameter .* must be a float in the range \(0.0, inf\)\. Got -1"),
        (X_OK, Y_OK, {"path_multiplier": 1.0}, "path_multiplier"),
        (X_OK, Y_OK, {"lambda_start": "soon"}, "lambda_start"),
        (X_OK, Y_OK, {"hidden_dims": (10, 0)}, "hidden_dims"),
        (X_OK, Y_OK, {"batch_size": 0}, "batch_size"),
        (X_OK, Y_OK, {"dropout": 1.0}, "dropout"),
        (X_OK, Y_OK, {"optimizer": "lbfgsx"}, "optimizer"),
        (X_OK, Y_OK, {"device": "tpu9"}, "device"),
        (X_OK, Y_OK, {"groups": [[0, 9]]}, "outside"),
        (X_OK, Y_OK, {"max_epochs": True}, "max_epochs=True is invalid: expected a number, not a bool"),
        (X_OK, Y_OK, {"lambda_start": True}, "lambda_start=True .* not a bool"),
        (X_OK, Y_OK, {"n_features_to_select": True}, "n_features_to_select=True .* not a bool"),
        # issue 19
        (X_OK, Y_OK, {"groups": [[0.7, 1.2]]}, r"group 0 .* integer feature indices.*0\.7"),
        (X_OK, Y_OK, {"groups": [[0, True]]}, "integer feature indices"),
        (X_OK, Y_OK, {"validation_fraction": 0.99}, r"validation_fraction=0\.99 leaves 0 of 40 samples"),
        (X_OK, Y_OK, {"M": 0}, r"M=0 .* linear"),
    ],
)
def test_bad_input_gets_a_clear_error(X, y, kw, match):
    with pytest.raises(ValueError, match=match):
        LassoNetClassifier(**{**QUICK, "max_epochs": 2, **kw}).fit(X, y)


def test_predict_checks_feature_count(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**{**QUICK, "max_epochs": 2, "path_multiplier": 3.0}, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :5])


def test_validation_data_must_come_in_pairs(planted_classification):
    X, y = planted_classification
    with pytest.raises(ValueError, match="X_val and y_val"):
        LassoNetClassifier(**QUICK).fit(X, y, X_val=X)


def test_lambda_start_float_is_used_as_is(planted_classification):
    X, y = planted_classification
    clf = LassoNetClassifier(**{**QUICK, "max_epochs": 3}, lambda_start=2.5, lambda_max=4.0, random_state=0)
    clf.fit(X, y)
    assert clf.path_[1].lambda_ == 2.5
    assert clf.path_.lambdas.max() <= 4.0 and math.isclose(clf.lambda_start_, 2.5)


def test_importance_auto_keeps_the_rule_whose_refit_validates_better():
    """With n_features_to_select, "auto" refits a network on the top k of each rule and keeps
    the lower validation loss; the result is exactly the fit that asks for that rule."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    kw = dict(hidden_dims=(16,), max_epochs=8, patience=3, n_features_to_select=6, random_state=0, verbose=0)
    auto = LassoNetClassifier(**kw).fit(X, y)
    tops = {by: set(auto.path_.ranking(by)[:6].tolist()) for by in ("norm", "lambda")}
    assert tops["norm"] != tops["lambda"], "the case must make the two rules differ"
    losses = auto.importance_val_loss_
    assert set(losses) == {"norm", "lambda"} and all(np.isfinite(v) for v in losses.values())
    assert auto.importance_ == min(losses, key=losses.get)
    assert set(np.flatnonzero(auto.support_).tolist()) == tops[auto.importance_]
    np.testing.assert_array_equal(auto.ranking_, auto.path_.ranking(auto.importance_))
    fixed = LassoNetClassifier(**kw, importance=auto.importance_).fit(X, y)
    assert fixed.importance_ == auto.importance_ and fixed.importance_val_loss_ == {}
    np.testing.assert_array_equal(fixed.support_, auto.support_)
    np.testing.assert_array_equal(fixed.predict_proba(X), auto.predict_proba(X))
    other = "lambda" if auto.importance_ == "norm" else "norm"
    assert set(np.flatnonzero(LassoNetClassifier(**kw, importance=other).fit(X, y).support_).tolist()) == tops[other]


def _two_rule_path():
    """A hand-made path on which the rules' top 2 differ: by lambda of leaving {3, 0}, by the
    sum of ||theta_j|| over the lambda steps {0, 1} (feature 1 is large, then leaves early)."""
    from deeplasso import PathPoint

    thetas = [[1, 1, 1, 1], [3, 5, 0, 1], [3, 0, 0, 0.5], [0, 0, 0, 0.2], [0, 0, 0, 0]]
    points = [PathPoint(lambda_=float(i), theta_norm=np.array(t, float), train_loss=1.0, train_score=0.5,
                        val_loss=1.0, val_score=0.5, val_objective=1.0, epochs=1, seconds=0.0)
              for i, t in enumerate(thetas)]
    return Path(points=points, n_features=4, meta={})


def test_importance_auto_a_refit_that_diverges_loses():
    path = _two_rule_path()
    assert set(path.ranking("lambda")[:2]) == {3, 0} and set(path.ranking("norm")[:2]) == {0, 1}
    norm_top = np.isin(np.arange(4), [0, 1])

    def refit(fails):
        def refit_on(support):
            if fails(support):
                raise FloatingPointError("training loss or weights became non-finite")
            return None, 1, 0.25, 0.9
        return refit_on

    clf = LassoNetClassifier()
    rule, tried = clf._choose_importance(path, 4, 2, refit(lambda s: np.array_equal(s, norm_top)))
    assert rule == "lambda" and set(tried) == {"lambda"}
    rule, tried = clf._choose_importance(path, 4, 2, refit(lambda s: not np.array_equal(s, norm_top)))
    assert rule == "norm" and set(tried) == {"norm"}
    assert clf._choose_importance(path, 4, 2, refit(lambda s: True)) == ("lambda", {})
    # one rule asked for: no refit; no k: the paper's rule
    assert LassoNetClassifier(importance="norm")._choose_importance(path, 4, 2, refit(lambda s: True)) == ("norm", {})
    assert clf._choose_importance(path, 4, None, refit(lambda s: True)) == ("lambda", {})


def test_importance_auto_records_a_diverged_refit_as_inf(monkeypatch):
    """Through a whole fit: the norm rule's refit diverges, so "auto" takes the lambda rule,
    its loss reads inf, and refit=True predicts with the lambda rule's refit."""
    from sklearn.datasets import load_digits

    import deeplasso.estimators.base as base

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    kw = dict(hidden_dims=(16,), max_epochs=8, patience=3, n_features_to_select=6, random_state=0, verbose=0)
    real = base.train_on_support
    norm_top = []

    def diverging(net, tX, ty, tXv, tyv, cfg, support):
        if norm_top and np.array_equal(np.asarray(support), norm_top[0]):
            raise FloatingPointError("training loss or weights became non-finite")
        return real(net, tX, ty, tXv, tyv, cfg, support)

    clf = LassoNetClassifier(**kw)
    real_choose = clf._choose_importance

    def choose(path, d, k, refit_on):
        norm_top.append(np.isin(np.arange(d), path.ranking("norm")[:k]))
        return real_choose(path, d, k, refit_on)

    monkeypatch.setattr(base, "train_on_support", diverging)
    monkeypatch.setattr(clf, "_choose_importance", choose)
    clf.fit(X, y)
    assert clf.importance_ == "lambda"
    assert clf.importance_val_loss_["norm"] == np.inf and np.isfinite(clf.importance_val_loss_["lambda"])
    assert not np.array_equal(clf.support_, norm_top[0])
    monkeypatch.setattr(base, "train_on_support", real)
    fixed = LassoNetClassifier(**kw, importance="lambda").fit(X, y)
    np.testing.assert_array_equal(fixed.predict_proba(X), clf.predict_proba(X))


def test_importance_is_checked():
    with pytest.raises(ValueError, match="importance"):
        LassoNetClassifier(importance="first").fit(np.zeros((20, 3)), np.arange(20) % 2)
    with pytest.raises(ValueError, match="'norm'.*'lambda'"):
        Path().feature_importances("first")
