"""``report.md`` and the figures of a ``deeplasso reproduce`` run, from its saved results alone."""

from __future__ import annotations

import json
import math
from pathlib import Path as FsPath

import numpy as np

from .reporting import fmt, md_table, optional_plots
from .rundir import best_on_validation, read_json, saved_importances, write_text
from .studies import STUDIES, budget_from_json, lambda_name, tasks

__all__ = ["PAPER", "BASELINE_NAMES", "write_reproduce_report"]

#: The paper's numbers, for the report.
PAPER = {
    "table1_epochs": {0.01: 12591, 0.1: 11167, 1.0: 9743, 10.0: 7350, 100.0: 5130, 500.0: 2596},
    "table2": {"knn": 0.302, "svm": 0.359, "pca_lr": 0.427},
    "table2_lassonet": {1.0: 0.612, 0.5: 0.254, 0.1: 0.182},  # LassoNet (80, 100) on CIFAR-10
    "baseline_params": {"knn": "k = 7 (5-fold CV)", "svm": "L2 strength 3e+4 (CV)", "pca_lr": "-"},
}

BASELINE_NAMES = {"knn": "KNN", "svm": "linear SVM", "pca_lr": "PCA + linear"}


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


def write_reproduce_report(run_dir) -> str:
    """Rewrite ``report.md`` and its figures from the saved results of a
    reproduction (finished or not); returns the report's file name."""
    run_dir = FsPath(run_dir)
    state = json.loads((run_dir / "reproduce.json").read_text())
    budget = budget_from_json(state["budget"])
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    plots = optional_plots()
    lines = [f"# deeplasso reproduce: budget `{budget.name}`", "",
             f"deeplasso {state['deeplasso']}, torch {state['torch']}. Every number below is read from the "
             "results saved in this directory (`deeplasso report` redraws this page). Accuracies are test "
             "accuracies in %, mean ± standard deviation over the seeds that finished.", ""]
    lines += _status_section(run_dir, state, budget)
    lines += _table2_section(run_dir, budget)
    lines += _lambda_section(run_dir, budget, plots, fig_dir)
    lines += _selection_section(run_dir, budget, plots, fig_dir)
    lines += _maps_section(run_dir, budget, plots, fig_dir)
    lines += _settings_section(budget)
    out = run_dir / "report.md"
    write_text(out, "\n".join(lines) + "\n")
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


#: what each estimator default changed against the paper's protocol, and where it was measured
_DEFAULT_WHY = {
    "path_multiplier": "adaptive steps: about a tenth of the features above the target leave per step, so the "
                       "path is fine near k instead of jumping from hundreds of features to none",
    "steps_per_epoch": "an epoch is as many optimiser steps as one pass at batch 64, whatever the batch size "
                       "(a full-batch path otherwise trains a few dozen steps per lambda)",
    "path_optimizer": "SGD for full-batch paths, the optimizer (Adam) for mini-batches",
    "refit": "the selected model is trained again without penalty on its features",
    "dense_lr": "the dense model at lr / 10 where that validates better: on CIFAR-10 the dense (80, 100) "
                "LassoNet goes from 46.1 to 51.1, a plain MLP's 51.2",
    "n_features_to_select": "the path stops at k and `transform` keeps exactly k",
    "importance": "with `n_features_to_select`, the features ranked by whichever rule's top k validates "
                  "better when refit: the sum of ||theta_j|| over the lambda steps (3-5 points better retrained "
                  "on MNIST, Fashion-MNIST at k = 50 and digits at k = 8, 4) or the lambda at which they left "
                  "(better on CIFAR-10); without it, the lambda rule",
}


def _settings_section(budget) -> list[str]:
    """The paper's protocol (this run) beside the estimators' defaults, the settings that won
    deeplasso's selection benchmark (docs/selection.md)."""
    from ..estimators import LassoNetClassifier

    d = LassoNetClassifier().get_params()
    rows = [
        ["batch_size", budget.batch_size, d["batch_size"]],
        ["lr", 1e-3, d["lr"]],
        ["dense_lr", "none (lr)" if budget.dense_lr is None else budget.dense_lr, d["dense_lr"]],
        ["M", budget.M, d["M"]],
        ["lambda_start", budget.lambda_start, d["lambda_start"]],
        ["path_multiplier", budget.path_multiplier, d["path_multiplier"]],
        ["max_epochs / patience", f"{budget.max_epochs} / {budget.patience}", f"{d['max_epochs']} / {d['patience']}"],
        ["steps_per_epoch", "one pass", d["steps_per_epoch"]],
        ["path_optimizer", "Adam", d["path_optimizer"]],
        ["n_features_to_select", "none (the whole path)", d["n_features_to_select"]],
        ["refit", False, d["refit"]],
        ["importance", budget.importance, d["importance"]],
    ]
    body = [[name, f"`{paper!r}`" if not isinstance(paper, str) else paper,
             f"`{ours!r}`" if not isinstance(ours, str) else ours, _DEFAULT_WHY.get(name.split()[0], "")]
            for name, paper, ours in rows]
    return ["## Settings: this run's protocol and deeplasso's defaults", "",
            "This run keeps the paper's protocol. `LassoNetClassifier()` and `LassoNetRegressor()` default to the "
            "settings that selected best in deeplasso's benchmark against other selectors (docs/selection.md: "
            "digits, MNIST and Fashion-MNIST at k = 50); the table sets them side by side.", "",
            md_table(["setting", "this run (the paper's protocol)", "estimator default", "why the default"], body), ""]


def _selection_results(run_dir, budget, ds, body) -> list[dict]:
    res = []
    for seed in budget.seeds:
        r = read_json(run_dir / f"selection/{ds}/{body}/seed{seed}/results.json")
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
    bl = read_json(run_dir / "baselines/cifar10.json")
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
        r = read_json(run_dir / f"lambda_start/{lambda_name(v)}/results.json")
        paper = PAPER["table1_epochs"].get(float(v)) if v != "auto" else None
        if r is None:
            rows.append([lambda_name(v), "-", "-", "-", "-", "-", "-", fmt(paper)])
            continue
        d = r["n_features"]
        acc = [best_on_validation(r["path"], k) for k in (d, max(1, d // 10), max(1, d // 100))]
        rows.append([lambda_name(v), fmt(r["lambda_start"], 4), len(r["path"]), r["total_epochs"],
                     fmt(r["seconds"]["path"], 1), *[fmt(a, pct=True) for a in acc], fmt(paper)])
        pts = [p for p in r["path"] if p["n_selected"] > 0]
        label = f"auto (= {r['lambda_start']:.3g})" if v == "auto" else None
        curves[lambda_name(v)] = {"lambda_start": r["lambda_start"], "label": label,
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
        r = read_json(src)
        if r is None or plots is None:
            continue
        f = plots.importance_map(saved_importances(r), tuple(r["image_shape"]), fig_dir / name, title=label,
                                 by=r.get("importance") or "lambda")
        lines += [f"![Figure 4, {label}]({FsPath(f).relative_to(run_dir)})", ""]
        drawn += 1
    if not drawn:
        lines += ["No path has finished yet." if plots is not None else "matplotlib is not installed.", ""]
    return lines
