"""The dense phase: does the dense LassoNet match a plain network of the same body?

The path's first point is the dense model (lambda = 0). With the paper's protocol it
shares the lambda steps' budget (up to 100 epochs, patience 5), and on CIFAR-10 early
stopping ends it after a few epochs. This script trains, on the same split and seeds,

- ``plain``: a plain MLP of the same widths (deeplasso.selection.retrain_score: Adam
  lr 1e-3, batch 64, up to 100 epochs, patience 5; the retrained networks' protocol);
- ``dense-E-P[@lr]``: the dense LassoNet (skip layer, hierarchy M, lambda = 0) from the
  same kind of fresh initialisation, trained as the path's first point is
  (``deeplasso.refit`` on all features, the dense budget ``dense_max_epochs=E``,
  ``dense_patience=P``, Adam at ``lr`` (default 1e-3; ``auto``: lr 1e-3 with
  ``dense_lr="auto"``, the better of lr and lr/10 on validation); ``E, P = 100, 5`` is the
  paper's, i.e. the budget today),

and prints test accuracy, mean +- standard error over seeds, and each dense budget's
difference to the plain network (paired by seed). Records go to ``--out`` (JSON lines,
resumable: finished (protocol, seed, variant) records are skipped).

    python benchmarks/dense_phase.py --protocols cifar10,mnist --seeds 0,1,2 \
        --budgets 100:5,1000:20,100:5:3e-4,100:5:1e-4,100:5:auto --out benchmarks/results/dense_phase.jsonl
    python benchmarks/dense_phase.py --protocols digits,digits-full --budgets 100:5,100:5:1e-4,100:5:auto \
        --out benchmarks/results/dense_phase.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import JsonLines, digits_split, mean_se, read_jsonl, say  # noqa: E402

from deeplasso import LassoNet, PathConfig, refit  # noqa: E402
from deeplasso.selection import retrain_score  # noqa: E402

#: the body of each protocol, and the dense model's batch size (None: full batch, with
#: steps_per_epoch="auto", as the estimators train it)
HIDDEN = {"cifar10": (80, 100), "mnist": (80, 100), "digits": (32,), "digits-full": (32,)}
BATCH = {"digits-full": None}


def load(name, data_dir):
    """The paper's splits: CIFAR-10 pooled 80:10:10 with ImageNet statistics; MNIST's
    official split with 10% of train for validation, standardised on train; digits as the
    selection benchmark splits it."""
    from deeplasso.data import load as load_set
    from deeplasso.data import make_split, preprocess_split

    if name.startswith("digits"):
        return digits_split(0)
    ds = load_set(name, data_dir=data_dir, progress=False)
    if name == "cifar10":
        p = preprocess_split(make_split(ds, "paper", random_state=0), "imagenet")
    else:
        p = preprocess_split(make_split(ds, "official", val_fraction=0.1, random_state=0), "train")
    return p.X_train, p.y_train, p.X_val, p.y_val, p.X_test, p.y_test


def _lr(text):
    """A variant's lr: a number, or "auto" (dense_lr="auto" at lr 1e-3)."""
    return text if text == "auto" else float(text)


def dense_accuracy(data, seed, max_epochs, patience, M, lr=1e-3, hidden=(80, 100), batch_size=64):
    """Test accuracy of the dense LassoNet; ``lr`` a number (Adam's lr) or "auto" (lr 1e-3,
    dense_lr="auto")."""
    Xtr, ytr, Xva, yva, Xte, yte = data
    t = [torch.as_tensor(np.ascontiguousarray(a)) for a in (Xtr, ytr, Xva, yva)]
    auto = lr == "auto"
    cfg = PathConfig(task="classification", lr=1e-3 if auto else lr, dense_lr="auto" if auto else None,
                     batch_size=batch_size, M=M, max_epochs=100, patience=5,
                     dense_max_epochs=max_epochs, dense_patience=patience, seed=seed, steps_per_epoch="auto")
    torch.manual_seed(seed)
    model = LassoNet(Xtr.shape[1], int(ytr.max()) + 1, hidden)
    epochs, _, val = refit(model, *t, cfg, np.ones(Xtr.shape[1], dtype=bool))
    with torch.no_grad():
        pred = model.eval()(torch.as_tensor(np.ascontiguousarray(Xte))).argmax(1).numpy()
    return float((pred == yte).mean()), epochs, val


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--protocols", default="cifar10,mnist", type=lambda s: s.split(","))
    ap.add_argument("--seeds", default="0,1,2", type=lambda s: [int(v) for v in s.split(",")])
    ap.add_argument("--budgets", default="100:5,1000:20",
                    type=lambda s: [tuple(b.split(":")) for b in s.split(",")],
                    help="dense budgets E:P[:lr] (max epochs, patience, Adam's lr; default 1e-3)")
    ap.add_argument("--M", type=float, default=10.0)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="runs/dense_phase.jsonl")
    ap.add_argument("--summary", action="store_true", help="print the table of --out and exit")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = ["plain"] + [f"dense-{b[0]}-{b[1]}" + (f"@{b[2]}" if len(b) > 2 else "") for b in args.budgets]
    if not args.summary:
        done = {(r["protocol"], r["seed"], r["variant"]) for r in read_jsonl(args.out) if r.get("M", 10.0) == args.M}
        write = JsonLines(args.out, M=args.M)
        for name in args.protocols:
            data = None
            for seed in args.seeds:
                for v in variants:
                    if (name, seed, v) in done:
                        continue
                    data = data if data is not None else load(name, args.data_dir)
                    t0 = time.perf_counter()
                    if v == "plain":
                        acc = retrain_score(*data, np.arange(data[0].shape[1]), hidden_dims=HIDDEN[name], seed=seed,
                                            batch_size=64, lr=1e-3, max_epochs=100, patience=5)
                        info = {}
                    else:
                        budget, *lr = v.split("@")
                        e, p = budget.split("-")[1:]
                        acc, epochs, val = dense_accuracy(data, seed, int(e), int(p), args.M,
                                                          _lr(lr[0]) if lr else 1e-3, HIDDEN[name],
                                                          BATCH.get(name, 64))
                        info = {"epochs": epochs, "val_accuracy": val}
                    rec = write(protocol=name, seed=seed, variant=v, test_accuracy=acc,
                                seconds=time.perf_counter() - t0, **info)
                    say(f"{name} seed {seed} {v}: {acc:.4f} ({rec['seconds']:.0f} s{', %d epochs' % info['epochs'] if info else ''})")
    summary(read_jsonl(args.out), args.M)


def summary(recs, M):
    recs = [r for r in recs if r.get("M", 10.0) == M]
    print(f"\n| protocol | variant | seeds | test accuracy | minus plain (paired) | epochs | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in sorted({r["protocol"] for r in recs}):
        by = {}
        for r in recs:
            if r["protocol"] == name:
                by.setdefault(r["variant"], {})[r["seed"]] = r
        plain = by.get("plain", {})
        def order(v):
            budget, *lr = v.split("@")
            rate = -1e-3 if not lr else 1.0 if lr[0] == "auto" else -float(lr[0])
            return v != "plain", rate, [int(x) for x in budget.split("-")[1:]]

        for v in sorted(by, key=order):
            rs = by[v]
            m, se = mean_se([100 * r["test_accuracy"] for r in rs.values()])
            common = sorted(set(rs) & set(plain))
            diff = "" if v == "plain" or not common else "%+.1f +- %.1f" % mean_se(
                [100 * (rs[s]["test_accuracy"] - plain[s]["test_accuracy"]) for s in common])
            ep = "" if v == "plain" else "%.0f" % np.median([r["epochs"] for r in rs.values()])
            sec = "%.0f" % np.median([r["seconds"] for r in rs.values()])
            print(f"| {name} | {v} | {len(rs)} | {m:.1f} +- {se:.1f} | {diff} | {ep} | {sec} |")


if __name__ == "__main__":
    main()
