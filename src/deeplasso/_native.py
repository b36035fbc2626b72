"""Moved to :mod:`deeplasso.engine.native` (temporary shim)."""

from .engine.native import *  # noqa: F401,F403
from .engine.native import native_epoch_function, native_gemm  # noqa: F401
