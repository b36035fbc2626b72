"""Plots from saved results: valid PNGs of the promised pixel size, the colour mapping of
importances (order, inf handling, brightness), atomic writes, clear errors."""

import os

import matplotlib.image as mpimg
import numpy as np
import pytest

from deeplasso.data import pixel_to_feature
from deeplasso import Path, PathPoint
from deeplasso.plots import (
    accuracy_vs_features,
    importance_image,
    importance_bars,
    importance_map,
    lambda_start_study,
    path_plot,
)


def _png(file, size):
    """Read back a PNG; check it is (h, w, 4) = figsize * dpi and not blank."""
    assert os.path.getsize(file) > 0
    with open(file, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(file)
    w, h = size
    assert img.shape == (h, w, 4), img.shape
    assert img[..., :3].std() > 0.01  # something was drawn
    return img


def _no_temp_left(folder):
    assert not [f for f in os.listdir(folder) if f.endswith(".tmp")]


def _fake_path(d=12, seed=0):
    """A saved-path-like object: dense point at lambda 0, then features leave one by one."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(d)
    points = []
    lams = [0.0] + list(1.5 ** np.arange(d))
    for i, lam in enumerate(lams):
        theta = np.ones(d)
        theta[order[:max(i - 1, 0)]] = 0.0  # i - 1 features gone at point i
        k = int((theta > 0).sum())
        points.append(PathPoint(lambda_=float(lam), theta_norm=theta, train_loss=1.0, train_score=0.5 + k / (2 * d),
                                val_loss=1.0, val_score=0.45 + k / (2 * d), val_objective=1.0, epochs=3,
                                seconds=0.1))
    return Path(points=points, n_features=d, meta={})


def test_importance_image_order_and_inf():
    shape = (3, 2, 4)
    v = np.arange(1.0, 25.0)
    v[pixel_to_feature(1, 0, 3, shape)] = np.inf
    img, vmin, vmax = importance_image(v, shape, scale="linear")
    assert img.shape == shape
    assert img[0, 1, 2] == v[pixel_to_feature(0, 1, 2, shape)]  # channel-major, then row, then col
    assert np.isposinf(img[1, 0, 3]) and np.isinf(img).sum() == 1
    assert (vmin, vmax) == (1.0, 24.0)  # finite range only
    img2, _, vmax2 = importance_image(v, shape, scale="linear", inf_as="max")
    assert img2[1, 0, 3] == vmax2 == 24.0
    # log scale: zeros (features gone after the dense fit) sit at the smallest positive value
    w = np.array([0.0, 10.0, 100.0, np.inf])
    lg, lo, hi = importance_image(w, (1, 2, 2), scale="log")
    np.testing.assert_allclose(lg.ravel()[:3], [1.0, 1.0, 2.0])
    assert (lo, hi) == (1.0, 2.0)
    rk, _, _ = importance_image(np.array([3.0, 1.0, 2.0, 2.0]), (1, 1, 4), scale="rank")
    np.testing.assert_allclose(rk.ravel(), [1.0, 0.0, 0.5, 0.5])


def test_importance_map_rgb_panels_brightness_and_size(tmp_path):
    shape = (3, 8, 8)
    imp = np.full(int(np.prod(shape)), 1.0)
    imp[: 64] = 1000.0  # red channel important everywhere
    imp[pixel_to_feature(2, 4, 4, shape)] = np.inf
    out = importance_map(imp, shape, tmp_path / "rgb.png", figsize=(8.0, 2.5), dpi=50)
    assert out == str(tmp_path / "rgb.png")
    img = _png(out, (400, 125))
    _no_temp_left(tmp_path)
    # the red panel (first quarter of the width) is brighter on average than the green panel
    lum = img[..., :3].mean(axis=2)
    mid = slice(40, 100)
    red, green = lum[mid, 20:80].mean(), lum[mid, 115:175].mean()
    assert red > green + 0.2


def test_importance_map_gray_and_combined_only(tmp_path):
    a = importance_map(np.random.default_rng(0).exponential(size=784), (1, 28, 28), tmp_path / "g.png",
                       figsize=(4, 3), dpi=60)
    _png(a, (240, 180))
    b = importance_map(np.arange(1.0, 49.0), (3, 4, 4), tmp_path / "c.png", per_channel=False, combine="mean",
                       figsize=(4, 3), dpi=60)
    _png(b, (240, 180))
    allinf = importance_map(np.full(16, np.inf), (1, 4, 4), tmp_path / "allinf.png", figsize=(3, 3), dpi=40)
    assert os.path.getsize(allinf) > 0


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 8, 8)])
def test_importance_map_texts_neither_overlap_nor_leave_the_figure(tmp_path, monkeypatch, shape):
    """Issue 19: the one-panel map (figure4_mnist_1v4.png) had its title over the panel's
    title and the colour bar's label cut off at the right edge."""
    import matplotlib.text

    from deeplasso.evaluation.plots import importance as mod

    figs = []
    real = mod.save_png
    monkeypatch.setattr(mod, "save_png", lambda fig, out, dpi: figs.append(fig) or real(fig, out, dpi))
    imp = np.random.default_rng(0).exponential(size=int(np.prod(shape)))
    imp[:5] = np.inf
    importance_map(imp, shape, tmp_path / "m.png", title="MNIST 1 vs 4, lambda_start auto")
    fig = figs[0]
    renderer = fig.canvas.get_renderer()
    hidden = set()  # tick labels of ticks outside the axis's range are not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    hidden |= {id(tick.label1), id(tick.label2)}
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    assert any(name == "log10 lambda at exit" for name, _ in boxes)
    W, H = fig.bbox.width, fig.bbox.height
    for name, b in boxes:
        assert b.x0 >= -0.5 and b.y0 >= -0.5 and b.x1 <= W + 0.5 and b.y1 <= H + 0.5, (name, b, W, H)
    for i, (a, ba) in enumerate(boxes):
        for c, bc in boxes[i + 1:]:
            assert not ba.overlaps(bc), (a, c)


def test_importance_map_and_bars_say_which_rule_they_draw(tmp_path, monkeypatch):
    """A run ranked by importance="norm" draws the sums of ||theta_j||: its colour bar and
    axis must not call them lambdas."""
    import matplotlib.text

    from deeplasso.evaluation.plots import importance as mod

    figs = []
    real = mod.save_png
    monkeypatch.setattr(mod, "save_png", lambda fig, out, dpi: figs.append(fig) or real(fig, out, dpi))
    imp = np.random.default_rng(0).exponential(size=16)
    texts = []
    for by in ("lambda", "norm"):
        importance_map(imp, (1, 4, 4), tmp_path / f"m-{by}.png", figsize=(3, 3), dpi=40, by=by)
        importance_bars(imp, tmp_path / f"b-{by}.png", dpi=40, by=by)
        texts.append([{t.get_text() for t in f.findobj(matplotlib.text.Text)} for f in figs[-2:]])
    (map_l, bars_l), (map_n, bars_n) = texts
    assert "log10 lambda at exit" in map_l and "log10 sum of ||theta_j|| over the path" in map_n
    assert not any("lambda" in t for t in map_n)
    assert "log10 sum of ||theta_j|| over the path (longer = more important)" in bars_n
    assert "log10 lambda at exit (longer = more important)" in bars_l
    with pytest.raises(ValueError, match="'lambda' or 'norm'"):
        importance_map(imp, (1, 4, 4), tmp_path / "x.png", by="exit")
    with pytest.raises(ValueError, match="'lambda' or 'norm'"):
        importance_bars(imp, tmp_path / "x.png", by="exit")


def test_importance_map_from_saved_path(tmp_path):
    p = _fake_path(d=12)
    f = tmp_path / "path.npz"
    p.save(f)
    imp = Path.load(f).feature_importances()
    assert np.isinf(imp).sum() == 1 and (imp == 0).sum() == 0
    out = importance_map(str(f), (3, 2, 2), tmp_path / "from_file.png", figsize=(6, 2), dpi=50)
    _png(out, (300, 100))


def test_importance_errors(tmp_path):
    with pytest.raises(ValueError, match=r"importances has 100 values but image_shape \(3, 32, 32\) needs 3072"):
        importance_map(np.ones(100), (3, 32, 32), tmp_path / "x.png")
    with pytest.raises(ValueError, match="NaN"):
        importance_map(np.array([1.0, np.nan, 2, 3]), (1, 2, 2), tmp_path / "x.png")
    with pytest.raises(ValueError, match="scale must be"):
        importance_map(np.ones(4), (1, 2, 2), tmp_path / "x.png", scale="sqrt")
    with pytest.raises(ValueError, match=r"\.png"):
        importance_map(np.ones(4), (1, 2, 2), tmp_path / "x.jpg")
    with pytest.raises(FileNotFoundError, match="Path.save"):
        importance_map(str(tmp_path / "missing.npz"), (1, 2, 2), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_accuracy_vs_features_curves_seeds_and_baselines(tmp_path):
    n = [3072, 1536, 307, 31, 0]
    curves = {
        "LassoNet path": {"n_features": n, "accuracy": [0.5, 0.45, 0.3, 0.2, 0.1]},  # 0 features: left out
        "retrained on selected": {"n_features": n[:4], "accuracy": [0.5, 0.5, 0.48, 0.4], "std": [0.01] * 4},
        "random features": {"n_features": n[:4], "accuracy": np.array([[0.5, 0.49, 0.47, 0.38],
                                                                       [0.51, 0.5, 0.46, 0.4]])},
    }
    baselines = {"settings": {}, "knn": {"test_accuracy": 0.339}, "PCA + LR": 0.414}
    out = accuracy_vs_features(curves, tmp_path / "acc.png", baselines=baselines, figsize=(6, 4), dpi=80)
    _png(out, (480, 320))
    out2 = accuracy_vs_features(curves, tmp_path / "lin.png", logx=False, figsize=(5, 4), dpi=40)
    _png(out2, (200, 160))


def test_accuracy_vs_features_errors(tmp_path):
    with pytest.raises(ValueError, match="'accuracy' has shape"):
        accuracy_vs_features({"a": {"n_features": [1, 2, 3], "accuracy": [0.1, 0.2]}}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="lacks 'accuracy'"):
        accuracy_vs_features({"a": {"n_features": [1, 2]}}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="no point with n_features > 0"):
        accuracy_vs_features({"a": {"n_features": [0], "accuracy": [0.1]}}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="non-empty"):
        accuracy_vs_features({}, tmp_path / "e.png")


def test_path_plot_from_path_file_and_dict(tmp_path):
    p = _fake_path()
    f = tmp_path / "p.npz"
    p.save(f)
    for src in (p, f, str(f)):
        out = path_plot(src, tmp_path / "path.png", figsize=(5, 4), dpi=50)
        _png(out, (250, 200))
    plain = {"lambdas": [1, 2, 4, 8], "n_selected": [10, 6, 2, 0], "val_score": [0.9, 0.8, 0.6, 0.3]}
    _png(path_plot(plain, tmp_path / "plain.png", figsize=(5, 4), dpi=50), (250, 200))
    with pytest.raises(ValueError, match="one value per lambda"):
        path_plot(dict(plain, val_score=[0.9]), tmp_path / "bad.png")
    with pytest.raises(ValueError, match="lacks"):
        path_plot({"lambdas": [1.0]}, tmp_path / "bad.png")
    with pytest.raises(TypeError, match="saved one"):
        path_plot(42, tmp_path / "bad.png")


def test_lambda_start_study(tmp_path):
    runs = [{"lambda_start": ls, "n_features": [784, 200, 50, 10], "accuracy": [0.99, 0.98, 0.95, 0.8 - i / 20],
             "epochs": ep, "seconds": ep / 10}
            for i, (ls, ep) in enumerate([(1e-2, 12591), (1.0, 9743), (5e2, 2596)])]
    _png(lambda_start_study(runs, tmp_path / "ls.png", figsize=(9, 3.5), dpi=50), (450, 175))
    as_map = {r["lambda_start"]: {k: v for k, v in r.items() if k not in ("lambda_start", "epochs", "seconds")}
              for r in runs}
    _png(lambda_start_study(as_map, tmp_path / "ls2.png", figsize=(5, 3.5), dpi=50), (250, 175))
    with pytest.raises(ValueError, match="needs 'epochs' in every run"):
        lambda_start_study(as_map, tmp_path / "bad.png", show_epochs=True)
    with pytest.raises(ValueError, match="lambda_start must be positive"):
        lambda_start_study([dict(runs[0], lambda_start=0.0)], tmp_path / "bad.png")
    with pytest.raises(ValueError, match="appears twice"):
        lambda_start_study([runs[0], runs[0]], tmp_path / "bad.png")
    _no_temp_left(tmp_path)
