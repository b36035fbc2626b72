"""Atomic file writes: a temp file in the same folder, fsync, then rename; and the
removal of the temp files that a killed write leaves behind."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

__all__ = ["atomic_write", "write_json", "json_default", "stale_temps", "remove_stale_temps", "file_mode"]

_UMASK_LOCK = threading.Lock()


def file_mode() -> int:
    """The mode a new file gets from ``open``: ``0o666`` less the process's umask (read
    and put back at once; ``os.umask`` can only be read by setting it)."""
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path, write: Callable[[Any], None], mode: str = "wb") -> Path:
    """Call ``write(fileobj)`` on a temp file beside ``path`` and rename it into place,
    so that ``path`` is either the old or the complete new content, never partial.

    The file gets the mode ``open`` would give it (``0o666`` less the umask: 0644 under
    the usual umask 022), not the private 0600 of the temp file. A process killed
    inside leaves a temp file ``.NAME.*.tmp``; :func:`remove_stale_temps` removes them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def stale_temps(path) -> list[Path]:
    """The temp files :func:`atomic_write` left beside ``path`` when its process was
    killed mid-write (``.NAME.*.tmp``); for a folder, those of every file in it."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.glob(".*.tmp") if p.is_file())
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.glob(f".{path.name}.*.tmp") if p.is_file())


def remove_stale_temps(path) -> list[Path]:
    """Remove :func:`stale_temps` of ``path`` (a file or a folder); returns those removed.

    Only for a file or folder that no other process writes at the same time (a run
    directory, a checkpoint): a temp file there is debris, never a write in progress."""
    removed = []
    for tmp in stale_temps(path):
        try:
            tmp.unlink()
        except FileNotFoundError:
            continue
        removed.append(tmp)
    return removed


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=json_default, allow_nan=True)
    return atomic_write(path, lambda f: f.write(text + "\n"), mode="w")


def json_default(o):
    """JSON for numpy scalars and arrays, torch tensors and paths."""
    import numpy as np

    if hasattr(o, "detach") and hasattr(o, "tolist"):  # torch.Tensor, without importing torch
        return o.detach().cpu().tolist()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} as JSON")
