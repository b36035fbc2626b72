"""The main job: one LassoNet path on a data set, evaluated, written to a run directory.

Output (all written atomically):

- ``config.json``: every setting, the data set and the library version;
- ``path.npz``: the path (see :class:`deeplasso.Path`), weights included;
- ``results.json``: per path point lambda, features kept, validation and test
  accuracy; a plain network retrained on the top-k features by importance versus
  on k random features; feature importances and the ranking; wall times;
- ``importance.png``, ``accuracy.png``: drawn from ``results.json`` alone
  (:func:`draw_figures`), when matplotlib is installed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path as FsPath

import numpy as np
import torch

from .._io import write_json
from ..estimators import LassoNetClassifier
from ..selection import random_features, retrain_score

__all__ = ["FitSettings", "run_fit", "RunExistsError"]


class RunExistsError(FileExistsError):
    """The run directory already holds results; a second run never overwrites a first."""


@dataclass
class FitSettings:
    dataset: str = "digits"
    data_dir: str | None = None
    normalize: str | None = "train"
    val_fraction: float = 0.1
    hidden_dims: tuple[int, ...] = (32,)
    batch_size: int | None = 64
    M: float = 10.0
    lambda_start: float | str = "auto"
    path_multiplier: float = 1.1
    max_epochs: int = 100
    patience: int = 5
    lr: float = 1e-3
    fractions: tuple[float, ...] = (0.5, 0.25, 0.125, 0.0625)
    retrain_hidden_dims: tuple[int, ...] | None = None
    seed: int = 0
    max_train: int | None = None
    verbose: int = 1
    extra: dict = field(default_factory=dict)


def _prepare(s: FitSettings):
    from ..data import load, official_split, preprocess_split, subsample_per_class

    ds = load(s.dataset, s.data_dir)
    split = official_split(ds, val_fraction=s.val_fraction, random_state=s.seed)
    if s.max_train:
        per_class = max(1, s.max_train // len(ds.classes))
        split = subsample_per_class(split, n_train=per_class, random_state=s.seed)
    return preprocess_split(split, s.normalize)


def run_fit(settings: FitSettings, out: str | FsPath, overwrite: bool = False) -> dict:
    """Run the main job and write its results into ``out``; returns the results."""
    out = FsPath(out)
    if (out / "results.json").exists() and not overwrite:
        raise RunExistsError(
            f"{out} already holds a finished run (results.json); choose another --out or pass --overwrite."
        )
    out.mkdir(parents=True, exist_ok=True)
    from .. import __version__

    write_json(out / "config.json", {"settings": asdict(settings), "deeplasso": __version__,
                                     "torch": torch.__version__})
    t0 = time.perf_counter()
    data = _prepare(settings)
    t_data = time.perf_counter() - t0
    d = data.X_train.shape[1]
    sel = LassoNetClassifier(
        hidden_dims=settings.hidden_dims, batch_size=settings.batch_size, M=settings.M,
        lambda_start=settings.lambda_start, path_multiplier=settings.path_multiplier,
        max_epochs=settings.max_epochs, patience=settings.patience, lr=settings.lr,
        store_path_weights=True, random_state=settings.seed, verbose=settings.verbose, device="cpu",
    )
    t1 = time.perf_counter()
    sel.fit(data.X_train, data.y_train, X_val=data.X_val, y_val=data.y_val)
    t_path = time.perf_counter() - t1
    sel.path_.save(out / "path.npz")
    test_scores = sel.path_scores(data.X_test, data.y_test)
    ranking = sel.ranking_
    retrain_dims = settings.retrain_hidden_dims or settings.hidden_dims
    rows = []
    t2 = time.perf_counter()
    for frac in settings.fractions:
        k = max(1, int(round(frac * d)))
        args = (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test)
        top = retrain_score(*args, ranking[:k], hidden_dims=retrain_dims, seed=settings.seed)
        rnd = retrain_score(*args, random_features(d, k, settings.seed), hidden_dims=retrain_dims,
                            seed=settings.seed)
        on_path = [s for s, n in zip(test_scores, sel.path_.n_selected) if 0 < n <= k]
        rows.append({"fraction": frac, "k": k, "retrained_top_k": top, "retrained_random_k": rnd,
                     "path_best_test_at_most_k": max(on_path) if on_path else None})
    t_retrain = time.perf_counter() - t2
    results = {
        "dataset": settings.dataset,
        "n_features": d,
        "n_train": int(len(data.y_train)), "n_val": int(len(data.y_val)), "n_test": int(len(data.y_test)),
        "lambda_start": sel.lambda_start_,
        "best_index": int(sel.best_index_),
        "test_accuracy_best": float(sel.score(data.X_test, data.y_test)),
        "path": [{"lambda": p.lambda_, "n_selected": p.n_selected, "val_accuracy": p.val_score,
                  "test_accuracy": float(t), "epochs": p.epochs, "seconds": p.seconds}
                 for p, t in zip(sel.path_, test_scores)],
        "selection": rows,
        "feature_importances": sel.feature_importances_,
        "ranking": ranking,
        "image_shape": list(data.image_shape),
        "seconds": {"data": t_data, "path": t_path, "retrain": t_retrain,
                    "total": time.perf_counter() - t0},
        "total_epochs": int(sum(p.epochs for p in sel.path_)),
    }
    write_json(out / "results.json", results)
    draw_figures(out)
    return results


def draw_figures(run_dir) -> list[str]:
    """Draw the run's figures from its saved ``results.json`` alone (never from a live
    model): ``importance.png`` (importance map) and ``accuracy.png`` (test accuracy
    against the number of features). Returns the files written; none without matplotlib."""
    try:
        from .. import plots
    except ImportError:  # matplotlib is optional
        return []
    run_dir = FsPath(run_dir)
    res = json.loads((run_dir / "results.json").read_text())
    imp = np.array([np.inf if v is None else v for v in res["feature_importances"]], dtype=float)
    files = [plots.importance_map(imp, tuple(res["image_shape"]), run_dir / "importance.png")]
    path_pts = [p for p in res["path"] if p["n_selected"] > 0]
    sel = res["selection"]
    curves = {
        "LassoNet path (test)": {"n_features": [p["n_selected"] for p in path_pts],
                                 "accuracy": [p["test_accuracy"] for p in path_pts]},
        "retrained on top-k": {"n_features": [r["k"] for r in sel], "accuracy": [r["retrained_top_k"] for r in sel]},
        "retrained on k random": {"n_features": [r["k"] for r in sel],
                                  "accuracy": [r["retrained_random_k"] for r in sel]},
    }
    files.append(plots.accuracy_vs_features(curves, run_dir / "accuracy.png", title=res["dataset"]))
    return [str(f) for f in files]


def summary(results: dict) -> str:
    """A short human-readable table of a run's results."""
    lines = [
        f"{results['dataset']}: {results['n_features']} features, {results['n_train']}/{results['n_val']}/"
        f"{results['n_test']} train/val/test; path of {len(results['path'])} points, "
        f"{results['total_epochs']} epochs, {results['seconds']['path']:.1f} s",
        f"fitted model (best validation point): test accuracy {results['test_accuracy_best']:.3f}",
        "",
        f"{'k':>6} {'top-k retrained':>16} {'random-k':>10} {'path (<= k)':>12}",
    ]
    for r in results["selection"]:
        path_acc = "-" if r["path_best_test_at_most_k"] is None else f"{r['path_best_test_at_most_k']:.3f}"
        lines.append(f"{r['k']:>6} {r['retrained_top_k']:>16.3f} {r['retrained_random_k']:>10.3f} {path_acc:>12}")
    return "\n".join(lines)
