"""A small C kernel for the in-place hier-prox on CPU, built on first use.

Why: on small models the prox is a few dozen tiny tensor operations per training
step (norms, masks, a sort of the hard columns, index copies), and each costs a few
microseconds of dispatch, so it took longer than the step itself (on digits: 63% of
a whole path). One C loop over the columns does the same work in one call.

How: plain C (no PyTorch headers), compiled with the system C compiler into a
shared library cached under ``$DEEPLASSO_CACHE`` (default ``~/.cache/deeplasso``),
keyed by a hash of the source and flags; called through ``ctypes`` on the weight's
``data_ptr``. The build takes well under a second. Without a compiler, on a failed
build, or with ``DEEPLASSO_NATIVE=0`` nothing is built and the caller falls back to
the PyTorch implementation (``deeplasso.fast.hier_prox_fused_``), which solves the
same problem; tests check both agree.

Per column ``j`` (``v`` = theta_j, ``u`` = W0_j), the same three cases as the
PyTorch version plus one:

- inactive constraint, ``||u||_inf <= M (||v|| - lam)``: ``v *= 1 - lam/||v||``;
- dead, ``||v|| + M ||u||_1 <= lam`` or ``v = 0``: the column becomes zero (this is
  the exact solution: phi'(0) >= 0, so r = 0);
- otherwise: the entries of ``|u|`` in decreasing order from a max-heap, only as many
  as are clipped (``O(H + m log H)``, no full sort), counted with the criterion of
  :func:`deeplasso.prox._count_clipped`; then scale ``v`` and clip ``u`` to ``M r``.

Column statistics and the final scale/clip run as row-major passes over the weight.

A non-finite column becomes NaN, so that the trainer's finiteness check fires.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading

import torch

__all__ = ["native_prox", "native_prox_bound", "native_adam_bound", "native_available"]

_SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* w: (K + H) x d, row stride ld, rows [0, K) theta, rows [K, K + H) W0; in place. */
#define DEFINE_PROX(NAME, T, SQRT, FABS, COPYSIGN)                                          \
static void NAME##_sift(T *a, int64_t s, int64_t n) {  /* max-heap sift-down */             \
    T x = a[s];                                                                             \
    for (;;) {                                                                              \
        int64_t c = 2 * s + 1;                                                              \
        if (c >= n) break;                                                                  \
        if (c + 1 < n && a[c + 1] > a[c]) ++c;                                              \
        if (!(a[c] > x)) break;                                                             \
        a[s] = a[c]; s = c;                                                                 \
    }                                                                                       \
    a[s] = x;                                                                               \
}                                                                                           \
int NAME(T *w, int64_t K, int64_t H, int64_t d, int64_t ld, T lam, T M) {                     \
    const T M2 = M * M;                                                                     \
    T *buf = (T *)malloc(sizeof(T) * (5 * d + H + 1));                                      \
    if (!buf) return 1;                                                                     \
    T *vn = buf, *amax = buf + d, *l1 = buf + 2 * d, *cap = buf + 3 * d, *cnt = buf + 4 * d;\
    T *a = buf + 5 * d;                                                                     \
    for (int64_t j = 0; j < d; ++j) { vn[j] = 0; amax[j] = 0; l1[j] = 0; cnt[j] = 0; }      \
    /* column statistics in row-major passes (contiguous, vectorisable) */                  \
    for (int64_t k = 0; k < K; ++k) {                                                       \
        const T *row = w + k * ld;                                                          \
        for (int64_t j = 0; j < d; ++j) vn[j] += row[j] * row[j];                           \
    }                                                                                       \
    for (int64_t i = 0; i < H; ++i) {                                                       \
        const T *row = w + (K + i) * ld;                                                    \
        for (int64_t j = 0; j < d; ++j) {                                                   \
            T x = FABS(row[j]);                                                             \
            l1[j] += x;                                                                     \
            cnt[j] += x > 0;                                                                \
            amax[j] = x > amax[j] ? x : amax[j];                                            \
        }                                                                                   \
    }                                                                                       \
    /* per column: vn[j] becomes the scale of theta_j, cap[j] the clip of |W0_j| */        \
    for (int64_t j = 0; j < d; ++j) {                                                       \
        T v = SQRT(vn[j]);                                                                  \
        if (!(v - v == 0) || !(l1[j] - l1[j] == 0)) { vn[j] = NAN; cap[j] = NAN; continue; } \
        T shrunk = v - lam;                                                                 \
        if (H == 0 || amax[j] <= M * shrunk) {            /* inactive constraint */         \
            T s = shrunk > 0 ? shrunk : 0;                                                  \
            vn[j] = v > 0 ? s / v : 0;                                                      \
            cap[j] = INFINITY;                                                              \
            continue;                                                                       \
        }                                                                                   \
        if (v == 0 || v + M * l1[j] <= lam) {             /* dead: phi'(0) >= 0, r = 0 */   \
            vn[j] = 0; cap[j] = 0;                                                          \
            continue;                                                                       \
        }                                                                                   \
        /* hard: take |u| in decreasing order from a max-heap (O(H + m log H), no full */  \
        /* sort) and count the clipped entries with the criterion of the PyTorch       */  \
        /* version, crit_i = M phi'(a_i / M), which decreases along the order.          */  \
        /* r >= r1 = (shrunk + M ||u||_1) / (1 + M^2 nnz(u)) (Newton's first step from */  \
        /* 0 on the concave increasing phi'), so entries <= M r1 are never clipped and */  \
        /* come after the others in the order: leave them out of the heap.            */  \
        T r1 = (shrunk + M * l1[j]) / (1 + cnt[j] * M2), lo = M * r1;                       \
        if (!(lo >= 0)) lo = 0;                                                             \
        int64_t n = 0;                                                                      \
        for (int64_t i = 0; i < H; ++i) {                                                   \
            T x = FABS(w[(K + i) * ld + j]);                                                \
            if (x > lo) a[n++] = x;                                                         \
        }                                                                                   \
        for (int64_t s = n / 2 - 1; s >= 0; --s) NAME##_sift(a, s, n);                      \
        T S = 0, Sm = 0, c = M * shrunk;                                                    \
        int64_t m = 0;                                                                      \
        while (n > 0) {                                                                     \
            T top = a[0];                                                                   \
            S += top;                                                                       \
            T crit = top * (1 + (T)(m + 1) * M2) - M2 * S - c;                              \
            if (!(crit > 0)) break;                                                         \
            ++m; Sm = S;                                                                    \
            a[0] = a[--n];                                                                  \
            NAME##_sift(a, 0, n);                                                           \
        }                                                                                   \
        T num = shrunk + M * Sm;                                                            \
        T r = (num > 0 ? num : 0) / (1 + (T)m * M2);                                        \
        vn[j] = r / v;                                                                      \
        cap[j] = M * r;                                                                     \
    }                                                                                       \
    for (int64_t k = 0; k < K; ++k) {                                                       \
        T *row = w + k * ld;                                                                \
        for (int64_t j = 0; j < d; ++j) row[j] *= vn[j];                                    \
    }                                                                                       \
    for (int64_t i = 0; i < H; ++i) {                                                       \
        T *row = w + (K + i) * ld;                                                          \
        for (int64_t j = 0; j < d; ++j) {                                                   \
            T x = row[j], ax = FABS(x), c = cap[j];                                         \
            row[j] = COPYSIGN(ax < c ? ax : c, x);                                          \
        }                                                                                   \
    }                                                                                       \
    free(buf);                                                                              \
    return 0;                                                                               \
}

DEFINE_PROX(deeplasso_prox_f32, float, sqrtf, fabsf, copysignf)
DEFINE_PROX(deeplasso_prox_f64, double, sqrt, fabs, copysign)

/* Adam (no weight decay, no amsgrad) over flat buffers, as torch's fused kernel:  */
/* m += (g - m)(1 - b1); v = b2 v + (1 - b2) g^2;                                   */
/* p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).                     */
#define DEFINE_ADAM(NAME, T, SQRT)                                                          \
void NAME(T *p, const T *g, T *m, T *v, int64_t n, double lr, double b1, double b2,         \
          double eps, double t) {                                                           \
    const T step_size = (T)(lr / (1 - pow(b1, t)));                                         \
    const T bc2_sqrt = (T)sqrt(1 - pow(b2, t));                                             \
    const T c1 = (T)(1 - b1), beta2 = (T)b2, c2 = (T)(1 - b2), e = (T)eps;                  \
    for (int64_t i = 0; i < n; ++i) {                                                       \
        T gi = g[i];                                                                        \
        T mi = m[i] + (gi - m[i]) * c1;                                                     \
        T vi = beta2 * v[i] + c2 * gi * gi;                                                 \
        m[i] = mi; v[i] = vi;                                                               \
        p[i] -= step_size * mi / (SQRT(vi) / bc2_sqrt + e);                                 \
    }                                                                                       \
}

DEFINE_ADAM(deeplasso_adam_f32, float, sqrtf)
DEFINE_ADAM(deeplasso_adam_f64, double, sqrt)
"""
# -ffp-contract=off: no fused multiply-adds, so results do not depend on the CPU's FMA
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-fast-math", "-ffp-contract=off"]

_lock = threading.Lock()
_lib = None
_tried = False


def _cache_dir() -> str:
    return os.environ.get("DEEPLASSO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "deeplasso")


def _build() -> ctypes.CDLL | None:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()[0]
    if shutil.which(cc) is None:
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if cc is None:
            return None
    key = hashlib.sha256((_SOURCE + " ".join(_FLAGS) + sys.platform + os.uname().machine).encode()).hexdigest()[:16]
    directory = _cache_dir()
    target = os.path.join(directory, f"prox_{key}.so")
    if not os.path.exists(target):
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            src = os.path.join(tmp, "prox.c")
            with open(src, "w") as f:
                f.write(_SOURCE)
            out = os.path.join(tmp, "prox.so")
            subprocess.run([cc, *_FLAGS, src, "-o", out, "-lm"], check=True, capture_output=True, timeout=120)
            os.replace(out, target)  # atomic: concurrent builders each install a complete file
    lib = ctypes.CDLL(target)
    for name in ("deeplasso_adam_f32", "deeplasso_adam_f64"):
        fn = getattr(lib, name)
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] + [ctypes.c_double] * 5
    for name, ct in (("deeplasso_prox_f32", ctypes.c_float), ("deeplasso_prox_f64", ctypes.c_double)):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                       ct, ct]
    return lib


def _load():
    global _lib, _tried
    if _tried:
        return _lib
    with _lock:
        if not _tried:
            if os.environ.get("DEEPLASSO_NATIVE", "1") not in ("0", "false", "no", "off"):
                try:
                    _lib = _build()
                except (OSError, subprocess.SubprocessError, ValueError):
                    _lib = None
            _tried = True
    return _lib


def native_available() -> bool:
    """Whether the C prox kernel is built and loaded (builds it on first call)."""
    return _load() is not None


def native_prox(weight: torch.Tensor, K: int, lam: float, M: float) -> bool:
    """In-place hier-prox of a fused CPU weight (rows ``[:K]`` theta, ``[K:]`` W0) with
    the C kernel. Returns False (and does nothing) where the kernel does not apply:
    not built, not CPU, not float32/float64, or columns not contiguous in memory."""
    prox = native_prox_bound(weight, K, lam, M)
    if prox is None:
        return False
    prox()
    return True


def native_prox_bound(weight: torch.Tensor, K: int, lam: float, M: float):
    """A no-argument callable that applies :func:`native_prox` to ``weight`` with these
    settings (the argument checks done once, e.g. per epoch), or None where the kernel
    does not apply. ``weight`` must keep its storage while the callable is used."""
    if weight.device.type != "cpu" or weight.dtype not in (torch.float32, torch.float64) or weight.ndim != 2:
        return None
    if weight.shape[1] > 1 and weight.stride(1) != 1:
        return None
    lib = _load()
    if lib is None:
        return None
    rows, d = weight.shape
    fn = lib.deeplasso_prox_f32 if weight.dtype == torch.float32 else lib.deeplasso_prox_f64
    args = (weight.data_ptr(), K, rows - K, d, weight.stride(0), float(lam), float(M))

    def prox() -> None:
        if fn(*args):
            raise MemoryError("hier-prox kernel: out of memory")

    return prox


def native_adam_bound(flat, grad, exp_avg, exp_avg_sq, lr: float, betas, eps: float):
    """A callable ``adam(t)`` doing one Adam step at step count ``t`` (>= 1) on the
    flat CPU buffers in one C call (the same update as ``torch._fused_adam_``, whose
    dispatch costs more than the arithmetic on a small model), or None where the
    kernel does not apply. The buffers must keep their storage."""
    bufs = (flat, grad, exp_avg, exp_avg_sq)
    if any(b.device.type != "cpu" or b.dtype != flat.dtype or not b.is_contiguous() for b in bufs):
        return None
    if flat.dtype not in (torch.float32, torch.float64):
        return None
    lib = _load()
    if lib is None:
        return None
    fn = lib.deeplasso_adam_f32 if flat.dtype == torch.float32 else lib.deeplasso_adam_f64
    ptrs = tuple(b.data_ptr() for b in bufs)
    n, lr, b1, b2, eps = flat.numel(), float(lr), float(betas[0]), float(betas[1]), float(eps)

    def adam(t: int) -> None:
        fn(*ptrs, n, lr, b1, b2, eps, float(t))

    return adam
