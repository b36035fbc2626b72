"""Markdown reports drawn from a run directory's saved results alone.

``write_report(run_dir)`` redraws the figures and rewrites ``report.md`` for either
kind of run directory: one ``deeplasso fit`` run (``results.json``) or a
``deeplasso reproduce`` run (``reproduce.json``). Nothing here trains a model or
reads one: every number comes from the JSON files the runs wrote.
"""

from __future__ import annotations

import json
import math
from pathlib import Path as FsPath

from .._io import atomic_write

__all__ = ["write_report", "write_fit_report", "fmt", "md_table"]


def fmt(v, digits: int = 3, pct: bool = False) -> str:
    """A number for a table; ``-`` for missing values."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return str(v)
    return f"{100 * v:.1f}" if pct else f"{v:.{digits}f}"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _write(path: FsPath, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), mode="w")


def _body_text(cfg: dict) -> str:
    if cfg.get("body", "mlp") == "cnn":
        return f"CNN body (per-pixel input layer, 3x3 convs {tuple(cfg.get('conv_channels', ()))})"
    return f"MLP {tuple(cfg['hidden_dims'])}"


def write_fit_report(run_dir) -> str:
    """``report.md`` of one ``deeplasso fit`` run, from its ``config.json`` and ``results.json``."""
    run_dir = FsPath(run_dir)
    res = json.loads((run_dir / "results.json").read_text())
    cfg = json.loads((run_dir / "config.json").read_text())["settings"]
    sec = res["seconds"]
    metric = res.get("metric", "accuracy")  # "r2" for regression runs
    label = {"accuracy": "accuracy", "r2": "R^2"}[metric]
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
    ]
    if (run_dir / f"{metric}.png").exists():
        body += [f"![{label} against the number of features]({metric}.png)", ""]
    if (run_dir / "importance.png").exists():
        body += ["## Feature importance", "",
                 "The lambda at which each feature left the path, "
                 + ("drawn as an image; brighter = more important." if res.get("image_shape", True) else
                    "as bars; longer = more important."),
                 "", "![importance map](importance.png)", ""]
    body += ["## The path", "", md_table(
        ["point", "lambda", "features", f"validation {short}", f"test {short}", "epochs"],
        [[i, fmt(p["lambda"], 4), p["n_selected"], fmt(p[f"val_{metric}"]), fmt(p[f"test_{metric}"]), p["epochs"]]
         for i, p in enumerate(res["path"])]), ""]
    out = run_dir / "report.md"
    _write(out, "\n".join(body))
    return str(out)


def write_report(run_dir) -> str:
    """Redraw the figures and rewrite ``report.md`` of a run directory from its saved
    results; returns the report's file name."""
    run_dir = FsPath(run_dir)
    if (run_dir / "reproduce.json").exists():
        from .reproduce import write_reproduce_report

        return write_reproduce_report(run_dir)
    if (run_dir / "results.json").exists():
        from .fit import draw_figures

        draw_figures(run_dir)
        return write_fit_report(run_dir)
    raise FileNotFoundError(
        f"{run_dir} holds no finished run: expected results.json (deeplasso fit) or reproduce.json "
        "(deeplasso reproduce).")
