"""The `deeplasso fit` main job, on digits with few epochs."""

import json

import numpy as np

from deeplasso import Path
from deeplasso.cli import main

ARGS = ["fit", "--max-epochs", "4", "--patience", "2", "--path-multiplier", "1.6", "--quiet", "--hidden-dims", "16"]


def test_fit_writes_a_complete_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "top-k retrained" in printed
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


def test_second_run_never_overwrites_the_first(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(ARGS + ["--out", str(out)]) == 0
    before = (out / "results.json").read_bytes()
    assert main(ARGS + ["--out", str(out), "--seed", "1"]) == 2
    assert "already holds a finished run" in capsys.readouterr().err
    assert (out / "results.json").read_bytes() == before


def test_bad_flag_value_is_reported(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["fit", "--hidden-dims", "80,x"])
    assert "comma-separated ints" in capsys.readouterr().err
