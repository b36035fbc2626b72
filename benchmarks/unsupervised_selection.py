"""Unsupervised pixel selection at k = 50 on MNIST and Fashion-MNIST (issue 17).

Selectors that see only the training images (no labels): random, variance, Laplacian
score, PCA leverage, a small faithful torch Concrete Autoencoder (Abid, Balin, Zou, ICML
2019; its only package, ``concrete-autoencoder`` 0.0.1, is written for the Keras 2 /
TF1 backend API and does not run beside torch here) and deeplasso's
``LassoNetAutoencoder``. Every selection is scored the same way on the official test
images, from the k kept pixels only:

- ``mse_linear``: reconstruction MSE of all 784 raw pixels in [0, 1] by a ridge decoder;
- ``mse_mlp``: the same by a small MLP decoder (k -> 256 -> 784, ReLU, Adam, early
  stopping on 10% of the training images);
- ``accuracy``: test accuracy of a logistic regression on the k standardised pixels.

Each (data set, seed, selector) is one JSON line in ``--out`` as soon as it finishes;
a rerun skips what the file already holds (resume). ``--summary`` prints the table
(mean +- standard error over seeds, and each selector minus deeplasso with the standard
error of the paired difference).

    nice -n 5 python benchmarks/unsupervised_selection.py --out runs/unsup.jsonl
    python benchmarks/unsupervised_selection.py --out runs/unsup.jsonl --summary
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from common import JsonLines, mean_se, read_jsonl, say  # noqa: E402

DATASETS = ("mnist", "fashion-mnist")
SELECTORS = ("random", "variance", "pca", "laplacian", "deeplasso", "concrete")
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


# --------------------------------------------------------------------------- data


def load_images(name: str, seed: int, n_train: int = 10_000, data_dir: str | None = None, n_test: int | None = None):
    """A random ``n_train``-image subset of the official training images (seeded) and
    the official test images, as float32 pixels in [0, 1], flattened (n, 784)."""
    from deeplasso.data import load

    ds = load(name, data_dir=data_dir, download=False)  # Fashion-MNIST: also /usr/share/datasets/fashion-mnist
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(ds.x_train), size=n_train, replace=False)
    Xtr = ds.x_train[idx].reshape(n_train, -1).astype(np.float32) / 255.0
    Xte = ds.x_test.reshape(len(ds.x_test), -1).astype(np.float32) / 255.0
    yte = ds.y_test
    if n_test is not None:
        Xte, yte = Xte[:n_test], yte[:n_test]
    return Xtr, ds.y_train[idx], Xte, yte


# --------------------------------------------------------------------------- selectors


def select_random(X, k, seed, **_):
    return np.random.default_rng(seed + 1000).choice(X.shape[1], size=k, replace=False)


def select_variance(X, k, seed, **_):
    return np.argsort(-X.var(axis=0), kind="stable")[:k]


def laplacian_scores(X, n_neighbors: int = 5, t: float | None = None) -> np.ndarray:
    """Laplacian score of every feature (He, Cai, Niyogi, NIPS 2005): a symmetric kNN
    graph with heat-kernel weights ``exp(-||x_i - x_j||^2 / t)`` (``t``: the mean
    squared distance to the neighbours), ``L = D - S``; the score of feature ``f`` is
    ``f~' L f~ / f~' D f~`` with ``f~ = f - (f' D 1 / 1' D 1) 1``. Smaller is better;
    constant features get ``inf``."""
    from scipy import sparse
    from sklearn.neighbors import NearestNeighbors

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    nn_ = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(X)
    dist, ind = nn_.kneighbors(X)
    dist, ind = dist[:, 1:], ind[:, 1:]
    d2 = dist ** 2
    t = float(d2.mean()) if t is None else t
    rows = np.repeat(np.arange(n), n_neighbors)
    S = sparse.csr_matrix((np.exp(-d2.ravel() / t), (rows, ind.ravel())), shape=(n, n))
    S = S.maximum(S.T)
    Dv = np.asarray(S.sum(axis=1)).ravel()
    mean = (Dv @ X) / Dv.sum()
    F = X - mean
    num_D = (Dv[:, None] * F * F).sum(axis=0)
    num_S = (F * (S @ F)).sum(axis=0)
    num_L = num_D - num_S
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(num_D > 1e-12, num_L / np.where(num_D > 1e-12, num_D, 1.0), np.inf)
    return score


def select_laplacian(X, k, seed, **_):
    return np.argsort(laplacian_scores(X), kind="stable")[:k]


def select_pca(X, k, seed, **_):
    """Top k pixels by their leverage on the first k principal components:
    ``sum_{c < k} V[c, j]^2`` (rows of V unit-norm principal axes of the centred pixels)."""
    from sklearn.decomposition import PCA

    V = PCA(n_components=k, random_state=seed).fit(X).components_
    return np.argsort(-(V ** 2).sum(axis=0), kind="stable")[:k]


class ConcreteSelector(nn.Module):
    """The concrete selector layer: k units, each a softmax over the d inputs of
    (logits + Gumbel noise) / temperature in training, the argmax one-hot otherwise."""

    def __init__(self, d: int, k: int):
        super().__init__()
        self.logits = nn.Parameter(torch.empty(k, d))
        nn.init.xavier_uniform_(self.logits)  # tf.get_variable's default (Glorot uniform)

    def forward(self, x, temp: float | None):
        if temp is None:
            sel = torch.nn.functional.one_hot(self.logits.argmax(1), self.logits.shape[1]).to(x.dtype)
        else:
            u = torch.rand_like(self.logits).clamp_min(torch.finfo(x.dtype).tiny)
            sel = torch.softmax((self.logits - torch.log(-torch.log(u))) / temp, dim=1)
        return x @ sel.T


def select_concrete(X, k, seed, *, epochs=300, start_temp=10.0, min_temp=0.01, lr=1e-3, dropout=0.1, **_):
    """A small torch Concrete Autoencoder, as the paper's experiments ran it
    (``run_experiment`` of github.com/mfbalin/Concrete-Autoencoders): a concrete
    selector of k units, a decoder with one hidden layer of 3k/2 LeakyReLU(0.2) units
    and dropout 0.1 to all d outputs, MSE, Adam(lr), batch ``max(n // 256, 16)``, the
    temperature annealed exponentially per step from ``start_temp`` to ``min_temp``
    over ``epochs`` epochs, stopping early once the mean of the units' largest selection
    probability passes 0.998. 10% of X is held out (as the paper does) and only used to
    report the validation MSE. The paper's retry with doubled epochs when that mean stays
    below 0.99 is not run; ``info['mean_max']`` says where it ended. Returns the k
    argmax pixels (duplicates possible, as in the paper: then fewer distinct pixels)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    n, d = Xt.shape
    perm0 = torch.randperm(n, generator=g)
    n_val = n // 10
    Xv, Xt = Xt[perm0[:n_val]], Xt[perm0[n_val:]]
    n = Xt.shape[0]
    sel = ConcreteSelector(d, k)
    h = 3 * k // 2
    dec = nn.Sequential(nn.Linear(k, h), nn.LeakyReLU(0.2), nn.Dropout(dropout), nn.Linear(h, d))
    params = list(sel.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    bs = max(n // 256, 16)
    steps_per_epoch = math.ceil(n / bs)
    alpha = math.exp(math.log(min_temp / start_temp) / (epochs * steps_per_epoch))
    temp = start_temp
    info = {"epochs": 0}
    for ep in range(epochs):
        dec.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            xb = Xt[perm[i:i + bs]]
            temp = max(min_temp, temp * alpha)
            loss = torch.nn.functional.mse_loss(dec(sel(xb, temp)), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        info["epochs"] = ep + 1
        with torch.no_grad():
            mean_max = float(torch.softmax(sel.logits, 1).max(1).values.mean())
        if mean_max > 0.998:
            break
    dec.eval()
    with torch.no_grad():
        info["val_mse"] = float(torch.nn.functional.mse_loss(dec(sel(Xv, None)), Xv))
    info.update(mean_max=mean_max, temp=temp)
    idx = sel.logits.argmax(1).numpy()
    info["distinct"] = int(len(np.unique(idx)))
    return idx, info


def select_deeplasso(X, k, seed, *, settings=None, path_rows=None, **_):
    """``LassoNetAutoencoder`` with the table's settings; its path sees the first
    ``path_rows`` training images only (None: all; the subset is random already)."""
    from deeplasso import LassoNetAutoencoder

    est = LassoNetAutoencoder(n_features_to_select=k, random_state=seed, verbose=0, device="cpu", refit=False,
                              **(settings or DEEPLASSO_SETTINGS))
    est.fit(X if path_rows is None else X[:path_rows])
    return np.flatnonzero(est.get_support()), {"path_points": len(est.path_), "lambda_start": est.lambda_start_,
                                                "epochs": int(sum(p.epochs for p in est.path_))}


#: the LassoNetAutoencoder settings of the table (see docs/unsupervised.md)
DEEPLASSO_SETTINGS = dict(hidden_dims=(128,), standardize="global", path_optimizer="sgd", lr=1e-2, reweight=True,
                          path_multiplier=1.1, max_epochs=20, patience=3, batch_size=64)

SELECT = {"random": select_random, "variance": select_variance, "laplacian": select_laplacian, "pca": select_pca,
          "concrete": select_concrete, "deeplasso": select_deeplasso}


# --------------------------------------------------------------------------- evaluation


def ridge_mse(Xtr, Xte, idx, alpha: float = 1e-2) -> float:
    """Held-out MSE (raw pixels) of a ridge decoder from the kept pixels to all pixels."""
    from sklearn.linear_model import Ridge

    m = Ridge(alpha=alpha).fit(Xtr[:, idx], Xtr)
    return float(np.mean((m.predict(Xte[:, idx]) - Xte) ** 2))


def mlp_mse(Xtr, Xte, idx, seed, hidden=256, max_epochs=30, patience=4, lr=2e-3, batch_size=256) -> float:
    """Held-out MSE (raw pixels) of an MLP decoder k -> hidden -> d (ReLU), Adam, early
    stopping on the validation MSE of the last 10% of the training images, best epoch."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    idx = np.asarray(idx)
    Xt = torch.as_tensor(Xtr)
    n_val = len(Xt) // 10
    Xv, Xt = Xt[-n_val:], Xt[:-n_val]
    d = Xt.shape[1]
    net = nn.Sequential(nn.Linear(len(idx), hidden), nn.ReLU(), nn.Linear(hidden, d))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    cols = torch.as_tensor(idx)
    best, best_state, bad = math.inf, None, 0
    for _ in range(max_epochs):
        perm = torch.randperm(len(Xt), generator=g)
        for i in range(0, len(Xt), batch_size):
            xb = Xt[perm[i:i + batch_size]]
            loss = torch.nn.functional.mse_loss(net(xb[:, cols]), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            v = float(torch.nn.functional.mse_loss(net(Xv[:, cols]), Xv))
        if v < best - 1e-7:
            best, best_state, bad = v, {k: t.clone() for k, t in net.state_dict().items()}, 0
        else:
            bad += 1
            if bad >= patience:
                break
    net.load_state_dict(best_state)
    with torch.no_grad():
        Xe = torch.as_tensor(Xte)
        return float(torch.nn.functional.mse_loss(net(Xe[:, cols]), Xe))


def classifier_accuracy(Xtr, ytr, Xte, yte, idx) -> float:
    """Test accuracy of a logistic regression on the kept pixels (standardised on train)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    clf.fit(Xtr[:, idx], ytr)
    return float(clf.score(Xte[:, idx], yte))


def evaluate(Xtr, ytr, Xte, yte, idx, seed) -> dict:
    idx = np.unique(np.asarray(idx))
    return {"mse_linear": ridge_mse(Xtr, Xte, idx), "mse_mlp": mlp_mse(Xtr, Xte, idx, seed),
            "accuracy": classifier_accuracy(Xtr, ytr, Xte, yte, idx), "n_distinct": int(len(idx))}


# --------------------------------------------------------------------------- run and table


def run(args):
    done = {(r["dataset"], r["seed"], r["selector"]) for r in read_jsonl(args.out)}
    out = JsonLines(args.out, k=args.k, n_train=args.n_train)
    for seed in args.seeds:
        for name in args.datasets:
            data = None
            for sel in args.selectors:
                if (name, seed, sel) in done:
                    continue
                if data is None:
                    data = load_images(name, seed, args.n_train, args.data_dir)
                Xtr, ytr, Xte, yte = data
                extra = ({"epochs": args.concrete_epochs} if sel == "concrete" else
                         {"path_rows": args.path_rows} if sel == "deeplasso" else {})
                t = time.perf_counter()
                res = SELECT[sel](Xtr, args.k, seed, **extra)
                seconds = time.perf_counter() - t
                idx, info = res if isinstance(res, tuple) else (res, {})
                rec = out(dataset=name, seed=seed, selector=sel, seconds=seconds, selected=np.asarray(idx),
                          info=info, **evaluate(Xtr, ytr, Xte, yte, idx, seed),
                          settings={**DEEPLASSO_SETTINGS, **extra} if sel == "deeplasso" else extra)
                say(f"{name:14s} seed {seed} {sel:10s} {seconds:7.1f} s  mse lin {rec['mse_linear']:.5f}  "
                    f"mlp {rec['mse_mlp']:.5f}  acc {rec['accuracy']:.4f}  ({rec['n_distinct']} pixels)")


def adjacent_share(idx, side: int = 28) -> float:
    """Share of the kept pixels that have another kept pixel among their 8 neighbours: how
    clumped a selection is (50 random pixels of 784: 0.39 on average)."""
    m = np.zeros((side + 2, side + 2), dtype=bool)
    idx = np.unique(np.asarray(idx))
    r, c = idx // side + 1, idx % side + 1
    m[r, c] = True
    n = sum(m[r + dr, c + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)
    return float(np.mean(n > 0))


TABLE_ORDER = ("deeplasso", "concrete", "random", "variance", "laplacian", "pca")


def summary(path, selectors=TABLE_ORDER) -> str:
    recs = read_jsonl(path)
    lines = []
    for name in DATASETS:
        rows = {s: {r["seed"]: r for r in recs if r["dataset"] == name and r["selector"] == s} for s in selectors}
        if not any(rows.values()):
            continue
        ref = rows.get("deeplasso", {})
        lines += [f"\n{name} (k = {recs[0]['k']}, {recs[0]['n_train']} training images; MSE x 1000 on raw pixels "
                  "in [0, 1]; mean +- se over seeds; minus deeplasso paired by seed)", "",
                  "| selector | seeds | MSE linear | - deeplasso | MSE MLP | - deeplasso | accuracy | - deeplasso "
                  "| adjacent | seconds |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for s in selectors:
            r = rows[s]
            if not r:
                continue
            seeds = sorted(r)
            cells = [s, str(len(seeds))]
            for key, scale, fmt in (("mse_linear", 1000, "{:.2f}"), ("mse_mlp", 1000, "{:.2f}"),
                                    ("accuracy", 100, "{:.1f}")):
                v = [r[i][key] * scale for i in seeds]
                m, se = mean_se(v)
                cells.append(f"{fmt.format(m)} +- {fmt.format(se)}")
                common = [i for i in seeds if i in ref]
                if s == "deeplasso" or len(common) < 2:
                    cells.append("")
                else:
                    dm, dse = mean_se([r[i][key] * scale - ref[i][key] * scale for i in common])
                    mark = " *" if abs(dm) > 2 * dse else ""
                    cells.append(f"{dm:+.2f} +- {dse:.2f}{mark}")
            cells.append(f"{np.mean([adjacent_share(r[i]['selected']) for i in seeds]):.2f}")
            cells.append(f"{np.mean([r[i]['seconds'] for i in seeds]):.0f}")
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("\n*: the difference is larger than twice its standard error. adjacent: share of the kept pixels "
                 "with a kept 8-neighbour (clumping), mean over seeds. seconds: the selection's wall time.")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/unsupervised_selection.jsonl")
    p.add_argument("--datasets", default=",".join(DATASETS), type=lambda s: s.split(","))
    p.add_argument("--selectors", default=",".join(SELECTORS), type=lambda s: s.split(","))
    p.add_argument("--seeds", default="0,1,2", type=lambda s: [int(v) for v in s.split(",")])
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--n-train", type=int, default=10_000)
    p.add_argument("--concrete-epochs", type=int, default=100)
    p.add_argument("--path-rows", type=int, default=3000, help="training images deeplasso's path sees (time)")
    p.add_argument("--data-dir", default=os.environ.get("DEEPLASSO_DATA", "../shared/data"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--summary", action="store_true", help="print the table of --out and exit")
    args = p.parse_args(argv)
    if args.summary:
        print(summary(args.out))
        return
    torch.set_num_threads(args.threads)
    run(args)
    print(summary(args.out))


if __name__ == "__main__":
    main()
