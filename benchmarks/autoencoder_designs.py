"""Which LassoNet autoencoder design selects best? (docs/dev/autoencoder.md)

The autoencoder reconstructs its inputs: targets = inputs. Feature j can copy itself
through theta_jj (and through the body), so the dense end of the path is an identity
and the question is which training target makes the *order* in which features leave
a good selection. Designs, all on the same engine (``fit_path``), same settings:

- ``plain``: inputs and targets the per-pixel standardised pixels;
- ``plain-raw``: inputs and targets the raw pixels, centred, divided by one global
  standard deviation (pixels keep their relative variances);
- ``linear-raw``: ``plain-raw`` with a linear model (the group lasso of X on X);
- ``diag-raw``: ``plain-raw`` with theta's diagonal held at zero (no skip-layer self copy;
  the body can still copy);
- ``mask-raw``: ``plain-raw`` with masking noise: every training row appears twice with
  half of its inputs (drawn anew per copy) set to their mean, the targets clean (a
  denoising autoencoder: a pixel can copy itself only when it is not masked);
- ``...+sgd``: the SGD path (lr 1e-2); ``...+rw``: the reweighted penalty (:func:`reweighted`,
  what ``LassoNetAutoencoder(reweight=True)`` does).

Each selection (top k of the path's ranking) is scored like the benchmark: held-out
MSE of all raw pixels from the k kept ones with a ridge and an MLP decoder.

    nice -n 5 python benchmarks/autoencoder_designs.py --dataset mnist --n-train 3000 --k 50 --seeds 0
    python benchmarks/autoencoder_designs.py --dataset digits --k 8 --seeds 0,1,2,3,4
    python benchmarks/autoencoder_designs.py --planted --seeds 0,1,2,3,4
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from common import JsonLines, mean_se, read_jsonl, say  # noqa: E402
from deeplasso import LassoNet, PathConfig, fit_path  # noqa: E402
from deeplasso.engine.steps import AutogradStep  # noqa: E402
from unsupervised_selection import load_images, mlp_mse, ridge_mse, select_random, select_variance  # noqa: E402

DESIGNS = ("plain", "plain-raw", "linear-raw", "diag-raw", "mask-raw", "plain+sgd", "plain-raw+sgd", "plain-raw+sgd+rw")


def digits_images(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    return Xtr, ytr, Xte, yte


def path_ranking(design, X, k, seed, hidden=(128,), multiplier=1.1, max_epochs=20, patience=3, lr=1e-3,
                 path_optimizer="same"):
    reweight = design.endswith("+rw")
    if reweight:  # a reweighted penalty (below)
        design = design[:-3]
    if design.endswith("+sgd"):  # the reference's path: SGD with momentum after the dense model
        design, path_optimizer, lr = design[:-4], "sgd", 1e-2
    rng = np.random.default_rng(seed)
    n = len(X)
    perm = rng.permutation(n)
    n_val = n // 10
    Xv, Xt = X[perm[:n_val]], X[perm[n_val:]]
    mean = Xt.mean(0)
    if design == "plain":
        sd = Xt.std(0)
        sd[sd == 0] = 1
    else:
        sd = np.full(X.shape[1], Xt.std())
    Zt, Zv = ((Xt - mean) / sd).astype(np.float32), ((Xv - mean) / sd).astype(np.float32)
    inp_t, inp_v = Zt, Zv
    if design == "mask-raw":
        masks = rng.random((2,) + Zt.shape) < 0.5
        inp_t = np.concatenate([np.where(m, 0, Zt) for m in masks]).astype(np.float32)
        Zt = np.concatenate([Zt, Zt])
        inp_v = np.where(rng.random(Zv.shape) < 0.5, 0, Zv).astype(np.float32)
    d = X.shape[1]
    torch.manual_seed(seed)
    model = LassoNet(d, d, () if design == "linear-raw" else hidden)
    cfg = PathConfig(task="regression", path_multiplier=multiplier, max_epochs=max_epochs, patience=patience, lr=lr,
                     tol=0.01, n_features_stop=k, seed=seed, batch_size=64, path_optimizer=path_optimizer)
    factory = None
    if design == "diag-raw":
        def factory(model, config, device, penalty, cw):
            prox = penalty.prox
            eye = torch.eye(d, dtype=torch.bool)

            def prox_no_diag(t):
                prox(t)
                with torch.no_grad():
                    model.input_weight[:d][eye] = 0

            penalty.prox = prox_no_diag
            with torch.no_grad():
                model.input_weight[:d][eye] = 0
            return AutogradStep(model, "regression", config.lr, penalty, cw)
    callbacks = []
    if reweight:
        factory, callbacks = reweighted(d)
    path = fit_path(model, torch.as_tensor(inp_t), torch.as_tensor(Zt), torch.as_tensor(inp_v), torch.as_tensor(Zv),
                    cfg, step_factory=factory, callbacks=callbacks)
    return path.ranking()[:k], len(path)


# --------------------------------------------------------------------------- the planted problem


def planted(seed, n=400, g=4, copies=5):
    """tests/test_autoencoder.py's problem: g generators and noisy scaled copies of each
    (0.5 g + 0.3 noise), shuffled; the generators are the best set of g columns."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, g))
    X = np.hstack([Z] + [Z * 0.5 * rng.uniform(0.8, 1.2, size=g) + 0.3 * rng.normal(size=(n, g))
                         for _ in range(copies)])
    perm = rng.permutation(X.shape[1])
    return X[:, perm], set(np.flatnonzero(perm < g).tolist())


def exact_group_lasso(X, k, mult=1.1, iters=2000):
    """The convex problem itself, solved to convergence (proximal gradient, warm-started
    along lambda): min (1/2n)||X - X B||^2 + lambda sum_j ||B_j||, B_j row j (input j's
    weights to every column), centred X over one global sd. Returns the top k by the
    lambda at which each row left (ties: the final norm)."""
    X = X - X.mean(0)
    X = X / X.std()
    n, d = X.shape
    C = X.T @ X / n
    L = float(np.linalg.eigvalsh(C).max())
    B, lam = np.eye(d), 1e-3
    alive, leave = np.ones(d, bool), np.full(d, np.inf)
    while alive.sum() > k:
        for _ in range(iters):
            B2 = B - (C @ B - C) / L
            B = B2 * np.maximum(0, 1 - lam / L / np.maximum(np.linalg.norm(B2, axis=1), 1e-12))[:, None]
        now = np.linalg.norm(B, axis=1) > 0
        leave[alive & ~now] = lam
        alive, lam = now, lam * mult
    return np.lexsort((-np.linalg.norm(B, axis=1), -leave))[:k]


def planted_study(seeds):
    from deeplasso import LassoNetAutoencoder

    small = dict(hidden_dims=(16,), standardize="global", path_multiplier=1.1, max_epochs=20, patience=3, verbose=0,
                 reweight=False)
    variants = {"exact convex group lasso (linear)": None,
                "LassoNet, Adam path (lr 1e-3)": dict(small, path_optimizer="same", lr=1e-3),
                "LassoNet, Adam path (lr 1e-3, multiplier 1.02, 100 epochs, patience 5)":
                    dict(small, path_optimizer="same", lr=1e-3, path_multiplier=1.02, max_epochs=100, patience=5),
                "LassoNet linear, Adam path": dict(small, hidden_dims=(), path_optimizer="same", lr=1e-3),
                "LassoNet, SGD path (lr 0.05)": dict(small, path_optimizer="sgd", lr=0.05),
                "LassoNet, SGD path (lr 0.01)": dict(small, path_optimizer="sgd", lr=0.01),
                "LassoNet, Adam path (lr 1e-3), reweighted": dict(small, path_optimizer="same", lr=1e-3, reweight=True),
                "LassoNet, SGD path (lr 0.05), reweighted (the defaults)": dict(small, path_optimizer="sgd", lr=0.05,
                                                                                reweight=True)}
    for name, kw in variants.items():
        found = []
        for seed in seeds:
            X, gen = planted(seed)
            if kw is None:
                idx = exact_group_lasso(X, 4)
            else:
                idx = np.flatnonzero(LassoNetAutoencoder(n_features_to_select=4, random_state=seed, **kw)
                                     .fit(X).support_)
            found.append(len(gen & set(idx.tolist())))
        print(f"{name}: generators kept (of 4) per seed {found}", flush=True)


def reweighted(d, eps=0.1, gamma=1.0):
    """A reweighted group penalty ``lambda * sum_j w_j ||theta_j||`` with
    ``w_j = (m / (||theta_j|| + eps m))^gamma`` (m: the mean norm of the columns still in)
    recomputed at every lambda from the current weights: a non-convex (log-like) penalty by
    convex steps (Candes, Wakin, Boyd 2008), which lets one of several correlated columns
    win. The weighted prox is ``w * prox(u / w)`` column by column (the hier-prox is
    positively homogeneous), around the engine's own prox, on the autograd step."""
    from deeplasso.engine import Callback

    w = torch.ones(d)

    def factory(model, config, device, penalty, cw):
        prox = penalty.prox

        def prox_w(t):
            with torch.no_grad():
                model.input_weight.div_(w)
                prox(t)
                model.input_weight.mul_(w)

        penalty.prox = prox_w
        return AutogradStep(model, "regression", config.lr, penalty, cw)

    class Reweight(Callback):
        def on_lambda_begin(self, trainer, step, lam):
            with torch.no_grad():
                norms = trainer.model.theta.detach().norm(dim=0).cpu()
                alive = norms > 0
                if step > 1 and alive.any():
                    m = norms[alive].mean()
                    w.copy_(torch.where(alive, (m / (norms + eps * m)) ** gamma, torch.ones_like(norms)))

    return factory, [Reweight()]


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--n-train", type=int, default=3000)
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--seeds", default="0,1", type=lambda s: [int(v) for v in s.split(",")])
    p.add_argument("--designs", default=",".join(DESIGNS), type=lambda s: s.split(","))
    p.add_argument("--out", default="runs/autoencoder_designs.jsonl")
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--summary", action="store_true")
    p.add_argument("--planted", action="store_true", help="the planted problem of the tests, per variant")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.planted:
        return planted_study(args.seeds)
    if not args.summary:
        done = {(r["dataset"], r["k"], r["seed"], r["design"]) for r in read_jsonl(args.out)}
        out = JsonLines(args.out, dataset=args.dataset, k=args.k, n_train=args.n_train)
        for seed in args.seeds:
            if args.dataset == "digits":
                Xtr, ytr, Xte, yte = digits_images(seed)
            else:
                Xtr, ytr, Xte, yte = load_images(args.dataset, seed, args.n_train, args.data_dir, n_test=2000)
            for design in ["random", "variance", *args.designs]:
                if (args.dataset, args.k, seed, design) in done:
                    continue
                t = time.perf_counter()
                if design == "random":
                    idx, pts = select_random(Xtr, args.k, seed), 0
                elif design == "variance":
                    idx, pts = select_variance(Xtr, args.k, seed), 0
                else:
                    idx, pts = path_ranking(design, Xtr, args.k, seed)
                sec = time.perf_counter() - t
                rec = out(seed=seed, design=design, seconds=sec, points=pts, selected=np.asarray(idx),
                          mse_linear=ridge_mse(Xtr, Xte, idx), mse_mlp=mlp_mse(Xtr, Xte, idx, seed))
                say(f"{args.dataset} seed {seed} {design:11s} {sec:6.1f} s {pts:3d} points  lin "
                    f"{1000 * rec['mse_linear']:.3f}  mlp {1000 * rec['mse_mlp']:.3f}")
    recs = [r for r in read_jsonl(args.out) if r["dataset"] == args.dataset and r["k"] == args.k]
    for design in ["random", "variance", *DESIGNS]:
        rs = [r for r in recs if r["design"] == design]
        if rs:
            lin, se_l = mean_se([1000 * r["mse_linear"] for r in rs])
            mlp, se_m = mean_se([1000 * r["mse_mlp"] for r in rs])
            print(f"{design:11s} seeds {len(rs)}  MSE x1000 linear {lin:.3f} +- {se_l:.3f}  MLP {mlp:.3f} +- {se_m:.3f}"
                  f"  {np.mean([r['seconds'] for r in rs]):.0f} s")


if __name__ == "__main__":
    main()
