"""Small C kernels for CPU, built on first use: the in-place hier-prox, Adam, and a
whole training epoch of the LassoNet MLP (gather, forward, backward through PyTorch's
own BLAS gemm, Adam, prox per mini-batch; see ``FastAdamStep.native_epoch``).

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
#include <string.h>

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
    enum { JB = 32 };                                                                       \
    T *buf = (T *)malloc(sizeof(T) * (5 * d + H + JB * H + 1));                             \
    if (!buf) return 1;                                                                     \
    T *vn = buf, *amax = buf + d, *l1 = buf + 2 * d, *cap = buf + 3 * d, *cnt = buf + 4 * d;\
    T *a = buf + 5 * d, *blk = a + H;                                                       \
    int64_t blk_start = -1;                                                                 \
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
        /* the column's |u|, from a transposed copy of its block of JB columns (made */    \
        /* once per block, from contiguous row segments: strided reads down a column */    \
        /* of a wide weight touch a new page per entry; 1.15x on 80 x 3072, all hard) */    \
        const int64_t b0 = j - j % JB;                                                      \
        if (b0 != blk_start) {                                                              \
            const int64_t bw = d - b0 < JB ? d - b0 : JB;                                   \
            for (int64_t i = 0; i < H; ++i) {                                               \
                const T *row = w + (K + i) * ld + b0;                                       \
                for (int64_t c2 = 0; c2 < bw; ++c2) blk[c2 * H + i] = FABS(row[c2]);        \
            }                                                                               \
            blk_start = b0;                                                                 \
        }                                                                                   \
        const T *col = blk + (j - b0) * H;                                                  \
        int64_t n = 0;                                                                      \
        for (int64_t i = 0; i < H; ++i) {                                                   \
            T x = col[i];                                                                   \
            if (x > lo) a[n++] = x;                                                         \
        }                                                                                   \
        /* Newton on F(r) = r - shrunk - M sum_i (a_i - M r)_+ (concave, increasing, */     \
        /* piecewise linear) from r1 < r*: each pass keeps the entries above M r,     */     \
        /* which are the clipped ones at the next iterate; the set only shrinks, and */     \
        /* once it stays the same the iterate is the root. Contiguous passes over a  */     \
        /* few dozen entries: 5x faster than the heap on columns with many small     */     \
        /* entries; the heap stays for the rare column that needs more passes.       */     \
        /* r1 came from all cnt[j] nonzero entries: if the pass keeps them all, done */     \
        T rn = r1 > 0 ? r1 : 0;                                                             \
        int64_t mprev = (int64_t)cnt[j], done = 0;                                          \
        for (int it = 0; it < 4; ++it) {                                                   \
            const T thr = M * rn;                                                           \
            T Sn = 0;                                                                       \
            int64_t k = 0;                                                                  \
            for (int64_t i = 0; i < n; ++i) {                                               \
                T x = a[i];                                                                 \
                if (x > thr) { a[k++] = x; Sn += x; }                                       \
            }                                                                               \
            n = k;                                                                          \
            T num = shrunk + M * Sn;                                                        \
            T r2 = (num > 0 ? num : 0) / (1 + (T)k * M2);                                   \
            if (k == mprev || k == 0) { rn = r2; done = 1; break; }                         \
            mprev = k; rn = r2;                                                             \
        }                                                                                   \
        if (done) {                                                                         \
            vn[j] = rn / v;                                                                 \
            cap[j] = M * rn;                                                                \
            continue;                                                                       \
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

/* SGD with momentum mu (no dampening, no Nesterov), as torch.optim.SGD: buf = mu buf + g */
/* (buf starts at zero, so the first step is buf = g, as torch's); p -= lr buf.           */
#define DEFINE_SGDM(NAME, T)                                                                \
static void NAME(T *p, const T *g, T *buf, int64_t n, double lr, double mu) {               \
    const T l = (T)lr, m = (T)mu;                                                           \
    for (int64_t i = 0; i < n; ++i) {                                                       \
        T bi = m * buf[i] + g[i];                                                           \
        buf[i] = bi;                                                                        \
        p[i] -= l * bi;                                                                     \
    }                                                                                       \
}

DEFINE_SGDM(deeplasso_sgdm_f32, float)
DEFINE_SGDM(deeplasso_sgdm_f64, double)

/* One epoch of LassoNet MLP training (the step of deeplasso.fast.FastAdamStep, then */
/* Adam or SGD with momentum, then the prox, per mini-batch) in one call. Matrix    */
/* products go to the BLAS gemm that PyTorch itself uses (its Fortran symbol, passed */
/* in as a pointer); the rest is plain loops. Row-major throughout; W_in is R x d    */
/* (R = K + H0).                                                                     */
typedef void (*gemm_f32_t)(const char *, const char *, const int *, const int *, const int *, const float *,
                           const float *, const int *, const float *, const int *, const float *, float *,
                           const int *);
typedef void (*gemm_f64_t)(const char *, const char *, const int *, const int *, const int *, const double *,
                           const double *, const int *, const double *, const int *, const double *, double *,
                           const int *);

#define DEFINE_EPOCH(NAME, T, GEMM_T, PROX, ADAM, SGDM, EXP)                                \
static void NAME##_mm(GEMM_T gemm, char ta, char tb, int64_t m, int64_t n, int64_t k,       \
                      const T *A, int64_t lda, const T *B, int64_t ldb, T beta, T *C,       \
                      int64_t ldc) {                                                        \
    /* row-major C = op(A) op(B) + beta C is column-major C^T = op(B)^T op(A)^T */          \
    int M_ = (int)n, N_ = (int)m, K_ = (int)k, la = (int)ldb, lb = (int)lda, lc = (int)ldc; \
    T one = 1;                                                                              \
    if (m == 0 || n == 0) return;                                                           \
    gemm(&tb, &ta, &M_, &N_, &K_, &one, B, &la, A, &lb, &beta, C, &lc);                     \
}                                                                                           \
int NAME(GEMM_T gemm, const T *X, int64_t ldx, const int64_t *perm, int64_t n, int64_t bs,  \
         const int64_t *ylab, const T *yreg, const T *cw,                                   \
         int64_t K, int64_t R, int64_t d, int64_t da, const int64_t *act,                   \
         T *W_in, const T *b_in, T *gW_in, T *gb_in,                                        \
         int64_t nh, const int64_t *widths, T **Wh, T **bh, T **gWh, T **gbh,               \
         const T *W_out, T *gW_out,                                                         \
         T *flat, const T *grad, T *mom, T *vel, int64_t np, double lr, double b1,          \
         double b2, double eps, int64_t sgd, int64_t t0, T lam, T M) {                      \
    const int body = W_out != 0;                                                            \
    int64_t hsz = 0;                                                                        \
    if (body) for (int64_t j = 0; j <= nh; ++j) hsz += bs * widths[j];                      \
    const int64_t L = body ? widths[nh] : 0;                                                \
    size_t total = (size_t)(bs * da + 2 * bs * R + bs * K + 2 * hsz + (act ? 2 * R * da : 0)); \
    T *work = (T *)malloc(sizeof(T) * (total ? total : 1));                                 \
    T **hs = (T **)malloc(sizeof(T *) * (size_t)(2 * (nh + 1) + 2));                        \
    if (!work || !hs) { free(work); free(hs); return 1; }                                   \
    T *xb = work, *z = xb + bs * da, *dz = z + bs * R, *outb = dz + bs * R, *p = outb + bs * K; \
    T **dhs = hs + nh + 1;                                                                  \
    if (body) for (int64_t j = 0; j <= nh; ++j) {                                           \
        hs[j] = p; p += bs * widths[j]; dhs[j] = p; p += bs * widths[j];                    \
    }                                                                                       \
    T *Wa = act ? p : 0, *gWa = act ? p + R * da : 0;                                       \
    int64_t t = t0;                                                                         \
    for (int64_t start = 0; start < n; start += bs) {                                       \
        const int64_t B = n - start < bs ? n - start : bs;                                  \
        const int64_t *rows = perm + start;                                                 \
        for (int64_t i = 0; i < B; ++i)                                                     \
            memcpy(xb + i * da, X + rows[i] * ldx, sizeof(T) * (size_t)da);                 \
        const T *Wu = W_in; int64_t ldw = d;                                                \
        if (act) {                                                                          \
            for (int64_t r = 0; r < R; ++r)                                                 \
                for (int64_t c = 0; c < da; ++c) Wa[r * da + c] = W_in[r * d + act[c]];     \
            Wu = Wa; ldw = da;                                                              \
        }                                                                                   \
        for (int64_t i = 0; i < B; ++i) memcpy(z + i * R, b_in, sizeof(T) * (size_t)R);     \
        NAME##_mm(gemm, 'N', 'T', B, R, da, xb, da, Wu, ldw, 1, z, R);                      \
        const T *out = z; int64_t ldo = R;                                                  \
        if (body) {                                                                         \
            const int64_t H0 = widths[0];                                                   \
            for (int64_t i = 0; i < B; ++i)                                                 \
                for (int64_t c = 0; c < H0; ++c) {                                          \
                    T x = z[i * R + K + c]; hs[0][i * H0 + c] = x > 0 ? x : 0;              \
                }                                                                           \
            for (int64_t j = 0; j < nh; ++j) {                                              \
                const int64_t a = widths[j], o = widths[j + 1];                             \
                T *hn = hs[j + 1];                                                          \
                for (int64_t i = 0; i < B; ++i) memcpy(hn + i * o, bh[j], sizeof(T) * (size_t)o); \
                NAME##_mm(gemm, 'N', 'T', B, o, a, hs[j], a, Wh[j], a, 1, hn, o);           \
                for (int64_t q = 0; q < B * o; ++q) hn[q] = hn[q] > 0 ? hn[q] : 0;          \
            }                                                                               \
            for (int64_t i = 0; i < B; ++i) memcpy(outb + i * K, z + i * R, sizeof(T) * (size_t)K); \
            NAME##_mm(gemm, 'N', 'T', B, K, L, hs[nh], L, W_out, L, 1, outb, K);            \
            out = outb; ldo = K;                                                            \
        }                                                                                   \
        /* d mean-loss / d out, into dz[:, :K] */                                           \
        if (ylab) {                                                                         \
            T wsum = 0;                                                                     \
            if (cw) for (int64_t i = 0; i < B; ++i) wsum += cw[ylab[rows[i]]];              \
            for (int64_t i = 0; i < B; ++i) {                                               \
                const T *o = out + i * ldo;                                                 \
                T *g = dz + i * R;                                                          \
                T mx = o[0], s = 0;                                                         \
                for (int64_t c = 1; c < K; ++c) mx = o[c] > mx ? o[c] : mx;                 \
                for (int64_t c = 0; c < K; ++c) { g[c] = EXP(o[c] - mx); s += g[c]; }       \
                const int64_t yi = ylab[rows[i]];                                           \
                const T coef = cw ? cw[yi] / wsum : (T)1 / (T)B;                            \
                for (int64_t c = 0; c < K; ++c) g[c] = coef * (g[c] / s - (c == yi ? 1 : 0)); \
            }                                                                               \
        } else {                                                                            \
            const T coef = (T)2 / (T)(B * K);                                               \
            for (int64_t i = 0; i < B; ++i)                                                 \
                for (int64_t c = 0; c < K; ++c)                                             \
                    dz[i * R + c] = (out[i * ldo + c] - yreg[rows[i] * K + c]) * coef;      \
        }                                                                                   \
        if (body) {                                                                         \
            NAME##_mm(gemm, 'T', 'N', K, L, B, dz, R, hs[nh], L, 0, gW_out, L);             \
            T *dh = dhs[nh];                                                                \
            NAME##_mm(gemm, 'N', 'N', B, L, K, dz, R, W_out, L, 0, dh, L);                  \
            for (int64_t j = nh - 1; j >= 0; --j) {                                         \
                const int64_t a = widths[j], o = widths[j + 1];                             \
                const T *h = hs[j + 1];                                                     \
                for (int64_t q = 0; q < B * o; ++q) dh[q] = h[q] > 0 ? dh[q] : 0;           \
                NAME##_mm(gemm, 'T', 'N', o, a, B, dh, o, hs[j], a, 0, gWh[j], a);          \
                for (int64_t c = 0; c < o; ++c) gbh[j][c] = 0;                              \
                for (int64_t i = 0; i < B; ++i)                                             \
                    for (int64_t c = 0; c < o; ++c) gbh[j][c] += dh[i * o + c];             \
                NAME##_mm(gemm, 'N', 'N', B, a, o, dh, o, Wh[j], a, 0, dhs[j], a);          \
                dh = dhs[j];                                                                \
            }                                                                               \
            const int64_t H0 = widths[0];                                                   \
            for (int64_t i = 0; i < B; ++i)                                                 \
                for (int64_t c = 0; c < H0; ++c)                                            \
                    dz[i * R + K + c] = hs[0][i * H0 + c] > 0 ? dh[i * H0 + c] : 0;         \
        }                                                                                   \
        if (act) {                                                                          \
            NAME##_mm(gemm, 'T', 'N', R, da, B, dz, R, xb, da, 0, gWa, da);                 \
            for (int64_t r = 0; r < R; ++r)                                                 \
                for (int64_t c = 0; c < da; ++c) gW_in[r * d + act[c]] = gWa[r * da + c];   \
        } else {                                                                            \
            NAME##_mm(gemm, 'T', 'N', R, d, B, dz, R, xb, d, 0, gW_in, d);                  \
        }                                                                                   \
        for (int64_t c = 0; c < R; ++c) gb_in[c] = 0;                                       \
        for (int64_t i = 0; i < B; ++i)                                                     \
            for (int64_t c = 0; c < R; ++c) gb_in[c] += dz[i * R + c];                      \
        ++t;                                                                                \
        if (sgd) SGDM(flat, grad, mom, np, lr, b1); /* b1: the momentum */                  \
        else ADAM(flat, grad, mom, vel, np, lr, b1, b2, eps, (double)t);                    \
        if (PROX(W_in, K, R - K, d, d, lam, M)) { free(work); free(hs); return 1; }         \
    }                                                                                       \
    free(work); free(hs);                                                                   \
    return 0;                                                                               \
}

DEFINE_EPOCH(deeplasso_epoch_f32, float, gemm_f32_t, deeplasso_prox_f32, deeplasso_adam_f32, deeplasso_sgdm_f32, expf)
DEFINE_EPOCH(deeplasso_epoch_f64, double, gemm_f64_t, deeplasso_prox_f64, deeplasso_adam_f64, deeplasso_sgdm_f64, exp)
"""
# -ffp-contract=off: no fused multiply-adds, so results do not depend on the CPU's FMA.
# -fno-math-errno: sqrt need not set errno, so the Adam loop vectorises (2x at CIFAR-10's
# input layer). No -ffast-math: every operation stays IEEE, in source order.
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-fast-math", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]


def _cpu_flags() -> list[str]:
    """``-mavx2`` where this CPU has AVX2 (8-wide float vectors instead of 4: Adam and the
    prox passes 1.2x faster at CIFAR-10's shape). The results are the same bits (no
    FMA, no reassociation); the flag is part of the build's cache key, so a machine
    without AVX2 builds its own library."""
    if os.uname().machine not in ("x86_64", "AMD64"):
        return []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return ["-mavx2"] if " avx2" in line else []
    except OSError:
        pass
    return []

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
    flags = _FLAGS + _cpu_flags()
    key = hashlib.sha256((_SOURCE + " ".join(flags) + sys.platform + os.uname().machine).encode()).hexdigest()[:16]
    directory = _cache_dir()
    target = os.path.join(directory, f"prox_{key}.so")
    if not os.path.exists(target):
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            src = os.path.join(tmp, "prox.c")
            with open(src, "w") as f:
                f.write(_SOURCE)
            out = os.path.join(tmp, "prox.so")
            subprocess.run([cc, *flags, src, "-o", out, "-lm"], check=True, capture_output=True, timeout=120)
            os.replace(out, target)  # atomic: concurrent builders each install a complete file
    lib = ctypes.CDLL(target)
    for name in ("deeplasso_adam_f32", "deeplasso_adam_f64"):
        fn = getattr(lib, name)
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] + [ctypes.c_double] * 5
    P, I, D = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    for name, ct in (("deeplasso_epoch_f32", ctypes.c_float), ("deeplasso_epoch_f64", ctypes.c_double)):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_int
        fn.argtypes = ([P, P, I, P, I, I, P, P, P, I, I, I, I, P, P, P, P, P, I, P, P, P, P, P, P, P,
                        P, P, P, P, I, D, D, D, D, I, I, ct, ct])
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


_gemm_cache: dict | None = None


def native_gemm(dtype: torch.dtype) -> int | None:
    """Address of the Fortran BLAS ``sgemm_`` / ``dgemm_`` that PyTorch is linked with
    (MKL in the x86 wheels), or None where it does not export one. Calling the same
    BLAS as ``torch.mm`` keeps the C epoch's matrix products as fast as PyTorch's and
    under PyTorch's thread setting."""
    global _gemm_cache
    if _gemm_cache is None:
        found: dict = {}
        libdir = os.path.join(os.path.dirname(torch.__file__), "lib")
        names = [os.path.join(libdir, n) for n in ("libtorch_cpu.so", "libtorch_cpu.dylib")]
        for path in [None, *names]:
            if path is not None and not os.path.exists(path):
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for sym, dt in (("sgemm_", torch.float32), ("dgemm_", torch.float64)):
                if dt not in found and hasattr(lib, sym):
                    found[dt] = ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value
        _gemm_cache = found
    return _gemm_cache.get(dtype)


def native_epoch_function(dtype: torch.dtype):
    """The C epoch kernel for ``dtype`` and the gemm address it needs, or None."""
    if dtype not in (torch.float32, torch.float64) or os.environ.get("DEEPLASSO_NATIVE_EPOCH", "1") in (
            "0", "false", "no", "off"):
        return None
    lib = _load()
    gemm = native_gemm(dtype)
    if lib is None or gemm is None:
        return None
    return (lib.deeplasso_epoch_f32 if dtype == torch.float32 else lib.deeplasso_epoch_f64), gemm


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
