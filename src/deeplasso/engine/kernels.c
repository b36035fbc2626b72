/* C kernels of deeplasso (see deeplasso/engine/native.py, which builds this file on
 * first use with the system C compiler and calls it through ctypes):
 *
 * - deeplasso_prox_f32/_f64: the in-place hier-prox of a fused input weight;
 * - deeplasso_adam_f32/_f64: one Adam step over flat buffers;
 * - deeplasso_epoch_f32/_f64: a whole training epoch of the LassoNet MLP, its
 *   arguments in one struct deeplasso_epoch_args, whose layout
 *   deeplasso_epoch_args_layout reports.
 *
 * Results must not depend on the build: native.py compiles with -fno-fast-math and
 * -ffp-contract=off (no FMA), so every operation stays IEEE, in source order. Each kernel is
 * written once as a macro over the element type T and instantiated for float and
 * double. Plain C99, no PyTorch headers; tests/test_native.py compiles it with
 * -Wall -Wextra -Werror.
 */
#include <math.h>
#include <stddef.h>
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

/* One epoch of LassoNet MLP training (the step of NativeEpochStep: gradient, then   */
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

/* The epoch's arguments, one struct for both element types T (float, double): the    */
/* arrays of T are void pointers here and typed in the kernel, and the two real      */
/* hyper-parameters lam and M are doubles rounded to T there (as the conversion of a */
/* Python float to ctypes.c_float rounds). Every field is 8 bytes, so there is no    */
/* padding. The list is written once: it gives the struct and the table that         */
/* deeplasso_epoch_args_layout reports, which tests/test_native.py and the loader    */
/* check against deeplasso.engine.native.EpochArgs (ctypes), field by field.         */
typedef void (*deeplasso_fn)(void);  /* any function; cast to gemm_f32_t or gemm_f64_t */

#define DEEPLASSO_EPOCH_ARGS(FIELD)                                                         \
    FIELD(deeplasso_fn, gemm)      /* the Fortran BLAS sgemm_ or dgemm_ PyTorch links */    \
    FIELD(const void *, X)         /* T, n x ldx: the rows (all columns or the active) */   \
    FIELD(int64_t, ldx)            /* row stride of X, in elements */                       \
    FIELD(const int64_t *, perm)   /* n row indices: the epoch's order */                   \
    FIELD(int64_t, n)              /* rows in the epoch */                                  \
    FIELD(int64_t, bs)             /* mini-batch size (the last batch may be smaller) */    \
    FIELD(const int64_t *, ylab)   /* class labels (classification), else NULL */           \
    FIELD(const void *, yreg)      /* T, targets x K (regression), else NULL */             \
    FIELD(const void *, cw)        /* T, class weights, or NULL */                          \
    FIELD(int64_t, K)              /* outputs: rows of theta */                             \
    FIELD(int64_t, R)              /* rows of W_in: K + H0 */                               \
    FIELD(int64_t, d)              /* columns of W_in: all inputs */                        \
    FIELD(int64_t, da)             /* columns of X: d, or the active ones */                \
    FIELD(const int64_t *, act)    /* da active input columns, or NULL for all */           \
    FIELD(void *, W_in)            /* T, R x d: theta over W0 */                            \
    FIELD(const void *, b_in)      /* T, R */                                               \
    FIELD(void *, gW_in)           /* T, R x d: its gradient */                             \
    FIELD(void *, gb_in)           /* T, R */                                               \
    FIELD(int64_t, nh)             /* hidden layers after the first */                      \
    FIELD(const int64_t *, widths) /* nh + 1 widths: H0, then each hidden layer's */        \
    FIELD(void *, Wh)              /* T *[nh]: hidden weights (widths[j+1] x widths[j]) */  \
    FIELD(void *, bh)              /* T *[nh]: hidden biases */                             \
    FIELD(void *, gWh)             /* T *[nh]: their gradients */                           \
    FIELD(void *, gbh)             /* T *[nh] */                                            \
    FIELD(const void *, W_out)     /* T, K x widths[nh]; NULL: no body (linear model) */    \
    FIELD(void *, gW_out)          /* T, K x widths[nh] */                                  \
    FIELD(void *, flat)            /* T, np: all parameters (the arrays above point in) */  \
    FIELD(const void *, grad)      /* T, np: all gradients */                               \
    FIELD(void *, mom)             /* T, np: Adam's first moment, or SGD's momentum */      \
    FIELD(void *, vel)             /* T, np: Adam's second moment */                        \
    FIELD(int64_t, np)             /* parameters */                                         \
    FIELD(double, lr)              /* learning rate */                                      \
    FIELD(double, b1)              /* Adam's beta1, or SGD's momentum */                    \
    FIELD(double, b2)              /* Adam's beta2 */                                       \
    FIELD(double, eps)             /* Adam's eps */                                         \
    FIELD(int64_t, sgd)            /* 1: SGD with momentum, 0: Adam */                      \
    FIELD(int64_t, t0)             /* optimizer steps taken before this epoch */            \
    FIELD(double, lam)             /* prox threshold: lambda times lr (rounded to T) */     \
    FIELD(double, M)               /* hierarchy constant (rounded to T) */                  \
    FIELD(int64_t, gs)             /* group size s: the groups {g + c d/s : c < s}; 1: none */

#define DEEPLASSO_DECLARE_FIELD(TYPE, NAME) TYPE NAME;
struct deeplasso_epoch_args { DEEPLASSO_EPOCH_ARGS(DEEPLASSO_DECLARE_FIELD) };

#define DEEPLASSO_COUNT_FIELD(TYPE, NAME) + 1
enum { DEEPLASSO_EPOCH_ARGS_N = 0 DEEPLASSO_EPOCH_ARGS(DEEPLASSO_COUNT_FIELD) };

/* The struct's layout: returns the number of fields, n. With out non-NULL, writes     */
/* out[0] = sizeof the struct and, per field i, out[1 + 2i] = its offset and          */
/* out[2 + 2i] = its size (2n + 1 entries); with names non-NULL, names[i] = its name.  */
int64_t deeplasso_epoch_args_layout(int64_t *out, const char **names) {
    int64_t i = 0;
    if (out) out[0] = (int64_t)sizeof(struct deeplasso_epoch_args);
#define DEEPLASSO_DESCRIBE_FIELD(TYPE, NAME)                                                \
    if (out) {                                                                              \
        out[1 + 2 * i] = (int64_t)offsetof(struct deeplasso_epoch_args, NAME);              \
        out[2 + 2 * i] = (int64_t)sizeof(((struct deeplasso_epoch_args *)0)->NAME);         \
    }                                                                                       \
    if (names) names[i] = #NAME;                                                            \
    ++i;
    DEEPLASSO_EPOCH_ARGS(DEEPLASSO_DESCRIBE_FIELD)
#undef DEEPLASSO_DESCRIBE_FIELD
    return i;
}

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
int NAME(const struct deeplasso_epoch_args *args) {                                         \
    const GEMM_T gemm = (GEMM_T)args->gemm;                                                 \
    const T *X = (const T *)args->X;                                                        \
    const int64_t ldx = args->ldx, n = args->n, bs = args->bs, *perm = args->perm;          \
    const int64_t *ylab = args->ylab;                                                       \
    const T *yreg = (const T *)args->yreg, *cw = (const T *)args->cw;                       \
    const int64_t K = args->K, R = args->R, d = args->d, da = args->da, *act = args->act;   \
    T *W_in = (T *)args->W_in, *gW_in = (T *)args->gW_in, *gb_in = (T *)args->gb_in;        \
    const T *b_in = (const T *)args->b_in;                                                  \
    const int64_t nh = args->nh, *widths = args->widths;                                    \
    T **Wh = (T **)args->Wh, **bh = (T **)args->bh, **gWh = (T **)args->gWh;                \
    T **gbh = (T **)args->gbh;                                                              \
    const T *W_out = (const T *)args->W_out;                                                \
    T *gW_out = (T *)args->gW_out;                                                          \
    T *flat = (T *)args->flat, *mom = (T *)args->mom, *vel = (T *)args->vel;                \
    const T *grad = (const T *)args->grad;                                                  \
    const int64_t np = args->np, sgd = args->sgd, t0 = args->t0;                            \
    const double lr = args->lr, b1 = args->b1, b2 = args->b2, eps = args->eps;              \
    const T lam = (T)args->lam, M = (T)args->M;                                             \
    /* groups {g + c G : c < s}, d = s G: W_in read row-major is an R s x G matrix whose   */ \
    /* columns are the groups (theta rows first), so the flat prox on it is the grouped one */ \
    const int64_t gs = args->gs > 1 ? args->gs : 1;                                         \
    if (gs > 1 && (act || d % gs)) return 2;                                                \
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
        if (PROX(W_in, K * gs, (R - K) * gs, d / gs, d / gs, lam, M)) { free(work); free(hs); return 1; } \
    }                                                                                       \
    free(work); free(hs);                                                                   \
    return 0;                                                                               \
}

DEFINE_EPOCH(deeplasso_epoch_f32, float, gemm_f32_t, deeplasso_prox_f32, deeplasso_adam_f32, deeplasso_sgdm_f32, expf)
DEFINE_EPOCH(deeplasso_epoch_f64, double, gemm_f64_t, deeplasso_prox_f64, deeplasso_adam_f64, deeplasso_sgdm_f64, exp)
