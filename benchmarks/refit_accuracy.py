"""What does ``refit=True`` buy? Test accuracy of the fitted model at k features on digits.

For each seed and k = 32, 16, 8, 4 on the digits split of digits_selection.py (hidden (32,),
batch 64, defaults otherwise), four models that see the same k selected features:

- ``path``: ``LassoNetClassifier(n_features_to_select=k)``, the best validation point
  of the path with at most k features (the default, as in the paper);
- ``refit``: the same with ``refit=True``: the LassoNet trained again from its initial
  weights without penalty on the top k features;
- ``warm``: that point's own model trained on without penalty on the top k features
  (``deeplasso.refit`` on the point's weights: a relaxed LassoNet), the alternative
  ``refit=True`` does not take;
- ``scratch``: a plain (32,) MLP trained from a fresh initialisation on the same k
  features (``deeplasso.selection.retrain_score``), the usual second stage.

It prints the means over seeds, and the fit times with and without the refit.

    python benchmarks/refit_accuracy.py --seeds 10
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import time

import numpy as np
import torch
from common import KS, digits_split, say

from deeplasso import LassoNetClassifier, PathConfig, refit
from deeplasso.selection import retrain_score


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = digits_split()
    Xtr, ytr, Xva, yva, Xte, yte = data
    tXtr, tXva, tXte = (torch.as_tensor(a, dtype=torch.float32) for a in (Xtr, Xva, Xte))
    tytr, tyva = (torch.as_tensor(a, dtype=torch.int64) for a in (ytr, yva))
    names = ("path", "refit", "warm", "scratch")
    acc = {k: [] for k in KS}
    secs = {"path": [], "refit": []}
    for seed in range(args.seeds):
        for k in KS:
            row = {}
            for refit_flag in (False, True):
                t = time.perf_counter()
                sel = LassoNetClassifier(hidden_dims=(32,), n_features_to_select=k, refit=refit_flag,
                                         store_path_weights=not refit_flag, random_state=seed,
                                         verbose=0).fit(Xtr, ytr, X_val=Xva, y_val=yva)
                secs["refit" if refit_flag else "path"].append(time.perf_counter() - t)
                row["refit" if refit_flag else "path"] = sel.score(Xte, yte)
                if not refit_flag:
                    point = sel.path_model(sel.best_index_).float()
                    cfg = PathConfig(batch_size=64, seed=int(sel.path_.meta["seed"]))
                    refit(point, tXtr, tytr, tXva, tyva, cfg, sel.support_)
                    with torch.no_grad():
                        row["warm"] = float((point(tXte).argmax(1).numpy() == yte).mean())
            cols = np.flatnonzero(sel.support_)
            row["scratch"] = retrain_score(*data, cols, hidden_dims=(32,), seed=seed)
            acc[k].append([row[n] for n in names])
            say(f"seed {seed} k={k:2d}: " + ", ".join(f"{n} {row[n]:.3f}" for n in names))
    print(f"\ntest accuracy, mean over {args.seeds} seeds")
    print(f"{'k':>4s}" + "".join(f"{n:>9s}" for n in names))
    for k in KS:
        print(f"{k:4d}" + "".join(f"{x:9.3f}" for x in np.mean(acc[k], axis=0)))
    p, r = np.median(secs["path"]), np.median(secs["refit"])
    print(f"median fit time: {p:.2f} s without refit, {r:.2f} s with refit=True; ratio {r / p:.2f}")


if __name__ == "__main__":
    main()
