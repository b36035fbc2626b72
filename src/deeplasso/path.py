"""Moved to :mod:`deeplasso.engine` (temporary shim)."""

from .engine import (  # noqa: F401
    CheckpointMismatchError, NonFiniteLossError, Path, PathConfig, PathPoint, Trainer, auto_threads,
    feature_importances_from, fit_path, refit, torch_threads,
)

_Trainer = Trainer  # until evaluation/ imports the engine's Trainer
