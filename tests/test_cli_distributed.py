"""The command line on real local Dask clusters of 2 worker processes: `deeplasso sweep
--workers 2`, and `deeplasso fit --cv K` and `deeplasso reproduce` on a running cluster
(`--address`), give exactly the serial results; a sweep resumes only what did not
finish; a bad grid writes nothing.

Small and fast: digits subsets, an 8-unit MLP, 2-3 epochs per lambda."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("distributed")

from deeplasso.cli import main  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

#: a tiny `deeplasso fit` run on 200 digits
TINY = {"max_train": 200, "hidden_dims": [8], "max_epochs": 2, "retrain_max_epochs": 2, "path_multiplier": 2.0,
        "fractions": [0.25, 0.125]}


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """`deeplasso --threads 1 ...` sets torch's thread count for the process: put it back."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def cluster():
    """One running cluster of 2 worker processes for the CV and reproduce runs (`--address`);
    the sweep starts its own (`--workers 2`)."""
    import logging

    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        yield c.scheduler_address


def _toml(values: dict) -> str:
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "\n"


def _sweep_file(tmp_path, grid="M = [3, 10]\nseed = [0, 1]\n") -> Path:
    f = tmp_path / "grid.toml"
    f.write_text(_toml(TINY) + "[sweep]\n" + grid)
    return f


def _no_times(d):
    """A results document without its wall times (the only thing that may differ)."""
    if isinstance(d, dict):
        return {k: _no_times(v) for k, v in d.items() if k not in ("seconds", "path_this_session")}
    if isinstance(d, list):
        return [_no_times(v) for v in d]
    return d


def _path_contents(file: Path) -> dict:
    """path.npz's arrays, and its JSON header without the per-point wall times."""
    with np.load(file, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files if k != "header"}
        header = json.loads(bytes(z["header"]).decode()) if "header" in z.files else None
    out["header"] = _no_times(header)
    return out


def _same_run(a: Path, b: Path) -> None:
    ra, rb = (json.loads((d / "results.json").read_text()) for d in (a, b))
    assert _no_times(ra) == _no_times(rb)
    pa, pb = _path_contents(a / "path.npz"), _path_contents(b / "path.npz")
    assert pa.keys() == pb.keys()
    for k in pa:
        if isinstance(pa[k], np.ndarray):
            np.testing.assert_array_equal(pa[k], pb[k], err_msg=k)
        else:
            assert pa[k] == pb[k], k


RUNS = ["M=3,seed=0", "M=3,seed=1", "M=10,seed=0", "M=10,seed=1"]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """The same 2x2 sweep serially (one torch thread) and on a local cluster of 2 workers."""
    tmp = tmp_path_factory.mktemp("sweep")
    f = _sweep_file(tmp)
    n = torch.get_num_threads()
    try:
        assert main(["--threads", "1", "sweep", str(f), "--out", str(tmp / "serial"), "--quiet"]) == 0
    finally:
        torch.set_num_threads(n)
    assert main(["sweep", str(f), "--out", str(tmp / "parallel"), "--workers", "2", "--quiet"]) == 0
    return f, tmp / "serial", tmp / "parallel"


def test_sweep_on_two_workers_equals_the_serial_sweep(sweeps):
    _, serial, parallel = sweeps
    for name in RUNS:
        _same_run(serial / name, parallel / name)
        # each task's folder is what `deeplasso fit` writes
        for f in ("config.json", "results.json", "path.npz", "report.md", "explorer.html"):
            assert (parallel / name / f).exists(), f
    cfg = json.loads((parallel / "M=10,seed=1" / "config.json").read_text())["settings"]
    assert cfg["M"] == 10.0 and cfg["seed"] == 1 and cfg["hidden_dims"] == [8]
    # the summary: one row per run with the varying settings and the scores at each k
    import csv

    rows = list(csv.reader((parallel / "summary.csv").read_text().splitlines()))
    assert rows[0][:9] == ["run", "M", "seed", "top-16", "random-16", "path<=16", "top-8", "random-8", "path<=8"]
    assert [r[:3] for r in rows[1:]] == [[n, n[2:n.index(",")], n[-1]] for n in RUNS]
    serial_rows = list(csv.reader((serial / "summary.csv").read_text().splitlines()))
    assert [r[:9] for r in rows] == [r[:9] for r in serial_rows]  # all but the wall times
    md = (parallel / "summary.md").read_text()
    assert "4 of 4 runs finished" in md and all(f"]({n}/report.md)" in md for n in RUNS)
    res = json.loads((parallel / "M=3,seed=1" / "results.json").read_text())
    top16 = next(r for r in res["selection"] if r["k"] == 16)["retrained_top_k"]
    assert f"{top16:.4f}" in md


def test_sweep_resume_reruns_only_the_unfinished_run(sweeps, capsys):
    f, _, parallel = sweeps
    assert main(["sweep", str(f), "--out", str(parallel), "--quiet"]) == 2  # never overwritten silently
    assert "--resume" in capsys.readouterr().err
    before = {n: (parallel / n / "results.json").stat().st_mtime_ns for n in RUNS}
    kept = (parallel / "M=10,seed=0" / "results.json").read_text()
    (parallel / "M=10,seed=0" / "results.json").unlink()
    assert main(["--threads", "1", "sweep", str(f), "--out", str(parallel), "--resume", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "1 runs done, 3 already finished, 0 failed" in out
    after = {n: (parallel / n / "results.json").stat().st_mtime_ns for n in RUNS}
    assert [n for n in RUNS if after[n] != before[n]] == ["M=10,seed=0"]
    assert _no_times(json.loads((parallel / "M=10,seed=0" / "results.json").read_text())) == \
        _no_times(json.loads(kept))


def test_sweep_with_one_bad_value_fails_before_writing_anything(tmp_path, capsys):
    f = _sweep_file(tmp_path, grid="M = [10, -1]\nseed = [0, 1]\n")
    out = tmp_path / "bad"
    assert main(["sweep", str(f), "--out", str(out), "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "run M=-1, seed=0: M" in err  # the combination and the key named
    assert not out.exists()
    # an unknown key and an unknown data set are caught the same way
    f.write_text(_toml(TINY) + "[sweep]\nseed = [0, 1]\ndataset = [\"digits\", \"nope\"]\n")
    assert main(["sweep", str(f), "--out", str(out)]) == 2
    assert "unknown data set 'nope'" in capsys.readouterr().err and not out.exists()
    f.write_text(_toml(TINY) + "[sweep]\nseeds = [0, 1]\n")
    assert main(["sweep", str(f), "--out", str(out)]) == 2
    assert "unknown key" in capsys.readouterr().err and not out.exists()


def test_sweep_grid_of_list_settings_and_names(tmp_path):
    from deeplasso.experiments.sweep import read_sweep

    f = tmp_path / "s.toml"
    f.write_text(_toml({"max_train": 100}) + "[sweep]\nhidden_dims = [[8], [16, 8]]\nfractions = [0.5]\n"
                 "lambda_start = [\"auto\", 0.5]\n")
    plan = read_sweep(f)
    assert plan.varying == ["hidden_dims", "lambda_start"]
    assert [n for n, _, _ in plan.runs] == ["hidden_dims=8,lambda_start=auto", "hidden_dims=8,lambda_start=0.5",
                                           "hidden_dims=16x8,lambda_start=auto", "hidden_dims=16x8,lambda_start=0.5"]
    s = plan.runs[3][2]
    assert s.hidden_dims == (16, 8) and s.lambda_start == 0.5 and s.fractions == (0.5,) and s.max_train == 100
    assert plan.out == os.path.join("runs", "s")  # like `deeplasso fit`'s default, under the working folder


CV_ARGS = ["fit", "--max-train", "300", "--hidden-dims", "8", "--max-epochs", "3", "--retrain-max-epochs", "2",
           "--path-multiplier", "1.5", "--cv", "3", "--quiet"]


def test_cv_fit_on_two_workers_equals_serial_and_draws_the_curve(tmp_path, cluster):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert main(CV_ARGS + ["--out", str(serial)]) == 0
    assert main(CV_ARGS + ["--out", str(parallel), "--address", cluster]) == 0
    assert (serial / "cv.json").read_text() == (parallel / "cv.json").read_text()
    cv = json.loads((parallel / "cv.json").read_text())
    assert cv["n_folds"] == 3 and len(cv["lambdas"]) == len(cv["mean"]) == len(cv["se"]) == len(cv["n_features"])
    assert cv["lambda_1se"] >= cv["lambda_min"] and cv["best_lambda"] == cv["lambda_1se"]
    assert np.array(cv["scores"]).shape == (3, len(cv["lambdas"]))
    report = (parallel / "report.md").read_text()
    assert "## Cross-validation over lambda" in report and "](cv.png)" in report
    import matplotlib.image as mpimg

    img = mpimg.imread(parallel / "cv.png")
    assert img.ndim == 3 and img.std() > 0
    # the explorer page reads cv.json: its CV curve is there
    from deeplasso.explorer.data import from_run_dir

    assert from_run_dir(parallel).cv["lambda_1se"] == cv["lambda_1se"]


def test_cv_scoring_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "ll"
    i = CV_ARGS.index("--cv")
    args = CV_ARGS[:i] + ["--cv", "2"] + CV_ARGS[i + 2:] + ["--cv-scoring", "neg_log_loss"]
    assert main(args + ["--out", str(out)]) == 0
    cv = json.loads((out / "cv.json").read_text())
    assert cv["scoring"] == "neg_log_loss" and cv["label"] == "CV neg_log_loss"
    assert np.all(np.array(cv["scores"]) <= 0) and cv["test_score"] <= 0 and 0 < cv["test_accuracy"] <= 1
    assert "held-out neg_log_loss" in (out / "report.md").read_text()
    # a regression metric for a classification is refused, naming the right ones
    assert main(args[:-1] + ["r2", "--out", str(tmp_path / "bad")]) != 0
    assert "'r2' is a regression metric" in capsys.readouterr().err


def test_stability_fit_writes_its_paths_into_the_report(tmp_path):
    out = tmp_path / "st"
    i = CV_ARGS.index("--cv")
    args = CV_ARGS[:i] + CV_ARGS[i + 2:] + ["--stability", "3", "--threshold", "0.7"]
    assert main(args + ["--out", str(out)]) == 0
    st = json.loads((out / "stability.json").read_text())
    assert st["n_paths"] == 3 and st["threshold"] == 0.7
    assert np.array(st["probabilities"]).shape == (len(st["lambdas"]), 64)
    report = (out / "report.md").read_text()
    assert "## Stability selection" in report and "](stability.png)" in report and (out / "stability.png").exists()


def _data_dir():
    cands = [Path(p) for p in os.environ.get("DEEPLASSO_DATA", "").split(os.pathsep) if p.strip()] + [SHARED]
    for c in cands:
        if (c / "mnist").is_dir():
            return c
    pytest.skip("MNIST is not available (set DEEPLASSO_DATA or put shared/data beside the repo)")


def test_reproduce_on_two_workers_gives_the_serial_results(tmp_path, cluster):
    data = _data_dir()
    base = ["reproduce", "--budget", "smoke", "--only", "lambda_start", "--data-dir", str(data), "--quiet"]
    n = torch.get_num_threads()
    try:
        assert main(["--threads", "1"] + base + ["--out", str(tmp_path / "serial")]) == 0
    finally:
        torch.set_num_threads(n)
    assert main(base + ["--out", str(tmp_path / "parallel"), "--address", cluster]) == 0
    for v in ("1", "100", "auto"):
        _same_run(tmp_path / "serial" / "lambda_start" / v, tmp_path / "parallel" / "lambda_start" / v)
    state = json.loads((tmp_path / "parallel" / "reproduce.json").read_text())
    assert sorted(state["tasks"]) == ["lambda_start/1", "lambda_start/100", "lambda_start/auto"]
    assert all(t["status"] == "done" for t in state["tasks"].values())
    assert "## Table 1 and Figure 2" in (tmp_path / "parallel" / "report.md").read_text()
