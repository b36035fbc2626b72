"""Training at one lambda: epochs, batching, the validation objective, early stopping.

The trainer holds the model, the data (tensors on the training device), the
penalty and the step that updates the weights; it calls the step and never looks
inside it. A mini-batch is a slice of a random permutation, and the loop touches
the host once per epoch (the validation objective decides early stopping), never
per step.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import torch

from . import objective
from .callbacks import Callback, CallbackList, EarlyStopping
from .config import PathConfig
from .penalty import InputPenalty
from .results import PathPoint
from .screening import Screening
from .steps import Step, select_step

__all__ = ["Trainer", "SGD_MOMENTUM", "passes_per_epoch"]

#: momentum of the ``path_optimizer="sgd"`` path (the reference package's default)
SGD_MOMENTUM = 0.9

_NO_CALLBACKS = CallbackList()

#: ``dense_lr="auto"`` also tries the dense model at this fraction of ``lr``: on CIFAR-10 the
#: (80, 100) LassoNet at lr 1e-3 ends 5 points below a plain MLP, at 1e-4 level with it; on
#: digits 1e-4 leaves it 4 points short (benchmarks/dense_phase.py)
AUTO_DENSE_LR = 0.1

#: the batch size whose one pass is an epoch under ``steps_per_epoch="auto"``
EPOCH_BATCH = 64


def passes_per_epoch(config: PathConfig, n: int) -> int:
    """Whole passes over ``n`` training rows that make one epoch: enough for at least
    ``config.steps_per_epoch`` optimiser steps ("auto": as many as one pass at batch
    64 makes, ``ceil(n / 64)``; None: one pass)."""
    target = config.steps_per_epoch
    if target is None:
        return 1
    if target == "auto":
        target = math.ceil(n / EPOCH_BATCH)
    elif isinstance(target, str) or int(target) < 1:
        raise ValueError(f"steps_per_epoch={target!r} is invalid: expected a positive int, 'auto' or None.")
    bs = n if config.batch_size is None else min(int(config.batch_size), n)
    return max(1, math.ceil(int(target) / math.ceil(n / bs)))


class Trainer:
    """Trains ``model`` on ``(X, y)``, validating on ``(X_val, y_val)``.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`~deeplasso.LassoNet` (penalised) or any network (trained without penalty).
    X, y, X_val, y_val : torch.Tensor
        On the training device; ``y`` int64 classes or float (n, n_outputs).
    config : PathConfig
    generator : torch.Generator
        Draws every epoch's permutation (on the CPU, so a seed gives the same
        batches on every device).
    step_factory : callable, optional
        Builds the update, with :func:`~deeplasso.engine.steps.select_step`'s
        signature (the default).
    stopping : EarlyStopping, optional
        Default ``EarlyStopping(config.patience, config.tol)``.
    """

    def __init__(self, model: torch.nn.Module, X, y, X_val, y_val, config: PathConfig,
                 generator: torch.Generator, stopping: EarlyStopping | None = None,
                 step_factory: Callable[..., Step] | None = None):
        self.model = model
        self.X, self.y, self.Xv, self.yv = X, y, X_val, y_val
        self.cfg = config
        self.gen = generator
        self.cw = None if config.class_weight is None else config.class_weight.to(X.device)
        self.penalty = InputPenalty(model, config.M, config.groups, X.device)
        self._step_factory = step_factory or select_step
        # the dense model (lambda 0) trains at a number dense_lr; begin_path() moves to lr
        fixed = config.dense_lr is not None and config.dense_lr != "auto"
        self.step = self._step_factory(model, replace(config, lr=float(config.dense_lr)) if fixed else config,
                                       X.device, self.penalty, self.cw)
        self.stopping = stopping if stopping is not None else EarlyStopping(config.patience, config.tol,
                                                                            config.dense_patience)
        self.passes = passes_per_epoch(config, X.shape[0])
        #: X restricted to the active columns (see :meth:`set_active`), None for all
        self.Xa: torch.Tensor | None = None
        self.screening = Screening(config.active_set)

    @property
    def lr(self) -> float:
        return self.step.lr

    @property
    def sgd_path(self) -> bool:
        return self.cfg.path_optimizer == "sgd"

    def begin_path(self) -> None:
        """Switch to the path's optimiser after the dense model, where it differs: after a
        dense model at another ``dense_lr``, a new step at ``lr`` (with the dense run's moments);
        with ``path_optimizer="sgd"``, SGD with momentum (fresh buffer) at ``lr``."""
        if self.step.lr != float(self.cfg.lr):
            self.use_lr(self.cfg.lr, keep_state=True)
        if self.sgd_path:
            self.step.use_sgd(SGD_MOMENTUM)

    def use_lr(self, lr: float, keep_state: bool = False) -> None:
        """From now on train with a new step at ``lr``: a fresh optimiser state, or with
        ``keep_state`` the current one's (Adam's moments and step count); the active set,
        if any, kept."""
        active, state = self.step.active, self.step.state_dict() if keep_state else None
        self.step = self._step_factory(self.model, replace(self.cfg, lr=float(lr)), self.X.device, self.penalty,
                                       self.cw)
        if active is not None:
            self.step.set_active(active)
        if state is not None:
            self.step.load_state_dict(state)

    def set_active(self, active: torch.Tensor | None) -> None:
        """Train only the input columns ``active`` (the step must support it)."""
        self.step.set_active(active)
        self.Xa = None if active is None else self.X.index_select(1, active)

    # ---- evaluation
    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return objective.loss(self.cfg.task, out, y, self.cw)

    @torch.no_grad()
    def evaluate(self, X, y, chunk: int = 8192) -> tuple[float, float]:
        """(mean loss, score) of the model on ``(X, y)``."""
        self.model.eval()
        outs = [self.model(X[i:i + chunk]) for i in range(0, X.shape[0], chunk)]
        self.model.train()
        out = torch.cat(outs) if len(outs) > 1 else outs[0]
        return float(self.loss(out, y)), float(objective.score(self.cfg.task, out, y))

    def val_objective(self, lam: float) -> tuple[float, float, float]:
        """(validation loss + penalty, validation loss, validation score)."""
        vl, vs = self.evaluate(self.Xv, self.yv)
        return vl + self.penalty.value(lam), vl, vs

    # ---- weights
    def snapshot(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.model.parameters()]

    @torch.no_grad()
    def restore(self, snap: list[torch.Tensor]) -> None:
        for p, s in zip(self.model.parameters(), snap):
            p.copy_(s)

    # ---- training
    def run_epoch(self, lam: float) -> torch.Tensor:
        """One epoch: :attr:`passes` passes over the shuffled training data (the active
        columns only, if set; one pass unless ``steps_per_epoch`` asks for more).
        Returns a scalar that is finite iff training is healthy."""
        X = self.X if self.Xa is None else self.Xa
        n = X.shape[0]
        bs = n if self.cfg.batch_size is None else min(int(self.cfg.batch_size), n)
        # drawn on the CPU whatever the device: a seed gives the same batches on CPU and
        # GPU; the copy does not make the host wait
        out = None
        for _ in range(self.passes):
            perm = torch.randperm(n, generator=self.gen).to(X.device, non_blocking=True)
            r = self.step.epoch(X, self.y, perm, bs, lam)
            out = r if out is None else out + r  # finite iff every pass was
        return out

    def train_lambda(self, lam: float, max_epochs: int, step: int | None = None,
                     callbacks: Callback | None = None) -> tuple[int, tuple]:
        """Train at one lambda until :attr:`stopping` (or a callback) ends it.

        ``step`` is the lambda step's index on the path (0: the dense model; None for
        training that is not a path step). Returns the epochs run and the (objective,
        val loss, val score) the weights end on.
        """
        cbs = callbacks if callbacks is not None else _NO_CALLBACKS
        if lam > 0:
            self.screening.screen(self, lam)
        self.stopping.on_lambda_begin(self, step, lam)
        cbs.on_lambda_begin(self, step, lam)
        epochs = 0
        for _ in range(max_epochs):
            train_loss = float(self.run_epoch(lam))
            epochs += 1
            if not math.isfinite(train_loss):
                raise FloatingPointError("training loss or weights became non-finite")
            val = self.val_objective(lam)
            if not math.isfinite(val[0]):
                raise FloatingPointError(f"validation objective became {val[0]}")
            stop = self.stopping.on_epoch_end(self, step, lam, epochs, val)
            if cbs.on_epoch_end(self, step, lam, epochs, val) or stop:
                break
        self.stopping.on_lambda_end(self, step, lam)
        cbs.on_lambda_end(self, step, lam)
        return epochs, self.stopping.result()

    def train_dense(self, max_epochs: int, step: int | None = 0,
                    callbacks: Callback | None = None) -> tuple[int, tuple, float]:
        """Train at lambda 0 (the dense model, or a refit) at ``dense_lr``; returns the
        epochs, the (objective, val loss, val score) the weights end on, and the lr used.

        ``dense_lr="auto"``: from the same weights and batch order, a run at
        ``AUTO_DENSE_LR * lr`` and then one at ``lr``; the one of lower validation loss is
        kept (a run whose loss stops being finite loses). When the run at ``lr`` is kept the
        training goes on exactly as without ``dense_lr``; else at ``lr`` from the slower
        run's weights and optimiser state."""
        if self.cfg.dense_lr != "auto":
            epochs, val = self.train_lambda(0.0, max_epochs, step, callbacks)
            return epochs, val, self.step.lr
        start, gen = self.snapshot(), self.gen.get_state()
        lr = float(self.cfg.lr)
        slow = None
        self.use_lr(AUTO_DENSE_LR * lr)
        try:
            epochs, val = self.train_lambda(0.0, max_epochs, step, callbacks)
            slow = (epochs, val, self.snapshot(), self.gen.get_state(), self.step.state_dict())
        except FloatingPointError:
            pass
        self.restore(start)
        self.gen.set_state(gen)
        self.use_lr(lr)
        try:
            epochs, val = self.train_lambda(0.0, max_epochs, step, callbacks)
        except FloatingPointError:
            if slow is None:
                raise
            val = None
        if val is not None and (slow is None or val[1] <= slow[1][1]):
            return epochs, val, lr
        epochs, val, weights, gen_state, opt_state = slow
        self.restore(weights)
        self.gen.set_state(gen_state)
        self.use_lr(lr)
        self.step.load_state_dict(opt_state)  # the path goes on at lr with the slower run's moments
        return epochs, val, AUTO_DENSE_LR * lr

    def make_point(self, lam: float, epochs: int, val: tuple, seconds: float) -> PathPoint:
        """The path point of the current weights."""
        tl, ts = self.evaluate(self.X, self.y)
        obj, vl, vs = val
        theta_norm = torch.linalg.vector_norm(self.model.theta.detach(), dim=0).double().cpu().numpy()
        state = None
        if self.cfg.store_weights:
            state = {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        return PathPoint(lambda_=float(lam), theta_norm=theta_norm, train_loss=tl, train_score=ts,
                         val_loss=vl, val_score=vs, val_objective=obj, epochs=epochs,
                         seconds=seconds, state=state)
