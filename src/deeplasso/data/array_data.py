"""The :class:`ArrayData` container: a user data set as train / validation / test parts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ArrayData", "TASKS", "PARTS"]

TASKS = ("classification", "regression")
#: The parts of an :class:`ArrayData`, as in its attribute names ``X_<part>``.
PARTS = ("train", "val", "test")


@dataclass(frozen=True, eq=False)
class ArrayData:
    """Features and labels of a user data set, as train / validation / test parts.

    Attributes
    ----------
    X_train, y_train : numpy.ndarray
        Features ``(n, d)`` (float) and labels ``(n,)``: int64 ``0 .. k-1`` for
        classification (``classes[k]`` is the name of label ``k``), float for
        regression.
    X_val, y_val, X_test, y_test : numpy.ndarray or None
        The other parts; ``None`` until given by the file or :func:`~deeplasso.data.split_arrays`.
    task : {"classification", "regression", "unlabeled"}
        ``"unlabeled"``: read for unsupervised selection without labels
        (``load_arrays(unlabeled=True)``); the ``y`` arrays are zeros.
    classes : tuple of str or None
        Class names (classification only).
    feature_names : tuple of str or None
        Column names (a CSV header, an ``.npz`` ``feature_names`` array).
    image_shape : tuple of int or None
        ``(C, H, W)`` when the features are pixels (``C*H*W == d``).
    source : str
        The file read.
    target_name : str or None
        The label column (CSV / ``.npy`` label column) or labels file.
    y_center, y_scale : float
        Regression targets were standardised as ``(y - y_center) / y_scale``
        (by :func:`~deeplasso.data.standardize_arrays`); ``0`` and ``1`` otherwise.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    task: str = "classification"
    classes: tuple | None = None
    feature_names: tuple | None = None
    image_shape: tuple | None = None
    source: str = ""
    target_name: str | None = None
    y_center: float = 0.0
    y_scale: float = 1.0

    @property
    def n_features(self) -> int:
        """Number of features."""
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        n = {p: (None if getattr(self, f"y_{p}") is None else len(getattr(self, f"y_{p}"))) for p in PARTS}
        return (f"ArrayData(source={self.source!r}, task={self.task!r}, n_features={self.n_features}, "
                f"train={n['train']}, val={n['val']}, test={n['test']}, "
                f"classes={None if self.classes is None else len(self.classes)}, image_shape={self.image_shape})")
