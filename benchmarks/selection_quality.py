"""Selection quality: every selector picks k features from the same training split, and one
downstream network per protocol is trained on each selection (issue 15; docs/selection.md).

Protocols (``--protocol``):

- ``digits``: scikit-learn's digits, ``common.digits_split(0)`` (1005 / 432 / 360), k = 32 / 16 /
  8 / 4, downstream (32,) MLP; selectors' paths with batch 64 (``--batch-size none``: full batch).
- ``mnist``, ``fashion``: 10,000 random official training images (seed 0; 9,000 train, 1,000
  validation), the official 10,000 test images, pixels / 255 standardised on train, k = 50,
  downstream one-hidden-layer MLP (100,).
- ``cifar10``: the paper's pooled 80:10:10 split (48,000 / 6,000 / 6,000), ImageNet mean and std,
  k = 1 / 2 / 5 / 10 / 20% of the 3,072 values, downstream (80, 100) MLP.

Selectors (``--selectors``, comma separated): ``random``, ``lattice`` (images: k values spread
on a regular lattice of the image, channels in turn), ``variance``, ``fisher`` (Fisher score),
``mi`` (scikit-learn's mutual information), ``extratrees`` (ExtraTrees importances),
``reference`` (the reference ``lassonet`` 0.0.21: its path's importances), ``stg`` (if
installed), ``deeplasso`` (the estimator's defaults, ``n_features_to_select`` = the smallest k)
and ``deeplasso+key=value+key=value`` (the same with estimator parameters changed; values are
Python literals, e.g. ``deeplasso+path_multiplier=1.3+hidden_dims=(32,)``). Named variants:
``VARIANTS`` below. Levers, as parts of the same spec: ``pixels`` (whole-pixel groups: a colour
pixel's channels leave together), ``cnn`` (the CNN body on the protocol's image), ``tie=last``
(with ``importance="lambda"``: ties broken by the norm before leaving, not the sum over the
path), ``paths=N`` (selection frequency over N paths of seeds ``seed + 1000 i``) and
``stages=F`` (backward elimination by paths: a fresh dense model and a path on the features
left, each stage dividing them by F, through every k), e.g. ``deeplasso+pixels+tie=last``.
``importance="norm"`` and ``"lambda"`` read the ranking off the path, so with
``--path-cache`` they share one path; the default ``"auto"`` fits the estimator (it chooses
between the two on refits after its path) and records its choice with the row.

One JSON line per (protocol, seed, selector, k) is appended to ``--out`` as soon as it is
known; what the file already holds is skipped, so a killed run resumes. At the end (or with
``--table`` only) a table of mean +- standard error per selector and k, deeplasso minus every
other selector (paired by seed, +- s.e.) and the selectors' wall times is printed.

    OMP_NUM_THREADS=1 python benchmarks/selection_quality.py --protocol digits --seeds 5 --out r.jsonl
    python benchmarks/selection_quality.py --protocol digits --table --out r.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import ast
import math
import time

import numpy as np
import torch
from common import JsonLines, digits_split, mean_se, read_jsonl, say

from deeplasso import LassoNetClassifier
from deeplasso.selection import random_features, retrain_score

REFERENCE_PATH = "/tmp/lnpkg"  # a --target install of lassonet==0.0.21, used if lassonet is not importable

#: named deeplasso variants (estimator parameters over the protocol's base settings)
VARIANTS: dict[str, dict] = {}


# --------------------------------------------------------------------------- protocols


class Protocol:
    def __init__(self, name, data, raw_train, ks, hidden, image_shape, base):
        self.name, self.data, self.raw_train, self.ks = name, data, raw_train, list(ks)
        self.hidden, self.image_shape, self.base = hidden, image_shape, base


def _standardise(Xtr, *rest):
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    return [((a - mu) / sd).astype(np.float32) for a in (Xtr, *rest)]


def load_protocol(name, data_dir, batch_size) -> Protocol:
    if name == "digits":
        data = digits_split(0)
        from sklearn.datasets import load_digits  # the raw pixels, for the variance rule
        raw = data[0]  # standardised: variance is 1 everywhere, so use the unscaled train rows
        X, y = load_digits(return_X_y=True)
        from sklearn.model_selection import train_test_split
        Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
        Xtr, _, _, _ = train_test_split(Xtr, ytr, test_size=0.125, random_state=0, stratify=ytr)
        raw = Xtr
        base = dict(hidden_dims=(32,), batch_size=batch_size, path_multiplier=1.02, M=10, patience=10)
        return Protocol(name, data, raw, (32, 16, 8, 4), (32,), (1, 8, 8), base)
    from deeplasso.data import load, paper_split, preprocess_split
    if name in ("mnist", "fashion"):
        ds = load("mnist" if name == "mnist" else "fashion-mnist", data_dir=data_dir, progress=False)
        rng = np.random.default_rng(0)
        idx = rng.choice(len(ds.y_train), 10_000, replace=False)
        x = ds.x_train[idx].reshape(10_000, -1).astype(np.float32) / 255
        y = ds.y_train[idx].astype(np.int64)
        xt = ds.x_test.reshape(len(ds.y_test), -1).astype(np.float32) / 255
        Xtr, Xva, Xte = _standardise(x[:9000], x[9000:], xt)
        data = (Xtr, y[:9000], Xva, y[9000:], Xte, ds.y_test.astype(np.int64))
        base = dict(hidden_dims=(100,), batch_size=batch_size)
        return Protocol(name, data, x[:9000], (50,), (100,), (1, 28, 28), base)
    if name == "cifar10":
        ds = load("cifar10", data_dir=data_dir, progress=False)
        sp = paper_split(ds, random_state=0)
        p = preprocess_split(sp, normalize="imagenet")
        data = (p.X_train, p.y_train, p.X_val, p.y_val, p.X_test, p.y_test)
        ks = [int(round(f * 3072)) for f in (0.01, 0.02, 0.05, 0.10, 0.20)]
        base = dict(hidden_dims=(80, 100), batch_size=batch_size)
        return Protocol(name, data, p.X_train, ks, (80, 100), (3, 32, 32), base)
    raise SystemExit(f"unknown protocol {name!r}")


# --------------------------------------------------------------------------- selectors: each returns a ranking


def lattice(k, image_shape):
    """k values spread on a regular lattice of the image (cell centres of an r x c grid
    with r * c >= k / C pixels), channels taken in turn."""
    C, H, W = image_shape
    n_pix = math.ceil(k / C)
    r = max(1, round(math.sqrt(n_pix * H / W)))
    c = math.ceil(n_pix / r)
    while r * c < n_pix:
        r += 1
    rows = ((np.arange(r) + 0.5) * H / r).astype(int)
    cols = ((np.arange(c) + 0.5) * W / c).astype(int)
    pix = [(i, j) for i in rows for j in cols]
    out = []
    for t in range(k):
        i, j = pix[t % len(pix)] if C == 1 else pix[t // C % len(pix)]
        ch = t % C
        out.append(ch * H * W + i * W + j)
    return np.asarray(out)


def fisher_score(X, y):
    classes = np.unique(y)
    mu = X.mean(0)
    num = sum((y == c).sum() * (X[y == c].mean(0) - mu) ** 2 for c in classes)
    den = sum((y == c).sum() * X[y == c].var(0) for c in classes)
    return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)


def reference_ranking(P, seed, args):
    try:
        import lassonet  # noqa: F401
    except ImportError:
        sys.path.insert(0, REFERENCE_PATH)
    from lassonet import LassoNetClassifier as Ref

    Xtr, ytr, Xva, yva = P.data[:4]
    kw = dict(hidden_dims=P.hidden if P.name != "digits" else (32,), batch_size=P.base["batch_size"], M=10,
              path_multiplier=args.ref_multiplier or P.base.get("path_multiplier", 1.02),
              patience=P.base.get("patience", 10), random_state=seed, torch_seed=seed, verbose=0,
              device=torch.device("cpu"))
    if args.ref_lambda_start is not None:
        kw["lambda_start"] = args.ref_lambda_start
    ref = Ref(**kw)
    ref.path(Xtr, ytr, X_val=Xva, y_val=yva, return_state_dicts=False)
    imp = torch.as_tensor(ref.feature_importances_).cpu().numpy().astype(float)
    return np.argsort(-imp, kind="stable")


def stg_ranking(P, seed, args):
    import collections
    import collections.abc

    # stg 0.1.2 (the last release) still reads collections.Sequence/Set/Mapping/Iterable, moved to
    # collections.abc (and removed from collections) in Python 3.10
    for name in ("Sequence", "Set", "Mapping", "Iterable"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    from stg import STG

    Xtr, ytr, Xva, yva = P.data[:4]
    torch.manual_seed(seed)
    model = STG(task_type="classification", input_dim=Xtr.shape[1], output_dim=int(ytr.max()) + 1,
                hidden_dims=list(P.hidden), activation="relu", optimizer="Adam", learning_rate=1e-3,
                batch_size=Xtr.shape[0] if args.stg_batch is None else args.stg_batch, feature_selection=True, sigma=0.5, lam=args.stg_lam, random_state=seed,
                device="cpu")
    model.fit(Xtr, ytr, nr_epochs=args.stg_epochs, valid_X=Xva, valid_y=yva, print_interval=10 ** 9)
    prob = model.get_gates(mode="prob")
    return np.argsort(-prob, kind="stable")


def pixel_groups(image_shape):
    """Whole-pixel groups of a channel-first flattened image: the C values of each pixel
    share one norm, so they leave the model together."""
    C, H, W = image_shape
    if C == 1:
        raise SystemExit("'pixels' needs a colour protocol (one channel: every pixel is a feature already)")
    return [[c * H * W + p for c in range(C)] for p in range(H * W)]


def last_norm_ranking(path):
    """Importance first (later leaving = more important); ties broken by the norm of
    theta_j at the point before feature j first left, larger first (the
    default rule sums the norms over the whole path)."""
    norms = np.stack([p.theta_norm for p in path])
    imp = path.feature_importances()
    gone = norms == 0
    left = gone[-1]  # left at some point; the others are in the final model
    last = np.where(left, np.maximum(gone.argmax(axis=0) - 1, 0), len(norms) - 1)  # the point before it first left
    at_last = norms[last, np.arange(norms.shape[1])]
    return np.lexsort((-at_last, -imp))


def frequency_selection(rankings, ks):
    """Selection frequency over several paths: for each k, the k features most often in
    a path's top k; ties by the mean position over the paths."""
    pos = np.empty((len(rankings), len(rankings[0])))
    for i, r in enumerate(rankings):
        pos[i, r] = np.arange(len(r))
    mean_pos = pos.mean(0)
    out = {}
    for k in ks:
        count = (pos < k).sum(0)
        out[k] = np.lexsort((mean_pos, -count))[:k]
    return out


#: folder where deeplasso's paths are kept (``--path-cache``), so that another rule on the same
#: path (``tie=last``) costs no second path; None: not kept
PATH_CACHE = None


def _fit_path(P, params, seed, importance=None):
    """The estimator's path on the protocol's split (from ``PATH_CACHE`` when it holds it).
    With ``importance`` the estimator is fitted whatever the cache holds (``"auto"`` decides
    on refits after the path), and its ``(path, seconds, fitted estimator)`` returned."""
    from deeplasso.engine.results import Path as LassoPath

    Xtr, ytr, Xva, yva = P.data[:4]
    file = None
    if PATH_CACHE is not None:
        import hashlib

        key = hashlib.sha256(repr((P.name, seed, sorted((k, repr(v)) for k, v in params.items()))).encode())
        file = Path(PATH_CACHE) / f"{P.name}-{seed}-{key.hexdigest()[:16]}.npz"
        if file.exists() and importance is None:
            return LassoPath.load(file), 0.0
    t = time.perf_counter()
    sel = LassoNetClassifier(**params, **({} if importance is None else {"importance": importance}),
                             random_state=seed, verbose=0, device="cpu")
    sel.fit(Xtr, ytr, X_val=Xva, y_val=yva)
    if file is not None and not file.exists():  # (without `importance` it did not exist: returned above)
        file.parent.mkdir(parents=True, exist_ok=True)
        sel.path_.save(file)
    secs = time.perf_counter() - t
    return (sel.path_, secs) if importance is None else (sel.path_, secs, sel)


def stage_targets(d, ks, factor):
    """The feature counts the stages end on: divided by ``factor`` each stage, every k of
    the protocol among them, descending."""
    out, n = set(ks), d
    while n > min(ks):
        n = max(min(ks), math.ceil(n / factor))
        out.add(n)
    return sorted((t for t in out if t < d), reverse=True)


def _staged_ranking(P, params, seed, factor, tie, importance, info):
    """Backward elimination by paths: a fresh dense model and a path on the features left,
    down to the next target (``stage_targets``), then again on the survivors. Features
    that leave in an earlier stage rank below all that stay; within a stage, the path's
    own ranking."""
    Xtr, ytr, Xva, yva = P.data[:4]
    keep = np.arange(Xtr.shape[1])
    order = []  # eliminated features, least important first
    groups = params.get("groups")
    for target in stage_targets(Xtr.shape[1], P.ks, factor):
        if groups is not None:
            raise SystemExit("stages and pixels together are not wired")
        sub = dict(params, n_features_to_select=int(target))
        import hashlib  # the cache key must name the columns this stage sees
        cols = hashlib.sha256(keep.astype(np.int64).tobytes()).hexdigest()[:12]
        sub_P = Protocol(f"{P.name}-cols{cols}", (Xtr[:, keep], ytr, Xva[:, keep], yva), None, P.ks, P.hidden, None,
                         P.base)
        path, secs = _fit_path(sub_P, sub, seed)
        r = last_norm_ranking(path) if tie == "last" else path.ranking(importance)
        order.extend(keep[r[target:]][::-1].tolist())
        keep = keep[r[:target]]
        info["points"] += len(path)
        info["epochs"] += int(sum(p.epochs for p in path))
        info["dense_val"].append(float(path[0].val_score))
        info["path_seconds"] += secs
    return np.concatenate([keep, np.asarray(order[::-1], dtype=int)])


def deeplasso_ranking(P, seed, spec):
    """``spec`` is ``deeplasso+part+part``; a part is ``key=value`` (an estimator parameter,
    a Python literal), a name of ``VARIANTS``, or one of the levers ``pixels`` (whole-pixel
    groups), ``cnn`` (the CNN body on the protocol's image shape), ``tie=last`` (tie rule:
    the norm at the last selected point) and ``paths=N`` (selection frequency over N paths
    with seeds ``seed + 1000 i``)."""
    params = dict(P.base)
    tie, n_paths, stages = "sum", 1, None
    for part in spec.split("+")[1:]:
        key, _, value = part.partition("=")
        if key == "pixels" and not value:
            params["groups"] = pixel_groups(P.image_shape)
        elif key == "cnn" and not value:
            params.update(body="cnn", image_shape=P.image_shape)
        elif key == "tie":
            if value not in ("sum", "last"):
                raise SystemExit(f"tie={value!r}: use tie=sum (the estimator's rule) or tie=last")
            tie = value
        elif key == "paths":
            n_paths = int(value)
        elif key == "stages":
            stages = float(value)
            if stages <= 1:
                raise SystemExit(f"stages={value}: the factor by which each stage divides the features must be > 1")
        elif not value:
            params.update(VARIANTS[key])
        else:
            params[key] = ast.literal_eval(value)
    params.setdefault("n_features_to_select", min(P.ks))
    # how the ranking reads the path; not a setting of the path, so a cached path serves "norm"
    # and "lambda" (the default "auto" fits the estimator, which decides after its path)
    importance = params.pop("importance", LassoNetClassifier().importance)
    if stages and importance == "auto":
        raise SystemExit("stages=F goes with importance=\"norm\" or importance=\"lambda\", not 'auto'")
    rankings, info = [], {"points": 0, "epochs": 0, "dense_val": [], "path_seconds": 0.0}
    for i in range(n_paths):
        if stages:
            ranking = _staged_ranking(P, params, seed + 1000 * i, stages, tie, importance, info)
            rankings.append(ranking)
            continue
        if importance == "auto":  # the estimator's own choice, on refits of both rules' top k
            if tie == "last" or n_paths > 1:
                raise SystemExit("importance='auto' (the default) goes with neither tie=last nor paths=N: give "
                                 "importance=\"norm\" or importance=\"lambda\"")
            path, secs, sel = _fit_path(P, params, seed, importance)
            rankings.append(sel.ranking_)
            info["importance"] = sel.importance_
            info["importance_val_loss"] = {k: float(v) for k, v in sel.importance_val_loss_.items()}
        else:
            path, secs = _fit_path(P, params, seed + 1000 * i)
            rankings.append(last_norm_ranking(path) if tie == "last" else path.ranking(importance))
        info["points"] += len(path)
        info["epochs"] += int(sum(p.epochs for p in path))
        info["dense_val"].append(float(path[0].val_score))
        info["path_seconds"] += secs  # 0 for a path read from --path-cache
    info["dense_val"] = float(np.mean(info["dense_val"]))
    if n_paths == 1:
        return rankings[0], info
    return frequency_selection(rankings, P.ks), info


def ranking_of(P, selector, seed, args):
    Xtr, ytr = P.data[0], P.data[1]
    d = Xtr.shape[1]
    if selector == "random":
        return None, {}
    if selector == "lattice":
        return None, {}
    if selector == "variance":
        return np.argsort(-P.raw_train.var(0), kind="stable"), {}
    if selector == "fisher":
        return np.argsort(-fisher_score(P.raw_train.astype(np.float64), ytr), kind="stable"), {}
    if selector == "mi":
        from sklearn.feature_selection import mutual_info_classif
        rows = np.random.default_rng(seed).permutation(len(ytr))[:args.mi_rows]
        return np.argsort(-mutual_info_classif(Xtr[rows], ytr[rows], random_state=seed), kind="stable"), {}
    if selector == "extratrees":
        from sklearn.ensemble import ExtraTreesClassifier
        et = ExtraTreesClassifier(n_estimators=args.trees, random_state=seed, n_jobs=1).fit(Xtr, ytr)
        return np.argsort(-et.feature_importances_, kind="stable"), {}
    if selector == "reference":
        return reference_ranking(P, seed, args), {}
    if selector == "stg":
        return stg_ranking(P, seed, args), {}
    if selector.startswith("deeplasso"):
        return deeplasso_ranking(P, seed, selector)
    raise SystemExit(f"unknown selector {selector!r} (d = {d})")


def features_for(P, selector, ranking, k, seed):
    if isinstance(ranking, dict):  # one selection per k (selection frequency)
        return np.asarray(ranking[k])
    if selector == "random":
        return random_features(P.data[0].shape[1], k, seed)
    if selector == "lattice":
        return lattice(k, P.image_shape)
    return np.asarray(ranking[:k])


# --------------------------------------------------------------------------- table


def table(records, protocol, batch):
    recs = [r for r in records if r["protocol"] == protocol and r.get("batch") == batch]
    if not recs:
        say("no records")
        return
    ks = sorted({r["k"] for r in recs}, reverse=True)
    sels = list(dict.fromkeys(r["selector"] for r in recs))
    acc = {(r["selector"], r["seed"], r["k"]): r["test"] for r in recs}
    secs = {(r["selector"], r["seed"]): r["seconds"] for r in recs}
    say(f"\n{protocol} (batch {batch}): downstream test accuracy, mean +- s.e. over seeds (n), selector seconds")
    say("| selector | " + " | ".join(f"k = {k}" for k in ks) + " | seeds | selector s |")
    say("| --- | " + " | ".join("---" for _ in ks) + " | --- | --- |")
    for s in sels:
        cells, n = [], 0
        for k in ks:
            v = [a for (s2, _, k2), a in acc.items() if s2 == s and k2 == k]
            n = max(n, len(v))
            m, se = mean_se(100 * np.asarray(v)[:, None]) if v else (np.array([math.nan]), np.array([math.nan]))
            cells.append(f"{m[0]:.1f} +- {se[0]:.1f}" if len(v) > 1 else (f"{m[0]:.1f}" if v else "-"))
        t = [secs[key] for key in secs if key[0] == s]
        say(f"| {s} | " + " | ".join(cells) + f" | {n} | {np.median(t):.1f} |")
    for mine in [s for s in sels if s.startswith("deeplasso")]:
        say(f"\n{mine} minus each other selector, points, paired by seed (mean +- s.e.; ** > 2 s.e.)")
        say("| other | " + " | ".join(f"k = {k}" for k in ks) + " |")
        say("| --- | " + " | ".join("---" for _ in ks) + " |")
        for s in sels:
            if s == mine:
                continue
            cells = []
            for k in ks:
                seeds = sorted(sd for (s2, sd, k2) in acc if s2 == mine and k2 == k and (s, sd, k) in acc)
                d = [100 * (acc[(mine, sd, k)] - acc[(s, sd, k)]) for sd in seeds]
                if len(d) < 2:
                    cells.append("-")
                    continue
                m, se = mean_se(np.asarray(d)[:, None])
                star = "**" if abs(m[0]) > 2 * se[0] else ""
                cells.append(f"{star}{m[0]:+.1f} +- {se[0]:.1f}{star}")
            say(f"| {s} | " + " | ".join(cells) + " |")


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", required=True, choices=("digits", "mnist", "fashion", "cifar10"))
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds, or N for 0..N-1")
    ap.add_argument("--selectors", default="random,lattice,variance,fisher,mi,extratrees,reference,deeplasso")
    ap.add_argument("--batch-size", default="64", help="the paths' batch size (selectors and deeplasso); 'none'")
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--out", default=None)
    ap.add_argument("--table", action="store_true", help="print the table of --out and stop")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mi-rows", type=int, default=5000, help="rows for mutual information")
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--ref-multiplier", type=float, default=None, help="reference path multiplier (default: "
                    "the protocol's, 1.02 on digits, the reference's 1.02 elsewhere)")
    ap.add_argument("--ref-lambda-start", type=float, default=None)
    ap.add_argument("--path-cache", default=None, help="folder keeping deeplasso's paths: a second spec on the "
                    "same path (e.g. +tie=last) reads it instead of fitting it again")
    ap.add_argument("--stg-lam", type=float, default=0.5)
    ap.add_argument("--stg-epochs", type=int, default=2000)
    ap.add_argument("--stg-batch", type=int, default=None, help="STG's batch size (default: full batch; CIFAR-10 "
                    "needs mini-batches, e.g. 256 with --stg-epochs 30)")
    args = ap.parse_args()
    batch = None if args.batch_size.lower() == "none" else int(args.batch_size)
    if args.table:
        table(read_jsonl(args.out), args.protocol, batch)
        return
    torch.set_num_threads(args.threads)
    global PATH_CACHE
    PATH_CACHE = args.path_cache
    seeds = [int(s) for s in args.seeds.split(",") if s] if "," in args.seeds else list(range(int(args.seeds)))
    P = load_protocol(args.protocol, args.data_dir, batch)
    done = {(r["protocol"], r.get("batch"), r["seed"], r["selector"], r["k"]) for r in read_jsonl(args.out)}
    rec = JsonLines(args.out, benchmark="selection_quality", protocol=args.protocol, batch=batch)
    for seed in seeds:
        for selector in args.selectors.split(","):
            todo = [k for k in P.ks if (args.protocol, batch, seed, selector, k) not in done]
            if not todo:
                continue
            t = time.perf_counter()
            ranking, info = ranking_of(P, selector, seed, args)
            dt = time.perf_counter() - t
            for k in todo:
                feats = features_for(P, selector, ranking, k, seed)
                t2 = time.perf_counter()
                acc = retrain_score(*P.data, feats, hidden_dims=P.hidden, seed=seed)
                rec(seed=seed, selector=selector, k=k, test=acc, seconds=dt, retrain_seconds=time.perf_counter() - t2,
                    features=[int(f) for f in feats], **info)
                say(f"{args.protocol} seed {seed} {selector} k={k}: {acc:.4f} (selector {dt:.1f} s)")
    table(read_jsonl(args.out), args.protocol, batch)


if __name__ == "__main__":
    main()
