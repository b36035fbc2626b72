"""What a baseline returns: :class:`BaselineResult`, and plain JSON data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["BaselineResult", "to_plain", "make_result", "selection_name", "first_argmax"]


@dataclass
class BaselineResult:
    """Outcome of one baseline: the tuned hyperparameter, its scores and the test accuracy.

    Attributes
    ----------
    method : str
        ``"knn"``, ``"svm"`` or ``"pca_lr"``.
    test_accuracy : float
        Accuracy of the final model on the test part (scored once).
    params : dict
        The chosen hyperparameter, e.g. ``{"n_neighbors": 7}``.
    param_name : str
        Name of the tuned hyperparameter (the key of ``params``).
    grid : list
        The values tried, in order.
    scores : list of float
        Selection score of each grid value: mean cross-validated accuracy or
        validation accuracy (see ``selection``).  The chosen value is the
        first maximum.
    scores_std : list of float or None
        Standard deviation over folds (cross-validation only).
    selection : str
        How the value was chosen, e.g. ``"5-fold CV on train"`` or ``"validation split"``.
    fit_seconds : float
        Wall time of selection plus final fit.
    total_seconds : float
        ``fit_seconds`` plus scoring the test part.
    n_train, n_val, n_test, n_features, n_classes : int
        Sizes of the data actually used (``n_train`` after ``max_train``).
    random_state : int or None
        The seed used.
    details : dict
        Method specifics: the estimator and its fixed settings, the solver,
        convergence flags, selection and refit times.
    """

    method: str
    test_accuracy: float
    params: dict
    param_name: str
    grid: list
    scores: list
    scores_std: list | None
    selection: str
    fit_seconds: float
    total_seconds: float
    n_train: int
    n_val: int
    n_test: int
    n_features: int
    n_classes: int
    random_state: int | None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable copy (numpy scalars become Python numbers)."""
        return to_plain(asdict(self))


def to_plain(o):
    """Recursively turn numpy scalars/arrays and tuples into JSON types."""
    if isinstance(o, dict):
        return {str(k): to_plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [to_plain(v) for v in o]
    if isinstance(o, np.ndarray):
        return to_plain(o.tolist())
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    return o


def selection_name(cv) -> str:
    """How a value was chosen, for :attr:`BaselineResult.selection`."""
    return "validation split" if cv == "val" else f"{cv}-fold CV on train"


def first_argmax(scores) -> int:
    """Index of the first best score."""
    return int(np.argmax(np.asarray(scores, dtype=float)))


def make_result(method, test_accuracy, param_name, grid, scores, stds, cv, t_fit, t_total, parts, seed,
                details) -> BaselineResult:
    """The :class:`BaselineResult` of a tuned method; the chosen value is the first best score."""
    Xtr, ytr = parts["train"]
    Xv, _ = parts["val"]
    Xte, _ = parts["test"]
    best = first_argmax(scores)
    return BaselineResult(
        method=method,
        test_accuracy=float(test_accuracy),
        params={param_name: grid[best]},
        param_name=param_name,
        grid=list(grid),
        scores=[float(s) for s in scores],
        scores_std=None if stds is None else [float(s) for s in stds],
        selection=selection_name(cv),
        fit_seconds=float(t_fit),
        total_seconds=float(t_total),
        n_train=int(len(Xtr)),
        n_val=int(0 if Xv is None else len(Xv)),
        n_test=int(len(Xte)),
        n_features=int(Xtr.shape[1]),
        n_classes=int(len(np.unique(ytr))),
        random_state=seed,
        details=to_plain(details),
    )
