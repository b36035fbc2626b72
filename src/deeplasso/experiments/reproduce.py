"""``deeplasso reproduce``: every table and figure of the paper from one command.

The studies, each a set of tasks whose results land in the run directory as they
finish (each task is a ``deeplasso fit``-style run directory or a JSON file,
written atomically; paths keep a checkpoint per lambda step):

- ``baselines`` (Table 2, first rows): KNN, linear SVM and PCA + logistic
  regression on CIFAR-10, hyperparameters chosen by cross-validation or on
  validation (:mod:`deeplasso.baselines`);
- ``lambda_start`` (Table 1, Figure 2): MNIST 1 vs 4, one path per starting
  lambda of a grid (the paper's values on our scale, plus ``"auto"``): total
  epochs, wall time and accuracy against the number of features;
- ``selection`` (Table 2's LassoNet rows, Figure 3, Figure 4): per data set, a
  shallow and a deeper MLP, several seeds; per path the test accuracy of the path
  itself, of a plain network retrained on the top-k features and on k random
  features, at fractions from 1% to 100%; the importance maps.

A budget fixes the sizes: ``smoke`` (subsets, few epochs: a few minutes on two
CPU cores; CI runs it) and ``paper`` (the paper's protocol). The report
(``report.md`` + PNG figures) is rewritten after every task, so an interrupted run
still has an honest report of what it finished; ``deeplasso report RUN_DIR``
redraws it from the saved results alone.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path as FsPath

import numpy as np

from .._io import json_default, write_json
from .fit import FitSettings, RunExistsError, _prepare, best_on_validation, run_fit, saved_importances
from .report import _write, fmt, md_table

__all__ = ["Budget", "BUDGETS", "STUDIES", "reproduce", "write_reproduce_report", "PAPER"]

STUDIES = ("baselines", "lambda_start", "selection")

#: The paper's numbers, for the report.
PAPER = {
    "table1_epochs": {0.01: 12591, 0.1: 11167, 1.0: 9743, 10.0: 7350, 100.0: 5130, 500.0: 2596},
    "table2": {"knn": 0.302, "svm": 0.359, "pca_lr": 0.427},
    "table2_lassonet": {1.0: 0.612, 0.5: 0.254, 0.1: 0.182},  # LassoNet (80, 100) on CIFAR-10
    "baseline_params": {"knn": "k = 7 (5-fold CV)", "svm": "L2 strength 3e+4 (CV)", "pca_lr": "-"},
}

BASELINE_NAMES = {"knn": "KNN", "svm": "linear SVM", "pca_lr": "PCA + linear"}


@dataclass(frozen=True)
class Budget:
    """Sizes and settings of one reproduction; see :data:`BUDGETS`."""

    name: str
    seeds: tuple[int, ...]
    cifar_per_class: tuple | None  # (train, val, test) images per class of the paper split; None: all
    mnist_per_class: tuple | None  # same, for MNIST's official split (val: 10% of train)
    selection_datasets: tuple[str, ...] = ("cifar10", "mnist")
    bodies: tuple = (("deep", (80, 100)), ("shallow", (100,)))
    lambda_start: float | str = "auto"
    path_multiplier: float = 1.3  # the paper's 1 + eps
    max_epochs: int = 100
    patience: int = 5
    batch_size: int = 64
    M: float = 10.0
    retrain_max_epochs: int = 100
    fractions: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    lambda_grid: tuple = (0.01, 0.1, 1.0, 10.0, 100.0, 500.0, "auto")
    lambda_study_hidden: tuple[int, ...] = (80, 100)
    lambda_study_classes: tuple = (1, 4)
    baseline_options: dict = field(default_factory=dict)


BUDGETS = {
    "smoke": Budget(
        name="smoke", seeds=(0, 1), cifar_per_class=(60, 15, 15), mnist_per_class=(60, 15, 15),
        selection_datasets=("cifar10",), max_epochs=4, patience=2, retrain_max_epochs=8,
        path_multiplier=1.5, lambda_grid=(1.0, 100.0, "auto"),
        baseline_options={"knn": {"grid": [1, 3, 5, 7]}, "svm": {"solver": "sgd", "grid": [1e-3, 1e-2, 1e-1]},
                          "pca_lr": {"grid": [10, 20, 50]}},
    ),
    "paper": Budget(name="paper", seeds=(0, 1, 2), cifar_per_class=None, mnist_per_class=None),
}


def _dataset_settings(budget: Budget, dataset: str) -> dict:
    if dataset == "cifar10":  # the paper's protocol: pooled 80:10:10, ImageNet statistics
        return dict(dataset="cifar10", split="paper", normalize="imagenet", per_class=budget.cifar_per_class)
    return dict(dataset=dataset, split="official", normalize="train", per_class=budget.mnist_per_class)


def _fit_settings(budget: Budget, data_dir, dataset: str, hidden, seed: int, **kw) -> FitSettings:
    base = dict(data_dir=data_dir, hidden_dims=tuple(hidden), batch_size=budget.batch_size, M=budget.M,
                lambda_start=budget.lambda_start, path_multiplier=budget.path_multiplier,
                max_epochs=budget.max_epochs, patience=budget.patience, fractions=budget.fractions,
                retrain_max_epochs=budget.retrain_max_epochs, seed=seed, split_seed=0, verbose=0)
    base.update(_dataset_settings(budget, dataset))
    base.update(kw)
    return FitSettings(**base)


def _lambda_name(v) -> str:
    return "auto" if v == "auto" else f"{float(v):g}"


def tasks(budget: Budget, data_dir, studies=STUDIES) -> list[tuple[str, str, object]]:
    """The run's tasks in order: ``(study, relative output, settings)``. The deep
    CIFAR-10 path of the first seed comes early: Table 2 and Figure 4 need it."""
    out: list[tuple[str, str, object]] = []
    sel = []
    for seed in budget.seeds:  # every data set and body at one seed before the next seed
        for ds in budget.selection_datasets:
            for body, hidden in budget.bodies:
                sel.append(("selection", f"selection/{ds}/{body}/seed{seed}",
                            _fit_settings(budget, data_dir, ds, hidden, seed)))
    if "selection" in studies and sel:
        out.append(sel.pop(0))
    if "baselines" in studies:
        out.append(("baselines", "baselines/cifar10.json",
                    _fit_settings(budget, data_dir, "cifar10", (), 0,
                                  extra={"baseline_options": budget.baseline_options})))
    if "lambda_start" in studies:
        for v in budget.lambda_grid:
            s = _fit_settings(budget, data_dir, "mnist", budget.lambda_study_hidden, 0, lambda_start=v,
                              classes=tuple(budget.lambda_study_classes), fractions=())
            out.append(("lambda_start", f"lambda_start/{_lambda_name(v)}", s))
    if "selection" in studies:
        out += sel
    return out


def _log(msg: str, verbose: int) -> None:
    if verbose:
        print(f"[reproduce {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _budget_json(budget: Budget) -> dict:
    return json.loads(json.dumps(asdict(budget), default=json_default))


def reproduce(budget: str | Budget, out, data_dir=None, resume: bool = False, studies=STUDIES,
              verbose: int = 1) -> dict:
    """Run the studies of ``budget`` into ``out`` and write its report.

    ``resume=True`` continues an interrupted run: finished tasks are kept, an
    interrupted path restarts from its last finished lambda step. Without it, a
    directory that already holds a reproduction is refused (never overwritten).
    Returns the run's ``reproduce.json`` content.
    """
    from .. import __version__

    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
        budget = BUDGETS[budget]
    bad = [s for s in studies if s not in STUDIES]
    if bad or not studies:
        raise ValueError(f"unknown studies {bad or list(studies)}; choose from {', '.join(STUDIES)}")
    out = FsPath(out)
    state_file = out / "reproduce.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if not resume:
            raise RunExistsError(f"{out} already holds a reproduction (reproduce.json); pass --resume to continue "
                                 "it, or choose another --out.")
        if state["budget"] != _budget_json(budget):
            raise RunExistsError(f"{out} holds a reproduction with budget {state['budget']['name']!r} and other "
                                 "settings; resume it with the same budget, or choose another --out.")
    else:
        import torch

        state = {"budget": _budget_json(budget), "data_dir": None if data_dir is None else str(data_dir),
                 "deeplasso": __version__, "torch": torch.__version__, "tasks": {}}
    state["studies"] = sorted(set(state.get("studies", [])) | set(studies))
    out.mkdir(parents=True, exist_ok=True)
    write_json(state_file, state)
    todo = tasks(budget, data_dir, studies)
    for i, (study, rel, settings) in enumerate(todo):
        dest = out / rel
        info = state["tasks"].get(rel, {})
        if info.get("status") == "done":
            continue
        _log(f"task {i + 1}/{len(todo)}: {rel}", verbose)
        t0 = time.perf_counter()
        if study == "baselines":
            _run_baselines(settings, dest, verbose)
        else:
            res = run_fit(settings, dest, resume=True)
        spent = time.perf_counter() - t0
        if study != "baselines" and spent < 1.0:  # finished in an earlier session: its own times
            spent = res["seconds"]["path"] + res["seconds"]["retrain"]
        state["tasks"][rel] = {"study": study, "status": "done",
                               "seconds": info.get("seconds", 0.0) + spent}
        write_json(state_file, state)
        write_reproduce_report(out)
        _log(f"done {rel} in {spent:.1f} s", verbose)
    write_reproduce_report(out)
    return state


def _run_baselines(settings: FitSettings, dest: FsPath, verbose: int) -> dict:
    from ..baselines import run_baselines

    budget_opts = settings.extra.get("baseline_options", {})
    data = _prepare(settings)
    return run_baselines(data, random_state=0, options=budget_opts, out=dest, resume=True, verbose=verbose)


# ----------------------------------------------------------------------------- report


def _read(path: FsPath) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _mean_std(values) -> tuple[float | None, float | None, int]:
    v = [x for x in values if x is not None]
    if not v:
        return None, None, 0
    return float(np.mean(v)), (float(np.std(v)) if len(v) > 1 else None), len(v)


def _pm(values, pct=True) -> str:
    m, s, n = _mean_std(values)
    if m is None:
        return "-"
    text = fmt(m, pct=pct)
    return text if s is None else f"{text} ± {fmt(s, pct=pct)}"


def _plots():
    try:
        from .. import plots
    except ImportError:  # matplotlib is optional
        return None
    return plots


def write_reproduce_report(run_dir) -> str:
    """Rewrite ``report.md`` and its figures from the saved results of a
    reproduction (finished or not); returns the report's file name."""
    run_dir = FsPath(run_dir)
    state = json.loads((run_dir / "reproduce.json").read_text())
    budget = _budget_from_json(state["budget"])
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    plots = _plots()
    lines = [f"# deeplasso reproduce: budget `{budget.name}`", "",
             f"deeplasso {state['deeplasso']}, torch {state['torch']}. Every number below is read from the "
             "results saved in this directory (`deeplasso report` redraws this page). Accuracies are test "
             "accuracies in %, mean ± standard deviation over the seeds that finished.", ""]
    lines += _status_section(run_dir, state, budget)
    lines += _table2_section(run_dir, budget)
    lines += _lambda_section(run_dir, budget, plots, fig_dir)
    lines += _selection_section(run_dir, budget, plots, fig_dir)
    lines += _maps_section(run_dir, budget, plots, fig_dir)
    out = run_dir / "report.md"
    _write(out, "\n".join(lines) + "\n")
    return str(out)


def _status_section(run_dir, state, budget) -> list[str]:
    todo = tasks(budget, state.get("data_dir"), tuple(state.get("studies", STUDIES)))
    rows, done = [], 0
    for study, rel, _ in todo:
        info = state["tasks"].get(rel, {})
        ok = info.get("status") == "done"
        done += ok
        rows.append([rel, study, "done" if ok else "not run", fmt(info.get("seconds"), 1) if ok else "-"])
    total = sum(t.get("seconds", 0.0) for t in state["tasks"].values())
    b = budget
    lines = ["## Run", "",
             f"Budget `{b.name}`: seeds {list(b.seeds)}; path multiplier {b.path_multiplier} (the paper's 1 + eps), "
             f"lambda_start {b.lambda_start!r}, batch {b.batch_size}, up to {b.max_epochs} epochs per lambda, "
             f"patience {b.patience}, M = {b.M}; retrained networks up to {b.retrain_max_epochs} epochs. "
             f"CIFAR-10 per class (train, val, test): {b.cifar_per_class or 'all (paper split 80:10:10)'}; "
             f"MNIST per class: {b.mnist_per_class or 'all (official split, 10% of train for validation)'}.",
             "", f"{done} of {len(todo)} tasks finished, {total / 60:.1f} min of compute.", "",
             md_table(["task", "study", "status", "seconds"], rows), ""]
    return lines


def _selection_results(run_dir, budget, ds, body) -> list[dict]:
    res = []
    for seed in budget.seeds:
        r = _read(run_dir / f"selection/{ds}/{body}/seed{seed}/results.json")
        if r is not None:
            res.append(r)
    return res


def _row_at(res: dict, frac: float) -> dict | None:
    for r in res["selection"]:
        if math.isclose(r["fraction"], frac):
            return r
    return None


def _table2_section(run_dir, budget) -> list[str]:
    lines = ["## Table 2: CIFAR-10 classifiers", ""]
    bl = _read(run_dir / "baselines/cifar10.json")
    rows = []
    for m, name in BASELINE_NAMES.items():
        r = (bl or {}).get(m)
        chosen = "-" if r is None else ", ".join(f"{k} = {v}" for k, v in r["params"].items()) + f" ({r['selection']})"
        rows.append([name, 3072, "-" if r is None else fmt(r["test_accuracy"], pct=True), chosen,
                     fmt(PAPER["table2"][m], pct=True), PAPER["baseline_params"][m]])
    deep = dict(budget.bodies).get("deep")
    res = _selection_results(run_dir, budget, "cifar10", "deep") if deep else []
    for frac in (1.0, 0.5, 0.1):
        vals = [(_row_at(r, frac) or {}).get("path_test_at_most_k") for r in res]
        k = int(round(frac * 3072))
        rows.append([f"LassoNet {deep}", k, _pm(vals), f"path point with <= {k} features best on validation "
                     f"({len([v for v in vals if v is not None])} seeds)", fmt(PAPER["table2_lassonet"][frac], pct=True),
                     "-"])
    lines += [md_table(["classifier", "features", "test accuracy (ours)", "chosen", "paper", "paper's choice"], rows), ""]
    if bl is None:
        lines += ["The baselines have not run yet.", ""]
    lines += [
        "The LassoNet rows are the path's own models (no retraining), as in the paper. Where ours differ from "
        "the paper's: the paper's LassoNet starts its path at lambda = 5e2, which on the reference scale is "
        "0.62 of the scale where every feature leaves (docs/lambda.md), so many features were gone before "
        "its path began; its 50% and 10% rows (25.4%, 18.2%) are below the linear baselines, a sign that "
        "those models were far from trained. Ours start where the first features begin to leave "
        "(lambda_start='auto') and train each lambda to early stopping.", ""]
    return lines


def _lambda_section(run_dir, budget, plots, fig_dir) -> list[str]:
    lines = ["## Table 1 and Figure 2: the starting lambda (MNIST "
             f"{' vs '.join(str(c) for c in budget.lambda_study_classes)})", "",
             f"MLP {tuple(budget.lambda_study_hidden)}, one path per starting lambda, path multiplier "
             f"{budget.path_multiplier}. Accuracy: the path's own model with at most k features that is best on "
             "validation.", ""]
    rows, curves = [], {}
    for v in budget.lambda_grid:
        r = _read(run_dir / f"lambda_start/{_lambda_name(v)}/results.json")
        paper = PAPER["table1_epochs"].get(float(v)) if v != "auto" else None
        if r is None:
            rows.append([_lambda_name(v), "-", "-", "-", "-", "-", "-", fmt(paper)])
            continue
        d = r["n_features"]
        acc = [best_on_validation(r["path"], k) for k in (d, max(1, d // 10), max(1, d // 100))]
        rows.append([_lambda_name(v), fmt(r["lambda_start"], 4), len(r["path"]), r["total_epochs"],
                     fmt(r["seconds"]["path"], 1), *[fmt(a, pct=True) for a in acc], fmt(paper)])
        pts = [p for p in r["path"] if p["n_selected"] > 0]
        label = f"auto (= {r['lambda_start']:.3g})" if v == "auto" else None
        curves[_lambda_name(v)] = {"lambda_start": r["lambda_start"], "label": label,
                                   "n_features": [p["n_selected"] for p in pts],
                                   "accuracy": [p["test_accuracy"] for p in pts], "epochs": r["total_epochs"],
                                   "seconds": r["seconds"]["path"]}
    lines += [md_table(["lambda_start", "used", "points", "epochs", "path seconds", "acc. all features",
                        "acc. <= 10%", "acc. <= 1%", "paper's epochs"], rows), ""]
    if plots is not None and curves:
        f = plots.lambda_start_study(list(curves.values()), fig_dir / "figure2_lambda_start.png",
                                     title="MNIST 1 vs 4: path accuracy by starting lambda")
        lines += [f"![Figure 2]({FsPath(f).relative_to(run_dir)})", ""]
    lines += ["The paper's epochs come from its own lambda scale and data sizes, so compare the trend (how much "
              "a higher start saves) rather than the counts.", ""]
    return lines


def _selection_section(run_dir, budget, plots, fig_dir) -> list[str]:
    lines = ["## Figure 3: selected against random features", "",
             "Test accuracy at k = fraction x features: the path's own model (<= k features, chosen on "
             "validation), a plain MLP of the same widths retrained on the top-k features by importance, and "
             "the same MLP on k random features.", ""]
    for ds in budget.selection_datasets:
        for body, hidden in budget.bodies:
            res = _selection_results(run_dir, budget, ds, body)
            lines += [f"### {ds}, MLP {hidden} ({len(res)} of {len(budget.seeds)} seeds)", ""]
            if not res:
                lines += ["Not run yet.", ""]
                continue
            rows = []
            curves = {"LassoNet path": {"n_features": [], "accuracy": []},
                      "retrained on top-k": {"n_features": [], "accuracy": []},
                      "retrained on k random": {"n_features": [], "accuracy": []}}
            for frac in budget.fractions:
                got = [_row_at(r, frac) for r in res]
                got = [g for g in got if g is not None]
                if not got:
                    continue
                k = got[0]["k"]
                cols = {"LassoNet path": [g["path_test_at_most_k"] for g in got],
                        "retrained on top-k": [g["retrained_top_k"] for g in got],
                        "retrained on k random": [g["retrained_random_k"] for g in got]}
                rows.append([fmt(frac), k, *[_pm(v) for v in cols.values()]])
                for name, v in cols.items():
                    curves[name]["n_features"].append(k)
                    m, s, _ = _mean_std(v)
                    curves[name]["accuracy"].append(np.nan if m is None else m)
                    curves[name].setdefault("std", []).append(0.0 if s is None else s)
            lines += [md_table(["fraction", "k", "LassoNet path", "top-k retrained", "random-k retrained"], rows), ""]
            secs = [r["seconds"]["path"] for r in res]
            eps = [r["total_epochs"] for r in res]
            lines += [f"Path: {np.mean([len(r['path']) for r in res]):.0f} points, {np.mean(eps):.0f} epochs, "
                      f"{np.mean(secs) / 60:.1f} min on average per seed.", ""]
            if plots is not None:
                f = plots.accuracy_vs_features(curves, fig_dir / f"figure3_{ds}_{body}.png",
                                               title=f"{ds}, MLP {hidden}")
                lines += [f"![Figure 3, {ds} {body}]({FsPath(f).relative_to(run_dir)})", ""]
    return lines


def _maps_section(run_dir, budget, plots, fig_dir) -> list[str]:
    lines = ["## Figure 4: feature importance maps", "",
             "The lambda at which each feature left the path, drawn as an image; brighter = more important "
             "(first seed's path).", ""]
    sources = []
    for ds in budget.selection_datasets:
        for body, _ in budget.bodies:
            sources.append((f"{ds}, {body}", run_dir / f"selection/{ds}/{body}/seed{budget.seeds[0]}/results.json",
                            f"figure4_{ds}_{body}.png"))
    sources.append((f"MNIST {' vs '.join(map(str, budget.lambda_study_classes))}, lambda_start auto",
                    run_dir / "lambda_start/auto/results.json", "figure4_mnist_1v4.png"))
    drawn = 0
    for label, src, name in sources:
        r = _read(src)
        if r is None or plots is None:
            continue
        f = plots.importance_map(saved_importances(r), tuple(r["image_shape"]), fig_dir / name, title=label)
        lines += [f"![Figure 4, {label}]({FsPath(f).relative_to(run_dir)})", ""]
        drawn += 1
    if not drawn:
        lines += ["No path has finished yet." if plots is not None else "matplotlib is not installed.", ""]
    return lines


def _budget_from_json(b: dict) -> Budget:
    def tup(v):
        return tuple(tup(x) for x in v) if isinstance(v, list) else v

    return Budget(**{k: v if k == "baseline_options" else tup(v) for k, v in b.items()})
