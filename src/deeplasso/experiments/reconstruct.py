"""``deeplasso fit --task reconstruct``: unsupervised selection, written like a fit run.

One :class:`~deeplasso.LassoNetAutoencoder` path on the training split's features
alone (labels, if the data has any, play no part in the selection), from all features
to none; then, for each fraction of the features, a decoder (a LassoNet of the same
widths trained without penalty on those features, :func:`deeplasso.refit`) on the
top-k features by importance and one on k random features, scored by the R^2 (all
features at once: 1 - SSE / SS) and the mean squared error of the reconstruction of
every test feature. With class labels, a
plain MLP trained on the top-k features also gives the test accuracy they carry.

The run directory is a fit run's (``config.json``, ``path.npz``, ``results.json``
with ``task = "reconstruct"`` and ``metric = "r2"``, ``report.md``, ``importance.png``,
``r2.png``, ``explorer.html``), plus ``reconstructions.npz`` (a few test samples, the
kept features and their reconstructions at up to three k) and, for images,
``reconstructions.png`` drawn from it.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path as FsPath

import numpy as np
import torch

from ..engine import DegeneratePathWarning, LassoNet, PathConfig
from ..engine import refit as train_on_support
from ..engine.files import atomic_write, remove_stale_temps, write_json
from ..estimators import LassoNetAutoencoder
from ..evaluation import random_features, retrain_score
from .fit_report import RECONSTRUCTIONS, draw_figures, write_fit_report
from .rundir import best_on_validation

__all__ = ["run_reconstruct", "N_IMAGES"]

#: how many test samples it holds
N_IMAGES = 8


def _decoder(settings, data, support: np.ndarray) -> tuple[LassoNet, float, float]:
    """A LassoNet of the run's widths trained without penalty to rebuild every feature
    from ``support`` alone; its test R^2 and MSE."""
    d = data.X_train.shape[1]
    t = {k: torch.as_tensor(np.ascontiguousarray(v, dtype=np.float32))
         for k, v in (("tr", data.X_train), ("va", data.X_val), ("te", data.X_test))}
    cfg = PathConfig(task="regression", lr=float(settings.lr), batch_size=settings.batch_size, M=float(settings.M),
                     max_epochs=int(settings.retrain_max_epochs), patience=int(settings.retrain_patience),
                     seed=int(settings.seed))
    torch.manual_seed(settings.seed)
    model = LassoNet(d, d, tuple(settings.hidden_dims))
    train_on_support(model, t["tr"], t["tr"], t["va"], t["va"], cfg, support)
    rec = _reconstruct(model, data.X_test, support)
    err = (rec - data.X_test) ** 2
    ss = float(((data.X_test - data.X_test.mean(0)) ** 2).sum())
    return model, 1.0 - float(err.sum()) / ss if ss > 0 else float(err.sum() == 0), float(err.mean())


@torch.no_grad()
def _reconstruct(model: LassoNet, X: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Every feature of ``X`` from its ``support`` columns (those returned as given)."""
    Z = np.array(X, dtype=np.float32)
    Z[:, ~support] = 0.0
    out = model.eval()(torch.as_tensor(Z)).numpy().astype(np.float64)
    out[:, support] = X[:, support]
    return out


def run_reconstruct(settings, data, out: FsPath, params: dict, checkpoint: FsPath, start, t0: float, t_data: float,
                    say) -> dict:
    """The unsupervised job (see the module docstring). ``params``: the run's estimator
    parameters (as for the supervised job); ``start()`` guards the run directory and
    returns the finished results of a run to resume as they are (else None); ``say``
    prints a progress line."""
    d = data.X_train.shape[1]
    # the data is already normalised by --normalize (per channel for images, per feature for
    # --data). The autoencoder's own design: the SGD path with the penalty reweighted, its step
    # ten times --lr (as the estimator's 1e-2 is ten times Adam's 1e-3; docs/unsupervised.md)
    sel = LassoNetAutoencoder(**{**params, "lr": 10 * float(settings.lr)}, path_optimizer="sgd", standardize=False,
                              n_features_to_select=None, refit=False, store_path_weights=True)
    sel.check_parameters(d)
    say(f"data: {len(data.X_train)}/{len(data.X_val)}/{len(data.X_test)} train/validation/test samples, {d} "
        "features; reconstruct (labels not used for the selection)")
    done = start()
    if done is not None:
        return done
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegeneratePathWarning)  # reported in results.json and the report
        sel.fit(data.X_train, X_val=data.X_val, checkpoint=checkpoint)
    t_path = time.perf_counter() - t1
    sel.path_.save(out / "path.npz")
    # R^2 of all features at once (1 - SSE / SS), on validation and test alike (the engine's
    # validation score averages the features' R^2, which nearly constant pixels swamp)
    val_r2, test_r2 = sel.path_scores(data.X_val), sel.path_scores(data.X_test)
    path_rows = [{"lambda": p.lambda_, "n_selected": p.n_selected, "val_r2": float(v), "test_r2": float(t),
                  "epochs": p.epochs, "seconds": p.seconds} for p, v, t in zip(sel.path_, val_r2, test_r2)]
    best = max(range(len(path_rows)), key=lambda i: (path_rows[i]["n_selected"] > 0, path_rows[i]["val_r2"]))
    ranking = sel.ranking_
    classes = data.task == "classification"
    t2 = time.perf_counter()
    rows, ks, shown = [], [], {}
    for frac in settings.fractions:
        k = max(1, int(round(frac * d)))
        if k in ks:
            continue
        ks.append(k)
        res = {}
        for kind, feats in (("top", ranking[:k]), ("random", random_features(d, k, settings.seed))):
            support = np.zeros(d, dtype=bool)
            support[np.asarray(feats)] = True
            say(f"training a decoder on the {kind}-{k} features")
            model, r2, mse = _decoder(settings, data, support)
            res[kind] = (r2, mse)
            if kind == "top":
                shown[k] = (support, _reconstruct(model, data.X_test[:N_IMAGES], support))
        row = {"fraction": frac, "k": k, "retrained_top_k": res["top"][0], "retrained_random_k": res["random"][0],
               "mse_top_k": res["top"][1], "mse_random_k": res["random"][1],
               "path_test_at_most_k": best_on_validation(path_rows, k, "test_r2", "r2")}
        if classes:
            say(f"training a classifier on the top-{k} features")
            row["accuracy_top_k"] = retrain_score(data.X_train, data.y_train, data.X_val, data.y_val, data.X_test,
                                                  data.y_test, ranking[:k], hidden_dims=settings.hidden_dims,
                                                  seed=settings.seed, batch_size=settings.batch_size, lr=settings.lr,
                                                  max_epochs=settings.retrain_max_epochs,
                                                  patience=settings.retrain_patience)
        rows.append(row)
    t_retrain = time.perf_counter() - t2
    pick = sorted(shown, reverse=True)
    pick = pick if len(pick) <= 3 else [pick[0], pick[len(pick) // 2], pick[-1]]
    arrays = {"originals": data.X_test[:N_IMAGES], "ks": np.array(pick)}
    for k in pick:
        arrays[f"kept_{k}"], arrays[f"reconstructed_{k}"] = shown[k]
    atomic_write(out / RECONSTRUCTIONS, lambda f: np.savez(f, **arrays))
    results = {
        "dataset": settings.dataset if settings.data is None else FsPath(settings.data).name,
        "task": "reconstruct", "metric": "r2", "labels": data.task,  # what the ignored labels were
        "classes": None if data.classes is None else list(data.classes),
        "feature_names": None if data.feature_names is None else list(data.feature_names),
        "target": None, "n_features": d,
        "n_train": int(len(data.X_train)), "n_val": int(len(data.X_val)), "n_test": int(len(data.X_test)),
        # the point best on validation by this R^2 (the estimator's own choice reads the engine's
        # validation score, a mean of per-feature R^2 that nearly constant pixels swamp)
        "lambda_start": sel.lambda_start_, "best_index": best,
        "test_r2_best": path_rows[best]["test_r2"],
        "path": path_rows, "selection": rows,
        "feature_importances": sel.feature_importances_, "importance": sel.importance_, "ranking": ranking,
        "image_shape": None if data.image_shape is None else list(data.image_shape),
        "seconds": {"data": t_data, "path": float(sum(p.seconds for p in sel.path_)),
                    "path_this_session": t_path, "retrain": t_retrain, "total": time.perf_counter() - t0},
        "total_epochs": int(sum(p.epochs for p in sel.path_)),
        "warnings": list(sel.path_.meta.get("warnings", [])),
    }
    write_json(out / "results.json", results)
    draw_figures(out)
    write_fit_report(out)
    from ..explorer import write_explorer

    write_explorer(out)
    checkpoint.unlink(missing_ok=True)
    remove_stale_temps(out)
    return results

