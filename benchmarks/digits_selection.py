"""Full digits path and its feature selection: deeplasso against the reference `lassonet`.

Both run the full path (batch 64, hidden (32,), M = 10, path_multiplier 1.02, the same
early-stopping patience: the reference's default 10 unless --patience) on the same
standardised split of scikit-learn's digits (``common.digits_split``), alternating within
each seed; then a plain (32,) MLP is retrained on each method's top k features
(k = 32, 16, 8, 4) and on k random ones, with the same seeds. Prints the path times and
their ratio, the retrained test accuracies side by side, and deeplasso minus the
reference in points, mean +- standard error over the seeds.

    python benchmarks/digits_selection.py --seeds 10
    python benchmarks/digits_selection.py --seeds 30 --path-optimizer sgd   # the reference's SGD path
    python benchmarks/digits_selection.py --device cuda --seeds 1
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import time

import numpy as np
import torch
from common import (KS, JsonLines, digits_split, median, points_pm, reference_digits_path, retrained,
                    retrained_random, say, tie_rankings)

from deeplasso import LassoNetClassifier


def ours(data, seed, args):
    """deeplasso's path: (seconds, ranking, number of points)."""
    lam0 = args.lambda_start if args.lambda_start == "auto" else float(args.lambda_start)
    sel = LassoNetClassifier(hidden_dims=(32,), batch_size=args.batch_size, path_multiplier=1.02, M=10,
                             patience=args.patience, lambda_start=lam0, path_optimizer=args.path_optimizer,
                             random_state=seed, verbose=0, device=args.device)
    t = time.perf_counter()
    sel.fit(data[0], data[1], X_val=data[2], y_val=data[3])
    return time.perf_counter() - t, sel.ranking_, len(sel.path_)


def reference(data, seed, args):
    """The reference's path: (seconds, ranking, number of points). It gives importances
    only; features that left at the same lambda are ordered by index (a stable sort)."""
    dt, imp, norms, n_points = reference_digits_path(data, seed, args.batch_size, args.patience, args.device)
    return dt, tie_rankings(imp, norms)["index"], n_points


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--patience", type=int, default=10, help="early-stopping patience of both (reference default 10)")
    ap.add_argument("--lambda-start", default="auto", help="deeplasso's lambda_start ('auto' or a number)")
    ap.add_argument("--path-optimizer", choices=("same", "sgd"), default="same",
                    help="deeplasso's path_optimizer: 'same' goes on with Adam (the default, as the paper); 'sgd' "
                         "runs the path with SGD momentum 0.9, as the reference does")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--device", default="cpu", help="both packages' device ('cuda' on a GPU machine)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for both (1: robust when the machine is shared; OpenMP threads "
                         "competing with another process slow small steps by large, unequal factors)")
    ap.add_argument("--out", default=None, help="append one JSON line per (method, seed)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = digits_split()
    rec = JsonLines(args.out, benchmark="digits_selection", path_optimizer=args.path_optimizer, device=args.device)
    runners = {"deeplasso": ours} if args.no_reference else {"deeplasso": ours, "reference": reference}
    acc = {name: {} for name in [*runners, "random"]}  # name -> seed -> accuracies at KS
    times = {name: [] for name in runners}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name, fn in runners.items():  # alternate within a seed
            dt, ranking, n_points = fn(data, seed, args)
            times[name].append(dt)
            acc[name][seed] = retrained(data, ranking, KS, hidden_dims=(32,), seed=seed)
            rec(method=name, seed=seed, seconds=dt, points=n_points, ranking=[int(j) for j in ranking],
                test=acc[name][seed])
            say(f"seed {seed} {name}: {dt:.1f} s, {n_points} path points, retrained top {KS}: "
                + " ".join(f"{a:.3f}" for a in acc[name][seed]))
        acc["random"][seed] = retrained_random(data, KS, hidden_dims=(32,), seed=seed)
        rec(method="random", seed=seed, test=acc["random"][seed])
    say(f"\nretrained (32,) MLP test accuracy on the top k features, mean over {args.seeds} seed(s)")
    say("k      " + "  ".join(f"{n:>10s}" for n in acc))
    for i, k in enumerate(KS):
        say(f"{k:<6d} " + "  ".join(f"{np.mean([a[i] for a in acc[n].values()]):10.3f}" for n in acc))
    if "reference" in acc:
        seeds = sorted(acc["reference"])
        diffs = [np.subtract(acc["deeplasso"][s], acc["reference"][s]) for s in seeds]
        say("deeplasso minus reference, points, mean +- standard error: "
            + ", ".join(f"k={k}: {d}" for k, d in zip(KS, points_pm(diffs))))
    med = {n: median(v) for n, v in times.items()}
    say("\nmedian path time: " + ", ".join(f"{n} {v:.1f} s" for n, v in med.items()))
    if len(med) == 2:
        say(f"speed-up (reference / deeplasso): {med['reference'] / med['deeplasso']:.2f}x")


if __name__ == "__main__":
    main()
