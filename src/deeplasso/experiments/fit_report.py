"""The figures and ``report.md`` of one ``deeplasso fit`` run, from its saved files alone."""

from __future__ import annotations

import json
from pathlib import Path as FsPath

from .reporting import fmt, md_table, optional_plots
from .rundir import METRIC_LABELS, saved_importances, write_text

__all__ = ["draw_figures", "write_fit_report", "RECONSTRUCTIONS"]

#: a reconstruct run's test samples, kept features and reconstructions (experiments/reconstruct.py)
RECONSTRUCTIONS = "reconstructions.npz"


def draw_figures(run_dir) -> list[str]:
    """Draw the run's figures from its saved ``results.json`` alone (never from a live
    model): ``importance.png`` (importance map for images, bars for other features) and
    ``accuracy.png`` / ``r2.png`` (test score against the number of features). Returns
    the files written; none without matplotlib."""
    plots = optional_plots()
    if plots is None:
        return []
    run_dir = FsPath(run_dir)
    res = json.loads((run_dir / "results.json").read_text())
    metric = res.get("metric", "accuracy")
    imp = saved_importances(res)
    by = res.get("importance") or "lambda"  # runs written before `importance` existed hold lambdas
    if res.get("image_shape"):
        files = [plots.importance_map(imp, tuple(res["image_shape"]), run_dir / "importance.png", by=by)]
    else:
        files = [plots.importance_bars(imp, run_dir / "importance.png", feature_names=res.get("feature_names"),
                                       title=f"{res['dataset']}: feature importance", by=by)]
    path_pts = [p for p in res["path"] if p["n_selected"] > 0]
    sel = res["selection"]
    curves = {
        "LassoNet path (test)": {"n_features": [p["n_selected"] for p in path_pts],
                                 "accuracy": [p[f"test_{metric}"] for p in path_pts]},
        "retrained on top-k": {"n_features": [r["k"] for r in sel], "accuracy": [r["retrained_top_k"] for r in sel]},
        "retrained on k random": {"n_features": [r["k"] for r in sel],
                                  "accuracy": [r["retrained_random_k"] for r in sel]},
    }
    curves = {k: v for k, v in curves.items() if any(n > 0 for n in v["n_features"])}
    if curves:
        files.append(plots.accuracy_vs_features(curves, run_dir / f"{metric}.png", title=res["dataset"],
                                                ylabel=f"test {METRIC_LABELS[metric]}"))
    files += _many_path_figures(run_dir, res)
    if res.get("image_shape") and (run_dir / RECONSTRUCTIONS).exists():
        files.append(_reconstruction_figure(plots, run_dir, res))
    return [str(f) for f in files]


def _reconstruction_figure(plots, run_dir: FsPath, res: dict) -> str:
    """``reconstructions.png``: test images, the top-k pixels kept and every pixel rebuilt
    from them, at the k that ``reconstructions.npz`` holds."""
    import numpy as np

    with np.load(run_dir / RECONSTRUCTIONS) as z:
        rows = {f"k = {int(k)}": (z[f"kept_{int(k)}"], z[f"reconstructed_{int(k)}"]) for k in z["ks"]}
        return plots.reconstructions(z["originals"], rows, tuple(res["image_shape"]), run_dir / "reconstructions.png",
                                     title=f"{res['dataset']}: test images rebuilt from the top-k pixels")


def _read(file: FsPath) -> dict | None:
    return json.loads(file.read_text()) if file.exists() else None


def _many_path_figures(run_dir: FsPath, res: dict) -> list[str]:
    """``cv.png`` (the CV curve) and ``stability.png`` (the stability paths) from the
    run's ``cv.json`` / ``stability.json``, when it has them."""
    from .. import cv_plots

    files = []
    cv = _read(run_dir / "cv.json")
    if cv is not None:
        files.append(cv_plots.cv_curve(cv, run_dir / "cv.png", score_name=cv.get("scoring") or METRIC_LABELS[cv.get("metric", "accuracy")],
                                       title=f"{res['dataset']}: {cv['n_folds']}-fold cross-validation"))
    st = _read(run_dir / "stability.json")
    if st is not None:
        files.append(cv_plots.stability_paths(st, run_dir / "stability.png"))
    return files


def _many_path_sections(run_dir: FsPath, res: dict) -> list[str]:
    """The report's cross-validation and stability-selection sections."""
    from .reporting import md_table as table

    body = []
    cv = _read(run_dir / "cv.json")
    if cv is not None:
        m = cv.get("metric", "accuracy")
        sc = cv.get("scoring") or METRIC_LABELS[m]  # the metric the folds were scored by
        lam, nf = cv["lambdas"], cv["n_features"]
        i_min, i_1se = lam.index(cv["lambda_min"]), lam.index(cv["lambda_1se"])
        body += [
            "## Cross-validation over lambda", "",
            f"{cv['n_folds']} folds of the training split ({res['n_train']} samples), one path per fold on the "
            f"lambda grid of a path on the whole split; held-out {sc}, mean and standard error over "
            f"the folds at each of {len(lam)} lambdas. The model is taken at lambda_{cv['choose']}.", "",
            table(["", "lambda", "features", f"CV {sc} (mean ± se)"],
                  [["lambda_min", f"{cv['lambda_min']:.4g}", nf[i_min], f"{fmt(cv['mean'][i_min])} ± {fmt(cv['se'][i_min])}"],
                   ["lambda_1se", f"{cv['lambda_1se']:.4g}", nf[i_1se],
                    f"{fmt(cv['mean'][i_1se])} ± {fmt(cv['se'][i_1se])}"]]), "",
            f"The chosen model (lambda_{cv['choose']} = {cv['best_lambda']:.4g}, {cv['n_selected']} features) has "
            f"test {METRIC_LABELS[m]} {fmt(cv.get(f'test_{m}'))}"
            + (f" and test {sc} {fmt(cv['test_score'])}" if cv.get("scoring") else "") + ".", "",
        ]
        if (run_dir / "cv.png").exists():
            body += ["![the CV curve: mean held-out score with standard-error bars against lambda and the number "
                     "of features, dashed lines at lambda_min and lambda_1se](cv.png)", ""]
    st = _read(run_dir / "stability.json")
    if st is not None:
        names = res.get("feature_names")
        sel = [names[j] if names else str(j) for j in st["selected"]]
        body += [
            "## Stability selection", "",
            f"{st['n_paths']} paths, each on a random half of the training split with its own seed, on one lambda "
            f"grid. A feature is selected when its selection probability reaches {st['threshold']:g} somewhere in "
            f"the stability region (the lambdas where the paths keep on average at most {st['n_features_max']:g} "
            f"features; {sum(st['region'])} of {len(st['lambdas'])} lambdas).", "",
            f"Selected: {len(sel)} of {len(st['support'])} features"
            + (f" ({', '.join(sel[:40])}{', ...' if len(sel) > 40 else ''})" if sel else "")
            + f"; bound on the expected number of wrongly selected features: {fmt(st['expected_false'], 2)}.", "",
        ]
        if (run_dir / "stability.png").exists():
            body += ["![stability paths: each feature's selection probability against lambda](stability.png)", ""]
    return body


def _body_text(cfg: dict) -> str:
    if cfg.get("body", "mlp") == "cnn":
        return f"CNN body (per-pixel input layer, 3x3 convs {tuple(cfg.get('conv_channels', ()))})"
    return f"MLP {tuple(cfg['hidden_dims'])}"


def _reconstruct_section(res: dict) -> list[str]:
    """A reconstruct run's table (``deeplasso fit --task reconstruct``, docs/unsupervised.md)."""
    acc = any("accuracy_top_k" in r for r in res["selection"])
    return [
        "## Reconstruction from k features",
        "",
        "Unsupervised selection: the path reconstructs every feature from the features it keeps, labels unused. "
        "For each k, a decoder (a LassoNet of the same widths trained without penalty) rebuilds every test "
        "feature from the top-k features by importance, and one from k random features: R^2 of all features at "
        "once (1 - SSE / SS) and the mean squared error (in the normalised units), beside the path's own model "
        "with at most k features that is best on validation."
        + (" Accuracy: a plain MLP classifier trained on the top-k features (the labels' only use)." if acc else ""),
        "",
        md_table(["k", "fraction", "R^2 top-k", "R^2 random-k", "MSE top-k", "MSE random-k",
                  "R^2 path (<= k, chosen on validation)"] + (["accuracy top-k"] if acc else []),
                 [[r["k"], fmt(r["fraction"]), fmt(r["retrained_top_k"]), fmt(r["retrained_random_k"]),
                   fmt(r["mse_top_k"], 4), fmt(r["mse_random_k"], 4), fmt(r["path_test_at_most_k"])]
                  + ([fmt(r.get("accuracy_top_k"))] if acc else []) for r in res["selection"]]),
        "",
    ]


def write_fit_report(run_dir) -> str:
    """``report.md`` of one ``deeplasso fit`` run, from its ``config.json`` and ``results.json``."""
    run_dir = FsPath(run_dir)
    res = json.loads((run_dir / "results.json").read_text())
    cfg = json.loads((run_dir / "config.json").read_text())["settings"]
    sec = res["seconds"]
    metric = res.get("metric", "accuracy")  # "r2" for regression runs
    label = METRIC_LABELS[metric]
    short = {"accuracy": "acc.", "r2": "R^2"}[metric]
    body = [
        f"# deeplasso fit: {res['dataset']}",
        "",
        f"{res['n_features']} features; {res['n_train']} / {res['n_val']} / {res['n_test']} train / validation / "
        f"test samples. {_body_text(cfg)}, batch {cfg['batch_size']}, M = {cfg['M']}, "
        f"lambda_start = {fmt(res['lambda_start'], 4)} (setting: {cfg['lambda_start']}), path multiplier "
        f"{cfg['path_multiplier']}, up to {cfg['max_epochs']} epochs per lambda, patience {cfg['patience']}, "
        f"seed {cfg['seed']}.",
        "",
        f"Path: {len(res['path'])} points, {res['total_epochs']} epochs, {sec['path']:.1f} s; retraining "
        f"{sec['retrain']:.1f} s. The fitted model (best validation point) has test {label} "
        f"{fmt(res[f'test_{metric}_best'])}.",
        "",
        *[line for w in res.get("warnings", []) for line in (f"**Warning: {w}**", "")],
        *(_reconstruct_section(res) if res.get("task") == "reconstruct" else [
            f"## Test {label} against the number of features",
            "",
            f"Test {label} of a plain MLP (same hidden widths) retrained on the top-k features by LassoNet importance "
            "and on k random features, and of the path's own model with at most k features that is best on "
            "validation.",
            "",
            md_table(["k", "fraction", "top-k retrained", "random-k retrained", "path (<= k, chosen on validation)"],
                     [[r["k"], fmt(r["fraction"]), fmt(r["retrained_top_k"]), fmt(r["retrained_random_k"]),
                       fmt(r["path_test_at_most_k"])] for r in res["selection"]]),
            "",
        ]),
    ]
    if (run_dir / f"{metric}.png").exists():
        body += [f"![{label} against the number of features]({metric}.png)", ""]
    if (run_dir / "reconstructions.png").exists():
        body += ["![test images, the top-k pixels kept (the others in olive) and every pixel rebuilt from them]"
                 "(reconstructions.png)", ""]
    if (run_dir / "importance.png").exists():
        what = ("The sum of ||theta_j|| over the path's lambda steps (the importance the ranking uses), "
                if res.get("importance") == "norm" else "The lambda at which each feature left the path, ")
        body += ["## Feature importance", "",
                 what + ("drawn as an image; brighter = more important." if res.get("image_shape", True) else
                         "as bars; longer = more important."),
                 "", "![importance map](importance.png)", ""]
    body += _many_path_sections(run_dir, res)
    body += ["## The path", "", md_table(
        ["point", "lambda", "features", f"validation {short}", f"test {short}", "epochs"],
        [[i, fmt(p["lambda"], 4), p["n_selected"], fmt(p[f"val_{metric}"]), fmt(p[f"test_{metric}"]), p["epochs"]]
         for i, p in enumerate(res["path"])]), ""]
    out = run_dir / "report.md"
    write_text(out, "\n".join(body))
    return str(out)
