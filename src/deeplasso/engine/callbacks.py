"""Hooks on the path, in the style of skorch's callbacks.

A :class:`Callback` is told when the path begins and ends, when training at a lambda
begins and ends, after every epoch (it may stop training at this lambda) and when a
point is made; :meth:`Callback.on_next_lambda` marks the moments between two lambda
steps where the path is consistent (checkpoints are written there). Early stopping,
the progress bar, checkpoints and keeping the best point are callbacks; pass your own
to :func:`deeplasso.fit_path` or the estimators' ``fit`` as ``callbacks=[...]``.

Every hook receives the :class:`~deeplasso.engine.trainer.Trainer`, whose ``model``
holds the current weights. ``step`` is the index of the lambda step (0: the dense
model).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ProgressBar", "KeepBest", "FunctionCallback"]


class Callback:
    """Base class: every hook does nothing. Subclass and override what you need."""

    def on_path_begin(self, trainer, path) -> None:
        """Before the first lambda step (``path`` holds the points restored from a
        checkpoint, if any)."""

    def on_lambda_begin(self, trainer, step: int, lam: float) -> None:
        """Before training at ``lam``."""

    def on_epoch_end(self, trainer, step: int, lam: float, epoch: int, val: tuple) -> bool | None:
        """After epoch ``epoch`` (from 1) at ``lam``; ``val`` is (validation objective,
        validation loss, validation score). Return True to end training at this lambda."""

    def on_lambda_end(self, trainer, step: int, lam: float) -> None:
        """After training at ``lam``, with the weights the point will be made from."""

    def on_point(self, trainer, step: int, point, path) -> None:
        """After ``point`` (a :class:`~deeplasso.PathPoint`) was appended to ``path``."""

    def on_next_lambda(self, trainer, path, step: int, lam: float) -> None:
        """Between two lambda steps: the path is consistent and ``lam`` (step ``step``)
        comes next."""

    def on_path_end(self, trainer, path) -> None:
        """After the last point, and after a failure (then ``path`` is partial)."""


class CallbackList(Callback):
    """Calls each callback's hook in order."""

    def __init__(self, callbacks: Iterable[Callback] = ()):
        self.callbacks = list(callbacks)

    def on_path_begin(self, trainer, path):
        for c in self.callbacks:
            c.on_path_begin(trainer, path)

    def on_lambda_begin(self, trainer, step, lam):
        for c in self.callbacks:
            c.on_lambda_begin(trainer, step, lam)

    def on_epoch_end(self, trainer, step, lam, epoch, val):
        stop = False
        for c in self.callbacks:  # every callback sees every epoch, whoever stops
            stop = bool(c.on_epoch_end(trainer, step, lam, epoch, val)) or stop
        return stop

    def on_lambda_end(self, trainer, step, lam):
        for c in self.callbacks:
            c.on_lambda_end(trainer, step, lam)

    def on_point(self, trainer, step, point, path):
        for c in self.callbacks:
            c.on_point(trainer, step, point, path)

    def on_next_lambda(self, trainer, path, step, lam):
        for c in self.callbacks:
            c.on_next_lambda(trainer, path, step, lam)

    def on_path_end(self, trainer, path):
        for c in self.callbacks:
            c.on_path_end(trainer, path)


class EarlyStopping(Callback):
    """Stop training at a lambda after ``patience`` epochs whose validation objective
    did not improve on the best by more than ``tol`` (relative), and end on the best
    epoch's weights.

    At the dense model (step 0) any improvement counts (a plateau early in training
    does not stop it), and ``dense_patience`` (if given) replaces ``patience``. On an SGD
    path (``path_optimizer="sgd"``, lambda > 0) the step
    ends on its last epoch's weights, as the reference package does. The trainer owns
    one; pass a subclass in ``callbacks`` to replace it.
    """

    def __init__(self, patience: int = 5, tol: float = 0.0, dense_patience: int | None = None):
        self.patience = patience
        self.tol = tol
        self.dense_patience = dense_patience

    def on_lambda_begin(self, trainer, step, lam):
        self._tol = 0.0 if step == 0 else self.tol
        self._patience = self.dense_patience if step == 0 and self.dense_patience else self.patience
        self.keep_last = lam > 0 and trainer.sgd_path
        self.best = math.inf
        self.best_val = self.best_snap = self.last_val = None
        self.bad = 0

    def on_epoch_end(self, trainer, step, lam, epoch, val):
        self.last_val = val
        obj = val[0]
        if self.best_val is None or obj < self.best - self._tol * abs(self.best):
            self.best, self.best_val, self.bad = obj, val, 0
            if not self.keep_last:
                self.best_snap = trainer.snapshot()
            return False
        self.bad += 1
        return self.bad >= self._patience

    def on_lambda_end(self, trainer, step, lam):
        if not self.keep_last:
            trainer.restore(self.best_snap)

    def result(self) -> tuple:
        """The (objective, validation loss, validation score) the lambda step ends on."""
        return self.last_val if self.keep_last else self.best_val


class ProgressBar(Callback):
    """A tqdm counter of the lambda steps done, with lambda and the features left.

    No fraction and no bar: features leave and come back (a path goes 30 -> 19 -> 2 ->
    31 features with mini-batches), so a share of features removed would run backwards,
    and the number of lambda steps is not known in advance. ``total`` (the features the
    path removes at most) is kept for the signature; ``n_features`` is the ``/ d`` shown.
    """

    def __init__(self, total: int, n_features: int, leave: bool = False):
        self.total, self.d, self.leave = total, n_features, leave
        self.bar = None

    def on_path_begin(self, trainer, path):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=None, desc="lambda path", unit=" steps", leave=self.leave)
        if len(path):  # resumed: the steps done before count
            self.bar.n = len(path)
            self._show(path.points[-1])

    def _show(self, point):
        self.bar.set_postfix_str(f"lambda={point.lambda_:.3g}, features left={point.n_selected}/{self.d}",
                                 refresh=False)
        self.bar.refresh()

    def on_point(self, trainer, step, point, path):
        self.bar.n = step + 1  # points made: the dense model and the lambda steps after it
        self._show(point)

    def on_path_end(self, trainer, path):
        if self.bar is not None:
            self.bar.close()


class KeepBest(Callback):
    """Keep the weights of the best point with at most ``limit`` features: non-empty
    first, then the highest validation score, then the lowest validation loss."""

    def __init__(self, limit: int):
        self.limit = limit
        self.key = None
        self.index: int | None = None
        self.state: dict | None = None

    def update(self, index: int, point, model: torch.nn.Module | None) -> None:
        """Consider ``point`` (number ``index`` of the path), whose weights ``model`` holds
        (None: weights not at hand, e.g. a point restored from a checkpoint)."""
        if point.n_selected > self.limit:
            return
        key = (point.n_selected > 0, point.val_score, -point.val_loss)
        if self.key is None or key > self.key:
            self.key, self.index = key, index
            self.state = None if model is None else {k: v.detach().clone() for k, v in model.state_dict().items()}

    def on_point(self, trainer, step, point, path):
        self.update(len(path) - 1, point, trainer.model)


class FunctionCallback(Callback):
    """``fn(index, point, model)`` after every point (``fit_path``'s ``callback=``)."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def on_point(self, trainer, step, point, path):
        self.fn(step, point, trainer.model)
