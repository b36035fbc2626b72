"""Which definition of feature importance ranks best, judged on validation.

For each seed, one deeplasso path on digits (the setup of digits_selection.py: batch 64,
hidden (32,), M = 10, path_multiplier 1.02, patience 10), then three rankings from the
same path:

- first exit: the lambda of the first point without the feature (deeplasso's
  definition, `Path.ranking()`);
- interval length: the total length of the lambda intervals the feature is in (the
  previous definition);
- area: the area under ||theta_j|| along lambda.

Ties are broken by the sum of ||theta_j|| over the path. A plain (32,) MLP is retrained
on each ranking's top k features (k = 32, 16, 8, 4) and scored on the validation split
(used to choose) and on the test split (reported only).

    python benchmarks/importance_definitions.py [--seeds 10] [--out FILE.jsonl]
"""

import argparse
import json

import numpy as np
import torch

from digits_selection import KS, data

from deeplasso import LassoNetClassifier
from deeplasso.selection import retrain_score


def rankings(path) -> dict[str, np.ndarray]:
    lam = np.asarray(path.lambdas, dtype=float)
    N = np.stack([p.theta_norm for p in path.points])
    sel = N > 0
    tie = -N.sum(axis=0)
    width = np.diff(np.append(lam, lam[-1] * 1.02))
    interval = (sel[:-1] * width[:-1, None]).sum(axis=0).astype(float)
    interval[sel[-1]] = np.inf
    return {
        "first exit": path.ranking(),
        "interval length": np.lexsort((tie, -interval)),
        "area": np.lexsort((tie, -(N * width[:, None]).sum(axis=0))),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="append one JSON line per seed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    Xtr, Xva, Xte, ytr, yva, yte = data()
    scores = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        sel = LassoNetClassifier(hidden_dims=(32,), batch_size=64, path_multiplier=1.02, M=10, patience=10,
                                 random_state=seed, verbose=0).fit(Xtr, ytr, X_val=Xva, y_val=yva)
        rec = {"seed": seed}
        for name, r in rankings(sel.path_).items():
            for split, (Xs, ys) in (("val", (Xva, yva)), ("test", (Xte, yte))):
                acc = [retrain_score(Xtr, ytr, Xva, yva, Xs, ys, r[:k], hidden_dims=(32,), seed=seed) for k in KS]
                rec[f"{split} {name}"] = acc
                scores.setdefault((split, name), []).append(acc)
        print(json.dumps(rec), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
    print(f"\nretrained (32,) MLP accuracy at k = {KS}, mean over {args.seeds} seeds")
    for split in ("val", "test"):
        for name in ("first exit", "interval length", "area"):
            a = np.array(scores[(split, name)])
            print(f"{split:5s} {name:16s} " + " ".join(f"{v:.3f}" for v in a.mean(0)) + f"   mean {a.mean():.4f}")


if __name__ == "__main__":
    main()
