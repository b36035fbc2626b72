"""The lambda-path engine: dense fit, warm-started lambda schedule, prox after each step.

Knows nothing of scikit-learn. Data live as tensors on the training device; a
mini-batch is an ``index_select`` of a random permutation, and the loop touches the
host once per epoch (the validation objective decides early stopping), never per
step.

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

import contextlib
import copy
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from .modules import LassoNet
from ._io import atomic_write, json_default
from ._native import native_prox_bound
from .fast import FastAdamStep, hier_prox_fused_
from .prox import FeatureGroups, hier_prox_grouped, make_groups

_SHUFFLE_COPY_BYTES = 1 << 30

__all__ = [
    "PathConfig",
    "PathPoint",
    "Path",
    "NonFiniteLossError",
    "CheckpointMismatchError",
    "fit_path",
    "refit",
    "feature_importances_from",
]


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss. ``path`` holds the points computed
    before the failing lambda step."""

    def __init__(self, message: str, step: int, lambda_: float, path: "Path"):
        super().__init__(message)
        self.step = step
        self.lambda_ = lambda_
        self.path = path


@dataclass
class PathConfig:
    """Settings of one path. Every field has the meaning of the estimator parameter
    of the same name."""

    task: str = "classification"  # or "regression"
    lambda_start: float | str = "auto"
    path_multiplier: float = 1.02
    lambda_max: float = math.inf
    M: float = 10.0
    lr: float = 1e-3
    optimizer: str | Callable = "adam"
    path_optimizer: str = "same"  # or "sgd": SGD with momentum 0.9 for every lambda > 0
    batch_size: int | None = 64
    max_epochs: int = 100
    patience: int = 5
    tol: float = 0.0
    dense_max_epochs: int | None = None
    n_features_stop: int = 0
    groups: Sequence[Sequence[int]] | None = None
    class_weight: torch.Tensor | None = None
    store_weights: bool = False
    fast: bool = True
    active_set: bool = True
    num_threads: int | None = None
    seed: int = 0
    verbose: int = 0


@dataclass
class PathPoint:
    """One point of the path: the model trained at one lambda.

    ``theta_norm[j]`` is ``||theta_j||_2`` at the end of the step; a feature is
    selected when it is non-zero (the hier-prox keeps ``W0_j`` zero then too).
    """

    lambda_: float
    theta_norm: np.ndarray
    train_loss: float
    train_score: float
    val_loss: float
    val_score: float
    val_objective: float
    epochs: int
    seconds: float
    state: dict[str, np.ndarray] | None = None

    @property
    def selected(self) -> np.ndarray:
        return self.theta_norm > 0

    @property
    def n_selected(self) -> int:
        return int(np.count_nonzero(self.theta_norm))


_SCALARS = ("lambda_", "train_loss", "train_score", "val_loss", "val_score", "val_objective",
            "epochs", "seconds")


@dataclass
class Path:
    """A computed path: its points (dense model first) and the settings used."""

    points: list[PathPoint] = field(default_factory=list)
    n_features: int = 0
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> PathPoint:
        return self.points[i]

    def __iter__(self):
        return iter(self.points)

    @property
    def lambdas(self) -> np.ndarray:
        return np.array([p.lambda_ for p in self.points])

    @property
    def n_selected(self) -> np.ndarray:
        return np.array([p.n_selected for p in self.points])

    @property
    def selected(self) -> np.ndarray:
        """(n_points, n_features) boolean support of every point."""
        return np.stack([p.selected for p in self.points]) if self.points else np.zeros((0, self.n_features), bool)

    def feature_importances(self) -> np.ndarray:
        """Lambda at which each feature left the model (``inf`` if it never did); see
        :func:`feature_importances_from` for features that leave and come back."""
        return feature_importances_from(self.lambdas, self.selected)

    def ranking(self) -> np.ndarray:
        """Feature indices from most to least important.

        Primary key: the importance (later leaving = more important). Ties (features
        that left at the same lambda) are broken by ``sum_t ||theta_j||`` over the path,
        larger first.
        """
        norms = np.stack([p.theta_norm for p in self.points])
        return np.lexsort((-norms.sum(axis=0), -self.feature_importances()))

    def save(self, file) -> None:
        """Save to ``.npz`` (numpy arrays plus JSON; no pickle). A file name is written
        atomically."""
        arrays = self._arrays()
        if isinstance(file, (str, os.PathLike)):
            atomic_write(file, lambda f: np.savez(f, **arrays))
        else:
            np.savez(file, **arrays)

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        rows = []
        for i, p in enumerate(self.points):
            rows.append({k: getattr(p, k) for k in _SCALARS})
            arrays[f"theta_norm_{i}"] = p.theta_norm
            if p.state is not None:
                for name, value in p.state.items():
                    arrays[f"state_{i}__{name}"] = value
        header = {"n_features": self.n_features, "meta": self.meta, "points": rows, "format": 1}
        arrays["header"] = np.frombuffer(json.dumps(header, default=json_default).encode(), dtype=np.uint8)
        return arrays

    @classmethod
    def load(cls, file) -> "Path":
        """Load a path written by :meth:`save`; never unpickles."""
        with np.load(file, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            points = []
            for i, row in enumerate(header["points"]):
                prefix = f"state_{i}__"
                state = {k[len(prefix):]: z[k] for k in z.files if k.startswith(prefix)} or None
                points.append(PathPoint(theta_norm=z[f"theta_norm_{i}"], state=state, **row))
        return cls(points=points, n_features=header["n_features"], meta=header["meta"])


def feature_importances_from(lambdas: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """Importance of each feature: the lambda at which it first left the model.

    That is ``lambdas[t]`` for the first point ``t`` whose model does not select the
    feature, and ``inf`` for a feature selected at the last point (it is in the final
    model). With mini-batches a feature sometimes drops out and comes back; it still
    counts as having left at its first exit. Chosen on validation over two other
    definitions (10 digits paths, retrained top-k accuracy; see ``docs/engine.md``).
    """
    lambdas = np.asarray(lambdas, dtype=float)
    selected = np.asarray(selected, dtype=bool)
    T, d = selected.shape
    out = np.full(d, np.inf)
    if T == 0:
        return out
    gone = ~selected
    first = gone.argmax(axis=0)  # first point without the feature (0 if it never left: masked below)
    left = ~selected[-1]  # it left at some point; features in the final model stay inf
    out[left] = lambdas[first[left]]
    return out


# --------------------------------------------------------------------------- training


def _make_optimizer(spec, params, lr: float) -> torch.optim.Optimizer:
    params = list(params)
    if callable(spec) and not isinstance(spec, str):
        return spec(params, lr)
    name = str(spec).lower()
    table = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
             "rmsprop": torch.optim.RMSprop}
    if name not in table:
        raise ValueError(f"unknown optimizer {spec!r}; use one of {sorted(table)} or a callable (params, lr) -> Optimizer.")
    if name in ("adam", "adamw"):
        # the fused kernel is several times cheaper per step than the for-each one
        try:
            return table[name](params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):
            pass
    return table[name](params, lr=lr)


class _Trainer:
    """Holds the model, optimiser, data and the prox of one path."""

    def __init__(self, model: torch.nn.Module, X, y, Xv, yv, cfg: PathConfig, generator: torch.Generator):
        self.model = model
        self.is_lassonet = isinstance(model, LassoNet)
        self.X, self.y, self.Xv, self.yv = X, y, Xv, yv
        self.cfg = cfg
        self.gen = generator
        self.K = getattr(model, "n_outputs", 0)
        self.cw = None if cfg.class_weight is None else cfg.class_weight.to(X.device)
        self.fast = cfg.fast and FastAdamStep.supports(model, cfg.optimizer)
        if self.fast:
            self.opt = FastAdamStep(model, cfg.task, cfg.lr, self.cw)
            self.lr = float(cfg.lr)
        else:
            self.opt = _make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
            self.lr = float(self.opt.param_groups[0].get("lr", cfg.lr))
        self.groups: FeatureGroups | None = None
        if cfg.groups is not None and self.is_lassonet:
            self.groups = make_groups(cfg.groups, model.n_features).to(X.device)
        # active set (fast step only): X restricted to the active columns, and the
        # columns found zero at the previous screening
        self.Xa: torch.Tensor | None = None
        self._zero_prev: torch.Tensor | None = None
        # features held at exactly zero by self.prox whatever their gradient (a refit on a
        # support through autograd or with groups; the fast step uses the active set)
        self.held_out: torch.Tensor | None = None

    #: momentum of the ``path_optimizer="sgd"`` path (the reference package's default)
    SGD_MOMENTUM = 0.9

    @property
    def sgd_path(self) -> bool:
        return self.cfg.path_optimizer == "sgd"

    def begin_path(self) -> None:
        """Switch to the path's optimiser after the dense model, where it differs: with
        ``path_optimizer="sgd"``, SGD with momentum (fresh buffer) at the same lr."""
        if not self.sgd_path:
            return
        if self.fast:
            self.opt.use_sgd(self.SGD_MOMENTUM)
        else:
            self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=self.SGD_MOMENTUM)

    # ---- pieces
    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.cfg.task == "classification":
            return F.cross_entropy(out, y, weight=self.cw)
        return F.mse_loss(out, y)

    def score(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.cfg.task == "classification":
            return (out.argmax(1) == y).to(out.dtype).mean()
        ss_res = ((y - out) ** 2).sum(0)
        ss_tot = ((y - y.mean(0)) ** 2).sum(0)
        r2 = torch.where(ss_tot > 0, 1 - ss_res / torch.where(ss_tot > 0, ss_tot, torch.ones_like(ss_tot)),
                         torch.where(ss_res > 0, torch.zeros_like(ss_res), torch.ones_like(ss_res)))
        return r2.mean()

    def group_norms(self) -> torch.Tensor:
        theta = self.model.theta.detach()
        col2 = (theta * theta).sum(0)
        if self.groups is None:
            return col2.sqrt()
        g = self.groups.group_of
        return torch.zeros(self.groups.n_groups, dtype=col2.dtype, device=col2.device).index_add_(0, g, col2).sqrt()

    @torch.no_grad()
    def prox(self, lam: float) -> None:
        if not self.is_lassonet:
            return
        w = self.model.input_weight
        K = self.K
        t = lam * self.lr
        if self.groups is None:
            hier_prox_fused_(w, K, t, self.cfg.M)
        else:
            b, u = hier_prox_grouped(w[:K], w[K:], t, self.cfg.M, self.groups)
            w[:K] = b
            w[K:] = u
        if self.held_out is not None:
            w[:, self.held_out] = 0

    def _prox_call(self, lam: float) -> Callable[[], None]:
        """``self.prox(lam)`` as a no-argument callable, bound once per epoch: the C
        kernel with its arguments ready where it applies (saves the per-step checks)."""
        if self.is_lassonet and self.groups is None:
            bound = native_prox_bound(self.model.input_weight.data, self.K, lam * self.lr, self.cfg.M)
            if bound is not None:
                return bound
        return lambda: self.prox(lam)

    @torch.no_grad()
    def evaluate(self, X, y, chunk: int = 8192) -> tuple[float, float]:
        self.model.eval()
        outs = [self.model(X[i:i + chunk]) for i in range(0, X.shape[0], chunk)]
        self.model.train()
        out = torch.cat(outs) if len(outs) > 1 else outs[0]
        return float(self.loss(out, y)), float(self.score(out, y))

    def _shuffle(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        """The epoch's training rows (the active columns only, if set), labels, order
        and batch size."""
        X = self.X if self.Xa is None else self.Xa
        n = X.shape[0]
        bs = n if self.cfg.batch_size is None else min(int(self.cfg.batch_size), n)
        # drawn on the CPU whatever the device: a seed gives the same batches on CPU and
        # GPU; the copy does not make the host wait
        perm = torch.randperm(n, generator=self.gen).to(X.device, non_blocking=True)
        return X, self.y, perm, bs

    @staticmethod
    def _batches(X, y, perm, bs):
        """Mini-batches of one shuffled pass: one gather per epoch, then every batch is
        a contiguous view (per-batch gathers only when a copy of X would be too big)."""
        n = X.shape[0]
        if X.numel() * X.element_size() <= _SHUFFLE_COPY_BYTES:
            Xp, yp = X.index_select(0, perm), y.index_select(0, perm)
            for start in range(0, n, bs):
                yield Xp[start:start + bs], yp[start:start + bs]
        else:
            for start in range(0, n, bs):
                idx = perm[start:start + bs]
                yield X.index_select(0, idx), y.index_select(0, idx)

    def epoch(self, lam: float) -> torch.Tensor:
        """One pass over the shuffled training data. Returns a scalar that is finite
        iff training is healthy (the mean loss, or the weights' sum on the fast path)."""
        X, y, perm, bs = self._shuffle()
        if self.fast:
            # the whole pass in one C call where it applies (same batches, same update)
            if self.groups is None and (
                    self.opt.native_epoch(X, y, perm, bs, lam * self.lr, self.cfg.M)
                    or self.opt.graph_epoch(X, y, perm, bs, lam * self.lr, self.cfg.M)):
                return self.opt.flat.sum()
            step, prox = self.opt.step, self._prox_call(lam)
            for xb, yb in self._batches(X, y, perm, bs):
                step(xb, yb)
                prox()
            return self.opt.flat.sum()
        total = torch.zeros((), dtype=X.dtype, device=X.device)
        model, opt = self.model, self.opt
        for xb, yb in self._batches(X, y, perm, bs):
            loss = self.loss(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self.prox(lam)
            total += loss.detach() * xb.shape[0]
        return total / X.shape[0]

    def val_objective(self, lam: float) -> tuple[float, float, float]:
        vl, vs = self.evaluate(self.Xv, self.yv)
        pen = float(self.group_norms().sum()) if lam > 0 and self.is_lassonet else 0.0
        return vl + lam * pen, vl, vs

    def snapshot(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.model.parameters()]

    @torch.no_grad()
    def restore(self, snap: list[torch.Tensor]) -> None:
        for p, s in zip(self.model.parameters(), snap):
            p.copy_(s)

    def train_lambda(self, lam: float, max_epochs: int, tol: float | None = None) -> tuple[int, tuple]:
        """Train at one lambda with early stopping; ends on the best epoch's weights
        (on the last epoch's on an SGD path, lambda > 0, as the reference package does).
        Returns the epochs run and the (objective, val loss, val score) it ends on."""
        cfg = self.cfg
        tol = cfg.tol if tol is None else tol
        if lam > 0:
            self.screen(lam)
        keep_last = lam > 0 and self.sgd_path
        best = math.inf
        best_val = best_snap = None
        bad = 0
        epochs = 0
        for _ in range(max_epochs):
            train_loss = float(self.epoch(lam))
            epochs += 1
            if not math.isfinite(train_loss):
                raise FloatingPointError("training loss or weights became non-finite")
            val = self.val_objective(lam)
            obj = val[0]
            if not math.isfinite(obj):
                raise FloatingPointError(f"validation objective became {obj}")
            if best_val is None or obj < best - tol * abs(best):
                best, best_val, bad = obj, val, 0
                if not keep_last:
                    best_snap = self.snapshot()
            else:
                bad += 1
                if bad >= cfg.patience:
                    break
        if keep_last:
            return epochs, val
        self.restore(best_snap)
        return epochs, best_val

    # the share of features that must be out before the step runs on the active columns
    ACTIVE_MIN_OUT = 0.25
    # a column stays out while its score is below this share of lambda
    SCREEN_MARGIN = 0.5

    @torch.no_grad()
    def screen(self, lam: float) -> None:
        """Choose the active set for the lambda step about to run (fast step only).

        A feature leaves the first layer's matmuls when its column (theta_j and W0_j)
        was exactly zero at the end of the last two lambda steps and the full-batch
        gradient at zero cannot push it back in: with Adam the step of an entry is
        about ``lr * g / sqrt(v)``, and the prox keeps the column at zero while
        ``||g_theta / s|| + M ||g_W0 / s||_1 <= lambda`` (``s = sqrt(v_hat) + eps``, the
        second moment kept from when it left). Excluded features are checked again
        at every lambda step and come back (with their second moment) once their
        score passes ``SCREEN_MARGIN * lambda``. Below ``ACTIVE_MIN_OUT`` of the
        features out, everything stays in (the gathers would cost more than they
        save).
        """
        if not (self.fast and self.cfg.active_set and self.is_lassonet and self.groups is None) or self.sgd_path:
            return  # (the screening score is Adam's; an SGD path keeps every column)
        opt = self.opt
        W = self.model.input_weight.detach()
        d = W.shape[1]
        zero = (W == 0).all(0)
        excluded = torch.zeros_like(zero)
        if opt.active is not None:
            excluded.fill_(True)[opt.active] = False
        cand = excluded | (zero & self._zero_prev) if self._zero_prev is not None else excluded
        self._zero_prev = zero
        cols = torch.nonzero(cand).squeeze(1)
        out = torch.zeros_like(zero)
        if cols.numel():
            t = float(opt.t)
            bc1 = 1.0 - opt.betas[0] ** t if t > 0 else 1.0
            bc2 = 1.0 - opt.betas[1] ** t if t > 0 else 1.0
            G = opt.input_gradient(self.X, self.y, cols)
            v = torch.where(excluded[cols], opt.v_frozen[:, cols], opt.v_in[:, cols])
            r = (G / bc1).div_((v / bc2).sqrt_().add_(opt.eps))
            K = self.K
            score = torch.linalg.vector_norm(r[:K], dim=0) + self.cfg.M * r[K:].abs().sum(0)
            out[cols] = score <= self.SCREEN_MARGIN * lam
        n_out = int(out.sum())
        if n_out < self.ACTIVE_MIN_OUT * d:
            if opt.active is not None:
                opt.set_active(None)
                self.Xa = None
            return
        active = torch.nonzero(~out).squeeze(1)
        if opt.active is not None and torch.equal(active, opt.active):
            return
        opt.set_active(active)
        self.Xa = self.X.index_select(1, active)

    def make_point(self, lam: float, epochs: int, val: tuple, seconds: float) -> PathPoint:
        tl, ts = self.evaluate(self.X, self.y)
        obj, vl, vs = val
        theta_norm = torch.linalg.vector_norm(self.model.theta.detach(), dim=0).double().cpu().numpy()
        state = None
        if self.cfg.store_weights:
            state = {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        return PathPoint(lambda_=float(lam), theta_norm=theta_norm, train_loss=tl, train_score=ts,
                         val_loss=vl, val_score=vs, val_objective=obj, epochs=epochs,
                         seconds=seconds, state=state)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``n`` intra-op threads, restoring the previous setting after."""
    old = torch.get_num_threads()
    if n is not None and n != old:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


@contextlib.contextmanager
def deterministic_cudnn(X: torch.Tensor):
    """On CUDA, cuDNN's deterministic algorithms (and no autotuning) for the duration: a
    CNN body's convolution gradients are otherwise summed in a varying order, and the
    same seed would not give the same path. Nothing changes on CPU."""
    if X.device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    with cudnn.flags(enabled=cudnn.enabled, benchmark=False, deterministic=True, allow_tf32=cudnn.allow_tf32):
        yield


def auto_threads(X: torch.Tensor, width: int, batch_size: int | None) -> int | None:
    """One thread for small steps on CPU, else leave the setting alone.

    Below about a million multiply-adds per first-layer matmul a second thread costs
    more in synchronisation than it saves, and on a busy machine OpenMP's spinning
    threads make a small step ten times slower (measured: 0.35 ms vs 3.1 ms per step
    on digits with another process running).
    """
    if X.device.type != "cpu":
        return None
    bs = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    return 1 if bs * X.shape[1] * max(width, 1) < 1_000_000 else None


def fit_path(
    model: LassoNet,
    X: torch.Tensor,
    y: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    config: PathConfig,
    callback: Callable[[int, PathPoint, LassoNet], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
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

    Returns
    -------
    Path
        Raises :class:`NonFiniteLossError` (carrying the partial path) if the loss
        stops being finite.
    """
    with torch_threads(_threads(config, X, model)), deterministic_cudnn(X):
        return _fit_path(model, X, y, X_val, y_val, config, callback, checkpoint)


def _threads(config: PathConfig, X: torch.Tensor, model: LassoNet) -> int | None:
    """The config's thread count, else :func:`auto_threads` for this model's first layer."""
    if config.num_threads is not None:
        return config.num_threads
    return auto_threads(X, model.n_outputs + model.n_hidden0, config.batch_size)


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
    keeps ``||W0_j||_inf <= M |theta_j|``): a fresh optimiser, the config's batch size,
    ``max_epochs`` and ``patience``, ending on the epoch of lowest validation loss.
    Returns the epochs run and that epoch's validation loss and score.
    """
    if not isinstance(model, LassoNet):
        raise TypeError(f"refit needs a LassoNet module, got {type(model).__name__}.")
    keep = torch.as_tensor(np.asarray(support, dtype=bool), device=X.device)
    if keep.shape != (model.n_features,):
        raise ValueError(f"support has shape {tuple(keep.shape)}; expected one flag per feature, ({model.n_features},).")
    with torch.no_grad():
        model.input_weight[:, ~keep] = 0
    with torch_threads(_threads(config, X, model)), deterministic_cudnn(X):
        # its own stream: the refit's batches do not depend on how long the path ran
        gen = torch.Generator().manual_seed(int(config.seed) + 1)
        trainer = _Trainer(model, X, y, X_val, y_val, config, gen)
        if not bool(keep.all()):
            if trainer.fast and trainer.groups is None:
                idx = torch.nonzero(keep).squeeze(1)
                trainer.opt.set_active(idx)  # the held-out columns never enter the matmuls
                trainer.Xa = X.index_select(1, idx)
            else:
                trainer.held_out = ~keep
        # as for the dense model, any improvement counts: a plateau early on does not stop it
        epochs, (_, vl, vs) = trainer.train_lambda(0.0, config.max_epochs, tol=0.0)
    return epochs, vl, vs


class CheckpointMismatchError(ValueError):
    """A checkpoint was written by a path with other settings, data or model."""


def _fingerprint(model, X, y, X_val, y_val, meta: dict) -> dict:
    """What must agree between a checkpoint and the run resuming from it."""
    keep = {k: v for k, v in meta.items() if k not in ("verbose", "num_threads", "store_weights")}

    def digest(t: torch.Tensor) -> list:
        t = t.detach().double()
        return [list(t.shape), float(t.sum()), float((t * t).sum())]

    return {"settings": json.loads(json.dumps(keep, default=json_default)),
            "model": {k: list(v.shape) for k, v in model.state_dict().items()},
            "data": [digest(X), digest(y), digest(X_val), digest(y_val)]}


def _save_checkpoint(file, fingerprint: dict, path: "Path", trainer: "_Trainer", step: int, lam: float) -> None:
    buf = io.BytesIO()
    np.savez(buf, **path._arrays())
    header = {"format": 1, "fingerprint": fingerprint, "next_step": step, "next_lambda": lam}
    blob = {
        "header": json.dumps(header, default=json_default),
        "path": torch.frombuffer(bytearray(buf.getvalue()), dtype=torch.uint8),
        "model": {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()},
        "opt": trainer.opt.state_dict(),
        "gen": trainer.gen.get_state(),
        # the active set's state, so that a resumed path screens exactly as the
        # uninterrupted one would
        "zero_prev": trainer._zero_prev,
    }
    if isinstance(trainer.opt, FastAdamStep):
        blob["active"] = trainer.opt.active
        blob["v_frozen"] = trainer.opt.v_frozen
    atomic_write(file, lambda f: torch.save(blob, f))


def _load_checkpoint(file, fingerprint: dict, trainer: "_Trainer") -> tuple["Path", int, float]:
    try:
        blob = torch.load(file, map_location="cpu", weights_only=True)
        header = json.loads(blob["header"])
    except Exception as exc:  # a file that is not one of ours
        raise CheckpointMismatchError(
            f"cannot read checkpoint {file}: {exc}. Delete it to start the path afresh.") from None
    theirs = header.get("fingerprint")
    if theirs != fingerprint:
        diff = [k for k in fingerprint if (theirs or {}).get(k) != fingerprint[k]]
        detail = ""
        if "settings" in diff:
            a, b = theirs["settings"], fingerprint["settings"]
            detail = ": " + ", ".join(f"{k}={a.get(k)!r} there, {b.get(k)!r} now"
                                      for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
        raise CheckpointMismatchError(
            f"checkpoint {file} was written with other {', '.join(diff)}{detail}. Resume with the same "
            "settings and data, or delete the checkpoint to start afresh.")
    dev = next(trainer.model.parameters()).device
    trainer.model.load_state_dict({k: v.to(dev) for k, v in blob["model"].items()})
    opt = blob["opt"]
    if isinstance(trainer.opt, FastAdamStep):
        opt = {k: v.to(dev) if torch.is_tensor(v) else v for k, v in opt.items()}
    trainer.opt.load_state_dict(opt)
    trainer.gen.set_state(blob["gen"])
    zp = blob.get("zero_prev")
    trainer._zero_prev = None if zp is None else zp.to(dev)
    if isinstance(trainer.opt, FastAdamStep) and blob.get("active") is not None:
        active = blob["active"].to(dev)
        trainer.opt.set_active(active)
        trainer.opt.v_frozen.copy_(blob["v_frozen"])  # set_active saw the decayed moments
        trainer.Xa = trainer.X.index_select(1, active)
    path = Path.load(io.BytesIO(blob["path"].numpy().tobytes()))
    return path, int(header["next_step"]), float(header["next_lambda"])


def _fit_path(model, X, y, X_val, y_val, config, callback, checkpoint=None) -> Path:
    cfg = config
    if cfg.path_optimizer not in ("same", "sgd"):
        raise ValueError(f"path_optimizer={cfg.path_optimizer!r} is invalid: expected 'same' (the path goes on "
                         "with `optimizer`) or 'sgd' (SGD with momentum 0.9 for every lambda > 0).")
    gen = torch.Generator().manual_seed(int(cfg.seed))
    trainer = _Trainer(model, X, y, X_val, y_val, cfg, gen)
    d = model.n_features
    meta = {k: v for k, v in asdict(cfg).items() if k not in ("class_weight",)}
    meta["optimizer"] = cfg.optimizer if isinstance(cfg.optimizer, str) else repr(cfg.optimizer)
    if cfg.class_weight is not None:
        meta["class_weight"] = cfg.class_weight.tolist()
    path = Path(points=[], n_features=d, meta=meta)
    resume = None
    if checkpoint is not None:
        fingerprint = _fingerprint(model, X, y, X_val, y_val, meta)
        if os.path.exists(checkpoint):
            trainer.begin_path()  # a checkpoint is written from the path on: its optimiser state is the path's
            resume = _load_checkpoint(checkpoint, fingerprint, trainer)

    from tqdm.auto import tqdm

    bar = tqdm(total=d - cfg.n_features_stop, disable=not cfg.verbose, desc="lambda path", unit="feat",
               leave=cfg.verbose > 1)

    def run(step: int, lam: float, max_epochs: int) -> PathPoint:
        t0 = time.perf_counter()
        try:
            # the dense model is the warm start of everything after it: any improvement
            # counts there, so a plateau early in training does not stop it
            epochs, val = trainer.train_lambda(lam, max_epochs, tol=0.0 if step == 0 else None)
        except FloatingPointError as exc:
            bar.close()
            raise NonFiniteLossError(
                f"non-finite loss at lambda step {step} (lambda={lam:.4g}): {exc}. The path computed so far "
                "is kept in this error's .path; try a smaller lr or standardise the inputs.",
                step, lam, path) from None
        point = trainer.make_point(lam, epochs, val, time.perf_counter() - t0)
        path.points.append(point)
        if callback is not None:
            callback(step, point, model)
        removed = d - point.n_selected
        bar.n = min(removed, bar.total)
        bar.set_postfix(lam=f"{lam:.3g}", k=point.n_selected, refresh=False)
        bar.refresh()
        return point

    if resume is not None:
        path, step, lam = resume
        point = path.points[-1]
        bar.n = min(d - point.n_selected, bar.total)
        bar.refresh()
    else:
        point = run(0, 0.0, cfg.dense_max_epochs or cfg.max_epochs)
        trainer.begin_path()
        if cfg.lambda_start == "auto":
            lam = _estimate_sgd_lambda_start(trainer) if trainer.sgd_path else _estimate_lambda_start(trainer)
        else:
            lam = float(cfg.lambda_start)
        path.meta["lambda_start_used"] = lam
        step = 1
        if checkpoint is not None:
            _save_checkpoint(checkpoint, fingerprint, path, trainer, step, lam)
    while point.n_selected > cfg.n_features_stop and lam <= cfg.lambda_max:
        point = run(step, lam, cfg.max_epochs)
        step += 1
        lam *= cfg.path_multiplier
        if checkpoint is not None:
            _save_checkpoint(checkpoint, fingerprint, path, trainer, step, lam)
    bar.close()
    return path


def lambda_scale(model: LassoNet, M: float) -> float:
    """Scale of lambda at which Adam + hier-prox empties the model.

    Adam moves every weight by at most about ``lr`` per step, and the prox removes
    a feature whose ``||theta_j|| + M ||W0_j||_1`` falls below ``lr * lambda``; so no
    feature can be held in the model once ``lambda`` exceeds about
    ``sqrt(n_outputs) + M * hidden_dims[0]``. The path's interesting range lies below.
    """
    return math.sqrt(model.n_outputs) + M * model.n_hidden0


def _prox_size(model: LassoNet, M: float) -> torch.Tensor:
    W = model.input_weight.detach()
    K = model.n_outputs
    return torch.linalg.vector_norm(W[:K], dim=0) + M * W[K:].abs().sum(0)


#: The ``"auto"`` lambda_start is never below this fraction of :func:`lambda_scale`.
_AUTO_FLOOR = 0.1


def _informative(X: torch.Tensor, d: int) -> torch.Tensor:
    """The features that vary in X (all of them if none does, or X has one row)."""
    live = (X.std(0) > 0) if X.shape[0] > 1 else torch.ones(d, dtype=torch.bool, device=X.device)
    return live if bool(live.any()) else torch.ones_like(live)


@contextlib.contextmanager
def _trial(trainer: _Trainer):
    """Train freely inside; the weights and optimiser state are put back after."""
    snap = trainer.snapshot()
    opt_state = copy.deepcopy(trainer.opt.state_dict())
    try:
        yield
    finally:
        trainer.restore(snap)
        trainer.opt.load_state_dict(opt_state)


def _estimate_lambda_start(trainer: _Trainer, quantile: float = 0.05, shrink: float = 0.95) -> float:
    """The ``"auto"`` lambda_start: a fast, coarse pre-path from the dense model.

    From the dense weights it trains one epoch per lambda, doubling lambda from
    ``1e-4 * lambda_scale``, and watches each informative (non-constant) feature's
    prox size ``||theta_j|| + M ||W0_j||_1``. Once the ``quantile`` of the per-epoch
    size ratios falls ``shrink`` below its value in a control epoch without penalty
    (or a feature has left) at two doublings in a row, the penalty has begun to win against the loss for the
    weakest features; the real path starts at the last lambda before that, so that the first features leave within its
    first steps. The dense weights and optimiser state are restored afterwards. It
    costs one epoch per doubling (10-17 epochs).
    """
    model = trainer.model
    M = trainer.cfg.M
    live = _informative(trainer.X, model.n_features)

    def q_ratio(new: torch.Tensor, old: torch.Tensor) -> float:
        ratio = torch.where(old > 0, new / torch.where(old > 0, old, torch.ones_like(old)), torch.ones_like(old))
        return float(torch.quantile(ratio.double(), quantile))

    scale = lambda_scale(model, M)
    with _trial(trainer):
        # control: how much do the weakest sizes move in one epoch without any penalty?
        prev = _prox_size(model, M)[live]
        trainer.epoch(0.0)
        size = _prox_size(model, M)[live]
        control = min(1.0, q_ratio(size, prev))
        prev = size
        lam = 1e-4 * scale
        last_quiet = lam
        hits = 0
        while lam < 10 * scale:
            trainer.epoch(lam)
            size = _prox_size(model, M)[live]
            shrinking = bool((size == 0).any()) or q_ratio(size, prev) < shrink * control
            prev = size
            # two doublings in a row: one epoch of ordinary training noise can look like a shrink
            hits = hits + 1 if shrinking else 0
            if hits == 2:
                break
            if not shrinking:
                last_quiet = lam
            lam *= 2.0
    # On data with many steps per epoch the weakest features shrink long before any
    # leaves (measured: first features leave at 0.15-0.19 of lambda_scale on digits,
    # MNIST and CIFAR-10 alike, while the ramp alone said 0.003-0.006 on the latter
    # two): never start below a tenth of the scale.
    return float(max(last_quiet, _AUTO_FLOOR * scale))


def _estimate_sgd_lambda_start(trainer: _Trainer) -> float:
    """The ``"auto"`` lambda_start of an SGD path: trial lambda steps, doubling.

    With SGD a weak feature's weights move slowly, and what removes one is the shrink
    summed over a whole lambda step of many epochs, which no one-epoch ramp sees (on
    digits no feature reaches zero within one epoch up to lambda 265, where the path
    removes them from 2.5 on). So from ``1e-4 * lambda_scale`` each doubling trains one
    real lambda step (warm-started, early stopping, as on the path) until an informative
    feature has left; the path starts at the lambda before. Its own first step, from the
    dense weights, has less shrink behind it than that trial step had, so no feature
    leaves there at once. The dense weights and optimiser state are restored afterwards.
    """
    model, M = trainer.model, trainer.cfg.M
    live = _informative(trainer.X, model.n_features)
    scale = lambda_scale(model, M)
    lam = last_quiet = 1e-4 * scale
    with _trial(trainer):
        while lam < 10 * scale:
            trainer.train_lambda(lam, trainer.cfg.max_epochs)
            if bool((_prox_size(model, M)[live] == 0).any()):
                break
            last_quiet = lam
            lam *= 2.0
    return float(last_quiet)
