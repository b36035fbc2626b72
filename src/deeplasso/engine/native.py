"""Small C kernels for CPU, built on first use: the in-place hier-prox, Adam, and a
whole training epoch of the LassoNet MLP (gather, forward, backward through PyTorch's
own BLAS gemm, Adam, prox per mini-batch; see ``NativeEpochStep.native_epoch``).
The C source is ``kernels.c`` next to this module, shipped as package data.

Why: on small models the prox is a few dozen tiny tensor operations per training
step (norms, masks, a sort of the hard columns, index copies), and each costs a few
microseconds of dispatch, so it took longer than the step itself (on digits: 63% of
a whole path). One C loop over the columns does the same work in one call.

How: plain C (no PyTorch headers), compiled with the system C compiler into a
shared library cached under ``$DEEPLASSO_CACHE`` (default ``~/.cache/deeplasso``),
keyed by a hash of the source, flags and platform; called through ``ctypes`` on the
weight's ``data_ptr``. The build takes well under a second. Without a compiler, on a
failed build, or with ``DEEPLASSO_NATIVE=0`` nothing is built and the caller falls
back to the PyTorch implementation (``deeplasso.engine.prox.hier_prox_fused_``), which
solves the same problem; tests check both agree. A build or load that fails warns
once per process (``DEEPLASSO_NATIVE=0`` chooses PyTorch and does not warn);
:func:`native_status` (and ``deeplasso.show_versions()``) tells which backend runs.

The epoch kernel takes one ``struct deeplasso_epoch_args``, mirrored here by
:class:`EpochArgs`; the library reports the struct's layout and the loader (and
``tests/test_native.py``) check it against :class:`EpochArgs`, field by field.

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
import importlib.resources
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import warnings

import torch

__all__ = ["native_prox", "native_prox_bound", "native_adam_bound", "native_available", "native_status",
           "EpochArgs"]

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

def kernel_source() -> str:
    """The C source, ``kernels.c`` (package data next to this module)."""
    return importlib.resources.files(__package__).joinpath("kernels.c").read_text(encoding="utf-8")


_P, _I, _D = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double


class EpochArgs(ctypes.Structure):
    """``struct deeplasso_epoch_args`` of ``kernels.c``: the arguments of the epoch
    kernel, in the same order (the comments there say what each is). Arrays of the
    element type are plain addresses; ``lam`` and ``M`` are doubles that the kernel
    rounds to its type. :func:`epoch_args_mismatches` checks this against the C
    layout."""

    _fields_ = [
        ("gemm", _P), ("X", _P), ("ldx", _I), ("perm", _P), ("n", _I), ("bs", _I),
        ("ylab", _P), ("yreg", _P), ("cw", _P),
        ("K", _I), ("R", _I), ("d", _I), ("da", _I), ("act", _P),
        ("W_in", _P), ("b_in", _P), ("gW_in", _P), ("gb_in", _P),
        ("nh", _I), ("widths", _P), ("Wh", _P), ("bh", _P), ("gWh", _P), ("gbh", _P),
        ("W_out", _P), ("gW_out", _P),
        ("flat", _P), ("grad", _P), ("mom", _P), ("vel", _P), ("np", _I),
        ("lr", _D), ("b1", _D), ("b2", _D), ("eps", _D), ("sgd", _I), ("t0", _I),
        ("lam", _D), ("M", _D), ("gs", _I),
    ]


def epoch_args_layout(lib: ctypes.CDLL) -> tuple[int, list[tuple[str, int, int]]]:
    """The C side's ``(sizeof struct, [(field, offset, size), ...])``, from the
    library's ``deeplasso_epoch_args_layout``."""
    fn = lib.deeplasso_epoch_args_layout
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    n = fn(None, None)
    out = (ctypes.c_int64 * (2 * n + 1))()
    names = (ctypes.c_char_p * n)()
    fn(out, names)
    return out[0], [(names[i].decode(), out[1 + 2 * i], out[2 + 2 * i]) for i in range(n)]


def epoch_args_mismatches(lib: ctypes.CDLL) -> list[str]:
    """How :class:`EpochArgs` differs from the C struct (names, order, offsets, sizes,
    total size); empty when they agree."""
    size, fields = epoch_args_layout(lib)
    ours = [(name, getattr(EpochArgs, name).offset, getattr(EpochArgs, name).size) for name, _ in EpochArgs._fields_]
    problems = [f"sizeof: C {size}, ctypes {ctypes.sizeof(EpochArgs)}"] if size != ctypes.sizeof(EpochArgs) else []
    for i in range(max(len(fields), len(ours))):
        c = fields[i] if i < len(fields) else None
        py = ours[i] if i < len(ours) else None
        if c != py:
            problems.append(f"field {i}: C {c} (name, offset, size), ctypes {py}")
    return problems


_lock = threading.Lock()
_lib = None
_tried = False
_failure: str | None = None  # why the build or load failed (None: built, or switched off)
_warned = False
_status: dict = {}  # reason (None when built), compiler, library: what native_status reports


def _cache_dir() -> str:
    return os.environ.get("DEEPLASSO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "deeplasso")


def _switched_off(name: str) -> bool:
    return os.environ.get(name, "1") in ("0", "false", "no", "off")


def _wanted_compiler() -> str:
    """``$CC``, else the compiler Python was built with, else ``cc`` (its first word)."""
    words = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    return words[0] if words else "cc"


def find_compiler() -> str | None:
    """The path of the C compiler to build with: :func:`_wanted_compiler`, else ``cc``,
    ``gcc`` or ``clang`` on ``PATH``; None where there is none."""
    return shutil.which(_wanted_compiler()) or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


class _BuildError(Exception):
    """The kernels could not be built or loaded; the message says why."""


def _first_lines(text: bytes | str | None, n: int = 5) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return " | ".join(lines[:n]) + (" | ..." if len(lines) > n else "")


def build_flags() -> list[str]:
    """The flags of the normal build (part of the cache key)."""
    return _FLAGS + _cpu_flags()


def compile_command(cc: str, src: str, out: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The command that compiles ``src`` into the shared library ``out`` (``extra``:
    more flags, such as the warnings tests/test_native.py turns on)."""
    return [cc, *build_flags(), *extra, src, "-o", out, "-lm"]


def _compile(cc: str, src: str, out: str) -> None:
    """Compile ``src`` into the shared library ``out``; a failure raises
    :class:`_BuildError` with the compiler's first lines of output."""
    try:
        subprocess.run(compile_command(cc, src, out), check=True, capture_output=True, timeout=120)
    except subprocess.CalledProcessError as e:
        raise _BuildError(f"the C compiler {cc} failed (exit {e.returncode}): "
                          f"{_first_lines(e.stderr) or _first_lines(e.stdout) or 'no output'}") from None
    except subprocess.TimeoutExpired:
        raise _BuildError(f"the C compiler {cc} took more than 120 s") from None
    except OSError as e:
        raise _BuildError(f"the C compiler {cc} could not run: {e}") from None


def _build() -> ctypes.CDLL:
    cc = find_compiler()
    _status["compiler"] = cc
    if cc is None:
        raise _BuildError(f"no C compiler found (looked for {_wanted_compiler()!r}, cc, gcc and clang)")
    source = kernel_source()
    key = hashlib.sha256((source + " ".join(build_flags()) + sys.platform + os.uname().machine).encode())
    directory = _cache_dir()
    target = os.path.join(directory, f"kernels_{key.hexdigest()[:16]}.so")
    if not os.path.exists(target):
        try:
            os.makedirs(directory, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=directory) as tmp:
                src = os.path.join(tmp, "kernels.c")
                with open(src, "w", encoding="utf-8") as f:
                    f.write(source)
                out = os.path.join(tmp, "kernels.so")
                _compile(cc, src, out)
                os.replace(out, target)  # atomic: concurrent builders each install a complete file
        except OSError as e:
            raise _BuildError(f"cannot write the build cache {directory}: {e}") from None
    try:
        lib = ctypes.CDLL(target)
    except OSError as e:
        raise _BuildError(f"cannot load {target}: {e}") from None
    _status["library"] = target
    problems = epoch_args_mismatches(lib)
    if problems:
        raise _BuildError("struct deeplasso_epoch_args differs from EpochArgs: " + "; ".join(problems))
    for name in ("deeplasso_adam_f32", "deeplasso_adam_f64"):
        fn = getattr(lib, name)
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] + [ctypes.c_double] * 5
    for name in ("deeplasso_epoch_f32", "deeplasso_epoch_f64"):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.POINTER(EpochArgs)]
    for name, ct in (("deeplasso_prox_f32", ctypes.c_float), ("deeplasso_prox_f64", ctypes.c_double)):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                       ct, ct]
    return lib


def _load(warn: bool = True):
    """The kernels' library, built on the first call; None where it cannot be (then,
    with ``warn``, one RuntimeWarning per process says why, unless the kernels were
    switched off with ``DEEPLASSO_NATIVE=0``)."""
    global _lib, _tried, _failure, _warned
    if not _tried:
        with _lock:
            if not _tried:
                _status.update(reason=None, compiler=None, library=None)
                if _switched_off("DEEPLASSO_NATIVE"):
                    _status["reason"] = "switched off with DEEPLASSO_NATIVE=0"
                else:
                    try:
                        _lib = _build()
                    except _BuildError as e:
                        _failure = str(e)
                    except (OSError, ValueError, AttributeError) as e:  # e.g. a library without a symbol
                        _failure = f"{type(e).__name__}: {e}"
                    if _failure is not None:
                        _status.update(reason=_failure, library=None)
                _tried = True
    if warn and _failure is not None and not _warned:
        _warned = True
        warnings.warn(
            f"deeplasso: the C kernels are not available: {_failure}. Training runs the slower PyTorch step "
            "instead; set DEEPLASSO_NATIVE=0 to choose it and silence this warning.",
            RuntimeWarning, stacklevel=3)
    return _lib


def native_status() -> dict:
    """Which backend the CPU kernels run on (builds the C kernels on the first call,
    without warning): ``backend`` ("c" or "pytorch"), ``reason`` (why not C; None
    when C), ``compiler``, ``cache`` (the build directory) and ``library`` (the
    shared library's path)."""
    lib = _load(warn=False)
    return {"backend": "c" if lib is not None else "pytorch", "reason": _status.get("reason"),
            "compiler": _status.get("compiler"), "cache": _cache_dir(), "library": _status.get("library")}


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
    if dtype not in (torch.float32, torch.float64) or _switched_off("DEEPLASSO_NATIVE_EPOCH"):
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
