"""CNN body against the MLP body on digits: time per epoch, then one CNN path.

Same data as the main job (``deeplasso fit``: digits, official split, 10% validation,
standardised on train). Part 1 times the epochs of one lambda step where the prox is
active, as ``fit_path`` runs them (``common.lambda_step_seconds``: after 3 dense epochs;
the validation objective after each epoch included), for the MLP (32,) (the fast step,
and the generic autograd step, ``PathConfig(fast=False)``) and the CNN body (per-pixel
feature layer of 8 channels, conv (16, 32); and the same CNN behind a dense d -> 8*8*8
feature layer), and prints each as a ratio of the MLP's. Part 2 (unless --no-path) fits
one CNN path (batch 64, path_multiplier 1.1) and prints, for k = 32, 16, 8, 4: a plain
(32,) MLP retrained on the CNN's top-k features and on k random ones, and the best test
accuracy of a path point with at most k features.

    python benchmarks/cnn_body.py [--epochs 10] [--threads 1] [--no-path] [--seed 0]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import time

import torch
from common import KS, lambda_step_seconds, retrained, retrained_random, say

from deeplasso import LassoNet, LassoNetClassifier, cnn_body
from deeplasso.data import load, official_split, preprocess_split


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
        lam = 0.05 * (K ** 0.5 + 10 * model.n_hidden0)  # where features begin to leave
        # the active set stays off: it would change the first layer's cost between bodies
        per_epoch, _ = lambda_step_seconds(model, X, y, Xv, yv, lam, n_epochs, dense_epochs=3, warm_up=False,
                                           fast=fast, active_set=False, seed=seed, num_threads=threads)
        n_params = sum(p.numel() for p in model.parameters())
        rows.append((name, per_epoch, n_params))
    base = rows[0][1]
    say(f"{'body':34s} {'ms/epoch':>9s} {'x mlp fast':>10s} {'params':>8s}   ({len(data.y_train)} samples, batch 64, "
        f"{threads} thread(s), mean of {n_epochs} epochs)")
    for name, t, n in rows:
        say(f"{name:34s} {1e3 * t:9.1f} {t / base:10.1f} {n:8d}")


def cnn_path(data, seed):
    sel = LassoNetClassifier(body="cnn", batch_size=64, path_multiplier=1.1, store_path_weights=True,
                             random_state=seed, verbose=0, device="cpu")
    t = time.perf_counter()
    sel.fit(data.X_train, data.y_train, X_val=data.X_val, y_val=data.y_val)
    secs = time.perf_counter() - t
    scores = sel.path_scores(data.X_test, data.y_test)
    epochs = sum(p.epochs for p in sel.path_)
    say(f"\ncnn path: {len(sel.path_)} points, {epochs} epochs, {secs:.0f} s; dense test "
        f"{scores[0]:.3f}; best model (index {sel.best_index_}, {sel.n_features_selected_} features) "
        f"test {sel.score(data.X_test, data.y_test):.3f}")
    split = (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test)
    top = retrained(split, sel.ranking_, KS, hidden_dims=(32,), seed=seed)
    rnd = retrained_random(split, KS, hidden_dims=(32,), seed=seed)
    say(f"{'k':>6s}  {'top-k retrained':>15s}  {'random-k':>9s}  {'path (<= k)':>11s}")
    for k, a, b in zip(KS, top, rnd):
        on_path = [s for s, n in zip(scores, sel.path_.n_selected) if 0 < n <= k]
        say(f"{k:6d}  {a:15.3f}  {b:9.3f}  {max(on_path) if on_path else float('nan'):11.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
