"""The result of a path: :class:`PathPoint`, :class:`Path` (saved as ``.npz``, no
pickle), feature importances and the ranking with its tie rule."""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from .files import atomic_write, json_default

__all__ = ["PathPoint", "Path", "NonFiniteLossError", "PathFormatError", "feature_importances_from",
           "norm_importances_from", "IMPORTANCES", "check_importance"]

#: the ways to read a feature's importance off a path (``Path.feature_importances(by=...)``)
IMPORTANCES = ("norm", "lambda")


def check_importance(by) -> None:
    """The one rule for ``importance`` / ``by``: one of :data:`IMPORTANCES`."""
    if by not in IMPORTANCES:
        raise ValueError(f"importance={by!r} is invalid: expected 'norm' (the sum of ||theta_j|| over the path's "
                         "lambda steps) or 'lambda' (the lambda at which the feature left, the paper's).")


class PathFormatError(ValueError):
    """A file given to :meth:`Path.load` is not a path file written by :meth:`Path.save`
    (truncated, corrupt, or another file)."""


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss. ``path`` holds the points computed
    before the failing lambda step."""

    def __init__(self, message: str, step: int, lambda_: float, path: "Path"):
        super().__init__(message)
        self.step = step
        self.lambda_ = lambda_
        self.path = path


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

    def feature_importances(self, by: str = "lambda") -> np.ndarray:
        """Importance of each feature, larger = more important.

        ``by="lambda"`` (the paper's definition): the lambda at which the feature left
        the model (``inf`` if it never did); see :func:`feature_importances_from` for
        features that leave and come back. ``by="norm"``: ``sum_t ||theta_j||`` over the
        lambda steps of the path, the dense model left out, see
        :func:`norm_importances_from`. The estimators' ``importance="auto"`` chooses
        between the two.
        """
        check_importance(by)
        if by == "norm":
            return norm_importances_from(self.theta_norms)
        return feature_importances_from(self.lambdas, self.selected)

    @property
    def theta_norms(self) -> np.ndarray:
        """(n_points, n_features): ``||theta_j||`` at every point, the dense model first."""
        if not self.points:
            return np.zeros((0, self.n_features))
        return np.stack([p.theta_norm for p in self.points])

    def ranking(self, by: str = "lambda") -> np.ndarray:
        """Feature indices from most to least important by :meth:`feature_importances`.

        ``by="lambda"``: ties (features that left at the same step) are broken by
        ``sum_t ||theta_j||`` over the whole path, dense model included, larger first.
        ``by="norm"``: ties (features that were never selected at any lambda step) by
        the lambda at which they left, then by ``||theta_j||`` of the dense model.
        """
        norms = self.theta_norms
        if by == "norm":
            dense = norms[0] if len(norms) else np.zeros(self.n_features)
            return np.lexsort((-dense, -self.feature_importances("lambda"), -norm_importances_from(norms)))
        return np.lexsort((-norms.sum(axis=0), -self.feature_importances(by)))

    def save(self, file) -> None:
        """Save to ``.npz`` (numpy arrays plus JSON; no pickle). A file name is written
        atomically."""
        arrays = self.to_arrays()
        if isinstance(file, (str, os.PathLike)):
            atomic_write(file, lambda f: np.savez(f, **arrays))
        else:
            np.savez(file, **arrays)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays :meth:`save` writes (``header`` holds the scalars as JSON)."""
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
        """Load a path written by :meth:`save`; never unpickles.

        Raises :class:`PathFormatError` (a ``ValueError``) for a file that is not one
        (truncated, corrupt, another ``.npz``), and ``FileNotFoundError`` for none."""
        try:
            with np.load(file, allow_pickle=False) as z:
                if not isinstance(z, np.lib.npyio.NpzFile):
                    raise ValueError("it is a single .npy array, not an .npz archive")
                header = json.loads(bytes(z["header"]).decode())
                points = []
                for i, row in enumerate(header["points"]):
                    prefix = f"state_{i}__"
                    state = {k[len(prefix):]: z[k] for k in z.files if k.startswith(prefix)} or None
                    points.append(PathPoint(theta_norm=z[f"theta_norm_{i}"], state=state, **row))
            return cls(points=points, n_features=header["n_features"], meta=header["meta"])
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, IndexError, TypeError,
                ValueError) as exc:
            # numpy calls bytes that are neither a zip nor an .npy header "pickled data": we never unpickle
            why = "neither a zip archive nor an .npy array" if "pickle" in str(exc) else \
                f"{type(exc).__name__}: {exc}"
            name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else "the file"
            raise PathFormatError(
                f"{name}: not a valid path file ({why}). It is truncated, corrupt or not written by "
                "Path.save; write it again (deeplasso fit writes path.npz at the end of a run; "
                "estimator.path_.save(file) in Python).") from None


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


def norm_importances_from(theta_norms: np.ndarray) -> np.ndarray:
    """Importance of each feature: ``sum_t ||theta_j(lambda_t)||`` over the lambda steps of
    the path (every point but the first, the dense model).

    It is the weight a feature carries along the whole path, not only where it leaves:
    with mini-batches the features still in the model near the end of a path drop out
    and come back from one step to the next, so the order in which they first leave is
    partly noise, while the sum over many steps averages it out. The dense model is left
    out because its skip weights are unpenalised (correlated features share them
    arbitrarily). On MNIST and Fashion-MNIST (k = 50) and digits (k = 8, 4) it selects
    features that a retrained network scores 3-5 points higher with than the first exit
    (docs/selection.md).
    """
    theta_norms = np.asarray(theta_norms, dtype=float)
    if theta_norms.ndim != 2:
        raise ValueError(f"theta_norms must be (n_points, n_features), got shape {theta_norms.shape}")
    return theta_norms[1:].sum(axis=0) if len(theta_norms) > 1 else np.zeros(theta_norms.shape[1])
