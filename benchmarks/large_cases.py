"""Large-case speed: deeplasso vs the reference `lassonet` on MNIST and CIFAR-10.

One command per case prints the whole table; every setting is printed first.

    python benchmarks/large_cases.py --case mnist   --out mnist.jsonl
    python benchmarks/large_cases.py --case cifar10 --out cifar10.jsonl
    ... --device cuda      # both packages on the GPU

Cases (the issue's): MNIST, 784 features, hidden (100,), batch 64; CIFAR-10, 3072
features, hidden (80, 100), batch 64. Data: the paper's pooled, stratified 80:10:10
split (`deeplasso.data.paper_split`, seed 0), ImageNet normalisation
(`preprocess_split(..., "imagenet")`); optional stratified subsets (`--max-train`,
`--max-val`, `--max-test`) for short runs. Both packages get the same float32 arrays.

Parts (`--parts`, default flops,epoch,path):

flops  Throughput of a plain torch matmul loop with exactly the shapes of one training
       step (forward, weight gradients, the hidden layers' input gradients; `out=`
       buffers, no autograd), and of a 2048^3 matmul (the machine's peak; 8192^3 on a
       GPU). Measured in
       the same process, alternating with the epoch runs.
epoch  Time per epoch, alternating deeplasso / reference `--repeats` times:
       * dense: `--epochs` epochs at lambda = 0 from the random initialisation;
       * mid-path: `--epochs` epochs at a fixed lambda from the same mid-path state
         loaded into both models (state: a deeplasso path on `--state-train` samples
         stopped once at most `--mid-keep` of the features remain; cached in
         `--state-file`). Early stopping is off, so both run exactly `--epochs` epochs.
       An epoch is what the path does per epoch: one shuffled pass of mini-batch
       Adam (lr 1e-3) steps, each followed by the hier-prox, then the validation
       objective. Achieved FLOP/s of the dense epoch is reported against the matmul loop.
path   A full path of each, the same lambda sequence for both: deeplasso's
       `lambda_start="auto"` picks lambda_start; the reference gets that number as its
       `lambda_start` (its own "auto" starts lower and takes more steps: see
       docs/PERFORMANCE.md). `--ref-steps N` cuts the reference to its first N lambda
       steps (0 = full path); its full-path time is then EXTRAPOLATED and labelled so.
       `--steps N` cuts deeplasso too (for short runs). Test accuracy on the path at
       the first point with <= k features, and a plain MLP of the same hidden widths
       retrained on each method's top-k features (`deeplasso.selection.retrain_score`),
       plus k random features. Each path's importances and per-feature sum of
       ||theta_j|| over its points are recorded with it.
ties   For every full path recorded in `--out` (same case and training size): a plain
       MLP retrained on its top k under both rules for features that left at the same
       lambda, by index (the reference's importances through a stable sort, as `path`
       ranks the reference) and by the norm sum (deeplasso's `Path.ranking`).
summary  From the `ties` records in `--out`: deeplasso minus the reference in points of
       retrained test accuracy at each k, mean +- standard error over the seeds that
       both packages have, with each package's own tie rule and with index ties for both.

Settings that are matched: architecture, batch 64, M, path_multiplier, Adam lr 1e-3
for the dense model and the path (the reference's default path optimiser is SGD with
momentum; `--ref-path-optim sgd` restores it), max epochs per lambda, patience, the
relative tolerance 1% (reference `tol=0.99`), threads. Not matchable: deeplasso keeps
the best epoch's weights and counts any improvement on the dense model; the reference
drops a last partial batch (none here: 56,000 and 48,000 are multiples of 64).

Every finished measurement is appended to `--out` as one JSON line (flushed and
fsynced), so a run that is killed keeps what it finished.
"""

from __future__ import annotations

import sys
from pathlib import Path as FsPath

sys.path.insert(0, str(FsPath(__file__).resolve().parent))

import argparse
import json
import math
import os
import platform
import statistics
import time
from functools import partial

import numpy as np
import torch
from common import (JsonLines, ReferenceNormSum, jsonable, median, norm_sum, points_pm, read_jsonl, reference_importances,
                    retrained, retrained_random, say, tie_rankings)
from torch import nn

import deeplasso
from deeplasso import LassoNet, PathConfig, fit_path, refit
from deeplasso.data import Split, load, paper_split, preprocess_split, subsample_per_class

CASES = {
    "mnist": dict(dataset="mnist", hidden=(100,), ks=(25, 50, 100, 200), ref_steps=20),
    "cifar10": dict(dataset="cifar10", hidden=(80, 100), ks=(31, 100, 307), ref_steps=5),
}
REPO = FsPath(__file__).resolve().parents[1]
DEV = torch.device("cpu")  # --device; deeplasso's models and data live there, the reference gets device=DEV


def sync():
    """Wait for the GPU (no-op on CPU): timings then include the queued work."""
    if DEV.type == "cuda":
        torch.cuda.synchronize(DEV)


# --------------------------------------------------------------------------- data


_SPLIT_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "idx_train", "idx_val", "idx_test")


def get_data(args, case):
    f = FsPath(args.split_file) if args.split_file else None
    if f and f.exists():  # the uint8 split written by an earlier run (e.g. for a GPU machine)
        with np.load(f, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta["name"] != case["dataset"]:
                raise SystemExit(f"{f} holds a {meta['name']} split, not {case['dataset']}")
            split = Split(**{k: z[k] for k in _SPLIT_ARRAYS}, classes=tuple(meta["classes"]),
                          image_shape=tuple(meta["image_shape"]), name=meta["name"], scheme=meta["scheme"])
        say(f"split from {f}: {split}")
    else:
        ds = load(case["dataset"], data_dir=args.data_dir, download=False)
        split = paper_split(ds, random_state=0)
        if args.max_train or args.max_val or args.max_test:
            per = lambda n: None if not n else max(1, n // split.n_classes)
            split = subsample_per_class(split, n_train=per(args.max_train), n_val=per(args.max_val),
                                        n_test=per(args.max_test), random_state=0)
        if f:
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_name(f.name + ".tmp.npz")
            meta = dict(name=split.name, scheme=split.scheme, classes=list(split.classes),
                        image_shape=list(split.image_shape))
            np.savez(tmp, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                     **{k: getattr(split, k) for k in _SPLIT_ARRAYS})
            os.replace(tmp, f)
            say(f"split written to {f}: {split}")
    p = preprocess_split(split, "imagenet")
    return p.X_train, p.y_train, p.X_val, p.y_val, p.X_test, p.y_test


# --------------------------------------------------------------------------- models


def layer_dims(d, hidden, K):
    """(in, out) of every matmul of a training step: the fused input layer (skip + first
    hidden layer, K + H0 outputs), then the hidden layers and the output layer."""
    dims = [(d, K + hidden[0])]
    widths = list(hidden) + [K]
    dims += [(a, b) for a, b in zip(widths[:-1], widths[1:])]
    return dims


def step_flops(d, hidden, K, B):
    """FLOPs of one step's matmuls: forward 2*B*in*out for every layer; backward
    2*B*in*out for each weight gradient, plus 2*B*in*out for the input gradient of every
    layer but the first (nobody needs d(loss)/dx). Returns (counted, issue_6x) where
    issue_6x is the issue's rough 6*B*sum(in*out)."""
    dims = layer_dims(d, hidden, K)
    first = 4 * B * dims[0][0] * dims[0][1]
    rest = sum(6 * B * a * b for a, b in dims[1:])
    return first + rest, 6 * B * sum(a * b for a, b in dims)


def forward_flops(d, hidden, K, n):
    return 2 * n * sum(a * b for a, b in layer_dims(d, hidden, K))


def export_state(model: LassoNet) -> dict:
    """deeplasso LassoNet -> plain arrays: skip, then (weight, bias) per layer; the
    output bias is the last layer's bias (as in the reference's layout)."""
    K = model.n_outputs
    lin = [m for m in model.body if isinstance(m, nn.Linear)]
    st = {"skip": model.theta.detach().clone(), "w0": model.W0.detach().clone(),
          "b0": model.input_bias.detach()[K:].clone()}
    for i, m in enumerate(lin, start=1):
        st[f"w{i}"] = m.weight.detach().clone()
        st[f"b{i}"] = m.bias.detach().clone() if m.bias is not None else model.input_bias.detach()[:K].clone()
    return st


@torch.no_grad()
def load_ours(model: LassoNet, st):
    K = model.n_outputs
    model.input_weight[:K].copy_(st["skip"])
    model.input_weight[K:].copy_(st["w0"])
    model.input_bias[K:].copy_(st["b0"])
    lin = [m for m in model.body if isinstance(m, nn.Linear)]
    for i, m in enumerate(lin, start=1):
        m.weight.copy_(st[f"w{i}"])
        if m.bias is not None:
            m.bias.copy_(st[f"b{i}"])
        else:
            model.input_bias[:K].copy_(st[f"b{i}"])


@torch.no_grad()
def load_ref(ref_model, st):
    ref_model.skip.weight.copy_(st["skip"])
    for i, layer in enumerate(ref_model.layers):
        layer.weight.copy_(st[f"w{i}"])
        layer.bias.copy_(st[f"b{i}"])


@torch.no_grad()
def accuracy(model, X, y, chunk=8192):
    was = model.training
    model.eval()
    hits = sum(int((model(X[i:i + chunk]).argmax(1) == y[i:i + chunk]).sum()) for i in range(0, len(X), chunk))
    model.train(was)
    return hits / len(X)


def ref_classifier(args, hidden, seed, n_iters, patience, **kw):
    from lassonet import LassoNetClassifier as Ref

    adam = partial(torch.optim.Adam, lr=1e-3)
    path_optim = adam if args.ref_path_optim == "adam" else partial(torch.optim.SGD, lr=1e-3, momentum=0.9)
    return Ref(hidden_dims=tuple(hidden), batch_size=args.batch_size, M=args.M, path_multiplier=args.path_multiplier,
               optim=(adam, path_optim), n_iters=n_iters, patience=patience, tol=1 - args.tol,
               device=DEV, verbose=0, random_state=seed, torch_seed=seed, **kw)


# --------------------------------------------------------------------------- flops part


def matmul_loop(d, hidden, K, B, n_iter):
    """Seconds per step of the bare matmuls of one training step (see step_flops)."""
    g = torch.Generator().manual_seed(0)
    dims = layer_dims(d, hidden, K)
    X = torch.randn(B, d, generator=g).to(DEV)
    Ws = [(torch.randn(b, a, generator=g) * 0.01).to(DEV) for a, b in dims]
    outs = [torch.empty(B, b, device=DEV) for a, b in dims]  # output of each layer
    # input of each layer: X, then the hidden block of the fused output, then the previous output
    ins = [X, outs[0][:, K:]] + outs[1:-1]
    grads = [torch.randn(B, b, generator=g).to(DEV) for a, b in dims]  # d loss / d output
    dW = [torch.empty(b, a, device=DEV) for a, b in dims]
    dIn = [torch.empty(B, a, device=DEV) for a, b in dims]

    def step():
        for i in range(len(dims)):
            torch.mm(ins[i], Ws[i].t(), out=outs[i])
        # backward: weight gradients for all, input gradients for all but the first
        for i in range(len(dims) - 1, 0, -1):
            torch.mm(grads[i].t(), ins[i], out=dW[i])
            torch.mm(grads[i], Ws[i], out=dIn[i])
        torch.mm(grads[0].t(), X, out=dW[0])

    for _ in range(20):
        step()
    sync()
    t = time.perf_counter()
    for _ in range(n_iter):
        step()
    sync()
    return (time.perf_counter() - t) / n_iter


def peak_matmul(n=2048, reps=5):
    """FLOP/s of an n^3 float32 matmul (on CUDA: n = 8192, 20 products, with torch's
    default float32 matmul precision, as in training)."""
    if DEV.type == "cuda":
        n, reps = 8192, 20
    a, b = torch.randn(n, n, device=DEV), torch.randn(n, n, device=DEV)
    c = torch.empty(n, n, device=DEV)
    torch.mm(a, b, out=c)
    sync()
    t = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b, out=c)
    sync()
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


# --------------------------------------------------------------------------- epoch part


def make_mid_state(args, case, data, rec):
    """A mid-path state: a deeplasso path on a subset, stopped once at most
    mid_keep * d features remain. Cached in --state-file."""
    Xtr, ytr, Xva, yva = (torch.as_tensor(a) for a in data[:4])
    d, K, hidden = Xtr.shape[1], int(ytr.max()) + 1, case["hidden"]
    keep = max(1, int(args.mid_keep * d))
    f = FsPath(args.state_file) if args.state_file else None
    if f and f.exists():
        z = np.load(f)
        meta = json.loads(bytes(z["meta"]).decode())
        if meta["case"] == args.case and meta["keep"] == keep:
            say(f"mid-path state from {f}: lambda {meta['lambda']:.4g}, {meta['n_selected']} of {d} features")
            return {k: torch.from_numpy(z[k]) for k in z.files if k != "meta"}, meta
        say(f"{f} is for another case/keep; recomputing")
    n = min(args.state_train, len(Xtr))
    g = torch.Generator().manual_seed(1)
    idx = torch.randperm(len(Xtr), generator=g)[:n]
    torch.manual_seed(0)
    model = LassoNet(d, K, hidden)
    cfg = PathConfig(lambda_start="auto", path_multiplier=args.state_multiplier, M=args.M,
                     batch_size=args.batch_size, max_epochs=args.state_max_epochs, patience=2, tol=args.tol,
                     n_features_stop=keep, seed=0, num_threads=args.threads)
    last = {}

    def keep_last(i, point, m):
        last.update(state=export_state(m), lam=point.lambda_, k=point.n_selected)
        say(f"    state path point {i}: lambda {point.lambda_:.4g}, {point.n_selected} features, "
            f"{point.epochs} epochs, {point.seconds:.1f} s")

    t = time.perf_counter()
    p = fit_path(model, Xtr[idx].contiguous(), ytr[idx].contiguous(), Xva, yva, cfg, callback=keep_last)
    dt = time.perf_counter() - t
    meta = dict(case=args.case, keep=keep, **{"lambda": last["lam"]}, n_selected=last["k"], n_train=n,
                path_points=len(p), seconds=dt, multiplier=args.state_multiplier)
    say(f"mid-path state: deeplasso path on {n} samples, multiplier {args.state_multiplier}, "
        f"{len(p)} points in {dt:.0f} s: lambda {last['lam']:.4g}, {last['k']} of {d} features")
    rec(part="mid_state", **meta)
    if f:
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f.name + ".tmp.npz")
        np.savez(tmp, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                 **{k: v.numpy() for k, v in last["state"].items()})
        os.replace(tmp, f)
    return last["state"], meta


def epoch_ours(args, hidden, data, st, lam, seed):
    """deeplasso: E dense epochs from the random init; then the mid-path state is loaded
    (in the callback after the dense point) and E epochs run at lambda = lam."""
    Xtr, ytr, Xva, yva = data
    d, K = Xtr.shape[1], int(ytr.max()) + 1
    E = args.epochs
    torch.manual_seed(seed)
    model = LassoNet(d, K, hidden).to(DEV)
    cfg = PathConfig(lambda_start=float(lam), lambda_max=float(lam), path_multiplier=args.path_multiplier, M=args.M,
                     batch_size=args.batch_size, max_epochs=E, dense_max_epochs=E, patience=E + 1, tol=args.tol,
                     seed=seed, num_threads=args.threads)
    points = []

    def cb(i, point, m):
        points.append(point)
        if i == 0:
            load_ours(m, st)

    fit_path(model, Xtr, ytr, Xva, yva, cfg, callback=cb)
    dense, mid = points[0], points[1]
    return dict(dense=dense.seconds / dense.epochs, mid=mid.seconds / mid.epochs,
                dense_epochs=dense.epochs, mid_epochs=mid.epochs, mid_k=mid.n_selected)


def epoch_ref(args, hidden, data, st, lam, seed):
    """Reference: the same, timed between its path callbacks (after the dense model,
    after the first lambda). Tensors are passed in, so its input cast is free."""
    Xtr, ytr, Xva, yva = data
    E = args.epochs
    ref = ref_classifier(args, hidden, seed, n_iters=(E, E), patience=None)
    marks = []

    def cb(self, hist):
        marks.append(time.perf_counter())
        if len(hist) == 1:
            load_ref(self.model, st)
            marks.append(time.perf_counter())

    t0 = time.perf_counter()
    hist = ref.path(Xtr.cpu(), ytr.cpu(), X_val=Xva.cpu(), y_val=yva.cpu(), lambda_seq=[float(lam)], callback=cb,
                    return_state_dicts=False)
    return dict(dense=(marks[0] - t0) / hist[0].n_iters, mid=(marks[2] - marks[1]) / hist[1].n_iters,
                dense_epochs=hist[0].n_iters, mid_epochs=hist[1].n_iters, mid_k=int(hist[1].selected.sum()))


def part_epoch(args, case, data, rec, summary):
    Xtr, ytr, Xva, yva = (torch.as_tensor(a).to(DEV) for a in data[:4])
    d, K, hidden, B = Xtr.shape[1], int(ytr.max()) + 1, case["hidden"], args.batch_size
    st, meta = make_mid_state(args, case, data, rec)
    lam = meta["lambda"]
    steps = len(Xtr) // B
    fl, fl6 = step_flops(d, hidden, K, B)
    epoch_flops = steps * fl + forward_flops(d, hidden, K, len(Xva))
    say(f"\n[epoch] {len(Xtr)} train / {len(Xva)} val, {steps} steps of batch {B} per epoch, {args.epochs} epochs "
        f"per measurement, {args.repeats} alternating repeats; mid-path: lambda {lam:.4g}, state with "
        f"{meta['n_selected']} of {d} features")
    say(f"[flops] per step: {fl / 1e6:.1f} MFLOP counted (issue's 6x convention: {fl6 / 1e6:.1f}); per epoch incl. "
        f"validation forward: {epoch_flops / 1e9:.2f} GFLOP")
    res = {"deeplasso": [], "reference": [], "matmul": [], "peak": []}
    for r in range(args.repeats):
        if "flops" in args.parts:
            t_mm = matmul_loop(d, hidden, K, B, args.matmul_iters)
            res["matmul"].append(fl / t_mm)
            res["peak"].append(peak_matmul())
            rec(part="flops", repeat=r, matmul_step_s=t_mm, matmul_flops=fl / t_mm, peak_flops=res["peak"][-1])
            say(f"  repeat {r} matmul loop: {t_mm * 1e3:.3f} ms/step = {fl / t_mm / 1e9:.1f} GFLOP/s; "
                f"2048^3 matmul {res['peak'][-1] / 1e9:.1f} GFLOP/s")
        runners = [("deeplasso", epoch_ours)] + ([] if args.no_reference else [("reference", epoch_ref)])
        for name, fn in runners:
            out = fn(args, hidden, (Xtr, ytr, Xva, yva), st, lam, seed=r)
            res[name].append(out)
            rec(part="epoch", package=name, repeat=r, **out, dense_gflops=epoch_flops / out["dense"] / 1e9)
            say(f"  repeat {r} {name:9s}: dense {out['dense']:.2f} s/epoch ({epoch_flops / out['dense'] / 1e9:.1f} "
                f"GFLOP/s), mid-path {out['mid']:.2f} s/epoch (ends with {out['mid_k']} features)")
    s = {}
    for name in ("deeplasso", "reference"):
        if res[name]:
            s[name] = {k: median([o[k] for o in res[name]]) for k in ("dense", "mid", "mid_k")}
    s["matmul"] = median(res["matmul"])
    s["peak"] = median(res["peak"])
    s["epoch_flops"], s["steps"] = epoch_flops, steps
    summary["epoch"] = s
    rec(part="epoch_summary", **{k: v for k, v in s.items()})


# --------------------------------------------------------------------------- path part


def path_ours(args, hidden, data, seed, Xte, yte, rec=lambda **kw: None, ks=()):
    Xtr, ytr, Xva, yva = data
    d, K = Xtr.shape[1], int(ytr.max()) + 1
    torch.manual_seed(seed)
    model = LassoNet(d, K, hidden).to(DEV)
    lam_max = math.inf
    cfg = PathConfig(lambda_start="auto", path_multiplier=args.path_multiplier, M=args.M, batch_size=args.batch_size,
                     path_optimizer=args.path_optimizer, active_set=not args.no_active_set,
                     max_epochs=args.max_epochs, dense_max_epochs=args.dense_epochs, patience=args.patience,
                     tol=args.tol, lambda_max=lam_max, seed=seed, num_threads=args.threads)
    pts, cb_time, marks = [], [0.0], [time.perf_counter()]

    class Stop(Exception):
        pass

    def cb(i, point, m):
        # seconds: wall time since the previous point (so the auto lambda_start's pre-path
        # and the engine's own per-point evaluation count), the callback's own time excluded
        now = time.perf_counter()
        pts.append(dict(step=i, lam=point.lambda_, k=point.n_selected, epochs=point.epochs,
                        test_acc=accuracy(m, Xte, yte), seconds=now - marks[-1], engine_seconds=point.seconds))
        rec(part="path_point", package="deeplasso", seed=seed, **pts[-1])  # a killed run keeps its points
        cb_time[0] += time.perf_counter() - now
        marks.append(time.perf_counter())
        if args.steps and i >= args.steps:
            raise Stop

    t = marks[0] = time.perf_counter()
    try:
        p = fit_path(model, Xtr, ytr, Xva, yva, cfg, callback=cb)
        ranking, lam0, full = p.ranking(), p.meta["lambda_start_used"], True
        ties = dict(importances=p.feature_importances(), norm_sum=norm_sum(p))
    except Stop:
        ranking, lam0, full, ties = None, pts[1]["lam"], False, {}
    dt = time.perf_counter() - t - cb_time[0]
    # what LassoNetClassifier(n_features_to_select=k, refit=True) predicts with: the
    # LassoNet from its initial weights, trained without penalty on the top k features
    # (not timed in dt)
    refits = {}
    for k in ks if ranking is not None else ():
        t = time.perf_counter()
        torch.manual_seed(seed)
        m = LassoNet(d, K, hidden).to(DEV)
        support = np.zeros(d, dtype=bool)
        support[ranking[:k]] = True
        epochs, _, _ = refit(m, Xtr, ytr, Xva, yva, cfg, support)
        refits[k] = accuracy(m, Xte, yte)
        rec(part="refit", package="deeplasso", seed=seed, k=k, test_acc=refits[k], epochs=epochs,
            seconds=time.perf_counter() - t)
    return dict(seconds=dt, points=pts, ranking=ranking, lambda_start=lam0, full=full,
                epochs=sum(q["epochs"] for q in pts), refit=refits, **ties)


def path_ref(args, hidden, data, seed, Xte, yte, lam0, n_steps, rec=lambda **kw: None):
    Xtr, ytr, Xva, yva = data
    if args.ref_lambda_start == "auto":
        ref = ref_classifier(args, hidden, seed, n_iters=(args.dense_epochs, args.max_epochs),
                             patience=(args.patience, args.patience), lambda_start="auto")
        seq = None
    else:
        ref = ref_classifier(args, hidden, seed, n_iters=(args.dense_epochs, args.max_epochs),
                             patience=(args.patience, args.patience), lambda_start=float(lam0))
        seq = [lam0 * args.path_multiplier ** i for i in range(n_steps)] if n_steps else None
    pts, cb_time, marks = [], [0.0], [time.perf_counter()]
    norms = ReferenceNormSum()

    class Stop(Exception):
        pass

    def cb(self, hist):
        now = time.perf_counter()
        norms(self, hist)
        h = hist[-1]
        pts.append(dict(step=len(hist) - 1, lam=h.lambda_, k=int(h.selected.sum()), epochs=h.n_iters,
                        test_acc=accuracy(self.model, Xte, yte), seconds=now - marks[-1]))
        rec(part="path_point", package="reference", seed=seed, **pts[-1])
        cb_time[0] += time.perf_counter() - now
        marks.append(time.perf_counter())
        if seq is None and n_steps and len(hist) > n_steps:  # own "auto" start, cut by count
            raise Stop

    t = marks[0] = time.perf_counter()
    try:
        ref.path(Xtr.cpu(), ytr.cpu(), X_val=Xva.cpu(), y_val=yva.cpu(), lambda_seq=seq, callback=cb,
                 return_state_dicts=False)
        imp = reference_importances(ref)
        ranking = tie_rankings(imp, norms.total)["index"]  # the package gives importances only: ties by index
        ties = dict(importances=imp, norm_sum=norms.total)
    except Stop:
        ranking, ties = None, {}
    dt = time.perf_counter() - t - cb_time[0]
    full = pts[-1]["k"] == 0
    return dict(seconds=dt, points=pts, ranking=ranking, full=full, epochs=sum(q["epochs"] for q in pts),
                lambda_start=pts[1]["lam"] if len(pts) > 1 else None, **ties)


def part_ties(args, case, data, rec):
    """Retrain on each recorded path's top k under both tie rules (paths read from --out,
    same case and training size), so the rule's share of a gap can be measured."""
    if not args.out or not FsPath(args.out).exists():
        raise SystemExit("--parts ties reads the paths recorded in --out; run --parts path with --out first")
    paths = [r for r in read_jsonl(args.out) if r.get("part") == "path" and r.get("case") == args.case and
             r.get("n_train") == len(data[0]) and r.get("importances") is not None]
    ks = args.ks or case["ks"]
    npd = [np.asarray(a) for a in data]
    say(f"\n[ties] {len(paths)} recorded full paths; retraining on the top {ks} under both tie rules")
    for r in paths:
        for rule, ranking in tie_rankings(r["importances"], r["norm_sum"]).items():
            for k, acc in zip(ks, retrained(npd, ranking, ks, hidden_dims=case["hidden"], seed=r["seed"],
                                            device=str(DEV))):
                rec(part="ties", package=r["package"], seed=r["seed"], rule=rule, k=k, test_acc=acc)
                say(f"  seed {r['seed']} {r['package']:9s} ties by {rule:5s} top {k}: {acc:.4f}")


def part_summary(args, case, data):
    """deeplasso minus the reference in points of retrained accuracy at each k, from the
    `ties` records in --out (same case and training size; a later record of the same
    package, rule, seed and k wins): mean +- standard error over the seeds both have."""
    acc = {(r["package"], r["rule"], r["seed"], r["k"]): r["test_acc"] for r in read_jsonl(args.out)
           if r.get("part") == "ties" and r.get("case") == args.case and r.get("n_train") == len(data[0])}
    ks = args.ks or case["ks"]
    say(f"\n[summary] retrained test accuracy at k = {ks}, deeplasso minus reference, points")
    for ours_rule, ref_rule in (("norm", "index"), ("index", "index")):
        seeds = sorted({s for (_, _, s, _) in acc})
        seeds = [s for s in seeds if all(("deeplasso", ours_rule, s, k) in acc and ("reference", ref_rule, s, k) in acc
                                         for k in ks)]
        if not seeds:
            say(f"  no seed has both packages' ties records (deeplasso {ours_rule}, reference {ref_rule})")
            continue
        diffs = [[acc["deeplasso", ours_rule, s, k] - acc["reference", ref_rule, s, k] for k in ks] for s in seeds]
        say(f"  deeplasso ties by {ours_rule}, reference by {ref_rule}, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}): "
            + ", ".join(f"top {k}: {d}" for k, d in zip(ks, points_pm(diffs))))


def acc_at_k(points, k):
    for q in points:
        if q["k"] <= k:
            return q["test_acc"], q["k"]
    return None, None


def part_path(args, case, data, rec, summary):
    Xtr, ytr, Xva, yva, Xte, yte = (torch.as_tensor(a).to(DEV) for a in data)
    hidden = case["hidden"]
    n_ref = case["ref_steps"] if args.ref_steps is None else args.ref_steps
    say(f"\n[path] deeplasso: {'full path' if not args.steps else f'cut at {args.steps} lambda steps'}; reference: "
        f"{'full path' if not n_ref else f'CUT at its first {n_ref} lambda steps (incl. none of the dense model)'}, "
        f"path optimisers: deeplasso {'SGD momentum' if args.path_optimizer == 'sgd' else 'Adam'}, "
        f"reference {'SGD momentum' if args.ref_path_optim == 'sgd' else 'Adam'}; "
        f"lambda_start {'= deeplasso auto' if args.ref_lambda_start == 'same' else 'its own auto'}")
    runs = {"deeplasso": [], "reference": []}
    ks = args.ks or case["ks"]
    for r in range(args.path_repeats):
        seed = args.first_seed + r
        o = path_ours(args, hidden, (Xtr, ytr, Xva, yva), seed, Xte, yte, rec, ks=ks if r == 0 else ())
        runs["deeplasso"].append(o)
        rec(part="path", package="deeplasso", repeat=r, seed=seed, **jsonable(o))
        say(f"  seed {seed} deeplasso: {o['seconds']:.1f} s, {len(o['points'])} points, {o['epochs']} epochs, "
            f"lambda_start {o['lambda_start']:.4g}, ends with {o['points'][-1]['k']} features"
            f"{'' if o['full'] else ' (CUT)'}")
        if args.no_reference:
            continue
        q = path_ref(args, hidden, (Xtr, ytr, Xva, yva), seed, Xte, yte, o["lambda_start"], n_ref, rec)
        runs["reference"].append(q)
        rec(part="path", package="reference", repeat=r, seed=seed, **jsonable(q))
        say(f"  seed {seed} reference: {q['seconds']:.1f} s, {len(q['points'])} points, {q['epochs']} epochs, "
            f"ends with {q['points'][-1]['k']} features{'' if q['full'] else ' (CUT)'}")
    summary["path"] = runs
    # retraining on the first seed's rankings
    retrain = {}
    if not args.no_retrain:
        npd = [np.asarray(a) for a in data]
        for name, rs in runs.items():
            if not rs:
                continue
            o = rs[0]
            for k in ks:
                if o["ranking"] is None or o["points"][-1]["k"] > k:
                    retrain[(name, k)] = None  # a cut path has not ranked the top k
                    continue
                t = time.perf_counter()
                (acc,) = retrained(npd, o["ranking"], (k,), hidden_dims=hidden, seed=args.first_seed, device=str(DEV))
                retrain[(name, k)] = acc
                rec(part="retrain", package=name, k=k, test_acc=acc, seconds=time.perf_counter() - t)
                say(f"  retrained {hidden} MLP on {name}'s top {k}: {acc:.4f}")
        for k, acc in zip(ks, retrained_random(npd, ks, hidden_dims=hidden, seed=args.first_seed, device=str(DEV))):
            retrain[("random", k)] = acc
            rec(part="retrain", package="random", k=k, test_acc=acc)
            say(f"  retrained {hidden} MLP on {k} random features: {acc:.4f}")
    summary["retrain"], summary["ks"] = retrain, ks


# --------------------------------------------------------------------------- report


def report(args, case, summary):
    say("\n" + "=" * 78)
    say(f"{args.case}: hidden {case['hidden']}, batch {args.batch_size}, {args.threads} threads, torch {torch.__version__}")
    e = summary.get("epoch")
    if e:
        ours, ref = e.get("deeplasso"), e.get("reference")
        say(f"\ntime per epoch (s), median of {args.repeats}, {e['steps']} steps/epoch")
        say(f"{'':24s}{'deeplasso':>12s}{'reference':>12s}{'ref/ours':>10s}")
        for key, label in (("dense", "dense (lambda = 0)"), ("mid", "mid-path state")):
            a, b = ours[key], (ref[key] if ref else math.nan)
            say(f"{label:24s}{a:12.2f}{b:12.2f}{b / a:9.1f}x")
        say(f"{'features at end of mid':24s}{ours['mid_k']:12.0f}{(ref['mid_k'] if ref else math.nan):12.0f}")
        if e["matmul"] == e["matmul"]:
            say(f"\nhardware use, dense epoch ({e['epoch_flops'] / 1e9:.2f} GFLOP counted per epoch incl. validation):")
            say(f"  plain matmul loop, same shapes: {e['matmul'] / 1e9:.1f} GFLOP/s; 2048^3 matmul: {e['peak'] / 1e9:.1f} GFLOP/s")
            for name, s in (("deeplasso", ours), ("reference", ref)):
                if s:
                    g = e["epoch_flops"] / s["dense"]
                    say(f"  {name:9s}: {g / 1e9:5.1f} GFLOP/s = {100 * g / e['matmul']:4.0f}% of the same-shape matmul "
                        f"loop ({100 * g / e['peak']:.0f}% of the 2048^3 peak)")
    p = summary.get("path")
    if p:
        ours, ref = p["deeplasso"], p["reference"]
        t_ours = median([o["seconds"] for o in ours])
        say(f"\npath, median of {len(ours)}: deeplasso {t_ours:.1f} s "
            f"({'full' if all(o['full'] for o in ours) else 'CUT at ' + str(args.steps) + ' steps'}), "
            f"{median([len(o['points']) for o in ours]):.0f} points, {median([o['epochs'] for o in ours]):.0f} epochs")
        if ref:
            t_ref = median([q["seconds"] for q in ref])
            n_pts = median([len(q["points"]) for q in ref])
            if all(q["full"] for q in ref):
                say(f"reference {t_ref:.1f} s (full), {n_pts:.0f} points; ratio reference/deeplasso {t_ref / t_ours:.1f}x")
            else:
                # EXTRAPOLATION: the reference's measured time per lambda step (its dense model apart)
                # times the number of lambda steps deeplasso needed on the same lambda sequence.
                q = ref[0]
                dense_s = q["points"][0]["seconds"]
                step_s = [x["seconds"] for x in q["points"][1:]]
                per_step = statistics.mean(step_s) if step_s else math.nan
                n_steps_ours = median([len(o["points"]) - 1 for o in ours])
                est = dense_s + per_step * n_steps_ours
                say(f"reference {t_ref:.1f} s for its dense model + {len(step_s)} lambda steps (CUT): dense "
                    f"{dense_s:.1f} s, {per_step:.1f} s per lambda step, "
                    f"{statistics.mean([x['epochs'] for x in q['points'][1:]]) if step_s else math.nan:.1f} epochs per step")
                say(f"EXTRAPOLATED reference full path: {dense_s:.1f} + {per_step:.1f} x {n_steps_ours:.0f} steps "
                    f"(deeplasso's step count) = {est:.0f} s = {est / 3600:.1f} h -> ratio {est / t_ours:.1f}x "
                    f"(an extrapolation, not a measurement)")
                # same prefix of the path: deeplasso's time for its first n steps
                o = ours[0]
                n = len(q["points"])
                if len(o["points"]) >= n:
                    t_prefix = sum(x["seconds"] for x in o["points"][:n])
                    t_prefix_ref = sum(x["seconds"] for x in q["points"][:n])
                    say(f"measured, same first {n - 1} lambda steps + dense model (seed {args.first_seed}): "
                        f"deeplasso {t_prefix:.1f} s, reference {t_prefix_ref:.1f} s -> {t_prefix_ref / t_prefix:.1f}x")
        ks = summary.get("ks", [])
        say(f"\ntest accuracy at k features, seed {args.first_seed} "
            "(on the path: first point with <= k features; refit: the LassoNet trained without penalty on the "
            "top k, as refit=True; retrained: plain MLP, same widths)")
        say(f"{'k':>6s}{'path ours':>12s}{'path ref':>12s}{'refit ours':>12s}{'retr ours':>12s}{'retr ref':>12s}"
            f"{'retr random':>13s}")
        rt = summary.get("retrain", {})
        fmt = lambda v: f"{v:12.4f}" if v is not None else f"{'n/a':>12s}"
        for k in ks:
            a, _ = acc_at_k(ours[0]["points"], k)
            b, _ = acc_at_k(ref[0]["points"], k) if ref else (None, None)
            say(f"{k:6d}{fmt(a)}{fmt(b)}{fmt(ours[0].get('refit', {}).get(k))}{fmt(rt.get(('deeplasso', k)))}"
                f"{fmt(rt.get(('reference', k)))}"
                f"{fmt(rt.get(('random', k)))} ")
        say("(n/a: the path was cut before it reached k features, or retraining was skipped)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=sorted(CASES), required=True)
    ap.add_argument("--parts", default="flops,epoch,path",
                    help="comma list of flops, epoch, path, ties (retrain the paths recorded in --out under both "
                         "tie rules), summary (deeplasso minus reference over the seeds of the ties records in --out)")
    ap.add_argument("--out", default=None, help="append JSON lines here as results come in")
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--split-file", default=None,
                    help="uint8 split (.npz): read it if it exists, else write the split made here to it "
                         "(with --parts none, only that): carries a data set to a machine without it")
    ap.add_argument("--device", default="cpu", help="'cuda': both packages train on the GPU")
    ap.add_argument("--max-train", type=int, default=0, help="stratified training subset (0 = all)")
    ap.add_argument("--max-val", type=int, default=0)
    ap.add_argument("--max-test", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--M", type=float, default=10.0)
    ap.add_argument("--path-multiplier", type=float, default=1.02)
    ap.add_argument("--tol", type=float, default=0.01, help="relative improvement for early stopping (both)")
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--max-epochs", type=int, default=100, help="per lambda, both")
    ap.add_argument("--dense-epochs", type=int, default=100, help="max epochs of the dense model, both")
    ap.add_argument("--ref-path-optim", choices=("adam", "sgd"), default="adam")
    ap.add_argument("--path-optimizer", choices=("same", "sgd"), default="same",
                    help="deeplasso's path_optimizer: 'sgd' runs its path as the reference's default does")
    # epoch part
    ap.add_argument("--repeats", type=int, default=3, help="alternating repeats of the epoch timing")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per timing measurement")
    ap.add_argument("--matmul-iters", type=int, default=300)
    ap.add_argument("--mid-keep", type=float, default=0.5, help="mid-path state: at most this fraction of features")
    ap.add_argument("--state-train", type=int, default=5000, help="samples of the path that makes the mid state")
    ap.add_argument("--state-multiplier", type=float, default=1.25)
    ap.add_argument("--state-max-epochs", type=int, default=3)
    ap.add_argument("--state-file", default=None, help="cache of the mid-path state (.npz)")
    # path part
    ap.add_argument("--path-repeats", type=int, default=1)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=0, help="cut deeplasso's path at this many lambda steps (0 = full)")
    ap.add_argument("--ref-steps", type=int, default=None,
                    help="cut the reference at this many lambda steps (0 = full; default mnist 20, cifar10 5)")
    ap.add_argument("--ref-lambda-start", choices=("same", "auto"), default="same")
    ap.add_argument("--ks", type=lambda s: tuple(int(v) for v in s.split(",")), default=None)
    ap.add_argument("--no-retrain", action="store_true")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--no-active-set", action="store_true", help="deeplasso's path without the active set")
    args = ap.parse_args()
    args.parts = set(args.parts.split(","))
    case = CASES[args.case]
    torch.set_num_threads(args.threads)
    global DEV
    DEV = torch.device(args.device)
    import lassonet

    settings = {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()}
    settings["ref_steps"] = case["ref_steps"] if args.ref_steps is None else args.ref_steps
    env = dict(torch=torch.__version__, deeplasso=deeplasso.__version__, lassonet=getattr(lassonet, "__version__", "?"),
               python=platform.python_version(), cpus=os.cpu_count(), machine=platform.machine(), device=str(DEV),
               gpu=torch.cuda.get_device_name(DEV) if DEV.type == "cuda" else None)
    say(f"large_cases.py {' '.join(sys.argv[1:])}")
    say(f"environment: {env}")
    say(f"settings: {json.dumps(settings)}")
    say(f"case: {args.case}, hidden {case['hidden']}, ks {args.ks or case['ks']}")
    t0 = time.perf_counter()
    data = get_data(args, case)
    say(f"data: {len(data[0])} train / {len(data[2])} val / {len(data[4])} test, {data[0].shape[1]} features "
        f"({time.perf_counter() - t0:.1f} s to load)")
    rec = JsonLines(args.out, case=args.case, run=time.strftime("%Y%m%d-%H%M%S"), n_train=len(data[0]))
    rec(part="settings", settings=settings, env=env)
    summary = {}
    if args.parts & {"flops", "epoch"}:
        part_epoch(args, case, data, rec, summary)
    if "path" in args.parts:
        part_path(args, case, data, rec, summary)
    if "ties" in args.parts:
        part_ties(args, case, data, rec)
    if "summary" in args.parts:
        part_summary(args, case, data)
    report(args, case, summary)
    say(f"\ntotal wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
