"""`deeplasso reproduce --budget smoke` on the real data (skipped where the data are
not beside the repository), its report, and resuming an interrupted reproduction."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from deeplasso.cli import main
from deeplasso.experiments import reproduce as rep

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _data_dir():
    cands = [Path(p) for p in os.environ.get("DEEPLASSO_DATA", "").split(os.pathsep) if p.strip()] + [SHARED]
    for c in cands:
        if (c / "mnist").is_dir() and (c / "cifar-10-batches-bin").is_dir():
            return c
    pytest.skip("MNIST and CIFAR-10 are not available (set DEEPLASSO_DATA or put shared/data beside the repo)")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    data = _data_dir()
    out = tmp_path_factory.mktemp("reproduce") / "smoke"
    assert main(["reproduce", "--budget", "smoke", "--data-dir", str(data), "--out", str(out), "--quiet"]) == 0
    return out


def test_smoke_budget_reproduces_every_table_and_figure(smoke_run):
    out = smoke_run
    state = json.loads((out / "reproduce.json").read_text())
    expected = rep.tasks(rep.BUDGETS["smoke"], None)
    assert {rel for _, rel, _ in expected} == set(state["tasks"])
    assert all(t["status"] == "done" for t in state["tasks"].values())
    report = (out / "report.md").read_text()
    for heading in ("## Table 2", "## Table 1 and Figure 2", "## Figure 3", "## Figure 4"):
        assert heading in report
    assert "Not run yet" not in report and "have not run" not in report
    # the paper's numbers stand beside ours
    assert "61.2" in report and "30.2" in report and "12591" not in report  # smoke grid: 1, 100, auto
    assert "9743" in report and "5130" in report
    # the paper's protocol (this run) beside the estimators' defaults, the benchmark's winners
    settings = report[report.index("## Settings"):]
    assert "| path_multiplier | `1.5` | auto |" in settings and "| refit | `False` | `True` |" in settings
    assert "| dense_lr | none (lr) | auto |" in settings
    # each selection task kept the protocol: the fitted model is the path point best on validation
    res0 = json.loads((out / "selection/cifar10/deep/seed0/results.json").read_text())
    best = res0["path"][res0["best_index"]]
    assert res0["test_accuracy_best"] == best["test_accuracy"]
    # every table row of the selection study has numbers for both bodies and all fractions
    res = json.loads((out / "selection/cifar10/deep/seed0/results.json").read_text())
    assert res["n_train"] == 600 and res["n_features"] == 3072
    assert [r["k"] for r in res["selection"]] == [31, 61, 154, 307, 614, 1536, 3072]
    assert res["path"][0]["n_selected"] == 3072 and res["path"][-1]["n_selected"] == 0
    bl = json.loads((out / "baselines/cifar10.json").read_text())
    assert {"knn", "svm", "pca_lr"} <= set(bl) and bl["knn"]["selection"].startswith("5-fold")
    import matplotlib.image as mpimg

    figs = sorted((out / "figures").glob("*.png"))
    assert len(figs) == 6  # figure 2, figure 3 x 2 bodies, figure 4 x (2 bodies + MNIST 1 vs 4)
    for f in figs:
        img = mpimg.imread(f)
        assert img.ndim == 3 and img.std() > 0
        assert f"figures/{f.name}" in report


def test_report_is_redrawn_from_saved_results_alone(smoke_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(smoke_run, copy)
    before = (copy / "report.md").read_text()
    for f in (copy / "figures").glob("*.png"):
        f.unlink()
    (copy / "report.md").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.md").read_text() == before
    assert len(list((copy / "figures").glob("*.png"))) == 6


def test_second_reproduction_is_refused_and_resume_redoes_nothing(smoke_run, capsys, monkeypatch):
    args = ["reproduce", "--budget", "smoke", "--data-dir", str(_data_dir()), "--out", str(smoke_run), "--quiet"]
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    monkeypatch.setattr(rep, "run_fit", lambda *a, **k: pytest.fail("a finished task ran again"))
    monkeypatch.setattr(rep, "_run_baselines", lambda *a, **k: pytest.fail("a finished task ran again"))
    assert main(args + ["--resume"]) == 0
    assert main(["reproduce", "--budget", "paper", "--out", str(smoke_run), "--resume", "--quiet"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_a_reproduction_begun_before_importance_existed_resumes(smoke_run, tmp_path, monkeypatch):
    """reproduce.json written before the budget had `importance` (it ranked by "lambda", the
    budget's value) resumes; another importance there would not."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(smoke_run, old)
    state = json.loads((old / "reproduce.json").read_text())
    assert state["budget"].pop("importance") == "lambda"
    (old / "reproduce.json").write_text(json.dumps(state))
    monkeypatch.setattr(rep, "run_fit", lambda *a, **k: pytest.fail("a finished task ran again"))
    monkeypatch.setattr(rep, "_run_baselines", lambda *a, **k: pytest.fail("a finished task ran again"))
    args = ["reproduce", "--budget", "smoke", "--data-dir", str(_data_dir()), "--out", str(old), "--quiet", "--resume"]
    assert main(args) == 0
    state["budget"]["importance"] = "norm"
    (old / "reproduce.json").write_text(json.dumps(state))
    assert main(args) == 2


class Killed(Exception):
    pass


def test_killed_reproduction_resumes_where_it_stopped(tmp_path, monkeypatch):
    data = _data_dir()
    real = rep.run_fit
    calls = []
    kill = [True]

    def killed_on_second(settings, dest, **kw):
        calls.append(str(dest))
        if len(calls) == 2 and kill[0]:
            raise Killed
        return real(settings, dest, **kw)

    monkeypatch.setattr(rep, "run_fit", killed_on_second)
    out = tmp_path / "run"
    with pytest.raises(Killed):
        rep.reproduce("smoke", out, data_dir=data, studies=("lambda_start",), verbose=0)
    state = json.loads((out / "reproduce.json").read_text())
    assert list(state["tasks"]) == ["lambda_start/1"]
    assert "1 of 3 tasks finished" in (out / "report.md").read_text()  # an honest partial report
    first = (out / "lambda_start/1/results.json").read_bytes()
    calls.clear()
    kill[0] = False
    rep.reproduce("smoke", out, data_dir=data, studies=("lambda_start",), resume=True, verbose=0)
    assert [Path(c).name for c in calls] == ["100", "auto"]  # the finished task is not redone
    assert (out / "lambda_start/1/results.json").read_bytes() == first
    state = json.loads((out / "reproduce.json").read_text())
    assert all(t["status"] == "done" for t in state["tasks"].values()) and len(state["tasks"]) == 3
    res = json.loads((out / "lambda_start/auto/results.json").read_text())
    assert res["selection"] == [] and np.isfinite(res["lambda_start"])


def test_unknown_budget_and_study_are_reported(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "--budget", "huge"])
    assert "invalid choice" in capsys.readouterr().err
    assert main(["reproduce", "--only", "tables", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "unknown studies ['tables']" in capsys.readouterr().err
