"""Feature selection quality on digits: deeplasso vs the reference `lassonet`.

Both run the full path (batch 64, hidden (32,), M=10, path_multiplier 1.02, the same
early-stopping patience: the reference's default 10 unless --patience) on the
same standardised 80/20 split of scikit-learn's digits; then a plain (32,) MLP is
retrained on each method's top-k features (k = 32, 16, 8, 4) with the same seeds.
Prints wall times, their ratio, and the retrained test accuracies side by side.

    python benchmarks/digits_selection.py [--seeds 3] [--patience 10] [--threads 1] [--no-reference] [--device cuda]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from deeplasso import LassoNetClassifier
from deeplasso.selection import random_features, retrain_score

KS = (32, 16, 8, 4)


def data(seed=0):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    Xtr, Xva, ytr, yva = train_test_split(Xtr, ytr, test_size=0.125, random_state=seed, stratify=ytr)
    sc = StandardScaler().fit(Xtr)
    return [sc.transform(a).astype(np.float32) for a in (Xtr, Xva, Xte)] + [ytr, yva, yte]


def ours(Xtr, Xva, ytr, yva, seed, batch_size, patience, lambda_start="auto", device="cpu"):
    sel = LassoNetClassifier(hidden_dims=(32,), batch_size=batch_size, path_multiplier=1.02, M=10,
                             patience=patience, lambda_start=lambda_start, random_state=seed, verbose=0,
                             device=device)
    t = time.perf_counter()
    sel.fit(Xtr, ytr, X_val=Xva, y_val=yva)
    return time.perf_counter() - t, sel.ranking_, len(sel.path_)


def reference_path(Xtr, Xva, ytr, yva, seed, batch_size, patience, device="cpu"):
    """The reference's path: (seconds, importances, sum over the path's points of each
    feature's ||theta_j||, number of points). The norms are read by a callback after each
    point, which does not touch the model or the random state."""
    from lassonet import LassoNetClassifier as Ref

    ref = Ref(hidden_dims=(32,), batch_size=batch_size, path_multiplier=1.02, M=10, patience=patience,
              random_state=seed, torch_seed=seed, verbose=0, device=torch.device(device))
    norms = []

    def record(model, hist):
        norms.append(model.model.skip.weight.detach().norm(dim=0).cpu().numpy().astype(float))

    t = time.perf_counter()
    path = ref.path(Xtr, ytr, X_val=Xva, y_val=yva, return_state_dicts=False, callback=record)
    dt = time.perf_counter() - t
    imp = torch.as_tensor(ref.feature_importances_).cpu().numpy().astype(float)
    return dt, imp, np.sum(norms, axis=0), len(path)


def tie_rankings(importances, norm_sum) -> dict:
    """The two ways to order features that left at the same lambda: by index (what the
    reference's importances give through a stable sort) and by the sum over the path of
    ``||theta_j||`` (deeplasso's ``Path.ranking``)."""
    imp, ns = np.asarray(importances, dtype=float), np.asarray(norm_sum, dtype=float)
    return {"index": np.argsort(-imp, kind="stable"), "norm": np.lexsort((-ns, -imp))}


def reference(Xtr, Xva, ytr, yva, seed, batch_size, patience, device="cpu"):
    """The reference's ranking. The package gives importances only; features that left at
    the same lambda are ordered by index (a stable sort)."""
    dt, imp, norm_sum, n_points = reference_path(Xtr, Xva, ytr, yva, seed, batch_size, patience, device)
    return dt, tie_rankings(imp, norm_sum)["index"], n_points


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--patience", type=int, default=10, help="early-stopping patience of both (reference default 10)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--lambda-start", default="auto", help="deeplasso's lambda_start ('auto' or a number)")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--device", default="cpu", help="both packages' device ('cuda' on a GPU machine)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for both (1: robust when the machine is shared; OpenMP threads "
                         "competing with another process slow small steps by large, unequal factors)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    Xtr, Xva, Xte, ytr, yva, yte = data()
    rows = {"deeplasso": {k: [] for k in KS}, "reference": {k: [] for k in KS}, "random": {k: [] for k in KS}}
    times = {"deeplasso": [], "reference": []}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        lam0 = args.lambda_start if args.lambda_start == "auto" else float(args.lambda_start)
        runners = [("deeplasso", lambda *a: ours(*a, lambda_start=lam0, device=args.device))]
        runners += [] if args.no_reference else [("reference", lambda *a: reference(*a, device=args.device))]
        for name, fn in runners:  # alternate within a seed
            dt, ranking, n_points = fn(Xtr, Xva, ytr, yva, seed, args.batch_size, args.patience)
            times[name].append(dt)
            print(f"seed {seed} {name}: {dt:.1f} s, {n_points} path points", flush=True)
            for k in KS:
                rows[name][k].append(retrain_score(Xtr, ytr, Xva, yva, Xte, yte, ranking[:k], hidden_dims=(32,), seed=seed))
        for k in KS:
            rows["random"][k].append(retrain_score(Xtr, ytr, Xva, yva, Xte, yte, random_features(64, k, seed),
                                                   hidden_dims=(32,), seed=seed))
    for name, per_k in rows.items():
        print(f"per seed {name}: " + "; ".join(f"k={k}: " + ",".join(f"{a:.3f}" for a in v) for k, v in per_k.items()))
    print("\nretrained (32,) MLP test accuracy on top-k features, mean over seeds")
    print("k      " + "  ".join(f"{n:>10s}" for n in rows))
    for k in KS:
        print(f"{k:<6d} " + "  ".join(f"{statistics.mean(rows[n][k]) if rows[n][k] else float('nan'):10.3f}" for n in rows))
    med = {n: statistics.median(v) for n, v in times.items() if v}
    print("\nmedian path time: " + ", ".join(f"{n} {v:.1f} s" for n, v in med.items()))
    if len(med) == 2:
        print(f"speed-up (reference / deeplasso): {med['reference'] / med['deeplasso']:.2f}x")


if __name__ == "__main__":
    main()
