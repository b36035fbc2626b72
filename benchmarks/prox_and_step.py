"""Per-call cost of hier-prox and of one training step: deeplasso vs the reference.

Alternates the contenders in one process and prints medians and ratios.

- hier-prox at the issue's shapes (skip K=10 rows; first layer 256 x 784 and
  1024 x 3072): deeplasso's `hier_prox`, deeplasso's in-place fused prox on a
  mid-path state (most features have an inactive constraint), and the reference
  `lassonet.prox.prox` (all float32, one thread per the machine's setting).
- one mini-batch step (batch 64) of a LassoNet 64 -> (32,) -> 10 (digits shape) and
  784 -> (100,) -> 10 (MNIST shape), at lambda = 1 after 500 warm-up steps: deeplasso's
  fast step + prox; deeplasso's generic autograd step (+ torch Adam + prox); the
  reference model + torch Adam + its prox.

    python benchmarks/prox_and_step.py [--repeats 7] [--threads 1]
"""

import argparse
import statistics
import time

import torch
from torch.nn import functional as F


def timeit(fn, n):
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def bench(cases, repeats):
    """cases: name -> (fn, n_calls). Alternates, returns name -> median seconds per call."""
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (fn, n) in cases.items():
            times[name].append(timeit(fn, n))
    return {name: statistics.median(v) for name, v in times.items()}


def prox_cases(H, d, K=10):
    from lassonet.prox import prox as ref_prox

    from deeplasso import hier_prox
    from deeplasso.fast import hier_prox_fused_

    g = torch.Generator().manual_seed(0)
    theta = torch.randn(K, d, generator=g)
    W = torch.randn(H, d, generator=g) * 0.05  # mid-path: most constraints inactive (M=10)
    fused = torch.cat([theta, W]).contiguous()
    lam, M = 1e-3, 10.0
    n = max(3, int(2e6 / (H * d)))
    return {
        f"deeplasso hier_prox {H}x{d}": (lambda: hier_prox(theta, W, lam, M), n),
        f"deeplasso fused in-place {H}x{d}": (lambda: hier_prox_fused_(fused.clone(), K, lam, M), n),
        f"reference prox {H}x{d}": (lambda: ref_prox(theta, W, lambda_=lam, lambda_bar=0, M=M), n),
    }


def step_cases(d, H, K=10, B=64):
    from lassonet.model import LassoNet as RefNet

    from deeplasso.fast import FastAdamStep, hier_prox_fused_
    from deeplasso.modules import LassoNet
    from deeplasso.prox import hier_prox

    X = torch.randn(B, d)
    y = torch.randint(0, K, (B,))
    torch.manual_seed(0)
    fast_model = LassoNet(d, K, (H,))
    fast = FastAdamStep(fast_model, "classification", 1e-3)
    lam, M = 1.0, 10.0

    def fast_step():
        fast.step(X, y)
        hier_prox_fused_(fast_model.input_weight.data, K, 1e-3 * lam, M)

    gen_model = LassoNet(d, K, (H,))
    gen_opt = torch.optim.Adam(gen_model.parameters(), lr=1e-3)

    def generic_step():
        loss = F.cross_entropy(gen_model(X), y)
        gen_opt.zero_grad(set_to_none=True)
        loss.backward()
        gen_opt.step()
        with torch.no_grad():
            w = gen_model.input_weight
            b, u = hier_prox(w[:K], w[K:], 1e-3 * lam, M)
            w[:K], w[K:] = b, u

    ref = RefNet(d, H, K)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-3)

    def ref_step():
        loss = F.cross_entropy(ref(X), y)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        ref.prox(lambda_=1e-3 * lam, M=M)

    # time from a trained-in state, not from the random initialisation (where the
    # constraint is violated almost everywhere): 500 steps of each first
    for _ in range(500):
        fast_step()
        generic_step()
        ref_step()
    n = 300
    return {
        f"deeplasso fast step {d}-{H}-{K}": (fast_step, n),
        f"deeplasso autograd step {d}-{H}-{K}": (generic_step, n),
        f"reference step {d}-{H}-{K}": (ref_step, n),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), medians of {args.repeats} alternating runs\n")
    # each table's cases are built just before it runs
    tables = [(prox_cases, (H, d), f"reference prox {H}x{d}") for H, d in [(256, 784), (1024, 3072)]]
    tables += [(step_cases, (d, H), f"reference step {d}-{H}-10") for d, H in [(64, 32), (784, 100)]]
    for make, shape, ref_name in tables:
        res = bench(make(*shape), args.repeats)
        ref = res[ref_name]
        for name, t in res.items():
            print(f"{name:40s} {t * 1e3:9.3f} ms   reference/this = {ref / t:6.1f}x")
        print()


if __name__ == "__main__":
    main()
