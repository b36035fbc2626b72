"""Retrain plain networks on selected features (and on random ones, for comparison)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..engine import PathConfig, PlainMLP, Trainer, auto_threads, torch_threads

__all__ = ["retrain_score", "random_features"]


def retrain_score(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    features: Sequence[int],
    *,
    hidden_dims: Sequence[int] = (100,),
    batch_size: int | None = 64,
    lr: float = 1e-3,
    max_epochs: int = 100,
    patience: int = 5,
    tol: float = 0.0,
    seed: int = 0,
    device: str = "cpu",
    task: str = "classification",
) -> float:
    """Test score of a plain MLP trained (Adam, early stopping on validation loss)
    on the given feature columns only.

    ``task="classification"`` (default): ``y`` are integer class labels
    ``0..n_classes-1``, cross-entropy loss, test accuracy.  ``task="regression"``:
    ``y`` are real targets (one column), squared loss, test R^2.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    cols = np.asarray(features, dtype=np.int64)
    if cols.size == 0:
        raise ValueError("features is empty: give at least one feature index to retrain on.")
    dev = torch.device(device)

    def t(a, dtype):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=dev)

    Xtr, Xva, Xte = (t(a[:, cols], torch.float32) for a in (X_train, X_val, X_test))
    if task == "classification":
        ytr, yva, yte = (t(a, torch.int64) for a in (y_train, y_val, y_test))
        n_outputs = int(max(ytr.max(), yva.max(), yte.max())) + 1
    else:
        ytr, yva, yte = (t(np.reshape(a, (len(a), -1)), torch.float32) for a in (y_train, y_val, y_test))
        n_outputs = ytr.shape[1]
    cfg = PathConfig(task=task, batch_size=batch_size, lr=lr, max_epochs=max_epochs, patience=patience, tol=tol,
                     seed=seed)
    with torch.random.fork_rng(devices=[]), torch_threads(auto_threads(Xtr, max(hidden_dims, default=1), batch_size)):
        torch.manual_seed(seed)
        model = PlainMLP(cols.size, n_outputs, hidden_dims).to(dev)
        trainer = Trainer(model, Xtr, ytr, Xva, yva, cfg, torch.Generator().manual_seed(seed))
        trainer.train_lambda(0.0, max_epochs)
    return trainer.evaluate(Xte, yte)[1]


def random_features(n_features: int, k: int, seed: int) -> np.ndarray:
    """``k`` distinct feature indices drawn uniformly with a seeded generator."""
    return np.random.default_rng(seed).choice(n_features, size=k, replace=False)
