"""A run directory's files and what its saved results hold.

Every study writes into a run directory and every report reads from one; the
pieces both sides need live here: the refusal to overwrite a run, the atomic text
write, reading a JSON file that may not exist yet, and reading a ``deeplasso
fit`` run's ``results.json`` (its metric, importances, and the path's own score
at k features).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path as FsPath

import numpy as np

from ..engine.files import atomic_write, json_default

__all__ = ["RunExistsError", "check_out_dir", "write_text", "read_json", "json_data", "METRICS", "METRIC_LABELS",
           "saved_importances", "best_on_validation"]

#: The score reported per task; results keys are named after it.
METRICS = {"classification": "accuracy", "regression": "r2"}
#: How each metric is written in reports and figures.
METRIC_LABELS = {"accuracy": "accuracy", "r2": "R^2"}


class RunExistsError(FileExistsError):
    """The run directory already holds results; a second run never overwrites a first."""


def check_out_dir(out: FsPath) -> None:
    """Refuse an ``--out`` that names something other than a folder (a file, say), before
    anything is read or written."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a directory: choose another --out (a folder, made if it "
                         "does not exist, that holds the run's files).")


def write_text(path: FsPath, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a report is either the old or the new one)."""
    atomic_write(path, lambda f: f.write(text), mode="w")


def read_json(path: FsPath) -> dict | None:
    """The content of a JSON file; None if it is not there (a task not finished yet)."""
    return json.loads(path.read_text()) if path.exists() else None


def json_data(settings) -> dict:
    """A settings dataclass as the plain data its JSON file holds (tuples read back as lists)."""
    return json.loads(json.dumps(asdict(settings), default=json_default))


def saved_importances(results: dict) -> np.ndarray:
    """The feature importances of a saved ``results.json`` as floats; a null entry
    reads as ``inf`` (a feature that never left)."""
    return np.array([np.inf if v is None else v for v in results["feature_importances"]], dtype=float)


def best_on_validation(path_rows: list[dict], k: int, key: str = "test_accuracy", metric: str = "accuracy"):
    """``key`` of the path point with ``0 < n_selected <= k`` that is best on validation
    ``val_<metric>`` (ties: the later point, fewer features); None if there is none."""
    pts = [(p[f"val_{metric}"], -p["n_selected"], i) for i, p in enumerate(path_rows) if 0 < p["n_selected"] <= k]
    if not pts:
        return None
    return path_rows[max(pts)[2]][key]
