"""Per-step cost of LassoNet training (mini-batch step, Adam, hier-prox): deeplasso
against the reference `lassonet` 0.0.21, at the digits (64-32-10) and MNIST (784-100-10)
shapes, batch 64, M = 10, lr 1e-3, at a mid-path lambda.

deeplasso's step is timed as the path runs it: one lambda step of whole epochs through
``fit_path`` (``common.lambda_step_seconds``; on CPU the whole epoch in one C call, on
CUDA one graph replay per batch), after one dense epoch and a warm-up step of the same
length at the same lambda, so the prox sees a mid-path mix of columns. Its time per
step includes gathering each batch's rows and each epoch's validation objective (on 64
rows). The reference's step is its model, ``F.cross_entropy``, backward,
``torch.optim.Adam`` and its prox, after --warmup steps at the same lambda. The
contenders alternate in one process; medians of --repeats runs of about --steps steps.

Contenders: ``deeplasso`` (the fast step; active set off), ``deeplasso, autograd``
(``PathConfig(fast=False)``: autograd, torch Adam, the prox) and ``reference``. The
engine's fallbacks are timed by running the whole script with its switches
(docs/engine.md): ``DEEPLASSO_NATIVE_EPOCH=0`` (the fast step in a Python loop),
``DEEPLASSO_NATIVE=0`` (no C kernels: the PyTorch prox), ``DEEPLASSO_CUDA_GRAPHS=0``
(the eager step on CUDA).

    OMP_NUM_THREADS=1 python benchmarks/step_overhead.py --repeats 5 --clock cpu
    python benchmarks/step_overhead.py --device cuda --repeats 5 --mnist-dir DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import os
import time

import numpy as np
import torch
from common import alternating_medians, lambda_step_seconds, say
from torch.nn import functional as F

from deeplasso import LassoNet
from deeplasso.data import read_idx_images, read_idx_labels

K, B, M, LR = 10, 64, 10.0, 1e-3
SWITCHES = ("DEEPLASSO_NATIVE", "DEEPLASSO_NATIVE_EPOCH", "DEEPLASSO_CUDA_GRAPHS")


def digits_rows():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), y.astype(np.int64), "digits"


def mnist_rows(directory, n=6000):
    """The first n MNIST training images (standardised), else Gaussian inputs."""
    images = os.path.join(directory or "", "train-images-idx3-ubyte.gz")
    if directory and os.path.exists(images):
        X = read_idx_images(images)[:n].reshape(n, -1).astype(np.float32) / 255
        y = read_idx_labels(os.path.join(directory, "train-labels-idx1-ubyte.gz"))[:n].astype(np.int64)
        return (X - 0.1307) / 0.3081, y, "MNIST"
    g = np.random.default_rng(0)
    return g.standard_normal((n, 784)).astype(np.float32), g.integers(0, K, n), "Gaussian"


def contenders(X, y, H, lam, args):
    """name -> a function that runs about --steps steps and returns seconds per step."""
    from lassonet.model import LassoNet as RefNet

    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    n_steps = len(X) // B
    X, y = torch.from_numpy(X[:n_steps * B]).to(dev), torch.from_numpy(y[:n_steps * B]).to(dev)
    d = X.shape[1]
    epochs = max(1, round(args.steps / n_steps))
    torch.manual_seed(0)

    def ours(**config):
        def run():
            model = LassoNet(d, K, (H,)).to(dev)
            per_epoch, _ = lambda_step_seconds(model, X, y, X[:B], y[:B], lam, epochs, clock=args.clock,
                                               batch_size=B, M=M, lr=LR, num_threads=args.threads, **config)
            return per_epoch / n_steps
        return run

    ref = RefNet(d, H, K).to(dev)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=LR)
    batches = [(X[i:i + B], y[i:i + B]) for i in range(0, n_steps * B, B)]

    def ref_step(i):
        xb, yb = batches[i % n_steps]
        loss = F.cross_entropy(ref(xb), yb)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        ref.prox(lambda_=LR * lam, M=M)

    for i in range(args.warmup):  # from a trained-in state, not the random initialisation
        ref_step(i)

    def reference():
        sync()
        t = clock()
        for i in range(epochs * n_steps):
            ref_step(i)
        sync()
        return (clock() - t) / (epochs * n_steps)

    return {"deeplasso": ours(active_set=False), "deeplasso, autograd": ours(fast=False, active_set=False),
            "reference": reference}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=300, help="steps per timed run (rounded to whole epochs)")
    ap.add_argument("--warmup", type=int, default=500, help="the reference's warm-up steps")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: this process's CPU time (with one thread: the time it actually ran), "
                         "for a machine shared with other jobs")
    ap.add_argument("--device", default="cpu", help="'cuda': both packages' steps on the GPU (wall clock)")
    ap.add_argument("--mnist-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cuda = torch.device(args.device).type == "cuda"
    if cuda:
        args.clock = "wall"
    gpu = f", {torch.cuda.get_device_name()}" if cuda else ""
    switches = ", ".join(f"{k}={os.environ[k]}" for k in SWITCHES if k in os.environ) or "engine switches unset"
    say(f"torch {torch.__version__}, device {args.device}{gpu}, {args.threads} thread(s), {switches}, "
        f"{args.clock} clock; medians of {args.repeats} alternating runs of about {args.steps} steps\n")
    # mid-path lambdas: digits paths run at about 66-363, MNIST's scale is 10 * 100
    for (X, y, name), H, lam in [(digits_rows(), 32, 150.0), (mnist_rows(args.mnist_dir), 100, 300.0)]:
        res = alternating_medians(contenders(X, y, H, lam, args), args.repeats, lambda run: run())
        say(f"{name} {X.shape[1]}-{H}-{K}, batch {B}, lambda {lam:g}")
        for label, t in res.items():
            say(f"  {label:24s} {t * 1e3:8.3f} ms   reference/this = {res['reference'] / t:6.1f}x")
        say()


if __name__ == "__main__":
    main()
