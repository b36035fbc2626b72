"""Hier-prox per call: deeplasso's ``hier_prox`` against the reference's
``lassonet.prox.prox``, its time and its agreement.

- Time (float32, one thread unless --threads): the skip layer (K = 10 rows) and a first
  layer of 256 x 784 and 1024 x 3072 (the issue's shapes), mid-path (most constraints
  inactive at M = 10), the contenders alternating; medians of --repeats runs.
- Agreement (float64, M = 10): the largest difference between the two packages'
  solutions over random columns and random lambdas.

    python benchmarks/prox_call.py --repeats 5 --threads 1
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import time

import torch
from common import alternating_medians, say

from deeplasso import hier_prox


def per_call(fn, n):
    """Seconds per call of ``fn`` over n calls, after one call."""
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def prox_cases(H, d, K=10):
    from lassonet.prox import prox as ref_prox

    g = torch.Generator().manual_seed(0)
    theta = torch.randn(K, d, generator=g)
    W = torch.randn(H, d, generator=g) * 0.05  # mid-path: most constraints inactive (M = 10)
    lam, M = 1e-3, 10.0
    n = max(3, int(2e6 / (H * d)))
    return {
        "deeplasso hier_prox": lambda: per_call(lambda: hier_prox(theta, W, lam, M), n),
        "reference prox": lambda: per_call(lambda: ref_prox(theta, W, lambda_=lam, lambda_bar=0, M=M), n),
    }


def agreement(trials=300, K=10, H=32, G=64):
    """The largest difference between the two packages' solutions (float64, M = 10)."""
    from lassonet.prox import prox as ref_prox

    g = torch.Generator().manual_seed(0)
    worst = 0.0
    for _ in range(trials):
        v = torch.randn(K, G, generator=g, dtype=torch.float64) * 0.3 * torch.rand(1, G, generator=g, dtype=torch.float64)
        u = torch.randn(H, G, generator=g, dtype=torch.float64) * torch.rand(1, G, generator=g, dtype=torch.float64)
        lam = 0.5 * float(torch.rand(1, generator=g))
        b1, w1 = hier_prox(v, u, lam, 10.0)
        b2, w2 = ref_prox(v, u, lambda_=lam, lambda_bar=0, M=10.0)
        worst = max(worst, float((b1 - b2).abs().max()), float((w1 - w2).abs().max()))
    return worst, trials * G


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    say(f"torch {torch.__version__}, {args.threads} thread(s), medians of {args.repeats} alternating runs\n")
    for H, d in [(256, 784), (1024, 3072)]:
        res = alternating_medians(prox_cases(H, d), args.repeats, lambda run: run())
        for name, t in res.items():
            say(f"{name:22s} {H}x{d} {t * 1e3:9.3f} ms   reference/this = {res['reference prox'] / t:6.1f}x")
        say()
    worst, n = agreement()
    say(f"hier-prox, deeplasso vs reference: largest difference {worst:.1e} over {n} random columns")


if __name__ == "__main__":
    main()
