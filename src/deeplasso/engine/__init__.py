"""The path engine: LassoNet modules, the hier-prox, training steps, the lambda path.

Knows nothing of scikit-learn, files of data sets or the paper; data come in as
tensors on the training device. See ``docs/engine.md`` for a map of the modules.
"""

from .callbacks import Callback, CallbackList, EarlyStopping, FunctionCallback, KeepBest, ProgressBar
from .checkpoint import Checkpoint, CheckpointMismatchError
from .config import PathConfig
from .diagnostics import DegeneratePathWarning
from .modules import CNNBody, LassoNet, MLPBody, PlainMLP, cnn_body, mlp_body
from .path import fit_path, refit
from .prox import FeatureGroups, hier_prox, hier_prox_fused_, hier_prox_grouped, make_groups
from .results import (NonFiniteLossError, Path, PathFormatError, PathPoint, feature_importances_from,
                      norm_importances_from)
from .runtime import auto_threads, torch_threads
from .steps import AutogradStep, CudaGraphStep, FlatStep, NativeEpochStep, Step, select_step
from .trainer import Trainer

__all__ = [
    "PathConfig", "Path", "PathPoint", "NonFiniteLossError", "CheckpointMismatchError", "PathFormatError",
    "DegeneratePathWarning", "feature_importances_from", "norm_importances_from",
    "fit_path", "refit", "Trainer",
    "Callback", "CallbackList", "EarlyStopping", "ProgressBar", "KeepBest", "FunctionCallback", "Checkpoint",
    "Step", "AutogradStep", "FlatStep", "NativeEpochStep", "CudaGraphStep", "select_step",
    "LassoNet", "PlainMLP", "MLPBody", "CNNBody", "mlp_body", "cnn_body",
    "hier_prox", "hier_prox_grouped", "hier_prox_fused_", "FeatureGroups", "make_groups",
    "torch_threads", "auto_threads",
]
