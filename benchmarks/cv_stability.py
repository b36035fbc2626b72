"""Cross-validated lambda and stability selection on digits: deeplasso against the reference `lassonet`.

On the standardised digits split of ``common.digits_split`` (1005 train / 432 validation /
360 test images), every selector sees the training images only:

- deeplasso's ``LassoNetClassifierCV`` (one fit gives both ``lambda_1se_`` and
  ``lambda_min_``; the set is the full-data path's support there) against the
  reference's ``LassoNetClassifierCV`` (lambda_min only; its ``best_selected_``), on the
  same folds (``StratifiedKFold(--folds, shuffle=True, random_state=seed)``);
- deeplasso's ``stability_selection`` (``--paths`` half-sample paths, threshold 0.6, the
  default region) against the reference's ``stability_selection`` (``n_models=--paths``;
  its set is ``order[:oracle]``); and, like for like, each package's stability ranking
  cut at the other's set size (the same number of features, so only which features
  differs).

Both packages: hidden (32,), batch 64, M = 10, path_multiplier 1.02, patience 10 (the
reference's default), each package's other defaults (validation share: deeplasso 0.1,
the reference 0.25). Then a plain (32,) MLP is retrained on each chosen set
(``deeplasso.selection.retrain_score``, seed = the run's seed) and scored on the test
images. Prints per method the set size, the retrained test accuracy and the wall time
(mean +- standard error over seeds), and the paired differences in points; a
difference counts only when it exceeds twice its standard error.

    nice -n 10 python benchmarks/cv_stability.py --seeds 3 --folds 3 --paths 10 --out cv_stability.jsonl
    python benchmarks/cv_stability.py --quick            # 1 seed, 2 folds, 3 paths
    python benchmarks/cv_stability.py --no-reference --workers 2
    python benchmarks/cv_stability.py --no-reference --seeds 1 --figures docs/results   # the two figures
    python benchmarks/cv_stability.py --summarize seed0.jsonl seed1.jsonl   # the table of runs made apart
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import math
import random
import time

import numpy as np
import torch
from common import JsonLines, digits_split, mean_se, read_jsonl, say
from sklearn.model_selection import StratifiedKFold

from deeplasso import LassoNetClassifier, LassoNetClassifierCV, stability_selection
from deeplasso.selection import retrain_score

SETTINGS = dict(hidden_dims=(32,), batch_size=64, M=10, path_multiplier=1.02, patience=10)


def ours_cv(data, seed, args):
    """{method: (seconds, feature indices)} for deeplasso's CV at lambda_1se and lambda_min (one fit)."""
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=seed)
    t = time.perf_counter()
    cv = LassoNetClassifierCV(cv=folds, random_state=seed, verbose=0, workers=args.workers, **SETTINGS)
    cv.fit(data[0], data[1])
    dt = time.perf_counter() - t
    if args.figures and seed == args.first_seed:
        from deeplasso.cv_plots import cv_curve

        say("wrote", cv_curve(cv, Path(args.figures) / "cv_curve_digits.png",
                              title=f"digits, {args.folds}-fold CV, seed {seed}"))
    i_min = int(np.flatnonzero(cv.lambdas_ == cv.lambda_min_)[0])
    return {"deeplasso CV 1se": (dt, np.flatnonzero(cv.support_)),
            "deeplasso CV min": (dt, np.flatnonzero(cv.path_[i_min + 1].selected))}


def reference_cv(data, seed, args):
    from lassonet import LassoNetClassifierCV as RefCV

    folds = StratifiedKFold(args.folds, shuffle=True, random_state=seed)
    ref = RefCV(cv=folds, random_state=seed, torch_seed=seed, verbose=0, **SETTINGS)
    t = time.perf_counter()
    ref.fit(data[0], data[1])
    dt = time.perf_counter() - t
    return {"reference CV (min)": (dt, np.flatnonzero(torch.as_tensor(ref.best_selected_).cpu().numpy()))}


def ours_stability(data, seed, args):
    est = LassoNetClassifier(verbose=0, **SETTINGS)
    t = time.perf_counter()
    r = stability_selection(est, data[0], data[1], n_paths=args.paths, threshold=0.6, random_state=seed,
                            workers=args.workers)
    dt = time.perf_counter() - t
    if args.figures and seed == args.first_seed:
        from deeplasso.cv_plots import stability_paths

        say("wrote", stability_paths(r, Path(args.figures) / "stability_paths_digits.png",
                                     title=f"digits, {args.paths} half-sample paths, seed {seed}: "
                                           f"{len(r.selected)} features at threshold 0.6"))
    return dt, r


def reference_stability(data, seed, args):
    from lassonet import LassoNetClassifier as Ref

    random.seed(seed)  # its subsamples come from Python's random
    ref = Ref(random_state=seed, torch_seed=seed, verbose=0, **SETTINGS)
    t = time.perf_counter()
    oracle, order, wrong, paths, prob = ref.stability_selection(data[0], data[1], n_models=args.paths)
    dt = time.perf_counter() - t
    order = np.asarray(order.cpu().numpy(), dtype=int)
    return dt, order[:oracle], order


def accuracy(data, features, seed):
    if len(features) == 0:
        return math.nan  # nothing selected: no network to retrain
    return retrain_score(*data, np.asarray(features), hidden_dims=(32,), seed=seed)


def pm(values, scale=1.0, fmt="{:.3f}"):
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=float) * scale
    if v.size == 0:
        return "n/a"
    m, se = mean_se(v)
    return f"{fmt.format(float(m))} +- {fmt.replace('+', '').format(float(se))}" if v.size > 1 else fmt.format(float(m))


def cell(text):
    """A markdown table cell: its bars escaped."""
    return text.replace("|", "\\|")


def summarize(rows, args):
    """Print the table of ``rows`` (method -> {"size", "acc", "seconds"} lists, one per seed)."""
    n_seeds = max(len(r["acc"]) for r in rows.values())
    say(f"\ndigits, {n_seeds} seed(s), {args.folds} folds, {args.paths} stability paths; mean +- standard error")
    say("| method | features | retrained test accuracy | seconds |")
    say("| --- | --- | --- | --- |")
    for method, r in rows.items():
        say(f"| {cell(method)} | {pm(r['size'], fmt='{:.1f}')} | {pm(r['acc'])} | {pm(r['seconds'], fmt='{:.0f}')} |")
    pairs = [("deeplasso CV 1se", "reference CV (min)"), ("deeplasso CV min", "reference CV (min)"),
             ("deeplasso stability", "reference stability"),
             ("deeplasso stability, top |ref set|", "reference stability"),
             ("deeplasso stability", "reference stability, top |deeplasso set|")]
    lines = []
    for a, b in pairs:
        if a in rows and b in rows:
            common = [sd for sd in rows[a]["seed"] if sd in rows[b]["seed"]]  # paired by seed
            ia, ib = ([rows[m]["seed"].index(sd) for sd in common] for m in (a, b))
            d = [rows[a]["acc"][i] - rows[b]["acc"][j] for i, j in zip(ia, ib)]
            ds = [rows[a]["size"][i] - rows[b]["size"][j] for i, j in zip(ia, ib)]
            v = np.asarray([x for x in d if not math.isnan(x)])
            sig = ""
            if v.size > 1:
                m, se = mean_se(v)
                sig = " (beyond 2 se)" if abs(m) > 2 * se else " (within 2 se)"
            lines.append(f"| {cell(a)} minus {cell(b)} | {pm(ds, fmt='{:+.1f}')} | {pm(d, 100, '{:+.1f}')} points{sig} |")
    if lines:
        say("\n| paired difference | features | retrained test accuracy |")
        say("| --- | --- | --- |")
        for line in lines:
            say(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--paths", type=int, default=10, help="stability selection paths (both packages)")
    ap.add_argument("--quick", action="store_true", help="1 seed, 2 folds, 3 stability paths")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--workers", type=int, default=None, help="deeplasso's workers (default: serial, as the reference)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (both)")
    ap.add_argument("--out", default=None, help="append one JSON line per (method, seed)")
    ap.add_argument("--figures", default=None, help="folder for the first seed's CV curve and stability paths (PNG)")
    ap.add_argument("--summarize", nargs="+", default=None, metavar="JSONL",
                    help="print the table of earlier runs' --out files (e.g. one per seed, run in parallel) and exit")
    args = ap.parse_args()
    if args.summarize:
        rows = {}
        recs = [r for f in args.summarize for r in read_jsonl(f) if r.get("benchmark") == "cv_stability"]
        for r in sorted(recs, key=lambda r: r["seed"]):
            row = rows.setdefault(r["method"], {"seed": [], "size": [], "acc": [], "seconds": []})
            row["seed"].append(r["seed"])
            row["size"].append(len(r["features"]))
            row["acc"].append(math.nan if r["test"] is None else r["test"])
            row["seconds"].append(r["seconds"])
            args.folds, args.paths = r["folds"], r["paths"]
        summarize(rows, args)
        return
    if args.quick:
        args.seeds, args.folds, args.paths = 1, 2, 3
    torch.set_num_threads(args.threads)
    data = digits_split()
    rec = JsonLines(args.out, benchmark="cv_stability", folds=args.folds, paths=args.paths)
    rows = {}  # method -> {"size": [], "acc": [], "seconds": []}, one entry per seed

    def add(method, seed, seconds, feats):
        acc = accuracy(data, feats, seed)
        r = rows.setdefault(method, {"seed": [], "size": [], "acc": [], "seconds": []})
        r["seed"].append(seed)
        r["size"].append(len(feats))
        r["acc"].append(acc)
        r["seconds"].append(seconds)
        rec(method=method, seed=seed, seconds=seconds, features=[int(j) for j in feats], test=acc)
        say(f"seed {seed} {method:<32s} {len(feats):3d} features, retrained test {acc:.3f}, {seconds:.1f} s")

    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for method, (dt, feats) in ours_cv(data, seed, args).items():
            add(method, seed, dt, feats)
        if not args.no_reference:
            for method, (dt, feats) in reference_cv(data, seed, args).items():
                add(method, seed, dt, feats)
        dt, r = ours_stability(data, seed, args)
        add("deeplasso stability", seed, dt, r.selected)
        if not args.no_reference:
            dt_ref, ref_set, ref_order = reference_stability(data, seed, args)
            add("reference stability", seed, dt_ref, ref_set)
            # like for like: each ranking cut at the other's set size
            add("deeplasso stability, top |ref set|", seed, dt, r.ranking[:len(ref_set)])
            add("reference stability, top |deeplasso set|", seed, dt_ref, ref_order[:len(r.selected)])

    summarize(rows, args)

if __name__ == "__main__":
    main()
