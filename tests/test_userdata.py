"""Users' own data (.npz, .npy, .csv), TOML configs, and `deeplasso fit` on them."""

import json
import os
import tomllib

import numpy as np
import pytest

from deeplasso import Path
from deeplasso.cli import main
from deeplasso.data import (
    DataFormatError,
    infer_task,
    load_arrays,
    split_arrays,
    standardize_arrays,
)
from deeplasso.experiments.config import ConfigError, read_config, resolve_fit

QUICK = ["--max-epochs", "20", "--lr", "0.01", "--retrain-max-epochs", "20", "--path-multiplier", "1.3", "--hidden-dims", "16",
         "--quiet"]


def _xy(n=60, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, classes, n)


def _write_csv(path, header, rows, sep=","):
    lines = ([sep.join(header)] if header else []) + [sep.join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- formats round trip


@pytest.mark.parametrize("keys", [("X", "y"), ("x", "y"), ("data", "target"), ("x_train", "y_train"),
                                  ("features", "labels"), ("X_train", "Y_TRAIN")])
def test_npz_accepts_common_key_spellings(tmp_path, keys):
    X, y = _xy()
    np.savez(tmp_path / "d.npz", **{keys[0]: X, keys[1]: y})
    a = load_arrays(tmp_path / "d.npz")
    np.testing.assert_allclose(a.X_train, X)
    assert a.task == "classification" and a.classes == ("0", "1", "2")
    np.testing.assert_array_equal(a.y_train, y)
    assert a.X_val is None and a.X_test is None


def test_npz_given_splits_are_kept_and_only_missing_parts_split_off(tmp_path):
    X, y = _xy(80)
    np.savez(tmp_path / "d.npz", X=X[:60], y=y[:60], X_test=X[60:], y_test=y[60:],
             feature_names=np.array(["a", "b", "c", "d"]))
    a = load_arrays(tmp_path / "d.npz")
    assert len(a.y_test) == 20 and a.X_val is None and a.feature_names == ("a", "b", "c", "d")
    s = split_arrays(a, val_fraction=0.2, random_state=0)
    np.testing.assert_array_equal(s.X_test, X[60:])  # the given test part is untouched
    assert len(s.y_val) == 12 and len(s.y_train) == 48
    rows = {tuple(r) for r in np.concatenate([s.X_train, s.X_val])}
    assert rows == {tuple(r) for r in X[:60]}  # a partition of the given training part


def test_npy_with_labels_file_and_label_column(tmp_path):
    X, y = _xy()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    a = load_arrays(tmp_path / "X.npy", labels=tmp_path / "y.npy")
    np.testing.assert_allclose(a.X_train, X)
    np.testing.assert_array_equal(a.y_train, y)
    np.save(tmp_path / "Xy.npy", np.column_stack([X, y]))
    b = load_arrays(tmp_path / "Xy.npy")  # default: the last column is the label
    np.testing.assert_allclose(b.X_train, X)
    np.testing.assert_array_equal(b.y_train, y)
    np.save(tmp_path / "yX.npy", np.column_stack([y, X]))
    c = load_arrays(tmp_path / "yX.npy", target="0")
    np.testing.assert_allclose(c.X_train, X)
    assert c.target_name == "column 0"


def test_npy_images_are_flattened_with_their_shape(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, size=(30, 5, 6)).astype(np.uint8)
    np.save(tmp_path / "X.npy", imgs)
    np.save(tmp_path / "y.npy", np.arange(30) % 2)
    a = load_arrays(tmp_path / "X.npy", labels=tmp_path / "y.npy")
    assert a.X_train.shape == (30, 30) and a.image_shape == (1, 5, 6)
    np.testing.assert_array_equal(a.X_train[3], imgs[3].ravel())
    b = load_arrays(tmp_path / "X.npy", labels=tmp_path / "y.npy", image_shape=(1, 6, 5))
    assert b.image_shape == (1, 6, 5)


def test_csv_header_string_labels_and_target_by_name_or_index(tmp_path):
    X, y = _xy(40)
    names = np.array(["cat", "dog"])[y % 2]
    rows = [[f"{a:.6f}", lab, f"{b:.6f}", f"{c:.6f}"] for (a, b, c, _), lab in zip(X, names)]
    p = _write_csv(tmp_path / "d.csv", ["alpha", "animal", "beta", "gamma"], rows)
    a = load_arrays(p, target="animal")
    assert a.feature_names == ("alpha", "beta", "gamma") and a.target_name == "animal"
    assert a.classes == ("cat", "dog") and a.task == "classification"
    np.testing.assert_array_equal(a.y_train, y % 2)
    np.testing.assert_allclose(a.X_train, X[:, :3], atol=1e-6)
    assert load_arrays(p, target=1).feature_names == a.feature_names
    assert load_arrays(p, target="ANIMAL").target_name == "animal"  # case is forgiven when unique


def test_csv_without_header_semicolons_last_column_is_the_label(tmp_path):
    X = np.arange(24, dtype=float).reshape(8, 3)
    y = np.array([0.5, 1.25, 2.0, 3.5, 4.0, 5.5, 6.0, 7.25])
    p = _write_csv(tmp_path / "d.csv", None, [[*r, t] for r, t in zip(X, y)], sep=";")
    a = load_arrays(p)
    assert a.feature_names is None and a.task == "regression"
    np.testing.assert_allclose(a.X_train, X)
    np.testing.assert_allclose(a.y_train, y)


def test_task_inference_and_override(tmp_path):
    assert infer_task(np.array(["a", "b"] * 10)) == "classification"
    assert infer_task(np.arange(100) % 4) == "classification"
    assert infer_task(np.array([0.0, 1.0] * 20)) == "classification"  # integer-valued floats
    assert infer_task(np.arange(100) % 50) == "regression"  # many distinct integers
    assert infer_task(np.linspace(0, 1, 30)) == "regression"
    X, y = _xy()
    np.savez(tmp_path / "d.npz", X=X, y=y)
    a = load_arrays(tmp_path / "d.npz", task="regression")
    assert a.task == "regression" and a.y_train.dtype == np.float64 and a.classes is None


def test_split_is_seeded_stratified_and_standardised_on_train(tmp_path):
    X, y = _xy(200, classes=4)
    np.savez(tmp_path / "d.npz", X=X * 5 + 3, y=y)
    a = load_arrays(tmp_path / "d.npz")
    s1, s2, s3 = (split_arrays(a, 0.1, 0.2, random_state=r) for r in (0, 0, 1))
    np.testing.assert_array_equal(s1.X_test, s2.X_test)
    assert not np.array_equal(s1.X_test, s3.X_test)
    assert (len(s1.y_train), len(s1.y_val), len(s1.y_test)) == (140, 20, 40)
    for part in (s1.y_val, s1.y_test):  # stratified: class shares follow the whole
        np.testing.assert_allclose(np.bincount(part, minlength=4) / len(part), np.bincount(y) / 200, atol=0.06)
    z = standardize_arrays(s1)
    assert z.X_train.dtype == np.float32
    np.testing.assert_allclose(z.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.X_train.std(0), 1, atol=1e-4)
    r = standardize_arrays(split_arrays(load_arrays(tmp_path / "d.npz", task="regression")))
    assert abs(r.y_train.mean()) < 1e-9 and r.y_scale > 0


# --------------------------------------------------------------------------- bad input: every message


def _err(tmp_path, match, build, **kw):
    path = build(tmp_path)
    with pytest.raises((DataFormatError, ValueError, FileNotFoundError)) as info:
        load_arrays(path, **kw)
    msg = str(info.value)
    for m in match:
        assert m in msg, msg
    return msg


def _npz(**arrays):
    def build(tmp):
        np.savez(tmp / "d.npz", **arrays)
        return tmp / "d.npz"
    return build


def _csv(header, rows):
    return lambda tmp: _write_csv(tmp / "d.csv", header, rows)


X0, Y0 = _xy(30)
BAD = {
    "no X": (["d.npz", "no feature matrix found", "'a'", "'b'", "expected 'X' and 'y'"], _npz(a=X0, b=Y0), {}),
    "no y": (["no labels found", "'X'", "'z'"], _npz(X=X0, z=Y0), {}),
    "ambiguous": (["ambiguous keys", "'X'", "'x_train'"], _npz(X=X0, x_train=X0, y=Y0), {}),
    "half val": (["'X_val' has no matching y_val"], _npz(X=X0, y=Y0, X_val=X0), {}),
    "nan": (["NaN", "row 3, feature 1", "impute or drop"], _npz(X=np.where(np.arange(120).reshape(30, 4) == 13,
                                                                             np.nan, X0), y=Y0), {}),
    "inf": (["infinite"], _npz(X=np.where(np.arange(120).reshape(30, 4) == 13, np.inf, X0), y=Y0), {}),
    "lengths": (["holds 29 labels for 30 samples", "one label per sample"], _npz(X=X0, y=Y0[:29]), {}),
    "empty": (["X is empty", "at least one sample"], _npz(X=np.zeros((0, 4)), y=np.zeros(0)), {}),
    "1-D X": (["shape (30,)", "reshape(-1, 1)"], _npz(X=X0[:, 0], y=Y0), {}),
    "strings X": (["not numbers"], _npz(X=X0.astype(str), y=Y0), {}),
    "single class": (["single class ('1')", "at least two"], _npz(X=X0, y=np.ones(30, int)), {}),
    "constant": (["constant", "nothing to learn"], _npz(X=X0, y=np.full(30, 2.5)), {"task": "regression"}),
    "regress strings": (["not numbers", "--task classification"], _npz(X=X0, y=np.array(["a", "b"] * 15)),
                        {"task": "regression"}),
    "2-D y": (["shape (30, 2)", "1-D label"], _npz(X=X0, y=np.zeros((30, 2))), {}),
    "unseen test class": (["classes absent from the training labels", "['7']"],
                          _npz(X=X0, y=Y0, X_test=X0[:3], y_test=np.array([0, 1, 7])), {}),
    "feature count": (["X_test has samples of shape (3,)", "same features"],
                      _npz(X=X0, y=Y0, X_test=X0[:5, :3], y_test=Y0[:5]), {}),
    "image shape": (["image_shape (1, 2, 3) has 6 pixels but the data has 4 features", "C*H*W = 4"],
                    _npz(X=X0, y=Y0), {"image_shape": (1, 2, 3)}),
    "csv text column": (["non-numeric feature column 'color' (line 2: 'red')", "one-hot", "--target"],
                        _csv(["a", "color", "y"], [[1.0, "red", 0], [2.0, "blue", 1]] * 5), {}),
    "csv missing": (["missing or non-finite value '' at line 4, column 'b'", "impute"],
                    _csv(["a", "b", "y"], [[1, 2, 0], [3, 4, 1], [5, "", 0], [6, 7, 1]]), {}),
    "csv missing label": (["label column 'y' is empty at line 3", "drop the rows"],
                          _csv(["a", "b", "y"], [[1, 2, 0], [3, 4, "NA"], [5, 6, 1]]), {}),
    "csv ragged": (["line 3 has 2 fields but line 1 has 3"], _csv(["a", "b", "y"], [[1, 2, 0], [3, 4]]), {}),
    "csv target": (["no column named 'price'", "['a', 'b', 'y']"], _csv(["a", "b", "y"], [[1, 2, 0], [3, 4, 1]]),
                   {"target": "price"}),
    "csv empty": (["holds no rows"], lambda tmp: (tmp / "d.csv").write_text("\n") and tmp / "d.csv", {}),
    "csv header only": (["header but no data rows"], _csv(["a", "b", "y"], []), {}),
    "suffix": (["unknown file type '.parquet'"], lambda tmp: (tmp / "d.parquet").write_text("x") and
               tmp / "d.parquet", {}),
    "missing file": (["no such data file"], lambda tmp: tmp / "nope.csv", {}),
    "labels with csv": (["only goes with a .npy"], _csv(["a", "y"], [[1, 0], [2, 1]]), {"labels": "y.npy"}),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_reported_with_file_problem_and_fix(tmp_path, case):
    match, build, kw = BAD[case]
    _err(tmp_path, match, build, **kw)


def test_bad_npy_inputs(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(10.0))
    _err(tmp_path, ["2-D matrix", "--labels"], lambda t: t / "v.npy")
    np.save(tmp_path / "m.npy", np.zeros((10, 3)))
    _err(tmp_path, ["target 'price' is not a column index"], lambda t: t / "m.npy", target="price")
    _err(tmp_path, ["no such labels file"], lambda t: t / "m.npy", labels=tmp_path / "nope.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    _err(tmp_path, ["obj.npy", "no Python objects"], lambda t: t / "obj.npy", labels=tmp_path / "m.npy")


@pytest.mark.parametrize("name,content", [("d.npz", b"not an archive, just text"), ("d.npz", b""),
                                          ("d.npy", b"\x00\x01garbage bytes")])
def test_garbage_npz_and_npy_are_named_as_such_not_as_pickles(tmp_path, name, content):
    """numpy reads bytes that are neither a zip archive nor an .npy header as a pickle, and
    refuses with "pickled data ... allow_pickle": we never unpickle, so the message says what
    the file is not (issue 19)."""
    (tmp_path / name).write_bytes(content)
    kw = {"labels": tmp_path / name} if name.endswith(".npy") else {}
    msg = _err(tmp_path, [name, f"not a valid {name[-4:]} file"], lambda t: t / name, **kw)
    assert "pickle" not in msg


def test_split_refuses_classes_too_small_to_split(tmp_path):
    X, _ = _xy(30)
    y = np.array([0] * 15 + [1] * 14 + [2])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with pytest.raises(DataFormatError, match=r"\('2', 1\).*fewer than 2 samples"):
        split_arrays(load_arrays(tmp_path / "d.npz"))


# --------------------------------------------------------------------------- TOML config


def test_config_file_then_flags_then_defaults(tmp_path):
    cfg = tmp_path / "conf" / "run.toml"
    cfg.parent.mkdir()
    cfg.write_text('data = "x.npz"\nhidden_dims = [8, 4]\nbatch_size = 32\nlambda_start = 2.5\nseed = 3\n'
                   '[fit]\nmax-epochs = 7\n')
    run = resolve_fit(cfg, {"command": "fit", "batch_size": "16", "seed": None, "lr": 0.01, "quiet": True})
    s = run.settings
    assert s.hidden_dims == (8, 4) and s.lambda_start == 2.5 and s.max_epochs == 7  # from the file
    assert s.batch_size == 16 and s.lr == 0.01 and s.verbose == 0  # flags win
    assert s.seed == 3  # a flag not given (None) does not clobber the file
    assert s.patience == 5 and s.M == 10.0  # defaults
    assert s.data == str(cfg.parent / "x.npz") and s.dataset is None  # relative to the file
    assert run.out == "runs/x"
    # a flag for the other data source replaces the file's, "full" survives as None
    run2 = resolve_fit(cfg, {"dataset": "mnist", "batch_size": "full"})
    assert run2.settings.dataset == "mnist" and run2.settings.data is None and run2.settings.batch_size is None


def test_print_config_round_trips(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('dataset = "digits"\nhidden_dims = [80, 100]\nbatch_size = "full"\nnormalize = "none"\n')
    assert main(["fit", "--config", str(cfg), "--lr", "0.005", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert tomllib.loads(text)["lr"] == 0.005
    (tmp_path / "again.toml").write_text(text)
    a = resolve_fit(cfg, {"lr": 0.005})
    b = resolve_fit(tmp_path / "again.toml")
    assert a.settings == b.settings and os.path.abspath(a.out) == b.out
    assert not (tmp_path / "runs").exists()  # printing runs nothing


@pytest.mark.parametrize("text, match", [
    ("hiden_dims = [8]\n", ["unknown key ['hiden_dims']", "valid keys:", "hidden_dims", "lambda_start"]),
    ("hidden_dims = 'a,b'\n", ["run.toml: hidden_dims: expected comma-separated ints"]),
    ("batch_size = -1\n", ["batch_size: expected a positive int or 'full'"]),
    ("lambda_start = 'big'\n", ["lambda_start: expected 'auto' or a positive number"]),
    ("max_epochs = 2.5\n", ["max_epochs: expected a positive int"]),
    ("task = 'clustering'\n", ["task: expected one of"]),
    ('dataset = "mnist"\ndata = "x.npz"\n', ["either dataset", "or data"]),
    ("hidden_dims = [8\n", ["not valid TOML"]),
])
def test_bad_config_files(tmp_path, text, match):
    cfg = tmp_path / "run.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_config(cfg)
    for m in match:
        assert m in str(info.value)


def test_cli_reports_config_and_data_errors_without_making_a_run_dir(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text("bogus = 1\n")
    assert main(["fit", "--config", str(cfg)]) == 2
    assert "unknown key ['bogus']" in capsys.readouterr().err
    p = _write_csv(tmp_path / "d.csv", ["a", "color", "y"], [[1.0, "red", 0], [2.0, "blue", 1]] * 5)
    out = tmp_path / "run"
    assert main(["fit", "--data", str(p), "--out", str(out), "--quiet"]) == 2
    assert "non-numeric feature column 'color'" in capsys.readouterr().err
    assert not out.exists()
    assert main(["fit", "--dataset", "digits", "--target", "y", "--out", str(out)]) == 2
    assert "only applies to your own data file" in capsys.readouterr().err
    assert main(["fit", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "no such config file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fit", "--dataset", "digits", "--data", str(p)])
    assert "not allowed with" in capsys.readouterr().err


# --------------------------------------------------------------------------- end to end


def test_planted_support_npz_end_to_end(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10))
    y = np.where(X[:, 0] + X[:, 1] - X[:, 2] > 0, "yes", "no")
    np.savez(tmp_path / "planted.npz", X=X, y=y)
    out = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "planted.npz"), "--out", str(out), *QUICK]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "accuracy.png" in printed
    res = json.loads((out / "results.json").read_text())
    cfg = json.loads((out / "config.json").read_text())["settings"]
    assert cfg["data"] == str(tmp_path / "planted.npz") and cfg["dataset"] is None and cfg["max_epochs"] == 20
    assert res["task"] == "classification" and res["classes"] == ["no", "yes"] and res["dataset"] == "planted.npz"
    assert (res["n_train"], res["n_val"], res["n_test"]) == (140, 20, 40)
    assert set(res["ranking"][:3]) == {0, 1, 2}  # the informative features leave last
    assert [r["k"] for r in res["selection"]] == [5, 2, 1]  # fractions rounding to the same k are run once
    assert res["selection"][0]["retrained_top_k"] > 0.8  # a plain network on the top 5 features
    assert res["image_shape"] is None
    assert Path.load(out / "path.npz").n_selected.tolist() == [p["n_selected"] for p in res["path"]]
    import matplotlib.image as mpimg

    for name in ("importance.png", "accuracy.png"):
        img = mpimg.imread(out / name)
        assert img.ndim == 3 and img.std() > 0


def test_regression_csv_from_a_config_file_end_to_end(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 8))
    price = 2 * X[:, 3] - 1.5 * X[:, 5] + X[:, 7] + 0.1 * rng.normal(size=200)
    header = [f"f{j}" for j in range(4)] + ["price"] + [f"f{j}" for j in range(4, 8)]
    rows = [[f"{v:.6f}" for v in r[:4]] + [f"{t:.6f}"] + [f"{v:.6f}" for v in r[4:]] for r, t in zip(X, price)]
    _write_csv(tmp_path / "houses.csv", header, rows)
    (tmp_path / "run.toml").write_text(
        'data = "houses.csv"\ntarget = "price"\nhidden_dims = [16]\nmax_epochs = 20\nretrain_max_epochs = 20\n'
        'path_multiplier = 1.3\nlr = 0.01\nseed = 5\nout = "runs/houses"\n')
    assert main(["fit", "--config", str(tmp_path / "run.toml"), "--seed", "0", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "test R^2" in printed and "r2.png" in printed
    out = tmp_path / "runs" / "houses"  # `out` in the file is relative to the file
    res = json.loads((out / "results.json").read_text())
    cfg = json.loads((out / "config.json").read_text())["settings"]
    assert cfg["seed"] == 0 and cfg["target"] == "price" and cfg["hidden_dims"] == [16]  # the flag won
    assert res["task"] == "regression" and res["metric"] == "r2" and res["target"] == "price"
    assert res["feature_names"] == [f"f{j}" for j in range(8)]
    assert set(res["ranking"][:3]) == {3, 5, 7}
    assert res["test_r2_best"] > 0.8
    assert "test_r2" in res["path"][0] and "test_accuracy" not in res["path"][0]
    assert res["selection"][0]["retrained_top_k"] > 0.8  # retrained regressors, scored by R^2
    assert (out / "importance.png").exists() and (out / "r2.png").exists()


def test_unlabeled_files_keep_every_column_as_a_feature(tmp_path):
    """For unsupervised selection (``load_arrays(unlabeled=True)``): with no labels file,
    no label column and no ``y`` key every column is a feature; labels that are given
    are still read as labels."""
    X, y = _xy(n=40, d=5)
    np.save(tmp_path / "X.npy", X)
    a = load_arrays(tmp_path / "X.npy", unlabeled=True)
    assert a.task == "unlabeled" and a.X_train.shape == (40, 5) and a.target_name is None
    np.testing.assert_allclose(a.X_train, X)
    p = _write_csv(tmp_path / "d.csv", [f"c{j}" for j in range(5)], [[f"{v:.6f}" for v in r] for r in X])
    b = load_arrays(p, unlabeled=True)
    assert b.task == "unlabeled" and b.feature_names == tuple(f"c{j}" for j in range(5))
    np.testing.assert_allclose(b.X_train, X, atol=1e-6)
    np.savez(tmp_path / "X.npz", X=X)
    c = load_arrays(tmp_path / "X.npz", unlabeled=True)
    assert c.task == "unlabeled" and c.X_train.shape == (40, 5)
    with pytest.raises(DataFormatError, match="no labels found"):
        load_arrays(tmp_path / "X.npz")  # supervised: the labels are required
    # labels that are there are read (and then score the kept features)
    np.savez(tmp_path / "Xy.npz", X=X, y=y)
    d = load_arrays(tmp_path / "Xy.npz", unlabeled=True)
    assert d.task == "classification" and d.X_train.shape == (40, 5)
    e = load_arrays(p, target="c4", unlabeled=True)
    assert e.X_train.shape == (40, 4) and e.target_name == "c4"
    # the split and standardisation treat the unlabeled data like a regression's features
    s = standardize_arrays(split_arrays(a, 0.2, 0.2, random_state=0))
    assert len(s.X_train) + len(s.X_val) + len(s.X_test) == 40 and s.task == "unlabeled"


def test_cli_reconstruct_without_labels(tmp_path):
    """``deeplasso fit --data X.csv --task reconstruct`` on a file with no label column:
    all columns are features, and there is no accuracy to report."""
    rng = np.random.default_rng(0)
    G = rng.normal(size=(300, 3))
    X = np.column_stack([G, G @ rng.normal(size=(3, 5)) + 0.05 * rng.normal(size=(300, 5))])
    p = _write_csv(tmp_path / "sensors.csv", [f"s{j}" for j in range(8)], [[f"{v:.6f}" for v in r] for r in X])
    out = tmp_path / "run"
    assert main(["--threads", "1", "fit", "--data", str(p), "--task", "reconstruct", "--out", str(out), *QUICK]) in (0, 3)
    res = json.loads((out / "results.json").read_text())
    assert res["task"] == "reconstruct" and res["labels"] == "unlabeled" and res["n_features"] == 8
    assert res["feature_names"] == [f"s{j}" for j in range(8)] and sorted(res["ranking"]) == list(range(8))
    assert all("accuracy_top_k" not in r for r in res["selection"])
    assert "## Reconstruction from k features" in (out / "report.md").read_text()


def test_dense_lr_setting_reads_auto_none_and_numbers():
    from deeplasso.experiments.config import parse_dense_lr

    assert parse_dense_lr("auto") == "auto" and parse_dense_lr("none") is None and parse_dense_lr("1e-4") == 1e-4
    for bad in ("fast", 0, -1e-3, True):
        with pytest.raises(ValueError, match="dense_lr: expected 'auto', 'none' or a positive number"):
            parse_dense_lr(bad)
