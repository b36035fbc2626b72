"""Preprocessing statistics, the feature <-> pixel order, splits, subsets, digits."""

import numpy as np
import pytest

from deeplasso.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageDataset,
    NormStats,
    channel_stats,
    compute_stats,
    feature_to_pixel,
    features_to_image,
    load,
    make_split,
    official_split,
    paper_split,
    pixel_to_feature,
    preprocess,
    preprocess_split,
    select_classes,
    stratified_indices,
    subsample_per_class,
)
from deeplasso.data.fakes import fake_images


def make_ds(n_train=200, n_test=50, shape=(3, 4, 5), n_classes=10, seed=0, classes=None):
    x, y = fake_images(n_train, shape, n_classes, seed)
    xt, yt = fake_images(n_test, shape, n_classes, seed + 1)
    names = classes or tuple(f"c{i}" for i in range(n_classes))
    return ImageDataset(x, y, xt, yt, names, shape, "fake", "memory")


# --------------------------------------------------------------------------- preprocess
def test_imagenet_normalisation_3_and_1_channels():
    x = np.full((2, 3, 2, 2), 255, np.uint8)
    x[:, :, 0, 0] = 0
    out = preprocess(x)  # default "imagenet"
    assert out.dtype == np.float32 and out.shape == (2, 12)
    img = out[0].reshape(3, 2, 2)
    for c in range(3):
        np.testing.assert_allclose(img[c, 1, 1], (1 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], rtol=1e-6)
        np.testing.assert_allclose(img[c, 0, 0], -IMAGENET_MEAN[c] / IMAGENET_STD[c], rtol=1e-6)
    g = preprocess(np.full((1, 1, 2, 2), 255, np.uint8), "imagenet")
    np.testing.assert_allclose(g, (1 - 0.449) / 0.226, rtol=1e-6)
    assert compute_stats(1, "imagenet") == NormStats((0.449,), (0.226,), "imagenet")
    with pytest.raises(ValueError, match="1 or 3 channels"):
        preprocess(np.zeros((1, 2, 2, 2), np.uint8))


def test_no_normalisation_is_scaling_in_feature_order():
    x, _ = fake_images(7, (3, 4, 5))
    out = preprocess(x, normalize=None)
    np.testing.assert_allclose(out, x.reshape(7, -1) / 255.0, rtol=1e-6)
    assert out.min() >= 0 and out.max() <= 1


def test_train_statistics_are_exact_and_reused():
    x, _ = fake_images(300, (3, 6, 6), seed=3)
    mean, std = channel_stats(x)
    ref = x.astype(np.float64) / 255
    np.testing.assert_allclose(mean, ref.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, ref.std(axis=(0, 2, 3)), rtol=1e-10)
    stats = compute_stats(x, "train")
    out = preprocess(x, "train")
    per_ch = out.reshape(300, 3, -1)
    np.testing.assert_allclose(per_ch.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(per_ch.std(axis=(0, 2)), 1, atol=1e-5)
    # the same statistics, three ways, applied to other images
    xv, _ = fake_images(20, (3, 6, 6), seed=4)
    a = stats.apply(xv)
    np.testing.assert_array_equal(a, preprocess(xv, stats_from=stats))
    np.testing.assert_array_equal(a, preprocess(xv, "train", stats_from=x))
    assert not np.allclose(a, preprocess(xv, "train"))  # own stats differ


def test_constant_channel_and_input_checks():
    x = np.zeros((4, 1, 2, 2), np.uint8)
    s = compute_stats(x, "train")
    assert s.std == (1.0,) and np.all(preprocess(x, stats_from=s) == 0)
    with pytest.raises(TypeError, match="uint8"):
        preprocess(x.astype(np.float32))
    with pytest.raises(ValueError, match="x\\[:, None\\]"):
        preprocess(np.zeros((4, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="3 channel"):
        preprocess(np.zeros((1, 1, 2, 2), np.uint8), stats_from=compute_stats(3))
    with pytest.raises(ValueError, match="normalize must be"):
        preprocess(x, "zscore")


def test_preprocess_split_uses_train_stats_everywhere():
    sp = official_split(make_ds(), 0.2)
    p = preprocess_split(sp, "train")
    assert p.stats == compute_stats(sp.x_train, "train")
    np.testing.assert_array_equal(p.X_test, p.stats.apply(sp.x_test))
    assert p.X_val.shape == (sp.y_val.size, 60) and p.X_train.dtype == np.float32


# --------------------------------------------------------------------------- feature order
def test_feature_to_pixel_formula_and_round_trip():
    shape = (3, 4, 5)
    idx = np.arange(60)
    c, r, col = feature_to_pixel(idx, shape)
    np.testing.assert_array_equal(c * 20 + r * 5 + col, idx)
    assert feature_to_pixel(27, shape) == (1, 1, 2)
    assert pixel_to_feature(1, 1, 2, shape) == 27
    np.testing.assert_array_equal(pixel_to_feature(c, r, col, shape), idx)
    c2, r2, col2 = feature_to_pixel(idx.reshape(6, 10), shape)
    assert c2.shape == (6, 10)
    with pytest.raises(ValueError, match="out of range"):
        feature_to_pixel(60, shape)


def test_features_to_image_matches_flattening():
    x, _ = fake_images(3, (3, 4, 5))
    flat = x.reshape(3, -1)
    np.testing.assert_array_equal(features_to_image(flat[1], (3, 4, 5)), x[1])
    np.testing.assert_array_equal(features_to_image(flat, (3, 4, 5)), x)
    # importance of feature k lands on the pixel feature_to_pixel(k) names
    imp = np.zeros(60)
    imp[43] = 1.0
    img = features_to_image(imp, (3, 4, 5))
    assert img[feature_to_pixel(43, (3, 4, 5))] == 1.0 and img.sum() == 1.0
    # and preprocess uses that order
    X = preprocess(x, None)
    np.testing.assert_allclose(features_to_image(X[2], (3, 4, 5)) * 255, x[2], atol=1e-4)
    with pytest.raises(ValueError, match="expected 60"):
        features_to_image(np.zeros(59), (3, 4, 5))


# --------------------------------------------------------------------------- splits
def _class_counts(y, k=10):
    return np.bincount(y, minlength=k)


def test_stratified_indices_partition_and_proportions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 1003)
    parts = stratified_indices(y, (0.8, 0.1, 0.1), 5)
    allidx = np.concatenate(parts)
    assert np.array_equal(np.sort(allidx), np.arange(1003))
    for p, f in zip(parts, (0.8, 0.1, 0.1)):
        assert np.all(np.diff(p) > 0)
        assert abs(p.size - f * 1003) < 1  # floor or ceil of the share
        assert np.all(np.abs(_class_counts(y[p], 7) - f * _class_counts(y, 7)) < 1)
    again = stratified_indices(y, (0.8, 0.1, 0.1), 5)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    other = stratified_indices(y, (0.8, 0.1, 0.1), 6)
    assert not np.array_equal(parts[1], other[1])
    g1 = stratified_indices(y, (8, 1, 1), np.random.default_rng(5))  # unnormalised fractions, Generator
    assert all(np.array_equal(a, b) for a, b in zip(parts, g1))
    with pytest.raises(ValueError):
        stratified_indices(y, (0.5, -0.1))


def test_stratified_indices_rounding_is_controlled_on_many_cases():
    """Every class and every part within one item of its exact share (hard cases included)."""
    rng = np.random.default_rng(1)
    for t in range(300):
        k = int(rng.integers(1, 25))
        y = rng.integers(0, k, int(rng.integers(1, 800))) if t % 2 else np.repeat(np.arange(k), rng.integers(1, 4, k))
        f = rng.random(int(rng.integers(2, 6)))
        f /= f.sum()
        parts = stratified_indices(y, f, t)
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(y.size))
        inv = np.unique(y, return_inverse=True)[1]
        sizes = np.bincount(inv)
        for p, fp in zip(parts, f):
            assert abs(p.size - fp * y.size) < 1
            assert np.all(np.abs(np.bincount(inv[p], minlength=sizes.size) - fp * sizes) < 1)
    with pytest.raises(TypeError):
        stratified_indices(y, (0.5, 0.5), "seed")


def test_paper_split_pools_train_and_test():
    ds = make_ds(n_train=400, n_test=100)
    sp = paper_split(ds, random_state=1)
    assert (sp.y_train.size, sp.y_val.size, sp.y_test.size) == (400, 50, 50)
    idx = np.concatenate([sp.idx_train, sp.idx_val, sp.idx_test])
    assert np.array_equal(np.sort(idx), np.arange(500))  # disjoint and covering
    assert np.all(_class_counts(sp.y_val) == 5) and np.all(_class_counts(sp.y_train) == 40)
    x_all = np.concatenate([ds.x_train, ds.x_test])
    y_all = np.concatenate([ds.y_train, ds.y_test])
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(sp, f"x_{part}"), x_all[getattr(sp, f"idx_{part}")])
        np.testing.assert_array_equal(getattr(sp, f"y_{part}"), y_all[getattr(sp, f"idx_{part}")])
    assert sp.x_train.dtype == np.uint8 and sp.classes == ds.classes and sp.image_shape == ds.image_shape
    assert sp.idx_test.max() >= 400  # official test images are used for training too
    sp2 = paper_split(ds, random_state=1)
    assert np.array_equal(sp.idx_val, sp2.idx_val) and np.array_equal(sp.x_test, sp2.x_test)
    assert not np.array_equal(sp.idx_val, paper_split(ds, random_state=2).idx_val)
    assert make_split(ds, "paper", random_state=1).idx_val.tolist() == sp.idx_val.tolist()


def test_official_split_carves_validation_from_train():
    ds = make_ds(n_train=300, n_test=40)
    sp = official_split(ds, val_fraction=0.2, random_state=0)
    np.testing.assert_array_equal(sp.x_test, ds.x_test)
    np.testing.assert_array_equal(sp.y_test, ds.y_test)
    assert sp.y_val.size == 60 and np.all(_class_counts(sp.y_val) == 6)
    assert np.array_equal(np.sort(np.concatenate([sp.idx_train, sp.idx_val])), np.arange(300))
    np.testing.assert_array_equal(sp.x_val, ds.x_train[sp.idx_val])
    assert official_split(ds, 0.0).y_val.size == 0
    assert make_split(ds, "official", val_fraction=0.2).idx_val.tolist() == sp.idx_val.tolist()
    with pytest.raises(ValueError, match="scheme"):
        make_split(ds, "random")


def test_select_classes_relabels_in_given_order():
    ds = make_ds(classes=tuple("abcdefghij"))
    sub = select_classes(ds, [4, 1])
    assert sub.classes == ("e", "b")
    assert set(np.unique(sub.y_train)) == {0, 1}
    np.testing.assert_array_equal(sub.x_train, ds.x_train[np.isin(ds.y_train, [4, 1])])
    np.testing.assert_array_equal(np.where(ds.y_train[np.isin(ds.y_train, [4, 1])] == 4, 0, 1), sub.y_train)
    by_name = select_classes(ds, ["e", "b"])
    np.testing.assert_array_equal(by_name.y_test, sub.y_test)
    sp = select_classes(paper_split(ds), [1, 4])
    assert sp.classes == ("b", "e") and sp.scheme == "paper+classes"
    assert sp.idx_train.size == sp.y_train.size
    with pytest.raises(ValueError, match="twice"):
        select_classes(ds, [1, 1])
    with pytest.raises(ValueError, match="unknown class name"):
        select_classes(ds, ["zebra"])


def test_subsample_per_class():
    ds = make_ds(n_train=400, n_test=100)
    sp = paper_split(ds)
    small = subsample_per_class(sp, n_train=7, n_val=2, random_state=3)
    assert np.all(_class_counts(small.y_train) == 7) and np.all(_class_counts(small.y_val) == 2)
    assert small.y_test.size == sp.y_test.size
    assert np.all(np.isin(small.idx_train, sp.idx_train)) and np.all(np.diff(small.idx_train) > 0)
    again = subsample_per_class(sp, n_train=7, n_val=2, random_state=3)
    assert np.array_equal(small.idx_train, again.idx_train)
    big = subsample_per_class(ds, n_train=1000, n_test=3)
    assert big.y_train.size == 400 and big.y_test.size == 30
    with pytest.raises(ValueError, match="Split"):
        subsample_per_class(ds, n_val=3)


# --------------------------------------------------------------------------- digits
def test_digits_official_like_split():
    ds = load("digits")
    assert ds.x_train.shape == (1438, 1, 8, 8) and ds.x_test.shape == (359, 1, 8, 8)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64 and ds.image_shape == (1, 8, 8)
    allowed = np.rint(np.arange(17) * 255 / 16).astype(np.uint8)
    assert np.all(np.isin(ds.x_train, allowed)) and ds.x_train.max() == 255
    n = np.bincount(np.concatenate([ds.y_train, ds.y_test]))
    assert np.all(np.abs(np.bincount(ds.y_test) - 0.2 * n) <= 1)
    ds2 = load("digits")
    np.testing.assert_array_equal(ds.x_test, ds2.x_test)
    from sklearn.datasets import load_digits

    d = load_digits()
    # every image appears exactly once, scaled
    pool = np.concatenate([ds.x_train, ds.x_test]).reshape(1797, -1).astype(np.int64)
    ref = np.rint(d.data * 255 / 16).astype(np.int64)
    assert sorted(map(bytes, pool.astype(np.uint8))) == sorted(map(bytes, ref.astype(np.uint8)))
