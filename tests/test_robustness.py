"""Issue 19: what a new user meets with bad inputs, failed runs, kills and corrupt files.

Each test here failed on the code before its fix. The bad-input batteries of the other
test files hold the cases that fit there (tests/test_estimators.py
``test_bad_input_gets_a_clear_error``, tests/test_userdata.py ``BAD``).
"""

from __future__ import annotations

import json
import os
import stat
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes, load_digits
from sklearn.preprocessing import StandardScaler

from deeplasso import (
    CheckpointMismatchError, LassoNet, LassoNetClassifier, LassoNetRegressor, NonFiniteLossError, Path, PathConfig,
    fit_path,
)
import deeplasso.engine as engine
from deeplasso.cli import main
from deeplasso.engine import checkpoint as checkpoint_mod
from deeplasso.engine.checkpoint import fingerprint
from deeplasso.engine.files import atomic_write
from deeplasso.engine.runtime import torch_threads

#: a quick digits run: a few seconds
FAST = ["fit", "--max-epochs", "3", "--patience", "1", "--path-multiplier", "2", "--retrain-max-epochs", "2",
        "--hidden-dims", "8", "--quiet"]
QUICK = dict(hidden_dims=(8,), max_epochs=10, patience=3, path_multiplier=1.4, batch_size=32, verbose=0,
             random_state=0)


class Killed(BaseException):
    """A kill: nothing catches it, as nothing catches SIGKILL."""


@pytest.fixture
def keep_threads():
    """``deeplasso --threads N`` sets torch's thread count for the process: put it back."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def _kill_after_checkpoints(monkeypatch, n):
    """Kill the run right after its ``n``-th checkpoint."""
    real = checkpoint_mod.save_checkpoint
    calls = []

    def save(*a, **kw):
        real(*a, **kw)
        calls.append(1)
        if len(calls) == n:
            raise Killed

    monkeypatch.setattr(checkpoint_mod, "save_checkpoint", save)
    return lambda: monkeypatch.setattr(checkpoint_mod, "save_checkpoint", real)


def _csv(path, n=60, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.integers(0, 3, n)
    lines = [",".join([f"f{j}" for j in range(d)] + ["y"])]
    lines += [",".join([f"{v:.4f}" for v in row] + [str(t)]) for row, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- 1. a failed run blocks nothing


@pytest.mark.parametrize("bad,named", [(["--path-multiplier", "1"], "path_multiplier"),
                                       (["--patience", "0"], "patience")])
def test_a_refused_fit_writes_nothing(tmp_path, capsys, bad, named):
    out = tmp_path / "p1"
    assert main(FAST + bad + ["--out", str(out)]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def test_cnn_body_on_tabular_data_is_refused_before_the_run_directory(tmp_path, capsys):
    out = tmp_path / "cnn"
    data = _csv(tmp_path / "d.csv")
    assert main(FAST + ["--data", str(data), "--body", "cnn", "--out", str(out)]) == 2
    assert "image_shape" in capsys.readouterr().err
    assert not out.exists()


def test_settings_of_a_run_that_never_started_do_not_block_the_next(tmp_path, capsys):
    """A directory holding only config.json (what a failed run of an earlier version left)
    is not a run: the corrected command runs in it."""
    out = tmp_path / "p1"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"settings": {"path_multiplier": 1.0}}))
    assert main(FAST + ["--out", str(out)]) == 0
    assert (out / "results.json").exists()
    assert json.loads((out / "config.json").read_text())["settings"]["path_multiplier"] == 2.0


def test_reproduce_without_data_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEEPLASSO_OFFLINE", "1")  # no download, and no data folder but the empty one
    monkeypatch.delenv("DEEPLASSO_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    empty, out = tmp_path / "empty", tmp_path / "rep"
    empty.mkdir()
    assert main(["reproduce", "--data-dir", str(empty), "--out", str(out), "--quiet"]) == 2
    assert "files not found" in capsys.readouterr().err
    assert not out.exists()
    # a reproduce.json of a reproduction that never ran a task does not block the next one
    out.mkdir()
    (out / "reproduce.json").write_text(json.dumps({"budget": {"name": "smoke"}, "tasks": {}}))
    assert main(["reproduce", "--data-dir", str(empty), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "already holds" not in err and "files not found" in err


# --------------------------------------------------------------------------- 2. fingerprint and thread count


def test_data_fingerprint_is_exact_over_bytes_and_not_over_float_sums():
    # torch sums these 3.8M values in another order on 2 threads than on 1
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60000, 64, generator=g) * 1000 + 3
    y = torch.zeros(60000, dtype=torch.int64)
    model = LassoNet(64, 2, (4,))
    with torch_threads(1):
        one = fingerprint(model, X, y, X[:10], y[:10], {})
    with torch_threads(2):
        two = fingerprint(model, X, y, X[:10], y[:10], {})
    assert one["data"] == two["data"]
    # rows swapped: the same sums, other data
    Xs = X.clone()
    Xs[[0, 1]] = X[[1, 0]]
    with torch_threads(1):
        swapped = fingerprint(model, Xs, y, X[:10], y[:10], {})
    assert swapped["data"] != one["data"]


def _engine(xor240, threads):
    X, y = xor240
    t = torch.as_tensor
    torch.manual_seed(0)
    cfg = PathConfig(lr=3e-3, max_epochs=10, patience=3, path_multiplier=1.5, batch_size=32, seed=3,
                     store_weights=True, num_threads=threads)
    return LassoNet(10, 2, (8,)), t(X[:200]), t(y[:200]), t(X[200:]), t(y[200:]), cfg


def test_resume_on_another_thread_count_names_the_thread_count(xor240, tmp_path, monkeypatch):
    ckpt = tmp_path / "ckpt.pt"
    restore = _kill_after_checkpoints(monkeypatch, 3)
    with pytest.raises(Killed):
        fit_path(*_engine(xor240, 2), checkpoint=ckpt)
    restore()
    with pytest.raises(CheckpointMismatchError, match=r"2 CPU threads, 1 CPU thread now.*same thread count") as info:
        fit_path(*_engine(xor240, 1), checkpoint=ckpt)
    assert "other data" not in str(info.value)
    fit_path(*_engine(xor240, 2), checkpoint=ckpt)  # the same count resumes


def test_cli_resume_on_another_thread_count_says_which(tmp_path, capsys, monkeypatch, keep_threads):
    # hidden width 300: steps big enough that the path runs on torch's thread setting
    args = FAST + ["--hidden-dims", "300", "--out", str(tmp_path / "run")]
    restore = _kill_after_checkpoints(monkeypatch, 2)
    with pytest.raises(Killed):
        main(["--threads", "2"] + args)
    restore()
    assert main(["--threads", "1"] + args + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "--threads 2" in err and "other data" not in err


# --------------------------------------------------------------------------- 3. degenerate paths


def test_a_path_that_drops_every_feature_at_once_warns_with_the_fix(xor240):
    X, y = xor240
    with pytest.warns(engine.DegeneratePathWarning, match=r"first lambda step .* removed 10 of 10 features.*lambda_start"):
        LassoNetClassifier(**QUICK, lambda_start=1e12).fit(X, y)


def test_a_dense_model_worse_than_a_constant_warns_with_the_fix(xor240):
    X, y = xor240
    with pytest.warns(engine.DegeneratePathWarning, match=r"no better .* than a constant.*smaller lr"):
        LassoNetClassifier(**QUICK, lr=10.0).fit(X, y)


def test_a_healthy_path_does_not_warn(xor240):
    X, y = xor240
    with warnings.catch_warnings():
        warnings.simplefilter("error", engine.DegeneratePathWarning)
        LassoNetClassifier(**{**QUICK, "max_epochs": 30}, lr=1e-2).fit(X, y)


def test_cli_reports_a_degenerate_path(tmp_path, capsys):
    out = tmp_path / "lr"
    assert main(FAST + ["--lr", "1e6", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "deeplasso: warning:" in err and "--lr" in err
    res = json.loads((out / "results.json").read_text())
    assert res["warnings"] and all("lr" in w for w in res["warnings"])
    assert "Warning" in (out / "report.md").read_text()


# --------------------------------------------------------------------------- 4. regression targets


def test_regressor_standardises_the_target():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Xtr, ytr, Xte, yte = X[:350], y[:350], X[350:], y[350:]
    reg = LassoNetRegressor(hidden_dims=(16,), max_epochs=50, path_multiplier=1.2, verbose=0,
                            random_state=0).fit(Xtr, ytr)
    assert reg.score(Xte, yte) > 0.3  # was -0.19 .. -2.48 on the raw target
    assert reg.y_mean_.shape == (1,) and reg.y_scale_[0] == pytest.approx(ytr.std())
    assert abs(reg.predict(Xte).mean() - yte.mean()) < 0.3 * yte.std()  # predictions on y's own scale
    # two targets on scales 1000 apart are fitted alike: each column on its own scale, with a
    # like R^2 (unscaled, the large one swamped the loss and the small one was not fitted)
    from sklearn.metrics import r2_score

    Y = np.stack([ytr, ytr / 1000.0], axis=1)
    two = LassoNetRegressor(hidden_dims=(16,), max_epochs=50, path_multiplier=1.2, verbose=0,
                            random_state=0).fit(Xtr, Y)
    P = two.predict(Xte)
    r2 = [r2_score(yte, P[:, 0]), r2_score(yte / 1000.0, P[:, 1])]
    assert min(r2) > 0.3 and abs(r2[0] - r2[1]) < 0.1, r2


# --------------------------------------------------------------------------- 5. divergence in "auto"


def test_divergence_while_finding_lambda_start_keeps_the_dense_model():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:300]).astype(np.float32)
    clf = LassoNetClassifier(hidden_dims=(16,), max_epochs=5, verbose=0, random_state=0, path_optimizer="sgd",
                             lr=3.0)
    with pytest.raises(NonFiniteLossError, match=r"lambda_start.*smaller lr") as info:
        clf.fit(X, y[:300])
    assert len(info.value.path) == 1 and len(clf.path_) == 1 and clf.path_[0].lambda_ == 0.0


def test_cli_reports_divergence_without_a_traceback(tmp_path, capsys):
    out = tmp_path / "nan"
    assert main(FAST + ["--lr", "1e30", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deeplasso: error: non-finite loss") and "--lr" in err
    assert main(FAST + ["--out", str(out)]) == 0  # nothing started: the corrected run is not blocked


# --------------------------------------------------------------------------- 6. temp files of a killed write


def test_resume_and_the_end_of_a_run_remove_temp_files_of_killed_writes(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    restore = _kill_after_checkpoints(monkeypatch, 2)
    with pytest.raises(Killed):
        main(FAST + ["--out", str(out)])
    restore()
    # what a kill -9 inside atomic_write leaves: temp files, empty or half written
    (out / ".checkpoint.pt.a1b2c3.tmp").write_bytes(b"")
    (out / ".checkpoint.pt.d4e5f6.tmp").write_bytes(os.urandom(450_000))
    (out / ".selection.partial.json.g7h8.tmp").write_text("{")
    assert main(FAST + ["--out", str(out), "--resume"]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []
    assert (out / "results.json").exists() and not (out / "checkpoint.pt").exists()


def test_fit_path_removes_stale_temps_of_its_checkpoint(xor240, tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    stale = tmp_path / ".ckpt.pt.zz9.tmp"
    stale.write_bytes(b"half")
    other = tmp_path / ".other.json.zz9.tmp"  # not this checkpoint's: left alone
    other.write_bytes(b"x")
    fit_path(*_engine(xor240, None), checkpoint=ckpt)
    assert not stale.exists() and other.exists()


# --------------------------------------------------------------------------- 7. --out names a file


def test_out_naming_a_file_is_refused_with_a_message(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("mine")
    assert main(FAST + ["--out", str(f)]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(f), "--quiet"]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert f.read_text() == "mine"


# --------------------------------------------------------------------------- 9. messages


@pytest.mark.parametrize("content", [b"", b"hello, not an npz at all", b"PK\x03\x04broken zip" * 20, "no header"])
def test_loading_a_broken_path_file_names_the_problem(tmp_path, content):
    f = tmp_path / "path.npz"
    if content == "no header":
        np.savez(f, theta_norm_0=np.zeros(3))
    else:
        f.write_bytes(content)
    with pytest.raises(engine.PathFormatError, match=r"path\.npz.*not a valid path file") as info:
        Path.load(f)
    assert isinstance(info.value, ValueError)


def test_loading_a_truncated_path_file_names_the_problem(tmp_path):
    f = tmp_path / "path.npz"
    Path(points=[], n_features=3, meta={}).save(f)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(engine.PathFormatError, match="not a valid path file"):
        Path.load(f)


def test_M_zero_is_refused_by_the_estimators_and_the_command_line_alike(tmp_path, capsys, xor240):
    X, y = xor240
    with pytest.raises(ValueError, match=r"M=0.*linear.*hidden_dims=\(\)"):
        LassoNetClassifier(**QUICK, M=0).fit(X, y)
    assert main(FAST + ["--M", "0", "--out", str(tmp_path / "m0")]) == 2
    assert "M=0" in capsys.readouterr().err and not (tmp_path / "m0").exists()
    # the same positive values pass both
    LassoNetClassifier(**{**QUICK, "max_epochs": 2}, M=0.5).fit(X, y)
    from deeplasso.experiments.config import resolve_fit

    assert resolve_fit(None, {"M": 0.5}).settings.M == 0.5


# --------------------------------------------------------------------------- 10. small things


def test_written_files_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        f = atomic_write(tmp_path / "a.json", lambda fh: fh.write("{}"), mode="w")
        assert stat.S_IMODE(f.stat().st_mode) == 0o644
        os.umask(0o077)
        g = atomic_write(tmp_path / "b.json", lambda fh: fh.write("{}"), mode="w")
        assert stat.S_IMODE(g.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_run_directory_files_are_readable_by_others(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        assert main(FAST + ["--out", str(out)]) == 0
    finally:
        os.umask(old)
    for name in ("config.json", "results.json", "path.npz", "report.md"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name


def test_progress_shows_steps_and_features_left_and_never_runs_backwards(capsys):
    from types import SimpleNamespace

    from deeplasso.engine import ProgressBar

    bar = ProgressBar(64, 64)
    path = Path(points=[], n_features=64)
    bar.on_path_begin(None, path)
    shown = []
    for step, k in enumerate([64, 30, 19, 2, 31, 0]):
        bar.on_point(None, step, SimpleNamespace(lambda_=0.1 * step, n_selected=k), path)
        shown.append(bar.bar.n)
    bar.on_path_end(None, path)
    assert shown == sorted(shown) and shown[-1] == 6  # lambda steps done
    err = capsys.readouterr().err
    assert "%" not in err and "31/64" in err


def test_cli_says_what_it_does_while_data_loads_and_networks_retrain(tmp_path, capsys):
    args = [a for a in FAST if a != "--quiet"]
    assert main(args + ["--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "loading digits" in err and "retraining" in err and "top-4" in err


def test_version_flag(capsys):
    from deeplasso import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_estimators_are_silent_by_default(xor240, capsys):
    X, y = xor240
    assert LassoNetClassifier().verbose == 0 and LassoNetRegressor().verbose == 0
    params = {k: v for k, v in QUICK.items() if k != "verbose"}
    LassoNetClassifier(**{**params, "max_epochs": 2}).fit(X, y)
    assert capsys.readouterr().err == ""
