"""Per-step cost of a LassoNet training step (forward, backward, Adam, hier-prox):
deeplasso vs the reference `lassonet` 0.0.21, at the digits and MNIST shapes.

Batch 64, M = 10, lr = 1e-3, one thread (what `auto_threads` picks for digits; pass
--threads 2 to compare). The weights come from real data (scikit-learn's digits;
MNIST from --mnist-dir, else Gaussian inputs) after --warmup steps at a mid-path
lambda, so the prox sees a realistic mix of inactive, clipped and dead columns. The
contenders alternate in one process; medians of --repeats runs of --steps steps.

Contenders:
- deeplasso: `FastAdamStep.step` + the in-place hier-prox (C kernel when built);
- deeplasso, C epoch: the same step, Adam and prox for a whole shuffled pass in one C
  call (`FastAdamStep.native_epoch`, what the path runs on CPU); its time per step
  includes gathering each batch's rows;
- deeplasso, PyTorch prox: the same step with the PyTorch prox (no C compiler);
- deeplasso, active set: MNIST shape with only --active features left (the others
  out of the first layer's matmuls, as mid/late in a path);
- reference: its model, F.cross_entropy, backward, torch.optim.Adam, its prox.

    python benchmarks/step_overhead.py [--repeats 7] [--steps 300] [--threads 1] [--clock cpu]
    python benchmarks/step_overhead.py --device cuda   # on a GPU: the eager step, the
        # graph-replay epoch (FastAdamStep.graph_epoch) and the reference, all on the GPU
"""

import argparse
import copy
import gzip
import os
import statistics
import time

import numpy as np
import torch
from torch.nn import functional as F

K, B, M, LR = 10, 64, 10.0, 1e-3


def digits_data():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), y.astype(np.int64)


def mnist_data(directory, n=6000):
    path = os.path.join(directory or "", "train-images-idx3-ubyte.gz")
    if directory and os.path.exists(path):
        def idx(p):
            with gzip.open(p) as f:
                b = f.read()
            nd = b[3]
            dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
            return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)
        X = idx(path)[:n].reshape(n, -1).astype(np.float32) / 255
        y = idx(os.path.join(directory, "train-labels-idx1-ubyte.gz"))[:n].astype(np.int64)
        return (X - 0.1307) / 0.3081, y, "MNIST"
    g = np.random.default_rng(0)
    return g.standard_normal((n, 784)).astype(np.float32), g.integers(0, K, n), "Gaussian"


def contenders(X, y, H, lam, warmup, active=None, device="cpu"):
    from lassonet.model import LassoNet as RefNet

    from deeplasso.fast import FastAdamStep, hier_prox_fused_
    from deeplasso.modules import LassoNet

    dev = torch.device(device)
    cuda = dev.type == "cuda"
    X, y = torch.from_numpy(X).to(dev), torch.from_numpy(y).to(dev)
    n, d = X.shape
    batches = [(X[i:i + B].contiguous(), y[i:i + B]) for i in range(0, n - B + 1, B)]
    t = LR * lam
    torch.manual_seed(0)
    model = LassoNet(d, K, (H,)).to(dev)
    model_t = copy.deepcopy(model)
    fast = FastAdamStep(model, "classification", LR)
    fast_t = FastAdamStep(model_t, "classification", LR)
    ref = RefNet(d, H, K).to(dev)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=LR)

    def ref_step(xb, yb):
        loss = F.cross_entropy(ref(xb), yb)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        ref.prox(lambda_=t, M=M)

    def ours(xb, yb):
        fast.step(xb, yb)
        hier_prox_fused_(model.input_weight.data, K, t, M)

    def ours_torch(xb, yb):
        fast_t.step(xb, yb)
        hier_prox_fused_(model_t.input_weight.data, K, t, M, native=False)

    for i in range(warmup):  # from a trained-in state, not the random initialisation
        xb, yb = batches[i % len(batches)]
        ours(xb, yb)
        ours_torch(xb, yb)
        ref_step(xb, yb)
    model_e = copy.deepcopy(model)
    fast_e = FastAdamStep(model_e, "classification", LR)
    n_steps = len(batches)
    Xe, ye = X[:n_steps * B].contiguous(), y[:n_steps * B].contiguous()
    perms = [torch.randperm(n_steps * B, generator=torch.Generator().manual_seed(i)).to(dev) for i in range(8)]

    def ours_epoch(perm):
        if not fast_e.native_epoch(Xe, ye, perm, B, t, M):
            raise SystemExit("the C epoch kernel is not available here")

    def ours_graphs(perm):
        if not fast_e.graph_epoch(Xe, ye, perm, B, t, M):
            raise SystemExit("CUDA graphs are switched off (DEEPLASSO_CUDA_GRAPHS)")

    if cuda:  # the step runs the PyTorch prox there; the epoch is the graph replays
        cases = {"deeplasso (eager step)": (ours, batches),
                 "deeplasso, CUDA graph epoch": (ours_graphs, [(p,) for p in perms], n_steps)}
    else:
        cases = {"deeplasso": (ours, batches), "deeplasso, C epoch": (ours_epoch, [(p,) for p in perms], n_steps),
                 "deeplasso, PyTorch prox": (ours_torch, batches)}
    if active is not None:
        model_a = copy.deepcopy(model)
        fast_a = FastAdamStep(model_a, "classification", LR)
        keep = torch.linalg.vector_norm(model_a.theta.detach(), dim=0).argsort(descending=True)[:active]
        keep = keep.sort().values
        with torch.no_grad():
            out = torch.ones(d, dtype=torch.bool, device=dev)
            out[keep] = False
            model_a.input_weight[:, out] = 0
        fast_a.set_active(keep)
        batches_a = [(xb[:, keep].contiguous(), yb) for xb, yb in batches]

        def ours_active(xb, yb):
            fast_a.step(xb, yb)
            hier_prox_fused_(model_a.input_weight.data, K, t, M)

        cases[f"deeplasso, active set ({active} of {d}){', eager step' if cuda else ''}"] = (ours_active, batches_a)
    cases["reference"] = (ref_step, batches)
    return cases


def bench(cases, repeats, steps, clock=time.perf_counter, sync=lambda: None):
    """Median seconds per step; ``sync`` (CUDA: wait for the GPU) before each clock
    reading, so queued GPU work is counted."""
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (fn, batches, *per_call) in cases.items():
            per_call = per_call[0] if per_call else 1  # steps one call makes
            calls = max(1, round(steps / per_call))
            sync()
            s = clock()
            for i in range(calls):
                fn(*batches[i % len(batches)])
            sync()
            times[name].append((clock() - s) / (calls * per_call))
    return {name: statistics.median(v) for name, v in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: this process's CPU time (with one thread: the time it actually ran), "
                         "for a machine shared with other jobs")
    ap.add_argument("--device", default="cpu", help="'cuda': both packages' steps on the GPU (wall clock)")
    ap.add_argument("--active", type=int, default=50, help="features left in the MNIST active-set case")
    ap.add_argument("--mnist-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from deeplasso._native import native_available

    cuda = torch.device(args.device).type == "cuda"
    if cuda:
        args.clock = "wall"
    gpu = f", {torch.cuda.get_device_name()}" if cuda else ""
    print(f"torch {torch.__version__}, device {args.device}{gpu}, {args.threads} thread(s), C kernels: "
          f"{native_available()}, {args.clock} clock; "
          f"medians of {args.repeats} alternating runs of {args.steps} steps, after {args.warmup} warm-up steps\n")
    Xd, yd = digits_data()
    Xm, ym, mname = mnist_data(args.mnist_dir)
    # mid-path lambdas: digits paths run at about 66-363, MNIST's scale is 10 * 100
    for label, X, y, H, lam, active in [("digits 64-32-10", Xd, yd, 32, 150.0, None),
                                        (f"{mname} 784-100-10", Xm, ym, 100, 300.0, args.active)]:
        clock = time.perf_counter if args.clock == "wall" else time.process_time
        res = bench(contenders(X, y, H, lam, args.warmup, active, args.device), args.repeats, args.steps, clock,
                    torch.cuda.synchronize if cuda else lambda: None)
        ref = res["reference"]
        print(f"{label}, batch {B}, lambda {lam:g}")
        for name, t in res.items():
            print(f"  {name:40s} {t * 1e3:8.3f} ms   reference/this = {ref / t:6.1f}x")
        print()


if __name__ == "__main__":
    main()
