"""The `deeplasso fit` main job, on digits with few epochs."""

import json
import shutil

import numpy as np
import pytest

from deeplasso import Path
from deeplasso.cli import main

ARGS = ["fit", "--max-epochs", "4", "--patience", "2", "--path-multiplier", "1.6", "--quiet", "--hidden-dims", "16"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One finished main job, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    return out


def test_fit_writes_a_complete_run(finished_run, capsys):
    out = finished_run
    res = json.loads((out / "results.json").read_text())
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["settings"]["dataset"] == "digits" and cfg["settings"]["hidden_dims"] == [16]
    path = Path.load(out / "path.npz")
    assert [p["n_selected"] for p in res["path"]] == path.n_selected.tolist()
    assert res["path"][0]["n_selected"] == 64 and res["path"][-1]["n_selected"] == 0
    assert sorted(res["ranking"]) == list(range(64))
    assert [r["k"] for r in res["selection"]] == [32, 16, 8, 4]
    assert all(0 <= r["retrained_top_k"] <= 1 for r in res["selection"])
    # the top 16 features of digits carry most of the signal: far better than chance (0.1)
    assert res["selection"][1]["retrained_top_k"] > 0.6
    assert np.isfinite(res["test_accuracy_best"])
    import matplotlib.image as mpimg

    for name in ("importance.png", "accuracy.png"):
        img = mpimg.imread(out / name)
        assert img.ndim == 3 and img.shape[0] > 100 and img.std() > 0  # a real, non-blank picture


def test_second_run_never_overwrites_the_first(finished_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    before = (out / "results.json").read_bytes()
    assert main(ARGS + ["--out", str(out), "--seed", "1"]) == 2
    assert "already holds a finished run" in capsys.readouterr().err
    assert (out / "results.json").read_bytes() == before


def test_a_run_written_before_importance_existed_resumes(finished_run, tmp_path, capsys):
    """The path does not depend on `importance`: a config.json without the key resumes."""
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    cfg = json.loads((out / "config.json").read_text())
    cfg["settings"].pop("importance", None)
    (out / "config.json").write_text(json.dumps(cfg))
    assert main(ARGS + ["--out", str(out), "--resume", "--importance", "lambda"]) == 0
    assert main(ARGS + ["--out", str(out), "--resume", "--seed", "1"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_bad_flag_value_is_reported(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--hidden-dims", "80,x"])
    assert "comma-separated ints" in capsys.readouterr().err


def test_interrupted_run_resumes_without_redoing_work(finished_run, tmp_path, capsys, monkeypatch):
    """Kill the main job inside the retraining; --resume finishes it with the results
    of an uninterrupted run. (Resuming the path itself: tests/test_checkpoint.py.)"""
    from deeplasso.experiments import fit as fit_mod

    expected = json.loads((finished_run / "results.json").read_text())

    out = tmp_path / "run"
    real_retrain = fit_mod.retrain_score
    calls = []

    def dying_retrain(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # killed during the third retraining
        return real_retrain(*a, **kw)

    monkeypatch.setattr(fit_mod, "retrain_score", dying_retrain)
    with pytest.raises(KeyboardInterrupt):
        main(ARGS + ["--out", str(out)])
    assert not (out / "results.json").exists() and (out / "selection.partial.json").exists()
    assert len(json.loads((out / "selection.partial.json").read_text())) == 2
    # without --resume the interrupted run is protected
    assert main(ARGS + ["--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    # other settings cannot resume it
    assert main(ARGS + ["--out", str(out), "--resume", "--seed", "3"]) == 2
    assert "other settings" in capsys.readouterr().err
    counted = []
    monkeypatch.setattr(fit_mod, "retrain_score", lambda *a, **kw: counted.append(1) or real_retrain(*a, **kw))
    assert main(ARGS + ["--out", str(out), "--resume"]) == 0
    assert len(counted) == 8 - 2  # the two finished retrainings are not redone
    got = json.loads((out / "results.json").read_text())
    assert got["selection"] == expected["selection"]
    assert [p["n_selected"] for p in got["path"]] == [p["n_selected"] for p in expected["path"]]
    assert not (out / "checkpoint.pt").exists() and not (out / "selection.partial.json").exists()


def test_report_redraws_from_saved_results(finished_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(finished_run, out)
    (out / "report.md").unlink()
    (out / "accuracy.png").unlink()
    assert main(["report", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "top-k retrained" in text and "![accuracy" in text and (out / "accuracy.png").exists()
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "holds no finished run" in capsys.readouterr().err


def test_cnn_body_from_the_command_line(tmp_path):
    out = tmp_path / "cnn"
    args = ["fit", "--body", "cnn", "--conv-channels", "4,8", "--max-epochs", "2", "--patience", "1",
            "--path-multiplier", "2.0", "--retrain-max-epochs", "2", "--quiet", "--out", str(out)]
    assert main(args) == 0
    cfg = json.loads((out / "config.json").read_text())["settings"]
    assert cfg["body"] == "cnn" and cfg["conv_channels"] == [4, 8]
    res = json.loads((out / "results.json").read_text())
    assert res["path"][0]["n_selected"] == 64 and res["path"][-1]["n_selected"] == 0
    assert "CNN body" in (out / "report.md").read_text()
