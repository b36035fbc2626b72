"""Stability selection: planted features stable, noise not; reproducible under
random_state and equal serially and on 2 worker processes; the stability paths figure."""

import numpy as np
import pytest

from deeplasso import LassoNetClassifier, LassoNetRegressor, stability_selection

EST = LassoNetRegressor(hidden_dims=(8,), path_multiplier=1.2, max_epochs=30, patience=3, lr=1e-2, verbose=0)


def _planted(n=400, d=10, seed=0):
    """y depends on features 0, 1, 2 only."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = 2 * X[:, 0] - 1.5 * X[:, 1] + 1.5 * np.sin(2 * X[:, 2]) + 0.3 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def planted():
    X, y = _planted()
    return X, y, stability_selection(EST, X, y, n_paths=8, n_features_max=4)


def test_planted_features_are_stable_and_noise_is_not(planted):
    X, y, r = planted
    assert r.probabilities.shape == (r.lambdas.size, 10) and r.lambdas.size > 5
    assert np.all(r.max_probability[:3] >= 0.85), r.max_probability
    assert np.all(r.max_probability[3:] <= 0.4), r.max_probability
    assert sorted(r.selected.tolist()) == [0, 1, 2] and set(r.ranking[:3].tolist()) == {0, 1, 2}
    np.testing.assert_array_equal(r.support, r.max_probability >= 0.6)
    # the region is where the paths keep at most 4 features on average, and the grid the full-data start's
    np.testing.assert_array_equal(r.region, r.n_selected_mean <= 4)
    np.testing.assert_allclose(r.n_selected_mean, r.probabilities.sum(1))
    np.testing.assert_allclose(r.lambdas, r.lambda_start * 1.2 ** np.arange(r.lambdas.size), rtol=1e-12)
    assert np.all(r.probabilities[0] == 1.0)  # all features in at the start: why a region is needed
    assert 0 < r.expected_false < np.inf
    assert all(len(rows) == 200 and len(set(rows.tolist())) == 200 for rows in r.rows)


def test_reproducible_and_the_same_on_two_workers(planted):
    pytest.importorskip("distributed")
    X, y, r = planted
    par = stability_selection(EST, X, y, n_paths=8, n_features_max=4, workers=2)
    np.testing.assert_array_equal(par.probabilities, r.probabilities)
    np.testing.assert_array_equal(par.lambdas, r.lambdas)
    np.testing.assert_array_equal(par.selected, r.selected)
    other = stability_selection(EST, X, y, n_paths=8, n_features_max=4, random_state=1)
    assert not np.array_equal(other.probabilities, r.probabilities)


def test_seeds_sample_fraction_and_error_control():
    X, y = _planted(n=200)
    r = stability_selection(EST, X, y, n_paths=2, sample_fraction=1.0, seeds=[3, 4], threshold=0.9,
                            expected_false=1.0)
    assert r.seeds == [3, 4] and all(len(rows) == 200 for rows in r.rows)  # all rows: only the seeds differ
    assert r.n_features_max == pytest.approx(np.sqrt(0.8 * 10))
    with pytest.raises(ValueError, match="one per path"):
        stability_selection(EST, X, y, n_paths=3, seeds=[1, 2])
    with pytest.raises(ValueError, match="not both"):
        stability_selection(EST, X, y, n_features_max=3, expected_false=1.0)
    with pytest.raises(ValueError, match="sample_fraction"):
        stability_selection(EST, X, y, sample_fraction=0.0)
    with pytest.raises(TypeError, match="LassoNetClassifier or LassoNetRegressor"):
        stability_selection(object(), X, y)


def test_classifier_and_stability_paths_png(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    from deeplasso.cv_plots import stability_paths

    X, y = _planted(n=200)
    yc = (y > np.median(y)).astype(int)
    r = stability_selection(LassoNetClassifier(hidden_dims=(4,), path_multiplier=1.5, max_epochs=10, patience=2,
                                               lr=1e-2, verbose=0), X, yc, n_paths=3)
    assert r.probabilities.shape[1] == 10
    img = mpimg.imread(stability_paths(r, tmp_path / "s.png", figsize=(5, 4), dpi=40))
    assert img.shape == (160, 200, 4) and img[..., :3].std() > 0.01
