"""Cross-validation over lambda: the rules (mean, standard error, lambda_min, lambda_1se),
the fitted model, a planted support, scikit-learn's checks, equality of a CV run on a
real 2-process Dask cluster with the serial run, and the CV figure."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from deeplasso import LassoNetClassifier, LassoNetClassifierCV, LassoNetRegressor, LassoNetRegressorCV
from deeplasso.cv import cv_summary, fold_scores, scores_on_grid

FAST = dict(hidden_dims=(8,), lr=1e-2, max_epochs=10, patience=2, path_multiplier=2.0, batch_size=32,
            random_state=0, verbose=0)
SMALL = dict(hidden_dims=(8,), lr=1e-2, max_epochs=15, patience=2, path_multiplier=1.3, random_state=0, verbose=0)


def _digits(n=400):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-8)
    return X[:n].astype(np.float32), y[:n]


def _planted(n=400, d=10, seed=0):
    """y depends on features 0, 1, 2 only (one of them through a sine)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = 2 * X[:, 0] - 1.5 * X[:, 1] + 1.5 * np.sin(2 * X[:, 2]) + 0.3 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def digits_cv():
    X, y = _digits()
    # refit=False: the model is the full-data path's point at the chosen lambda (refit=True,
    # the estimators' default since issue 15, is tested below)
    return X, y, LassoNetClassifierCV(cv=3, refit=False, **SMALL).fit(X, y)


# --------------------------------------------------------------------------- the rules


def test_cv_summary_mean_se_min_and_1se():
    lambdas = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    scores = np.array([[0.80, 0.90, 0.90, 0.84, 0.50],
                       [0.84, 0.86, 0.88, 0.86, 0.40],
                       [0.82, 0.88, 0.86, 0.80, 0.45]])
    s = cv_summary(scores, lambdas)
    np.testing.assert_allclose(s["mean"], scores.mean(0))
    np.testing.assert_allclose(s["se"], scores.std(0, ddof=1) / np.sqrt(3))
    assert s["index_min"] == 2 and s["lambda_min"] == 4.0  # tie of means at 2 and 4: the larger lambda
    # best mean 0.88, se 0.01155: 8 (0.8333) is outside, so 1se stays at 4
    assert s["lambda_1se"] == 4.0
    scores[:, 3] = [0.88, 0.87, 0.87]  # now 8 is within one se of the best
    s = cv_summary(scores, lambdas)
    assert s["lambda_min"] == 4.0 and s["lambda_1se"] == 8.0
    s = cv_summary(scores, lambdas, candidates=[True, True, False, False, True])
    assert s["lambda_min"] == 2.0 and s["lambda_1se"] == 2.0
    with pytest.raises(ValueError, match="n_lambdas"):
        cv_summary(scores[:, :2], lambdas)


def test_scores_on_grid_pads_a_path_that_ended_early():
    grid = [1.0, 1.5, 2.25, 3.375]
    fold = {"lambdas": [0.0, 1.0, 1.5], "scores": [0.9, 0.8, 0.3], "n_selected": [5, 2, 0]}
    np.testing.assert_array_equal(scores_on_grid(grid, fold), [0.8, 0.3, 0.3, 0.3])
    np.testing.assert_array_equal(scores_on_grid(grid, {"lambdas": [0.0], "scores": [0.7]}), [0.7] * 4)
    with pytest.raises(RuntimeError, match="common grid"):
        scores_on_grid(grid, {"lambdas": [0.0, 1.1], "scores": [0.9, 0.8]})


def test_fold_scores_are_the_held_out_accuracy_of_each_point():
    """The callback scores the held-out rows with each point's weights; the path itself
    is the one a plain fit computes."""
    X, y = _digits(300)
    tr, te = np.arange(200), np.arange(200, 300)
    params = dict(SMALL, store_path_weights=True)
    r = fold_scores(LassoNetClassifier, params, X, y, tr, te)
    ref = LassoNetClassifier(**params).fit(X[tr], y[tr])
    assert r["lambdas"] == [p.lambda_ for p in ref.path_]
    assert r["n_selected"] == [p.n_selected for p in ref.path_]
    np.testing.assert_allclose(r["scores"], ref.path_scores(X[te], y[te]), atol=0.011)  # float32 vs float64


def test_fitted_cv_classifier(digits_cv):
    X, y, cv = digits_cv
    k = cv.n_splits_
    assert k == 3 and cv.cv_scores_.shape == (3, cv.lambdas_.size)
    np.testing.assert_allclose(cv.cv_mean_, cv.cv_scores_.mean(0))
    np.testing.assert_allclose(cv.cv_se_, cv.cv_scores_.std(0, ddof=1) / np.sqrt(k))
    assert cv.lambda_1se_ >= cv.lambda_min_
    i_min = int(np.flatnonzero(cv.lambdas_ == cv.lambda_min_)[0])
    i_1se = int(np.flatnonzero(cv.lambdas_ == cv.lambda_1se_)[0])
    assert cv.cv_mean_[i_min] == cv.cv_mean_.max()
    assert cv.cv_mean_[i_1se] >= cv.cv_mean_[i_min] - cv.cv_se_[i_min]
    assert np.all(cv.cv_mean_[i_1se + 1:] < cv.cv_mean_[i_min] - cv.cv_se_[i_min])  # the largest such lambda
    # the grid is the full-data path's, from its start, multiplied up
    lam0 = cv.path_.meta["lambda_start_used"]
    np.testing.assert_allclose(cv.lambdas_, lam0 * 1.3 ** np.arange(cv.lambdas_.size), rtol=1e-12)
    np.testing.assert_array_equal(cv.n_features_, [p.n_selected for p in cv.path_.points[1:]])
    # the full-data path is the plain estimator's, and the model its point at the chosen lambda
    plain = LassoNetClassifier(**SMALL, store_path_weights=True).fit(X, y)
    assert [p.lambda_ for p in plain.path_] == [p.lambda_ for p in cv.path_]
    assert cv.best_lambda_ == cv.lambda_1se_ == cv.lambdas_[cv.best_index_ - 1]
    np.testing.assert_array_equal(cv.support_, plain.path_[cv.best_index_].selected)
    with torch.no_grad():
        logits = plain.path_model(cv.best_index_)(torch.as_tensor(X, dtype=torch.float64))
    np.testing.assert_array_equal(cv.predict(X), cv.classes_[logits.argmax(1).numpy()])
    assert cv.transform(X).shape == (len(X), cv.support_.sum()) == (len(X), cv.n_features_selected_)
    assert 0.5 < cv.score(X, y) <= 1


def test_choose_min_and_refit_and_feature_cap():
    X, y = _digits(300)
    cv = LassoNetClassifierCV(cv=2, choose="min", refit=True, **SMALL).fit(X, y)
    assert cv.best_lambda_ == cv.lambda_min_ and cv.refit_epochs_ > 0
    assert cv.score(X, y) > 0.8
    capped = LassoNetClassifierCV(cv=2, n_features_to_select=10, **SMALL).fit(X, y)
    assert capped.n_features_selected_ <= 10 and capped.n_features_[capped.best_index_ - 1] <= 10
    # any splitter, and the same folds give the same result
    a = LassoNetClassifierCV(cv=KFold(2), **SMALL).fit(X, y)
    b = LassoNetClassifierCV(cv=list(KFold(2).split(X)), **SMALL).fit(X, y)
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)


def test_planted_support_is_what_cv_selects():
    X, y = _planted()
    cv = LassoNetRegressorCV(hidden_dims=(8,), cv=3, path_multiplier=1.2, max_epochs=30, patience=3, lr=3e-3,
                             random_state=0, verbose=0).fit(X, y)
    chosen = set(np.flatnonzero(cv.support_))
    assert {0, 1, 2} <= chosen and len(chosen) <= 4, chosen
    assert cv.score(X, y) > 0.7


def test_cv_parameters_are_the_base_estimators_plus_cv_ones():
    for cv_cls, base in ((LassoNetClassifierCV, LassoNetClassifier), (LassoNetRegressorCV, LassoNetRegressor)):
        params = cv_cls().get_params()
        base_params = base().get_params()
        assert set(params) - set(base_params) == {"cv", "scoring", "choose", "workers", "address", "run_dir"}
        assert {k: params[k] for k in base_params} == base_params  # same defaults
        assert cv_cls().cv == 5 and cv_cls().choose == "1se"
        assert list(inspect.signature(cv_cls.__init__).parameters)[1] == "hidden_dims"
    with pytest.raises(ValueError, match="choose"):
        LassoNetClassifierCV(choose="best").fit(*_digits(60))


def test_held_out_metrics_match_scikit_learn():
    from sklearn import metrics

    from deeplasso.scoring import CLASSIFIER_SCORING, REGRESSOR_SCORING, held_out_metric

    rng = np.random.default_rng(0)
    classes = np.array([3, 5, 7])
    y = classes[rng.integers(0, 3, 60)]
    z = rng.standard_normal((60, 3))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    pred = classes[z.argmax(1)]
    want = {"accuracy": metrics.accuracy_score(y, pred), "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
            "f1_macro": metrics.f1_score(y, pred, average="macro"), "neg_log_loss": -metrics.log_loss(y, p),
            "roc_auc": metrics.roc_auc_score(y, p, multi_class="ovr")}
    assert set(want) == set(CLASSIFIER_SCORING)
    for name, v in want.items():
        assert held_out_metric(name, y, z, classes) == pytest.approx(v, rel=1e-12), name
    assert held_out_metric(None, y, z, classes) == want["accuracy"]
    # two classes: the AUC of class 1's probability
    y2 = np.where(y == 3, "a", "b")
    z2 = z[:, :2]
    assert held_out_metric("roc_auc", y2, z2, np.array(["a", "b"])) == pytest.approx(
        metrics.roc_auc_score(y2 == "b", z2[:, 1] - z2[:, 0]))
    t, out = rng.standard_normal(40), rng.standard_normal(40)
    want = {"r2": metrics.r2_score(t, out), "neg_mean_squared_error": -metrics.mean_squared_error(t, out),
            "neg_root_mean_squared_error": -np.sqrt(metrics.mean_squared_error(t, out)),
            "neg_mean_absolute_error": -metrics.mean_absolute_error(t, out)}
    assert set(want) == set(REGRESSOR_SCORING)
    for name, v in want.items():
        assert held_out_metric(name, t, out) == pytest.approx(v, rel=1e-12), name


def test_scoring_chooses_lambda_by_the_named_metric():
    X, y = _digits(300)
    acc = LassoNetClassifierCV(cv=2, refit=False, **SMALL).fit(X, y)
    ll = LassoNetClassifierCV(cv=2, refit=False, scoring="neg_log_loss", **SMALL).fit(X, y)
    # the same paths (same grid, same folds), scored otherwise
    np.testing.assert_array_equal(ll.lambdas_, acc.lambdas_)
    assert np.all(ll.cv_scores_ <= 0) and not np.array_equal(ll.cv_scores_, acc.cv_scores_)
    # the fold scores are the held-out log loss of each fold's points
    from sklearn.model_selection import check_cv

    tr, te = next(check_cv(2, y, classifier=True).split(X, y))
    r = fold_scores(LassoNetClassifier, dict(SMALL, store_path_weights=True), X, y, tr, te, scoring="neg_log_loss")
    ref = LassoNetClassifier(**SMALL, store_path_weights=True).fit(X[tr], y[tr])
    from sklearn.metrics import log_loss

    with torch.no_grad():
        want = [-log_loss(y[te], torch.softmax(ref.path_model(i)(torch.as_tensor(X[te], dtype=torch.float64)), 1),
                          labels=ref.classes_) for i in range(len(ref.path_))]
    np.testing.assert_allclose(r["scores"], want, rtol=1e-4)
    # score() is the named metric too
    assert ll.score(X, y) == pytest.approx(-log_loss(y, ll.predict_proba(X), labels=ll.classes_), rel=1e-9)
    reg = LassoNetRegressorCV(cv=2, scoring="neg_mean_absolute_error", **SMALL).fit(*_planted(200))
    assert np.all(reg.cv_scores_ < 0)


def test_scoring_of_the_other_task_is_refused_with_its_names():
    X, y = _digits(60)
    with pytest.raises(ValueError, match=r"'r2' is a regression metric.*balanced_accuracy"):
        LassoNetClassifierCV(cv=2, scoring="r2", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="scoring"):
        LassoNetClassifierCV(cv=2, scoring="precision", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"'roc_auc' is a classification metric"):
        LassoNetRegressorCV(cv=2, scoring="roc_auc", **SMALL).fit(*_planted(60))


def test_run_dir_resumes_finished_folds(tmp_path):
    X, y = _digits(200)
    a = LassoNetClassifierCV(cv=2, run_dir=tmp_path, **SMALL).fit(X, y)
    files = sorted(tmp_path.glob("cv-fold*.json"))
    assert len(files) == 2
    stamps = [f.stat().st_mtime_ns for f in files]
    b = LassoNetClassifierCV(cv=2, run_dir=tmp_path, **SMALL).fit(X, y)
    assert [f.stat().st_mtime_ns for f in files] == stamps  # read back, not recomputed
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)
    LassoNetClassifierCV(cv=2, run_dir=tmp_path, **dict(SMALL, M=5.0)).fit(X, y)  # other settings: new keys
    assert len(list(tmp_path.glob("cv-fold*.json"))) == 4


# --------------------------------------------------------------------------- on a cluster


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c.scheduler_address


def test_cv_on_a_cluster_equals_the_serial_cv(digits_cv, cluster):
    X, y, serial = digits_cv
    par = LassoNetClassifierCV(cv=3, address=cluster, refit=False, **SMALL).fit(X, y)
    np.testing.assert_array_equal(par.lambdas_, serial.lambdas_)
    np.testing.assert_array_equal(par.cv_scores_, serial.cv_scores_)
    assert (par.lambda_min_, par.lambda_1se_, par.best_lambda_) == (serial.lambda_min_, serial.lambda_1se_,
                                                                      serial.best_lambda_)
    np.testing.assert_array_equal(par.support_, serial.support_)
    np.testing.assert_array_equal(par.predict_proba(X), serial.predict_proba(X))


# --------------------------------------------------------------------------- figure and checks


def test_cv_curve_png(digits_cv, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")  # noqa: F841
    import matplotlib.image as mpimg

    from deeplasso.cv_plots import cv_curve

    out = cv_curve(digits_cv[2], tmp_path / "cv.png", figsize=(6, 4), dpi=50)
    img = mpimg.imread(out)
    assert img.shape == (200, 300, 4) and img[..., :3].std() > 0.01
    with pytest.raises(ValueError, match=".png"):
        cv_curve(digits_cv[2], tmp_path / "cv.jpg")


@parametrize_with_checks([LassoNetClassifierCV(cv=2, **FAST), LassoNetRegressorCV(cv=2, **FAST)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
