"""Why does the reference rank digits pixels a little better? Path variants, judged on validation.

Issue 2 asks for a ranking at least as good as the reference's; on digits deeplasso's is
0.5-2 points behind at 16, 8 and 4 features. This script runs, per seed, on the split of
digits_selection.py (batch 64, hidden (32,), M = 10, multiplier 1.02, patience 10):

- ``deeplasso``: the default path (Adam throughout, as the paper; each lambda step ends
  on its best epoch);
- ``deeplasso-sgd``: ``path_optimizer="sgd"``: the dense model with Adam, then SGD with
  momentum 0.9 in the C epoch, each lambda step ending on its last epoch, the ``"auto"``
  start on SGD's scale;
- ``sgd-refdense``: ``deeplasso-sgd`` with the reference's dense fit (up to 1000 epochs,
  stopping on a 1% relative improvement, where deeplasso's runs up to ``max_epochs`` and
  counts any improvement);
- ``sgd-refstop``: ``deeplasso-sgd`` with the reference's early stopping on the path (the
  warm start's validation objective at the new lambda is the first best);
- ``sgd-refstart``: ``deeplasso-sgd`` from the reference's start (1.64 on this split,
  where deeplasso's ``"auto"`` gives 4.14);
- ``sgd-mimic``: ``deeplasso-sgd`` with all of the reference's settings at once: its
  dense fit, start, early stopping and dropped partial batches;
- ``reference-engine``: deeplasso's engine run as ``sgd-mimic`` and also with the
  reference's random streams (initial weights, epoch orders); with index ties
  (``reference-engine-idxties``) it gives the reference's rankings on most seeds (its
  float32 rounding differs, so paths drift apart near their ends), at about a twentieth of
  its time, so it can stand in for the reference on more seeds;
  ``reference-engine-pyours`` runs it through the Python loop (autograd, ``torch.optim``)
  and reproduces the reference's paths exactly, as ``reference-engine-py`` does with
  the reference's own prox;
- ``sgd-path``: deeplasso's engine set up as the reference is: Adam for the dense model,
  then one SGD (lr 1e-3, momentum 0.9) for the whole path, each lambda step ending on its
  last epoch, ``lambda_start`` the reference's auto value on this split (1.64);
- ``adam-precond``: Adam with the prox taken in Adam's metric (block-scalar per feature:
  threshold ``lr * lambda / s_theta`` and ``M * sqrt(s_W0 / s_theta)``, with ``s`` the
  root of the mean bias-corrected second moment of the feature's theta and W0 entries),
  so that the path's fixed points are those of ``loss + lambda ||theta||`` rather than of
  an Adam-normalised problem;
- ``adam-rowv`` and ``adam-layerv``: Adam whose second moment for the input layer (theta
  and W0) is shared across the features, per row or over the whole layer, so that a
  feature's step follows its gradient's size relative to the others' (as with SGD) while
  the rest of the network keeps Adam; ``lambda_start`` 1, below where the first leave;
- ``reference``: `lassonet` 0.0.21 with its defaults for the path.

A plain (32,) MLP is retrained on each ranking's top k features (k = 32, 16, 8, 4) and
scored on validation and on test. Records are appended to ``--out`` as they finish, and a
rerun skips the (variant, seed) pairs already there. The summary gives the means and the
paired difference to the reference with its standard error.

    python benchmarks/ranking_variants.py --variants deeplasso,sgd-path,adam-precond,reference \
        --seeds 10 --out ranking_variants.jsonl

    python benchmarks/ranking_variants.py --score-sets "26,42,10,30;26,42,34,21" --seeds 10

scores fixed feature sets instead, and ``--compare-prox`` compares the two packages'
hier-prox on random columns. The variants between the first and the last change the
engine through a custom optimiser or monkeypatches local to this script; they are
experiments, not options of the package.
"""

import argparse
import contextlib
import json
import os
import time

import numpy as np
import torch
from digits_selection import KS, data, reference_path, tie_rankings

import deeplasso.path as P
from deeplasso import LassoNetClassifier
from deeplasso.fast import FastAdamStep, hier_prox_fused_
from deeplasso.selection import retrain_score

REFERENCE_AUTO_START = 1.6384  # lassonet's auto lambda_start after its dense fit on this split (seeds 0 and 1)


@contextlib.contextmanager
def patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


class _DenseAdamThenSGD:
    """Adam while lambda is 0, then one SGD with momentum for the whole path."""

    def __init__(self, params, lr, state):
        self.params = list(params)
        self.adam = torch.optim.Adam(self.params, lr=lr)
        self.sgd = torch.optim.SGD(self.params, lr=lr, momentum=0.9)
        self.param_groups = self.adam.param_groups
        self.state = state

    def zero_grad(self, set_to_none=True):
        self.adam.zero_grad(set_to_none=set_to_none)

    def step(self):
        (self.sgd if self.state["path"] else self.adam).step()


def _sgd_path_fit(sel, X, y, Xv, yv):
    state = {"path": False}
    sel.set_params(optimizer=lambda params, lr: _DenseAdamThenSGD(params, lr, state),
                   lambda_start=REFERENCE_AUTO_START)
    orig = P._Trainer.train_lambda

    def train_lambda(self, lam, *a, **k):
        state["path"] = lam > 0
        return orig(self, lam, *a, **k)

    with patched(P._Trainer, "train_lambda", train_lambda), \
            patched(P._Trainer, "restore", lambda self, snap: None):
        sel.fit(X, y, X_val=Xv, y_val=yv)


def _hier_prox_columns(v, u, lam, M):
    """Hier-prox with a lam and an M per column: v (K, G), u (H, G), lam and M (G,).
    (``deeplasso.prox._prox_columns`` takes scalars; a per-column M cannot be scaled away.)"""
    vn = torch.linalg.vector_norm(v, dim=0)
    a = torch.sort(u.abs(), dim=0, descending=True).values
    H = a.shape[0]
    S = torch.cat([torch.zeros_like(vn)[None], a.cumsum(0)], 0)
    m = torch.arange(H + 1, dtype=v.dtype)[:, None]
    r = (vn - lam + M * S) / (1 + m * M * M)
    upper = torch.cat([torch.full_like(vn, float("inf"))[None], a], 0)
    lower = torch.cat([a, torch.zeros_like(vn)[None]], 0)
    valid = (upper > M * r) & (M * r >= lower)
    idx = torch.where(valid.any(0), valid.float().argmax(0), torch.full_like(vn, H, dtype=torch.long))
    rr = r.gather(0, idx[None])[0].clamp(min=0)
    rr = torch.where(vn > 0, rr, torch.zeros_like(rr))
    b = v * torch.where(vn > 0, rr / torch.where(vn > 0, vn, torch.ones_like(vn)), rr)
    return b, torch.sign(u) * torch.minimum(u.abs(), M * rr)


@torch.no_grad()
def _precond_prox(tr, lam):
    if not tr.is_lassonet:
        return
    opt, W, K, M = tr.opt, tr.model.input_weight, tr.K, tr.cfg.M
    if lam == 0:  # the projection: no metric involved
        hier_prox_fused_(W, K, 0.0, M)
        return
    vh = opt.v_in / (1 - opt.betas[1] ** max(opt.t, 1))
    s_th = vh[:K].mean(0).sqrt() + opt.eps
    sr = ((vh[K:].mean(0).sqrt() + opt.eps) / s_th).sqrt()
    b, w = _hier_prox_columns(W[:K], W[K:] * sr, lam * tr.lr / s_th, M * sr)
    W[:K], W[K:] = b, w / sr


def _precond_fit(sel, X, y, Xv, yv):
    with patched(P._Trainer, "_prox_call", lambda self, lam: (lambda: _precond_prox(self, lam))), \
            patched(P._Trainer, "prox", _precond_prox), \
            patched(P._Trainer, "screen", lambda self, lam: None), \
            patched(FastAdamStep, "native_epoch", lambda self, *a, **k: False):
        sel.set_params(lambda_start=0.1)  # gradient scale: far below where the first features leave
        sel.fit(X, y, X_val=Xv, y_val=yv)


class _RowSharedAdam(torch.optim.Optimizer):
    """Adam, except that the input layer's (theta and W0 stacked) second moment is shared
    along each row, across the features: a feature's step is then proportional to its
    gradient relative to the other features', as with SGD, instead of about lr for every
    feature whose gradient keeps its sign."""

    def __init__(self, params, lr, input_shape, betas=(0.9, 0.999), eps=1e-8, shared="row"):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.input_shape, self.shared = tuple(input_shape), shared

    @torch.no_grad()
    def step(self):
        for grp in self.param_groups:
            b1, b2 = grp["betas"]
            for p in grp["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["t"] = 0
                    st["m"] = torch.zeros_like(p)
                    st["v"] = None
                st["t"] += 1
                g = p.grad
                st["m"].mul_(b1).add_(g, alpha=1 - b1)
                g2 = g * g
                if tuple(p.shape) == self.input_shape:
                    g2 = g2.mean(1, keepdim=True) if self.shared == "row" else g2.mean().expand(p.shape[0], 1)
                st["v"] = (1 - b2) * g2 if st["v"] is None else st["v"].mul_(b2).add_(g2, alpha=1 - b2)
                mh = st["m"] / (1 - b1 ** st["t"])
                vh = st["v"] / (1 - b2 ** st["t"])
                p.add_(-grp["lr"] * mh / (vh.sqrt() + grp["eps"]))


def _shared_v_fit(sel, X, y, Xv, yv, shared):
    K = len(np.unique(y))
    shape = (K + sel.hidden_dims[0], X.shape[1])
    sel.set_params(optimizer=lambda params, lr: _RowSharedAdam(params, lr, shape, shared=shared),
                   lambda_start=1.0)
    sel.fit(X, y, X_val=Xv, y_val=yv)


def _refdense_fit(sel, X, y, Xv, yv):
    """path_optimizer="sgd" with the reference's dense fit: up to 1000 epochs, the same
    1% tolerance as the path's steps (deeplasso's dense fit: up to max_epochs, any
    improvement counts)."""
    orig = P._Trainer.train_lambda

    def train_lambda(self, lam, max_epochs, tol=None):
        if lam == 0 and self.held_out is None:
            return orig(self, lam, 1000, tol=self.cfg.tol)
        return orig(self, lam, max_epochs, tol)

    with patched(P._Trainer, "train_lambda", train_lambda):
        sel.set_params(path_optimizer="sgd").fit(X, y, X_val=Xv, y_val=yv)


def _ref_train_lambda(self, lam, max_epochs, tol=None):
    """lassonet's ``_train`` loop, in place of ``_Trainer.train_lambda`` (whose signature
    it keeps; the tolerance is always ``cfg.tol``): up to 1000 epochs for the dense model,
    ``max_epochs`` on the path; the warm start's validation objective is the first best,
    an epoch counts only if it improves on the best by the tolerance; ends on the last
    epoch."""
    best = self.val_objective(lam)[0]
    bad = epochs = 0
    for _ in range(1000 if lam == 0 else max_epochs):
        self.epoch(lam)
        epochs += 1
        val = self.val_objective(lam)
        if val[0] < best - self.cfg.tol * abs(best):
            best, bad = val[0], 0
        else:
            bad += 1
            if bad >= self.cfg.patience:
                break
    return epochs, val


def _refstop_fit(sel, X, y, Xv, yv):
    """path_optimizer="sgd" with the reference's early stopping on the path: the
    validation objective of the warm start (at the new lambda) is the first best, so an
    epoch counts only if it improves on where the step began by the tolerance."""
    orig = P._Trainer.train_lambda

    def train_lambda(self, lam, max_epochs, tol=None):
        if lam == 0 or self.held_out is not None:
            return orig(self, lam, max_epochs, tol)
        return _ref_train_lambda(self, lam, max_epochs)

    with patched(P._Trainer, "train_lambda", train_lambda):
        sel.set_params(path_optimizer="sgd").fit(X, y, X_val=Xv, y_val=yv)


def _full_batches(X, y, perm, bs):
    """An epoch's ``_shuffle`` result with the last, partial batch dropped, as lassonet's
    ``_train`` does: the kept rows gathered in ``perm``'s order, then read in order."""
    keep = perm[: X.shape[0] // bs * bs]
    return X.index_select(0, keep), y.index_select(0, keep), torch.arange(keep.numel()), bs


def _mimic_fit(sel, X, y, Xv, yv):
    """path_optimizer="sgd" with every setting of the reference's at once: its dense fit
    (up to 1000 epochs, 1% tolerance, ending on the last epoch), its start (1.64 on this
    split), its early stopping on the path (``_refstop_fit``) and its batches (the last,
    partial one of each epoch dropped)."""
    orig_shuffle = P._Trainer._shuffle

    def shuffle(self):
        return _full_batches(*orig_shuffle(self))

    with patched(P._Trainer, "train_lambda", _ref_train_lambda), patched(P._Trainer, "_shuffle", shuffle):
        sel.set_params(path_optimizer="sgd", lambda_start=REFERENCE_AUTO_START).fit(X, y, X_val=Xv, y_val=yv)


class _RefEngine:
    """deeplasso's engine run exactly as the reference runs (``sgd-mimic``'s settings)
    and with its random streams: the initial weights drawn as lassonet draws them
    (``torch.manual_seed(seed)``, then its three ``nn.Linear``) and every epoch's order
    from the global ``torch.randperm``, as its ``_train`` does. Through the Python loop
    (``python=True``) it reproduces the reference's paths; in the C epoch its float32
    rounding differs, the paths drift apart near their ends, and it stands in for the
    reference on new seeds at about a twentieth of the time. Fitted through ``fit_path``;
    ``ranking_`` and ``feature_importances_`` as an estimator's."""

    def __init__(self, seed, python=False, ref_prox=False):
        self.seed = seed
        self.python = python  # autograd + torch.optim instead of the C epoch
        self.ref_prox = ref_prox  # lassonet's own prox instead of deeplasso's

    def fit(self, X, y, X_val, y_val):
        from lassonet.model import LassoNet as RefNet

        from deeplasso.modules import LassoNet

        torch.manual_seed(self.seed)
        r = RefNet(X.shape[1], 32, 10)
        rng = torch.get_rng_state()
        m = LassoNet(X.shape[1], 10, (32,))
        with torch.no_grad():
            m.input_weight[:10] = r.skip.weight
            m.input_weight[10:] = r.layers[0].weight
            m.input_bias[:10] = r.layers[1].bias
            m.input_bias[10:] = r.layers[0].bias
            m.body[1].weight.copy_(r.layers[1].weight)
        cfg = P.PathConfig(task="classification", lambda_start=REFERENCE_AUTO_START, path_multiplier=1.02, M=10,
                           path_optimizer="sgd", batch_size=64, patience=10, tol=0.01, active_set=False,
                           seed=self.seed, fast=not self.python)

        def shuffle(tr):  # the global generator, as lassonet's _train
            return _full_batches(tr.X, tr.y, torch.randperm(tr.X.shape[0]), 64)

        torch.set_rng_state(rng)
        t = [torch.as_tensor(a) for a in (X, y, X_val, y_val)]
        prox = P.hier_prox_fused_
        if self.ref_prox:
            from lassonet.prox import prox as ref_prox

            def prox(weight, K, lam, M):
                b, w = ref_prox(weight[:K].clone(), weight[K:].clone(), lambda_=lam, lambda_bar=0, M=M)
                weight[:K], weight[K:] = b, w

        with patched(P._Trainer, "train_lambda", _ref_train_lambda), patched(P._Trainer, "_shuffle", shuffle), \
                patched(P, "hier_prox_fused_", prox):
            self.path_ = P.fit_path(m, *t, cfg)
        self.ranking_ = self.path_.ranking()
        self.feature_importances_ = self.path_.feature_importances()
        return self


def run(variant, split, seed):
    """Run one variant on one seed. Returns its record, then the same path ranked with the
    other tie rule (``-idxties`` for deeplasso's variants, ``-normties`` for the reference):
    features that leave at the same lambda are ordered by index in the reference's
    ranking (a stable sort of its importances) and by the sum over the path of
    ``||theta_j||`` in deeplasso's."""
    Xtr, Xva, Xte, ytr, yva, yte = split
    t = time.perf_counter()
    if variant == "reference":
        _, imp, norm_sum, n_points = reference_path(Xtr, Xva, ytr, yva, seed, 64, 10)
    else:
        engine = {"reference-engine": (False, False), "reference-engine-py": (True, True),
                  "reference-engine-pyours": (True, False)}  # (Python loop, lassonet's prox)
        if variant in engine:
            python, ref_prox = engine[variant]
            sel = _RefEngine(seed, python=python, ref_prox=ref_prox).fit(Xtr, ytr, Xva, yva)
        else:
            sel = LassoNetClassifier(hidden_dims=(32,), batch_size=64, path_multiplier=1.02, M=10, patience=10,
                                     random_state=seed, verbose=0)
            {"deeplasso": lambda *a: sel.fit(a[0], a[1], X_val=a[2], y_val=a[3]),
             "sgd-path": lambda *a: _sgd_path_fit(sel, *a),
             "adam-precond": lambda *a: _precond_fit(sel, *a),
             "deeplasso-sgd": lambda *a: sel.set_params(path_optimizer="sgd").fit(a[0], a[1], X_val=a[2], y_val=a[3]),
             "sgd-refdense": lambda *a: _refdense_fit(sel, *a),
             "sgd-refstop": lambda *a: _refstop_fit(sel, *a),
             "sgd-mimic": lambda *a: _mimic_fit(sel, *a),
             "sgd-refstart": lambda *a: sel.set_params(path_optimizer="sgd", lambda_start=REFERENCE_AUTO_START).fit(
                 a[0], a[1], X_val=a[2], y_val=a[3]),
             "adam-rowv": lambda *a: _shared_v_fit(sel, *a, shared="row"),
             "adam-layerv": lambda *a: _shared_v_fit(sel, *a, shared="layer")}[variant](Xtr, ytr, Xva, yva)
        imp, n_points = sel.feature_importances_, len(sel.path_)
        norm_sum = np.stack([p.theta_norm for p in sel.path_.points]).sum(axis=0)
    seconds = time.perf_counter() - t
    ties = tie_rankings(imp, norm_sum)
    by_norm, by_index = ties["norm"], ties["index"]  # deeplasso's rule (Path.ranking), the reference's
    if variant == "reference":
        rankings = {"reference": by_index, "reference-normties": by_norm}
    else:
        assert np.array_equal(by_norm, sel.ranking_)
        rankings = {variant: by_norm, variant + "-idxties": by_index}
    records = []
    for name, ranking in rankings.items():
        rec = {"variant": name, "seed": seed, "seconds": seconds, "points": n_points,
               "ranking": [int(j) for j in ranking],
               "top10_exit_lambda": [[int(j), float(imp[j])] for j in ranking[:10]],
               "importances": [float(x) for x in imp], "theta_norm_sum": [float(x) for x in norm_sum]}
        for part, (Xs, ys) in (("val", (Xva, yva)), ("test", (Xte, yte))):
            rec[part] = [_retrained(split, Xs, ys, np.asarray(ranking[:k]), seed) for k in KS]
        records.append(rec)
    return records


def _retrained(split, Xs, ys, cols, seed):
    """Accuracy on (Xs, ys) of a plain (32,) MLP trained on the columns `cols`."""
    Xtr, Xva, _, ytr, yva, _ = split
    return retrain_score(Xtr, ytr, Xva, yva, Xs, ys, cols, hidden_dims=(32,), seed=seed)


def compare_prox(trials=300, K=10, H=32, G=64):
    """The reference's hier-prox against deeplasso's (float64, M = 10, random lambda)."""
    from lassonet.prox import prox as reference_prox

    from deeplasso import hier_prox

    g = torch.Generator().manual_seed(0)
    worst, n = 0.0, 0
    for _ in range(trials):
        v = torch.randn(K, G, generator=g, dtype=torch.float64) * 0.3 * torch.rand(1, G, generator=g, dtype=torch.float64)
        u = torch.randn(H, G, generator=g, dtype=torch.float64) * torch.rand(1, G, generator=g, dtype=torch.float64)
        lam = 0.5 * float(torch.rand(1, generator=g))
        b1, w1 = hier_prox(v, u, lam, 10.0)
        b2, w2 = reference_prox(v, u, lambda_=lam, lambda_bar=0, M=10.0)
        worst = max(worst, float((b1 - b2).abs().max()), float((w1 - w2).abs().max()))
        n += G
    print(f"hier-prox, deeplasso vs reference: largest difference {worst:.1e} over {n} random columns")


def summary(records):
    by = {}
    for r in records:
        by.setdefault(r["variant"], {})[r["seed"]] = r
    print(f"\nretrained (32,) MLP accuracy on the top k = {KS}, mean over seeds")
    ref = by.get("reference", {})
    for v, rs in by.items():
        for part in ("val", "test"):
            m = np.mean([r[part] for r in rs.values()], axis=0)
            line = f"{v:>13s} {part:>4s} n={len(rs):2d} " + " ".join(f"{x:.3f}" for x in m)
            common = sorted(set(rs) & set(ref))
            if v != "reference" and len(common) > 1:
                d = np.array([np.subtract(rs[s][part], ref[s][part]) for s in common])
                se = d.std(axis=0, ddof=1) / np.sqrt(len(common))
                line += "   minus reference: " + " ".join(f"{a:+.3f}({b:.3f})" for a, b in zip(d.mean(0), se))
            print(line)
        print(f"{v:>13s} median path time {np.median([r['seconds'] for r in rs.values()]):.1f} s, "
              f"points {min(r['points'] for r in rs.values())}-{max(r['points'] for r in rs.values())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default="deeplasso,sgd-path,adam-precond,reference")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--out", default="ranking_variants.jsonl")
    ap.add_argument("--summary-only", action="store_true")
    ap.add_argument("--score-sets", default=None,
                    help="instead: score fixed feature sets, e.g. '26,42,10,30;26,42,34,21', "
                         "retrained with seeds 0..--seeds-1")
    ap.add_argument("--compare-prox", action="store_true",
                    help="instead: compare the reference's hier-prox with deeplasso's on random columns")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.compare_prox:
        compare_prox()
        return
    if args.score_sets:
        split = data()
        _, Xva, Xte, _, yva, yte = split
        for spec in args.score_sets.split(";"):
            cols = np.array([int(c) for c in spec.split(",")])
            val = [_retrained(split, Xva, yva, cols, s) for s in range(args.seeds)]
            test = [_retrained(split, Xte, yte, cols, s) for s in range(args.seeds)]
            print(f"features {spec}: val {np.mean(val):.3f}, test {np.mean(test):.3f} (mean of {args.seeds} retrainings)")
        return
    records = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            records = [json.loads(line) for line in f if line.strip()]
    done = {(r["variant"], r["seed"]) for r in records}
    split = data()
    if not args.summary_only:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for variant in args.variants.split(","):
                if (variant, seed) in done:
                    continue
                for rec in run(variant, split, seed):
                    records.append(rec)
                    with open(args.out, "a") as f:  # one line per record: a crash loses at most the run in progress
                        f.write(json.dumps(rec) + "\n")
                        f.flush()
                        os.fsync(f.fileno())
                    print(f"seed {seed} {rec['variant']}: {rec['seconds']:.1f} s, "
                          f"val {np.round(rec['val'], 3).tolist()}, test {np.round(rec['test'], 3).tolist()}", flush=True)
    summary(records)


if __name__ == "__main__":
    main()
