"""Baselines: the tuned value is the argmax of its scores, scores match scikit-learn's own
cross-validation, high accuracy on separable data, JSON output, determinism, clear errors."""

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from deeplasso.baselines import (
    knn_baseline,
    load_results,
    pca_lr_baseline,
    run_baselines,
    save_results,
    subsample_train,
    svm_baseline,
)

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny BLAS calls are 10x slower with 2 threads on a busy 2-core machine (spin waits)."""
    with threadpool_limits(1):
        yield


FAST_SVM = {"solver": "crammer_singer", "grid": [0.01, 0.1]}


def _split(n=600, d=20, classes=3, sep=3.0, seed=0, flip=0.02):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=6, n_redundant=2, n_classes=classes,
                               n_clusters_per_class=1, class_sep=sep, flip_y=flip, random_state=seed)
    X = X.astype(np.float32)
    a, b = n // 2, (3 * n) // 4
    return dict(X_train=X[:a], y_train=y[:a], X_val=X[a:b], y_val=y[a:b], X_test=X[b:], y_test=y[b:])


@pytest.fixture(scope="module")
def easy():
    return _split()


@pytest.fixture(scope="module")
def hard():
    """Overlapping classes, so the grid values really differ."""
    return _split(n=400, sep=0.6, seed=1)


def test_knn_k_is_cv_argmax_and_scores_match_sklearn(hard):
    grid = [1, 5, 15]
    r = knn_baseline(**hard, grid=grid, cv=5, random_state=3)
    assert r.params["n_neighbors"] == grid[int(np.argmax(r.scores))]
    assert r.selection == "5-fold CV on train"
    folds = StratifiedKFold(5, shuffle=True, random_state=3)
    ref = [cross_val_score(KNeighborsClassifier(k, algorithm="brute"), hard["X_train"], hard["y_train"],
                           cv=folds).mean() for k in grid]
    np.testing.assert_allclose(r.scores, ref, atol=1e-12)
    assert len(set(np.round(r.scores, 6))) > 1  # the grid matters on this data
    best = KNeighborsClassifier(r.params["n_neighbors"], algorithm="brute").fit(hard["X_train"], hard["y_train"])
    assert r.test_accuracy == pytest.approx(best.score(hard["X_test"], hard["y_test"]))


def test_knn_on_validation_split(hard):
    r = knn_baseline(**hard, grid=[1, 7], cv="val")
    ref = [KNeighborsClassifier(k, algorithm="brute").fit(hard["X_train"], hard["y_train"])
           .score(hard["X_val"], hard["y_val"]) for k in (1, 7)]
    np.testing.assert_allclose(r.scores, ref)
    assert r.scores_std is None and r.selection == "validation split"


def test_string_labels_work(easy):
    names = np.array(["cat", "dog", "emu"])
    d = {k: (names[v] if k.startswith("y") else v) for k, v in easy.items()}
    r = knn_baseline(**d, grid=[3])
    assert r.test_accuracy > 0.9 and r.n_classes == 3


def test_high_accuracy_on_separable_data(easy):
    res = run_baselines(easy, options={"svm": FAST_SVM, "knn": {"grid": [1, 5, 9]}})
    for m in ("knn", "svm", "pca_lr"):
        assert res[m]["test_accuracy"] > 0.9, (m, res[m])
    assert res["svm"]["details"]["solver"] == "crammer_singer"
    assert res["svm"]["param_name"] == "C"


def test_svm_sgd_choice_and_validation_mode(easy):
    r = svm_baseline(**easy, solver="sgd", grid=[1e-3, 1e-1], cv="val", random_state=0)
    assert r.details["solver"] == "sgd" and r.param_name == "alpha"
    assert r.params["alpha"] == r.grid[int(np.argmax(r.scores))]
    assert r.selection == "validation split"
    assert r.test_accuracy > 0.9


def test_svm_auto_solver_depends_on_size(easy):
    small = svm_baseline(**easy, grid=[0.1], cv=2)
    assert small.details["solver"] == "crammer_singer"  # 300 x 20 <= CRAMMER_SINGER_MAX_SIZE
    big = _split(n=2400, d=40)
    r = svm_baseline(**big, grid=[1e-2], cv=2)
    assert r.details["solver"] == "sgd"  # 1200 x 40 is above it


def test_pca_choice_is_validation_argmax_in_capped_grid(hard):
    r = pca_lr_baseline(**hard, grid=[2, 5, 10, 50])  # 50 > 20 features: dropped
    assert r.grid == [2, 5, 10]
    assert r.params["n_components"] in r.grid
    assert r.scores[r.grid.index(r.params["n_components"])] == max(r.scores)
    ev = r.details["explained_variance"]
    assert all(0 < a <= b <= 1 + 1e-6 for a, b in zip(ev, ev[1:]))
    # independent check of one grid point: an exact PCA with that many components + LR
    n = r.params["n_components"]
    pca = PCA(n, whiten=True, svd_solver="full").fit(hard["X_train"])
    lr = LogisticRegression(max_iter=1000).fit(pca.transform(hard["X_train"]), hard["y_train"])
    assert r.test_accuracy == pytest.approx(lr.score(pca.transform(hard["X_test"]), hard["y_test"]), abs=0.01)


def test_pca_grid_all_above_cap_uses_cap(easy):
    r = pca_lr_baseline(**easy, grid=[100, 200])
    assert r.grid == [20] and r.details["grid_requested"] == [100, 200]


def test_results_json_roundtrip_and_resume(easy, tmp_path):
    out = tmp_path / "res.json"
    res = run_baselines(easy, methods=["knn", "pca_lr"], options={"knn": {"grid": [1, 3]}}, out=out)
    text = json.dumps(res)  # plain data
    assert json.loads(text) == load_results(out)
    assert set(res) == {"settings", "knn", "pca_lr"}
    again = run_baselines(easy, methods=["knn", "pca_lr"], options={"knn": {"grid": [1, 3]}}, out=out)
    assert again["knn"]["total_seconds"] == res["knn"]["total_seconds"]  # kept, not rerun
    other = run_baselines(easy, methods=["knn"], options={"knn": {"grid": [1, 5]}}, out=out)
    assert other["knn"]["grid"] == [1, 5]  # settings changed: rerun
    save_results({"x": np.float32(1.5), "y": (np.int64(2),)}, out)
    assert load_results(out) == {"x": 1.5, "y": [2]}


def _strip_times(res):
    if isinstance(res, dict):
        return {k: _strip_times(v) for k, v in res.items() if "seconds" not in k}
    return res


def test_deterministic_under_seed(hard):
    opts = {"svm": {"solver": "sgd", "grid": [1e-3, 1e-2], "cv": 3}, "knn": {"grid": [1, 3, 5]}}
    a = run_baselines(hard, options=opts, subsample=150, random_state=7)
    b = run_baselines(hard, options=opts, subsample=150, random_state=7)
    assert _strip_times(a) == _strip_times(b)
    assert all(a[m]["n_train"] == 150 for m in ("knn", "svm", "pca_lr"))


def test_subsample_is_stratified_and_seeded():
    y = np.repeat([0, 1, 2], [100, 50, 50])
    X = np.arange(200, dtype=np.float32)[:, None]
    Xs, ys = subsample_train(X, y, 40, random_state=1)
    assert len(ys) == 40 and np.bincount(ys).tolist() == [20, 10, 10]
    assert np.all(np.diff(Xs[:, 0]) > 0)  # original order kept
    np.testing.assert_array_equal(Xs, subsample_train(X, y, 40, random_state=1)[0])
    assert not np.array_equal(Xs, subsample_train(X, y, 40, random_state=2)[0])
    assert subsample_train(X, y, None)[0] is X


def test_bad_input_errors(easy):
    bad = dict(easy, X_test=easy["X_test"][:, :5])
    with pytest.raises(ValueError, match="X_test has 5 features but X_train has 20"):
        knn_baseline(**bad)
    with pytest.raises(ValueError, match="y_train must be 1-D with one label per row"):
        pca_lr_baseline(**dict(easy, y_train=easy["y_train"][:-1]))
    with pytest.raises(ValueError, match="unknown method"):
        run_baselines(easy, methods=["rf"])
    with pytest.raises(ValueError, match="solver must be"):
        svm_baseline(**easy, solver="liblinear")
    with pytest.raises(ValueError, match="cv must be an int >= 2"):
        knn_baseline(**easy, cv=1)
    with pytest.raises(ValueError, match="exceeds the"):
        knn_baseline(**dict(easy, X_train=easy["X_train"][:20], y_train=easy["y_train"][:20]), grid=[25])
    with pytest.raises(ValueError, match="needs X_val and y_val"):
        svm_baseline(**dict(easy, X_val=None, y_val=None), cv="val", grid=[0.1])
    with pytest.raises(ValueError, match="NaN"):
        knn_baseline(**dict(easy, X_val=np.full_like(easy["X_val"], np.nan)))
    with pytest.raises(TypeError, match="preprocess it first"):
        run_baselines({"x_train": np.zeros((2, 1, 2, 2), np.uint8)})
    with pytest.raises(ValueError, match="smaller than the number of classes"):
        knn_baseline(**easy, max_train=2)
