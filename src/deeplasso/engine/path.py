"""The lambda path: :func:`fit_path` (dense model, then growing lambda, warm-started)
and :func:`refit` (training on a support without penalty).

Lambda scale
------------
The objective is ``mean_loss(f(X), y) + lambda * sum_j ||theta_j||_2`` with the
loss averaged over samples (cross-entropy in nats for classifiers, squared error
averaged over samples and outputs for regressors). After every optimiser step
the hier-prox runs with threshold ``lr * lambda`` (the proximal step of step size
``lr``), as in the reference implementation. See ``docs/lambda.md`` for how this
scale relates to the paper's ``lambda_start = 5e2``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict
from typing import Callable, Sequence

import numpy as np
import torch

from .callbacks import Callback, CallbackList, EarlyStopping, FunctionCallback, ProgressBar
from .checkpoint import Checkpoint, fingerprint, load_checkpoint
from .config import PathConfig
from .diagnostics import warn_if_degenerate
from .lambda_start import auto_lambda_start
from .modules import LassoNet
from .results import NonFiniteLossError, Path, PathPoint
from .runtime import deterministic_cudnn, threads_for, torch_threads
from .steps import Step
from .trainer import Trainer

__all__ = ["fit_path", "refit", "path_meta"]


def fit_path(
    model: LassoNet,
    X: torch.Tensor,
    y: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    config: PathConfig,
    callback: Callable[[int, PathPoint, LassoNet], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
    callbacks: Sequence[Callback] | None = None,
    step_factory: Callable[..., Step] | None = None,
) -> Path:
    """Compute a LassoNet path: dense model first, then growing lambda, warm-started.

    Parameters
    ----------
    model : LassoNet
        Freshly initialised (or pre-trained) module, on the device of the data.
    X, y, X_val, y_val : torch.Tensor
        Training and validation data, already on the training device. ``y`` is int64
        class indices for classification and float (n, n_outputs) for regression.
    config : PathConfig
    callback : callable, optional
        Called as ``callback(index, point, model)`` after every point, with the model
        holding that point's weights (e.g. to keep the best model). Points restored
        from a checkpoint are not passed to it again.
    checkpoint : path-like, optional
        A file that holds the state of the path after every lambda step (the path so
        far, weights, optimiser state and random generator state), written
        atomically. If it exists when the call starts, the path resumes from it and
        ends exactly as an uninterrupted run would; a run killed at any moment loses
        at most the lambda step in progress. A checkpoint written with other settings
        or data is refused (:class:`CheckpointMismatchError`).
    callbacks : sequence of Callback, optional
        Hooks on the path (:mod:`deeplasso.engine.callbacks`), called in order. An
        :class:`~deeplasso.engine.callbacks.EarlyStopping` among them replaces the
        default ``EarlyStopping(config.patience, config.tol)``.
    step_factory : callable, optional
        Builds the training step, with the signature of
        :func:`~deeplasso.engine.steps.select_step` ``(model, config, device, penalty,
        class_weight)``; default ``select_step``. A research variant of the update is a
        :class:`~deeplasso.engine.steps.Step` subclass returned from here.

    Returns
    -------
    Path
        Raises :class:`NonFiniteLossError` (carrying the partial path) if the loss
        stops being finite.
    """
    with torch_threads(threads_for(config, X, model)), deterministic_cudnn(X):
        return _PathRun(model, X, y, X_val, y_val, config, callback, checkpoint, callbacks, step_factory).run()


def path_meta(config: PathConfig) -> dict:
    """The settings a path records in ``Path.meta`` (JSON-ready)."""
    meta = {k: v for k, v in asdict(config).items() if k not in ("class_weight",)}
    meta["optimizer"] = config.optimizer if isinstance(config.optimizer, str) else repr(config.optimizer)
    if config.class_weight is not None:
        meta["class_weight"] = config.class_weight.tolist()
    return meta


#: ``path_multiplier="auto"``: the first step's ratio, the range of ratios, and the share of
#: the features above ``n_features_stop`` that one step aims to remove (docs/selection.md)
AUTO_FIRST, AUTO_MIN, AUTO_MAX, AUTO_LEAVE = 1.02, 1.001, 1.3, 0.1


def dense_epochs(cfg: PathConfig) -> int:
    """Epochs of the dense model (and of :func:`refit`) at most."""
    return cfg.dense_max_epochs or cfg.max_epochs


def next_multiplier(cfg: PathConfig, prev: PathPoint, point: PathPoint) -> float:
    """The ratio from ``point``'s lambda to the next one. A number for a fixed
    ``path_multiplier``. ``"auto"``: from the features that left between ``prev`` (the
    point before; the dense model for the first step) and ``point``, the rate at which
    features leave per unit of log lambda, and a ratio at which about ``AUTO_LEAVE`` of the
    features still above ``n_features_stop`` (at least one) would leave next; clipped to
    ``[AUTO_MIN, AUTO_MAX]`` and to twice the last step's log ratio. Far from the target the
    path takes large steps, near it only a few features leave at a time. It depends on
    the points only, so a path resumed from a checkpoint takes the same lambdas."""
    m = cfg.path_multiplier
    if m != "auto":
        return float(m)
    if prev.lambda_ <= 0:
        return AUTO_FIRST
    last = math.log(point.lambda_ / prev.lambda_)
    left = prev.n_selected - point.n_selected
    if left <= 0:
        step = 2 * last
    else:
        want = max(1.0, AUTO_LEAVE * (point.n_selected - cfg.n_features_stop))
        step = min(want * last / left, 2 * last)
    return math.exp(min(max(step, math.log(AUTO_MIN)), math.log(AUTO_MAX)))


class _PathRun:
    """One call of :func:`fit_path`: the outer loop over lambda."""

    def __init__(self, model, X, y, X_val, y_val, cfg: PathConfig, callback, checkpoint, callbacks, step_factory):
        if cfg.path_optimizer not in ("same", "sgd"):
            raise ValueError(f"path_optimizer={cfg.path_optimizer!r} is invalid: expected 'same' (the path goes "
                             "on with `optimizer`) or 'sgd' (SGD with momentum 0.9 for every lambda > 0).")
        user = list(callbacks or [])
        stopping = [c for c in user if isinstance(c, EarlyStopping)]
        if len(stopping) > 1:
            raise ValueError("callbacks holds more than one EarlyStopping; give at most one.")
        others = [c for c in user if not isinstance(c, EarlyStopping)]
        if callback is not None:
            others.append(FunctionCallback(callback))
        self.cfg = cfg
        self.trainer = Trainer(model, X, y, X_val, y_val, cfg, torch.Generator().manual_seed(int(cfg.seed)),
                               stopping=stopping[0] if stopping else None, step_factory=step_factory)
        d = model.n_features
        self.path = Path(points=[], n_features=d, meta=path_meta(cfg))
        self.resume = None
        if cfg.verbose:
            others.append(ProgressBar(d - cfg.n_features_stop, d, leave=cfg.verbose > 1))
        if checkpoint is not None:
            fp = fingerprint(model, X, y, X_val, y_val, self.path.meta)
            if os.path.exists(checkpoint):
                self.trainer.begin_path()  # a checkpoint is written from the path on: its optimiser state is the path's
                self.resume = load_checkpoint(checkpoint, fp, self.trainer)
            others.append(Checkpoint(checkpoint, fp))
        self.hooks = CallbackList(others)

    def point(self, step: int, lam: float, max_epochs: int) -> PathPoint:
        """Train at ``lam`` and append the point."""
        t0 = time.perf_counter()
        try:
            if step == 0:  # the dense model, at dense_lr
                epochs, val, self.path.meta["dense_lr_used"] = self.trainer.train_dense(max_epochs, 0, self.hooks)
            else:
                epochs, val = self.trainer.train_lambda(lam, max_epochs, step, self.hooks)
        except FloatingPointError as exc:
            raise NonFiniteLossError(
                f"non-finite loss at lambda step {step} (lambda={lam:.4g}): {exc}. The path computed so far "
                "is kept in this error's .path; try a smaller lr or standardise the inputs.",
                step, lam, self.path) from None
        point = self.trainer.make_point(lam, epochs, val, time.perf_counter() - t0)
        self.path.points.append(point)
        self.hooks.on_point(self.trainer, step, point, self.path)
        return point

    def run(self) -> Path:
        cfg, trainer, hooks = self.cfg, self.trainer, self.hooks
        if self.resume is not None:
            self.path, step, lam = self.resume
        hooks.on_path_begin(trainer, self.path)
        try:
            if self.resume is not None:
                point = self.path.points[-1]
            else:
                point = self.point(0, 0.0, dense_epochs(cfg))
                trainer.begin_path()
                lam = self.lambda_start()
                self.path.meta["lambda_start_used"] = lam
                step = 1
                hooks.on_next_lambda(trainer, self.path, step, lam)
            while point.n_selected > cfg.n_features_stop and lam <= cfg.lambda_max:
                prev = point
                point = self.point(step, lam, cfg.max_epochs)
                step += 1
                lam *= next_multiplier(cfg, prev, point)
                hooks.on_next_lambda(trainer, self.path, step, lam)
        finally:
            hooks.on_path_end(trainer, self.path)
        warn_if_degenerate(self.path, trainer)  # a ranking of nothing: say so, with the fix
        return self.path

    def lambda_start(self) -> float:
        """The first lambda after the dense model; a divergence while ``"auto"`` looks for
        it is a :class:`NonFiniteLossError` carrying the dense model, like one on the path."""
        cfg = self.cfg
        if cfg.lambda_start != "auto":
            return float(cfg.lambda_start)
        try:
            return auto_lambda_start(self.trainer)
        except FloatingPointError as exc:
            how = "trial lambda steps" if self.trainer.sgd_path else "one-epoch ramp"
            raise NonFiniteLossError(
                f"non-finite loss while finding lambda_start='auto' (its {how} from the dense model, "
                f"lr={cfg.lr:g}, path_optimizer={cfg.path_optimizer!r}): {exc}. The dense model is kept in this "
                "error's .path; try a smaller lr (the default is 1e-3), or a numeric lambda_start "
                "(docs/lambda.md).", 1, float("nan"), self.path) from None


def refit(
    model: LassoNet,
    X: torch.Tensor,
    y: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    config: PathConfig,
    support,
) -> tuple[int, float, float]:
    """Train ``model`` without penalty on the features in ``support`` only.

    A point far along the path is a penalised model: its features' weights are held down
    by lambda, and it predicts much worse than a network trained on the same features.
    This trains ``model`` in place, from whatever weights it holds (a fresh
    initialisation, as the estimators' ``refit=True`` uses, or a path point's weights:
    a relaxed LassoNet), with every column outside ``support`` (a boolean mask over the
    features) set to and held at exactly zero, at lambda = 0 (the hier-prox then only
    keeps ``||W0_j||_inf <= M |theta_j|``): a fresh optimiser, the config's batch size and
    the dense model's budget (``dense_max_epochs`` or ``max_epochs``, ``dense_patience`` or
    ``patience``), ending on the epoch of lowest validation loss.
    Returns the epochs run and that epoch's validation loss and score.
    """
    if not isinstance(model, LassoNet):
        raise TypeError(f"refit needs a LassoNet module, got {type(model).__name__}.")
    keep = torch.as_tensor(np.asarray(support, dtype=bool), device=X.device)
    if keep.shape != (model.n_features,):
        raise ValueError(f"support has shape {tuple(keep.shape)}; expected one flag per feature, ({model.n_features},).")
    with torch.no_grad():
        model.input_weight[:, ~keep] = 0
    with torch_threads(threads_for(config, X, model)), deterministic_cudnn(X):
        # its own stream: the refit's batches do not depend on how long the path ran
        gen = torch.Generator().manual_seed(int(config.seed) + 1)
        trainer = Trainer(model, X, y, X_val, y_val, config, gen)
        if not bool(keep.all()):
            if trainer.step.supports_active_set and trainer.penalty.groups is None:
                trainer.set_active(torch.nonzero(keep).squeeze(1))  # the held-out columns never enter the matmuls
            else:
                trainer.penalty.held_out = ~keep
        # as for the dense model (step 0), any improvement counts: a plateau early on does not stop it
        epochs, (_, vl, vs), _ = trainer.train_dense(dense_epochs(config))
    return epochs, vl, vs
