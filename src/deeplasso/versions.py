"""What runs here: versions of deeplasso and its dependencies, the platform, CUDA, and
which backend the CPU kernels use (for bug reports)."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

#: the package's version (also pyproject.toml's)
__version__ = "0.1.0"

__all__ = ["show_versions"]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cuda() -> str:
    import torch

    if not torch.cuda.is_available():
        return f"not available (torch built with CUDA {torch.version.cuda})" if torch.version.cuda else "not available"
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return f"available (CUDA {torch.version.cuda}; {names})"


def _native() -> list[tuple[str, str]]:
    from .engine.native import native_status

    s = native_status()
    if s["backend"] == "c":
        backend = f"c (C kernels, compiler {s['compiler']})"
    else:
        backend = f"pytorch ({s['reason']})"
    return [("native backend", backend), ("native library", s["library"] or "none"), ("native cache", s["cache"])]


def show_versions(file=None) -> None:
    """Print the versions of deeplasso, Python, torch, numpy and scikit-learn, the
    platform, whether CUDA is available, and which backend the CPU kernels run on
    (``c``: the C kernels built with the system compiler; ``pytorch``: the fallback,
    with the reason). Builds the C kernels if they are not built yet."""
    rows = [
        ("deeplasso", __version__),
        ("python", sys.version.replace("\n", " ")),
        ("torch", _version("torch")),
        ("numpy", _version("numpy")),
        ("scikit-learn", _version("scikit-learn")),
        ("platform", platform.platform()),
        ("CUDA", _cuda()),
        *_native(),
    ]
    width = max(len(k) for k, _ in rows) + 1
    for key, value in rows:
        print(f"{key + ':':<{width}} {value}", file=file or sys.stdout)
