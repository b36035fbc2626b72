"""Moved to :mod:`deeplasso.engine.files` (temporary shim)."""

from .engine.files import atomic_write, json_default, write_json  # noqa: F401
