"""CNN body against the MLP body on digits: time per epoch, then one CNN path.

Same data as the main job (``deeplasso fit``: digits, official split, 10% validation,
standardised on train). Part 1 times training epochs at a lambda where the prox is
active, for the MLP (32,) (fast hand-written step, and the generic autograd step) and
the CNN body (per-pixel feature layer of 8 channels, conv (16, 32); and the same CNN
behind a dense d -> 8*8*8 feature layer), and prints each time as a ratio of the MLP's.
Part 2 (unless --no-path) fits one CNN path (batch 64, path_multiplier 1.1) and prints,
for k = 32, 16, 8, 4: a plain (32,) MLP retrained on the CNN's top-k features and on k
random ones, and the best test accuracy of a path point with at most k features.

    PYTHONPATH=src python benchmarks/cnn_body.py [--epochs 10] [--threads 1] [--no-path] [--seed 0]
"""

import argparse
import time

import numpy as np
import torch

from deeplasso import LassoNetClassifier, PathConfig
from deeplasso.data import load, official_split, preprocess_split
from deeplasso.modules import LassoNet, cnn_body
from deeplasso.path import _Trainer, torch_threads
from deeplasso.selection import random_features, retrain_score


def models(d, K, shape):
    yield "mlp (32,) fast step", LassoNet(d, K, (32,)), True
    yield "mlp (32,) autograd", LassoNet(d, K, (32,)), False
    yield "cnn pixel 8, conv (16,32)", LassoNet(d, K, body=cnn_body(shape, K, (16, 32), pixel_channels=8),
                                                input_layer="pixel", image_shape=shape), False
    yield "cnn dense 64->512, conv (16,32)", LassoNet(d, K, body=cnn_body(shape, K, (16, 32), pixel_channels=8)), \
        False


def time_epochs(data, n_epochs, seed, threads):
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train, dtype=torch.int64)
    Xv, yv = torch.as_tensor(data.X_val), torch.as_tensor(data.y_val, dtype=torch.int64)
    d, K = X.shape[1], int(y.max()) + 1
    rows = []
    for name, model, fast in models(d, K, tuple(data.image_shape)):
        torch.manual_seed(seed)
        cfg = PathConfig(fast=fast, seed=seed)
        trainer = _Trainer(model, X, y, Xv, yv, cfg, torch.Generator().manual_seed(seed))
        assert trainer.fast == fast
        with torch_threads(threads):
            for _ in range(3):
                trainer.epoch(0.0)  # warm-up, and a trained model so the prox has work to do
            lam = 0.05 * (K ** 0.5 + 10 * model.n_hidden0)  # where features begin to leave
            times = []
            for _ in range(n_epochs):
                t = time.perf_counter()
                trainer.epoch(lam)
                times.append(time.perf_counter() - t)
        n_params = sum(p.numel() for p in model.parameters())
        rows.append((name, float(np.median(times)), n_params))
    base = rows[0][1]
    print(f"{'body':34s} {'ms/epoch':>9s} {'x mlp fast':>10s} {'params':>8s}   ({len(data.y_train)} samples, batch 64, "
          f"{threads} thread(s), median of {n_epochs})")
    for name, t, n in rows:
        print(f"{name:34s} {1e3 * t:9.1f} {t / base:10.1f} {n:8d}")


def cnn_path(data, seed):
    sel = LassoNetClassifier(body="cnn", batch_size=64, path_multiplier=1.1, store_path_weights=True,
                             random_state=seed, verbose=0, device="cpu")
    t = time.perf_counter()
    sel.fit(data.X_train, data.y_train, X_val=data.X_val, y_val=data.y_val)
    secs = time.perf_counter() - t
    scores = sel.path_scores(data.X_test, data.y_test)
    epochs = sum(p.epochs for p in sel.path_)
    print(f"\ncnn path: {len(sel.path_)} points, {epochs} epochs, {secs:.0f} s; dense test "
          f"{scores[0]:.3f}; best model (index {sel.best_index_}, {sel.n_features_selected_} features) "
          f"test {sel.score(data.X_test, data.y_test):.3f}")
    d = data.X_train.shape[1]
    args = (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test)
    print(f"{'k':>6s}  {'top-k retrained':>15s}  {'random-k':>9s}  {'path (<= k)':>11s}")
    for k in (32, 16, 8, 4):
        top = retrain_score(*args, sel.ranking_[:k], hidden_dims=(32,), seed=seed)
        rnd = retrain_score(*args, random_features(d, k, seed), hidden_dims=(32,), seed=seed)
        on_path = [s for s, n in zip(scores, sel.path_.n_selected) if 0 < n <= k]
        print(f"{k:6d}  {top:15.3f}  {rnd:9.3f}  {max(on_path) if on_path else float('nan'):11.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads for the timings (1: robust on a shared machine)")
    ap.add_argument("--no-path", action="store_true")
    a = ap.parse_args()
    data = preprocess_split(official_split(load("digits", None), val_fraction=0.1, random_state=a.seed), "train")
    time_epochs(data, a.epochs, a.seed, a.threads)
    if not a.no_path:
        cnn_path(data, a.seed)


if __name__ == "__main__":
    main()
