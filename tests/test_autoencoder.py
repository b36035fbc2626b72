"""LassoNetAutoencoder: unsupervised selection (issue 17). The planted columns that
generate the others are the ones kept; the decoder rebuilds every column from them."""

import numpy as np
import pytest
from sklearn.base import clone

from deeplasso import LassoNetAutoencoder

#: the defaults (one scale for all columns, the SGD path) at a small size
SMALL = dict(hidden_dims=(16,), lr=0.05, path_multiplier=1.1,
             max_epochs=20, patience=3, verbose=0)


def planted(seed, n=400, g=4, copies=5):
    """``g`` independent generators and ``copies`` noisy, scaled-down copies of each
    (0.5 g + 0.3 noise), shuffled: the generators are the one best set of g columns
    (each rebuilds its copies as well as any column can, and itself exactly)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, g))
    X = np.hstack([Z] + [Z * 0.5 * rng.uniform(0.8, 1.2, size=g) + 0.3 * rng.normal(size=(n, g))
                         for _ in range(copies)])
    perm = rng.permutation(X.shape[1])
    return X[:, perm], np.flatnonzero(perm < g)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_generators_are_kept(seed):
    X, gen = planted(seed)
    ae = LassoNetAutoencoder(n_features_to_select=4, random_state=seed, **SMALL).fit(X)
    assert np.array_equal(np.flatnonzero(ae.get_support()), gen)
    # the ranking puts them first, and they never left the path
    assert set(ae.ranking_[:4]) == set(gen)
    assert np.isinf(ae.path_.feature_importances("lambda")[gen]).all()
    assert ae.importance_ == "lambda"  # the autoencoder's own default, not the classifier's "auto"


def test_reconstruction_from_kept_columns_only():
    X, gen = planted(0)
    X = X * 7.0 + 100.0  # de-standardised on output
    ae = LassoNetAutoencoder(n_features_to_select=4, random_state=0, **SMALL).fit(X)
    kept = ae.transform(X)
    assert kept.shape == (len(X), 4)
    R = ae.inverse_transform(kept)
    assert R.shape == X.shape
    np.testing.assert_allclose(ae.reconstruct(X), R)
    np.testing.assert_array_equal(R[:, ae.support_], X[:, ae.support_])  # kept columns as given
    # the other columns change nothing
    X2 = X.copy()
    X2[:, ~ae.support_] = 0.0
    np.testing.assert_allclose(ae.reconstruct(X2), R)
    # far better than the column means: every copy is 0.5 g + noise of sd 0.3
    err = ((R - X) ** 2).mean()
    assert err < 0.5 * ((X - X.mean(0)) ** 2).mean()
    assert ae.score(X) > 0.6
    assert ae.refit_epochs_ > 0


def test_target_columns_and_refit_false():
    X, gen = planted(1)
    targets = [c for c in range(X.shape[1]) if c not in gen][:6]
    ae = LassoNetAutoencoder(n_features_to_select=4, target_columns=targets, refit=False, random_state=1,
                             **SMALL).fit(X)
    R = ae.reconstruct(X)
    assert R.shape == (len(X), 6)
    np.testing.assert_array_equal(ae.target_columns_, targets)
    assert ae.refit_epochs_ == 0
    assert ae.score(X) > 0.3
    X2 = X.copy()
    X2[:, ~ae.support_] = 5.0
    np.testing.assert_allclose(ae.reconstruct(X2), R)


def test_standardize_options_scale_back():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 2))
    X = np.hstack([Z, Z @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(300, 6))])
    units = X * np.array([1, 10, 100, 1, 1, 1, 1, 1]) + 50
    for standardize, data in ((True, units), ("global", X * 3 + 50), (False, X / X.std(0) + 3)):
        ae = LassoNetAutoencoder(n_features_to_select=2, random_state=0,
                                 **{**SMALL, "standardize": standardize, "lr": 1e-2}).fit(data)
        assert ae.reconstruct(data).shape == data.shape
        assert ae.score(data) > 0.5, standardize  # in the data's own units
        if standardize is False:
            np.testing.assert_array_equal(ae.scale_, 1.0)
            np.testing.assert_array_equal(ae.mean_, 0.0)
        elif standardize == "global":
            assert len(np.unique(ae.scale_)) == 1
        else:
            np.testing.assert_allclose(ae.scale_, data.std(0))


def test_params_clone_and_errors():
    X, _ = planted(2, n=200)
    ae = LassoNetAutoencoder(n_features_to_select=3, random_state=0, **SMALL)
    params = ae.get_params()
    # every parameter of the base, with the autoencoder's own defaults
    assert {"path_optimizer", "M", "groups", "target_columns", "standardize"} <= set(params)
    assert LassoNetAutoencoder().get_params()["refit"] is True
    assert LassoNetAutoencoder().get_params()["n_features_to_select"] == 0.1
    assert LassoNetAutoencoder().get_params()["path_optimizer"] == "sgd"
    assert LassoNetAutoencoder().get_params()["standardize"] == "global"
    ae.fit(X, np.zeros(len(X)))  # y is ignored
    assert clone(ae).get_params() == params
    assert ae.get_feature_names_out().tolist() == [f"x{i}" for i in np.flatnonzero(ae.support_)]
    with pytest.raises(ValueError, match="target_columns"):
        LassoNetAutoencoder(target_columns=[0, 99], **SMALL).fit(X)
    with pytest.raises(ValueError, match="keeps 3"):
        ae.inverse_transform(X[:, :2])


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, _ = planted(2, n=200)
    df = pd.DataFrame(X, columns=[f"s{i}" for i in range(X.shape[1])])
    ae = LassoNetAutoencoder(n_features_to_select=3, random_state=0, **SMALL).fit(df)
    assert list(ae.feature_names_in_) == list(df.columns)
    assert len(ae.get_feature_names_out()) == 3
    assert ae.reconstruct(df).shape == X.shape


def test_cli_fit_task_reconstruct(tmp_path):
    """``deeplasso fit --task reconstruct`` on digits: the labels play no part in the
    selection, the run directory is a fit run's plus the reconstructions."""
    import json

    from deeplasso.cli import main

    out = tmp_path / "run"
    argv = ["--threads", "1", "fit", "--task", "reconstruct", "--out", str(out), "--max-train", "400", "--max-epochs",
            "5", "--retrain-max-epochs", "40", "--lr", "3e-3", "--path-multiplier", "1.5", "--hidden-dims", "16",
            "--quiet"]
    assert main(argv) in (0, 3)  # 3: a coarse path may be flagged as degenerate
    for name in ("config.json", "path.npz", "results.json", "report.md", "importance.png", "r2.png",
                 "reconstructions.npz", "reconstructions.png", "explorer.html"):
        assert (out / name).exists(), name
    res = json.loads((out / "results.json").read_text())
    assert res["task"] == "reconstruct" and res["metric"] == "r2" and res["labels"] == "classification"
    assert len(res["ranking"]) == 64 and [r["k"] for r in res["selection"]] == [32, 16, 8, 4]
    top, rnd = [r["retrained_top_k"] for r in res["selection"]], [r["retrained_random_k"] for r in res["selection"]]
    assert all(v <= 1 for v in top + rnd) and top[0] > 0.5 and np.mean(top) > np.mean(rnd)
    assert all(0 < r["accuracy_top_k"] <= 1 for r in res["selection"])
    with np.load(out / "reconstructions.npz") as z:
        assert z["originals"].shape == (8, 64)
        for k in z["ks"]:
            kept, rec = z[f"kept_{k}"], z[f"reconstructed_{k}"]
            assert kept.sum() == k and rec.shape == (8, 64)
            np.testing.assert_allclose(rec[:, kept], z["originals"][:, kept], rtol=1e-6)
    report = (out / "report.md").read_text()
    assert "## Reconstruction from k features" in report and "reconstructions.png" in report
    # the report is redrawn from the saved files alone
    (out / "reconstructions.png").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "reconstructions.png").exists()


def test_reweighted_path_resumes_as_uninterrupted(tmp_path):
    """The reweighting's weights come from the model alone and the path trains on the
    autograd step from its start, so a killed path resumed from its checkpoint ends as
    the uninterrupted one."""
    from deeplasso.engine import Callback

    class Kill(Callback):
        def on_point(self, trainer, step, point, path):
            if step == 3:
                raise KeyboardInterrupt

    X, gen = planted(0)
    ck = tmp_path / "ck.pt"
    with pytest.raises(KeyboardInterrupt):
        LassoNetAutoencoder(n_features_to_select=4, random_state=0, **SMALL).fit(X, checkpoint=ck, callbacks=[Kill()])
    assert ck.exists()
    resumed = LassoNetAutoencoder(n_features_to_select=4, random_state=0, **SMALL).fit(X, checkpoint=ck)
    full = LassoNetAutoencoder(n_features_to_select=4, random_state=0, **SMALL).fit(X)
    assert [p.lambda_ for p in resumed.path_] == [p.lambda_ for p in full.path_]
    np.testing.assert_array_equal(resumed.feature_importances_, full.feature_importances_)
    np.testing.assert_array_equal(resumed.support_, full.support_)
    assert resumed.optimizer == "adam"  # the parameter is as given after fit
