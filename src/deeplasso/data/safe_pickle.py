"""Restricted unpickling: load the CIFAR-10 python batches without running code.

:class:`RestrictedUnpickler` only lets a pickle rebuild plain data and numpy
arrays (the globals in :data:`ALLOWED_GLOBALS`) and refuses every other
global, so a hostile file is never run; :func:`safe_unpickle` wraps it and
turns every failure into a :class:`~deeplasso.data.errors.DataFormatError` or
:class:`~deeplasso.data.errors.UnsafePickleError`.
"""

from __future__ import annotations

import importlib
import io
import pickle

import numpy as np

from .errors import DataFormatError, UnsafePickleError

__all__ = ["ALLOWED_GLOBALS", "RestrictedUnpickler", "safe_unpickle"]


def _numpy_attr(*candidates):
    """First importable ``module:attr`` among candidates (numpy 1.x and 2.x)."""
    for cand in candidates:
        mod, attr = cand.split(":")
        try:
            return getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"none of {candidates} is available in this numpy")  # pragma: no cover


class _Refused(pickle.UnpicklingError):
    """Raised inside the unpickler by the allowed callables' own checks."""


def _safe_dtype(obj, align=False, copy=False):
    """``numpy.dtype`` for unpickling: plain (non-object) dtypes only."""
    if isinstance(obj, bytes):  # Python-2 pickles loaded with encoding='bytes'
        obj = obj.decode("latin1")
    if not isinstance(obj, str):
        raise _Refused(f"dtype spec {obj!r} is not a type string")
    dt = np.dtype(obj, bool(align), bool(copy))
    if dt.hasobject:
        raise _Refused(f"object dtype {dt} is not allowed")
    return dt


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """``_codecs.encode`` as used by Python-3 protocol<3 pickles of bytes."""
    if encoding.lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise _Refused(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1", errors)


_RECONSTRUCT = _numpy_attr("numpy._core.multiarray:_reconstruct", "numpy.core.multiarray:_reconstruct")
try:
    _FROMBUFFER = _numpy_attr("numpy._core.numeric:_frombuffer", "numpy.core.numeric:_frombuffer")
except ImportError:  # pragma: no cover - very old numpy
    _FROMBUFFER = None

#: ``(module, name)`` globals the restricted unpickler hands out: exactly what
#: a pickled dict of numpy uint8 arrays needs (Python 2 and 3, numpy 1 and 2).
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _latin1_encode,
}
if _FROMBUFFER is not None:
    ALLOWED_GLOBALS[("numpy.core.numeric", "_frombuffer")] = _FROMBUFFER
    ALLOWED_GLOBALS[("numpy._core.numeric", "_frombuffer")] = _FROMBUFFER


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds plain data and numpy arrays.

    :meth:`find_class` admits the few numpy globals listed in
    :data:`ALLOWED_GLOBALS` and raises :class:`UnsafePickleError` for anything
    else (``os.system``, ``builtins.eval``, ``subprocess``...), so no code from
    the file is ever run.  Persistent ids are refused as well.

    Parameters
    ----------
    file : binary file object
        The pickle stream.
    name : str
        File name used in error messages.
    encoding : str
        How Python-2 ``str`` objects are decoded; ``'bytes'`` as the official
        CIFAR page prescribes.
    """

    def __init__(self, file, name: str = "<pickle>", encoding: str = "bytes"):
        super().__init__(file, encoding=encoding)
        self.name = name

    def find_class(self, module, name):  # noqa: D102
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                self.name,
                f"refused to unpickle: the pickle asks for the global {module}.{name}, "
                "which is not part of the CIFAR-10 python format",
            ) from None

    def persistent_load(self, pid):  # noqa: D102
        raise UnsafePickleError(self.name, f"refused to unpickle: persistent id {pid!r}")


def safe_unpickle(data, name: str = "<pickle>"):
    """Load a pickle with :class:`RestrictedUnpickler`.

    Parameters
    ----------
    data : bytes or binary file object
        The pickle.
    name : str
        File name used in error messages.

    Returns
    -------
    object
        The unpickled object (dicts, lists, bytes, numbers, numpy arrays).

    Raises
    ------
    UnsafePickleError
        The pickle asked for a global that is not allowed.
    DataFormatError
        The pickle is truncated or corrupt.
    """
    f = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    try:
        return RestrictedUnpickler(f, name=name).load()
    except UnsafePickleError:
        raise
    except _Refused as exc:
        raise UnsafePickleError(name, f"refused to unpickle: {exc}") from exc
    except Exception as exc:  # EOFError, UnpicklingError, ValueError, TypeError ...
        raise DataFormatError(name, f"not a readable CIFAR-10 python batch ({type(exc).__name__}: {exc})") from exc
