"""The main job: one LassoNet path on a data set, evaluated, written to a run directory.

The data is a built-in image set (``dataset``) or the user's own file (``data``:
``.npz``, ``.npy``, ``.csv``, see :func:`deeplasso.data.load_arrays`), for
classification or regression.  The score is the accuracy for classification
and R^2 for regression (``results["metric"]`` is ``"accuracy"`` or ``"r2"``;
score keys are named after it: ``test_accuracy`` / ``test_r2``, ...).

Output (all written atomically, as the run goes):

- ``config.json``: every setting, the data set and the library version;
- ``checkpoint.pt``: the path's state after every lambda step, while it runs
  (removed when the run is finished); ``selection.partial.json``: the retraining
  results finished so far. With ``resume=True`` an interrupted run continues from
  them and loses at most the lambda step or retraining in progress;
- ``path.npz``: the path (see :class:`deeplasso.Path`), weights included;
- ``results.json``: per path point lambda, features kept, validation and test
  accuracy; a plain network retrained on the top-k features by importance versus
  on k random features; feature importances and the ranking; wall times;
- ``importance.png`` (an importance map for images, bars otherwise) and
  ``accuracy.png`` (``r2.png`` for regression): drawn from ``results.json``
  alone (:func:`draw_figures`), when matplotlib is installed; ``report.md``;
- ``explorer.html``: one offline page with a slider over the path's points, the
  mask of kept features and linked plots (:mod:`deeplasso.explorer`).

The path's own accuracy "at k features" is the test accuracy of the path point
with at most k features that is best on *validation* (never chosen on test).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path as FsPath

import numpy as np
import torch

from ..versions import __version__
from ..engine import DegeneratePathWarning
from ..engine.files import remove_stale_temps, write_json
from ..estimators import LassoNetClassifier, LassoNetRegressor
from ..evaluation import random_features, retrain_score
from ..scoring import check_scoring
from .fit_report import draw_figures, write_fit_report
from .prepare import prepare_data
from .rundir import METRICS, METRIC_LABELS, RunExistsError, best_on_validation, check_out_dir, json_data
from .settings import FitSettings

__all__ = ["FitSettings", "run_fit", "RunExistsError", "output_files"]

CHECKPOINT = "checkpoint.pt"
PARTIAL = "selection.partial.json"


def _say(settings: FitSettings, msg: str) -> None:
    """A progress line on stderr (not with ``--quiet``)."""
    if settings.verbose:
        print(f"[fit {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _started(out: FsPath) -> bool:
    """Whether ``out`` holds a run that started: its ``config.json`` and something the run
    wrote after it (a checkpoint, retraining results, the path, results). A ``config.json``
    alone holds the settings of a run that never trained a lambda step (an earlier version
    wrote it before checking the settings): not a run, replaced by the next."""
    return (out / "config.json").exists() and any((out / n).exists() for n in (CHECKPOINT, PARTIAL, "path.npz",
                                                                              "results.json"))


def _start(settings: FitSettings, out: FsPath, overwrite: bool, resume: bool) -> dict | None:
    """Guard the run directory: never overwrite silently, resume only the same run.
    Returns the finished results when ``resume`` finds the run already done."""
    started = _started(out)
    finished = (out / "results.json").exists()
    if overwrite:
        for name in ("results.json", CHECKPOINT, PARTIAL, "report.md", "cv.json", "stability.json"):
            (out / name).unlink(missing_ok=True)
    elif started:
        new = json_data(settings)
        # settings added since the run was written count as their defaults there
        stored = json.loads((out / "config.json").read_text()).get("settings", {})
        # the path does not depend on `importance` (read off it at the end): a run written before
        # the setting existed resumes under any
        stored.setdefault("importance", new.get("importance"))
        old = {**json_data(FitSettings()), **stored}
        differ = sorted(k for k in set(old) | set(new) if k not in ("verbose", "data_dir") and old.get(k) != new.get(k))
        if not resume:
            what = "a finished run (results.json)" if finished else "an interrupted run"
            hint = "" if finished else ", pass --resume to continue it"
            raise RunExistsError(f"{out} already holds {what}; choose another --out{hint} or pass --overwrite.")
        if differ:
            raise RunExistsError(
                f"{out} holds a run with other settings ({', '.join(f'{k}: {old.get(k)!r} there, {new.get(k)!r} now' for k in differ)}); "
                "resume it with the same settings, or choose another --out.")
        if finished:
            return json.loads((out / "results.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)  # what a kill inside an atomic write left (a run directory has one writer)
    if not started or overwrite:
        write_json(out / "config.json", {"settings": asdict(settings), "deeplasso": __version__,
                                         "torch": torch.__version__})
    return None


def run_fit(settings: FitSettings, out: str | FsPath, overwrite: bool = False, resume: bool = False,
            workers: int | None = None, address: str | None = None) -> dict:
    """Run the main job and write its results into ``out``; returns the results.

    A directory holding a run is never overwritten silently: ``overwrite=True``
    starts afresh, ``resume=True`` continues an interrupted run with the same
    settings (the path from its last finished lambda step, the retraining from its
    last finished model) and returns a finished run's results as they are.

    With ``settings.cv`` (K folds) and/or ``settings.stability`` (N paths) the run also
    cross-validates lambda on the training split (``cv.json``, ``cv.png``) and/or runs
    stability selection on it (``stability.json``, ``stability.png``); their paths are
    runner tasks (``workers`` local worker processes, or the Dask cluster at
    ``address``), whose results are kept in ``out/cv/`` and ``out/stability/`` so that
    ``resume`` reruns only the paths that had not finished.
    """
    out = FsPath(out)
    check_out_dir(out)
    if _started(out) and not (overwrite or resume):
        _start(settings, out, overwrite, resume)  # raises RunExistsError before any data is read
    t0 = time.perf_counter()
    # the data and every setting before the run directory: a refused run leaves nothing behind
    # that the corrected command would have to --resume or --overwrite
    _say(settings, f"loading {settings.dataset or settings.data} ...")
    data = prepare_data(settings)
    t_data = time.perf_counter() - t0
    d = data.X_train.shape[1]
    if settings.task == "reconstruct":  # unsupervised: labels play no part in the selection (docs/unsupervised.md)
        from .reconstruct import run_reconstruct

        return run_reconstruct(settings, data, out, _estimator_params(settings, data), out / CHECKPOINT,
                               lambda: _start(settings, out, overwrite, resume), t0, t_data,
                               lambda msg: _say(settings, msg))
    metric = METRICS[data.task]
    if settings.cv:
        check_scoring(settings.cv_scoring, data.task == "classification")  # before the path, not after it
    Estimator = LassoNetClassifier if data.task == "classification" else LassoNetRegressor
    # refit=False: the run's fitted model is the path point best on validation (the paper's
    # protocol); the plain networks retrained on the top-k features below are the refits
    sel = Estimator(store_path_weights=True, refit=False, **_estimator_params(settings, data))
    sel.check_parameters(d)
    _say(settings, f"data: {len(data.y_train)}/{len(data.y_val)}/{len(data.y_test)} train/validation/test samples, "
                   f"{d} features, {data.task} ({t_data:.1f} s)")
    done = _start(settings, out, overwrite, resume)
    if done is not None:
        return done
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        # a degenerate path is reported in results.json, the report and by the command (status 3)
        warnings.simplefilter("ignore", DegeneratePathWarning)
        sel.fit(data.X_train, data.y_train, X_val=data.X_val, y_val=data.y_val, checkpoint=out / CHECKPOINT)
    t_path = time.perf_counter() - t1
    path_seconds = float(sum(p.seconds for p in sel.path_))  # across restarts
    sel.path_.save(out / "path.npz")
    test_scores = sel.path_scores(data.X_test, data.y_test)
    path_rows = [{"lambda": p.lambda_, "n_selected": p.n_selected, f"val_{metric}": p.val_score,
                  f"test_{metric}": float(t), "epochs": p.epochs, "seconds": p.seconds}
                 for p, t in zip(sel.path_, test_scores)]
    ranking = sel.ranking_
    retrain_dims = settings.retrain_hidden_dims or settings.hidden_dims
    partial = json.loads((out / PARTIAL).read_text()) if (out / PARTIAL).exists() else {}
    rows = []
    t2 = time.perf_counter()
    args = (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test)
    ks = []
    for frac in settings.fractions:
        k = max(1, int(round(frac * d)))
        if k in ks:  # few features: several fractions round to the same k
            continue
        ks.append(k)
        scores = {}
        for kind, feats in (("top", ranking[:k]), ("random", random_features(d, k, settings.seed))):
            name = f"{kind}-{k}"
            if name not in partial:
                if kind == "random" and k == d:  # all features: the same model as top-k
                    partial[name] = partial[f"top-{k}"]
                else:
                    _say(settings, f"retraining a plain network on the {name} features")
                    partial[name] = retrain_score(*args, feats, hidden_dims=retrain_dims, seed=settings.seed,
                                                  batch_size=settings.batch_size, lr=settings.lr,
                                                  max_epochs=settings.retrain_max_epochs,
                                                  patience=settings.retrain_patience, task=data.task)
                write_json(out / PARTIAL, partial)
            scores[kind] = partial[name]
        rows.append({"fraction": frac, "k": k, "retrained_top_k": scores["top"],
                     "retrained_random_k": scores["random"],
                     "path_test_at_most_k": best_on_validation(path_rows, k, f"test_{metric}", metric)})
    t_retrain = time.perf_counter() - t2
    t3 = time.perf_counter()
    if settings.cv is not None:
        _run_cv(settings, data, out, workers, address)
    if settings.stability is not None:
        _run_stability(settings, data, out, workers, address)
    t_many = time.perf_counter() - t3
    results = {
        "dataset": settings.dataset if settings.data is None else FsPath(settings.data).name,
        "task": data.task, "metric": metric,
        "classes": None if data.classes is None else list(data.classes),
        "feature_names": None if data.feature_names is None else list(data.feature_names),
        "target": data.target_name,
        "n_features": d,
        "n_train": int(len(data.y_train)), "n_val": int(len(data.y_val)), "n_test": int(len(data.y_test)),
        "lambda_start": sel.lambda_start_,
        "best_index": int(sel.best_index_),
        f"test_{metric}_best": float(sel.score(data.X_test, data.y_test)),
        "path": path_rows,
        "selection": rows,
        "feature_importances": sel.feature_importances_,
        "importance": sel.importance_,  # what feature_importances holds: "norm" or "lambda"
        "ranking": ranking,
        "image_shape": None if data.image_shape is None else list(data.image_shape),
        "seconds": {"data": t_data, "path": path_seconds, "path_this_session": t_path, "retrain": t_retrain,
                    **({"cv_stability": t_many} if settings.cv or settings.stability else {}),
                    "total": time.perf_counter() - t0},
        "total_epochs": int(sum(p.epochs for p in sel.path_)),
        # a degenerate path (deeplasso.engine.diagnostics): each message with the fix
        "warnings": list(sel.path_.meta.get("warnings", [])),
    }
    write_json(out / "results.json", results)
    draw_figures(out)
    write_fit_report(out)
    from ..explorer import write_explorer

    write_explorer(out)  # explorer.html: the interactive page over the path
    (out / CHECKPOINT).unlink(missing_ok=True)
    (out / PARTIAL).unlink(missing_ok=True)
    remove_stale_temps(out)
    return results


def _estimator_params(settings: FitSettings, data) -> dict:
    """The LassoNet parameters of a run (the main path, and the CV and stability paths)."""
    return dict(
        hidden_dims=settings.hidden_dims, batch_size=settings.batch_size, M=settings.M,
        lambda_start=settings.lambda_start, path_multiplier=settings.path_multiplier,
        max_epochs=settings.max_epochs, patience=settings.patience, lr=settings.lr, dense_lr=settings.dense_lr,
        **({} if settings.importance is None else {"importance": settings.importance}),
        random_state=settings.seed, verbose=settings.verbose, device="cpu",
        body=settings.body, conv_channels=settings.conv_channels,
        image_shape=None if settings.body == "mlp" or data.image_shape is None else tuple(data.image_shape),
    )


def _run_cv(settings: FitSettings, data, out: FsPath, workers, address) -> dict:
    """Cross-validate lambda on the training split (``settings.cv`` folds); write ``cv.json``.

    Its keys are those the explorer reads (``lambdas``, ``mean``, ``se``, ``lambda_min``,
    ``lambda_1se``, ``label``, ``n_folds``; :func:`deeplasso.explorer.data.check_cv`) and
    what the figure needs (``n_features``), plus the folds' scores and the chosen model."""
    from ..cv import LassoNetClassifierCV, LassoNetRegressorCV

    metric = METRICS[data.task]
    CV = LassoNetClassifierCV if data.task == "classification" else LassoNetRegressorCV
    est = CV(**dict(_estimator_params(settings, data), verbose=0), cv=int(settings.cv), choose=settings.choose,
             scoring=settings.cv_scoring, workers=workers, address=address, run_dir=str(out / "cv"))
    est.fit(data.X_train, data.y_train)
    scoring = settings.cv_scoring
    label = METRIC_LABELS[metric] if scoring is None else scoring
    doc = {
        "lambdas": est.lambdas_, "mean": est.cv_mean_, "se": est.cv_se_, "n_features": est.n_features_,
        "scores": est.cv_scores_, "lambda_min": est.lambda_min_, "lambda_1se": est.lambda_1se_,
        "choose": settings.choose, "best_lambda": est.best_lambda_, "n_folds": int(est.n_splits_),
        "label": f"CV {label}", "metric": metric, "scoring": scoring,
        "n_selected": int(est.n_features_selected_), "selected": [int(j) for j in np.flatnonzero(est.support_)],
        f"test_{metric}": float(est._base.score(est, data.X_test, data.y_test)),
        **({} if scoring is None else {"test_score": float(est.score(data.X_test, data.y_test))}),
        "data": "the training split, split again into the folds (validation and test parts not used)",
    }
    write_json(out / "cv.json", doc)
    return doc


def _run_stability(settings: FitSettings, data, out: FsPath, workers, address) -> dict:
    """Stability selection over ``settings.stability`` half-sample paths of the training
    split at ``settings.threshold``; write ``stability.json``."""
    from ..stability import stability_selection

    Estimator = LassoNetClassifier if data.task == "classification" else LassoNetRegressor
    r = stability_selection(Estimator(**dict(_estimator_params(settings, data), verbose=0)), data.X_train,
                            data.y_train, n_paths=int(settings.stability), threshold=float(settings.threshold),
                            random_state=settings.seed, workers=workers, address=address,
                            run_dir=str(out / "stability"))
    doc = {"lambdas": r.lambdas, "probabilities": r.probabilities, "n_selected_mean": r.n_selected_mean,
           "region": [bool(v) for v in r.region], "max_probability": r.max_probability,
           "support": [bool(v) for v in r.support], "selected": [int(j) for j in r.selected],
           "ranking": [int(j) for j in r.ranking], "expected_false": r.expected_false, "threshold": r.threshold,
           "n_features_max": r.n_features_max, "n_paths": int(settings.stability), "sample_fraction": 0.5,
           "seeds": list(r.seeds), "lambda_start": r.lambda_start}
    write_json(out / "stability.json", doc)
    return doc


def output_files(results: dict, run_dir=None) -> list[str]:
    """Names of the files a run writes into its directory (figures need matplotlib);
    with ``run_dir``, also the cross-validation and stability files it holds."""
    names = ["report.md", "config.json", "path.npz", "results.json", "importance.png",
             f"{results.get('metric', 'accuracy')}.png", "explorer.html"]
    if run_dir is not None:
        names += [n for n in ("cv.json", "cv.png", "stability.json", "stability.png")
                  if (FsPath(run_dir) / n).exists()]
    return names


def summary(results: dict) -> str:
    """A short human-readable table of a run's results."""
    metric = results.get("metric", "accuracy")
    label = METRIC_LABELS[metric]
    lines = [
        f"{results['dataset']}: {results['n_features']} features, {results['n_train']}/{results['n_val']}/"
        f"{results['n_test']} train/val/test; path of {len(results['path'])} points, "
        f"{results['total_epochs']} epochs, {results['seconds']['path']:.1f} s",
        f"fitted model (best validation point): test {label} {results[f'test_{metric}_best']:.3f}",
        "",
        f"{'k':>6} {'top-k retrained':>16} {'random-k':>10} {'path (<= k)':>12}" + ("" if metric == "accuracy"
                                                                                    else f"   (test {label})"),
    ]
    for r in results["selection"]:
        path_acc = "-" if r["path_test_at_most_k"] is None else f"{r['path_test_at_most_k']:.3f}"
        lines.append(f"{r['k']:>6} {r['retrained_top_k']:>16.3f} {r['retrained_random_k']:>10.3f} {path_acc:>12}")
    return "\n".join(lines)
