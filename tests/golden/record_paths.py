"""Record the golden digests of the digits paths that tests/test_path_golden.py checks.

The digests in ``paths.json`` were written by this script from the code as it was before
the engine redesign (commit 351ac21), on the machine of then. The float bits of a path
depend on the CPU's kernels (MKL and oneDNN pick code by instruction set and vendor), so
``paths_by_machine.json`` holds the same cases recorded on other machines, keyed by
:func:`machine`. Rerun it only when a change of the paths is intended (and say so in the
CHANGELOG), or to record a new kind of machine from code that passes the test on a recorded
one:  python tests/golden/record_paths.py [--machine] [CASE ...]
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys

import numpy as np
from sklearn.datasets import load_digits

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "paths.json"
BY_MACHINE = HERE / "paths_by_machine.json"


def machine() -> str:
    """What a path's float bits depend on besides the code: the CPU (architecture, model
    name, the instruction set torch uses) and torch's version."""
    import platform

    import torch

    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
    except OSError:
        pass
    return f"{platform.machine()} | {model} | {torch.backends.cpu.get_cpu_capability()} | torch {torch.__version__}"

# (name, estimator parameters): small, fast and covering every step implementation
BASE = dict(hidden_dims=(16,), path_multiplier=1.15, max_epochs=15, patience=3, verbose=0, random_state=0,
            device="cpu")
CASES = {
    "mlp-batch64-adam": {},
    # recorded before issue 15 made one epoch of a full-batch path as many steps as a batch-64
    # pass and its path SGD: these two keep the settings of then explicitly
    "mlp-fullbatch-adam": dict(batch_size=None, max_epochs=40, patience=10, steps_per_epoch=None,
                               path_optimizer="same"),
    "mlp-batch64-sgd": dict(path_optimizer="sgd"),
    "mlp-fullbatch-sgd": dict(batch_size=None, path_optimizer="sgd", max_epochs=40, patience=10,
                              steps_per_epoch=None),
    # issue 15's full-batch defaults (steps_per_epoch="auto", path_optimizer="auto": SGD)
    "mlp-fullbatch-defaults": dict(batch_size=None, max_epochs=40, patience=10),
    "mlp-batch64-groups": dict(groups=[[i, i + 1] for i in range(0, 64, 2)]),
    # recorded before dense_lr="auto" became the default: here the dense model at lr/10 validates
    # better, so the case keeps the dense model at lr explicitly (the other cases keep lr under "auto")
    "mlp-deep-dropout": dict(hidden_dims=(16, 8), dropout=0.1, dense_lr=None),
    "linear-adam": dict(hidden_dims=()),
    "mlp-batch64-rmsprop": dict(optimizer="rmsprop"),
    "mlp-regression": dict(regression=True),
    "mlp-class-weight": dict(class_weight="balanced"),
    "cnn-batch64-adam": dict(body="cnn", image_shape=(1, 8, 8), conv_channels=(4,), pixel_channels=2,
                             max_epochs=5, path_multiplier=1.3),
    "cnn-groups-sgd": dict(body="cnn", image_shape=(1, 8, 8), conv_channels=(4,), pixel_channels=2,
                           max_epochs=5, path_multiplier=1.3, path_optimizer="sgd",
                           groups=[[i, i + 8] for r in range(0, 64, 16) for i in range(r, r + 8)]),
}


def data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:600], y[:600]


def summary(est) -> dict:
    path = est.path_
    lambdas = np.asarray(path.lambdas, dtype=np.float64)
    norms = np.stack([p.theta_norm for p in path]).astype(np.float64)
    h = hashlib.sha256()
    h.update(lambdas.tobytes())
    h.update(norms.tobytes())
    return {"digest": h.hexdigest(), "n_points": len(path), "n_selected": path.n_selected.tolist(),
            "ranking": path.ranking().tolist(), "epochs": [int(p.epochs) for p in path]}


def run(name: str) -> dict:
    from deeplasso import LassoNetClassifier, LassoNetRegressor

    X, y = data()
    params = {**BASE, **CASES[name]}
    if params.pop("regression", False):
        # a regression target: the digit's value and its parity, as two outputs
        est = LassoNetRegressor(**params).fit(X, np.stack([y / 9.0, y % 2], axis=1))
    else:
        est = LassoNetClassifier(**params).fit(X, y)
    return summary(est)


if __name__ == "__main__":
    args = sys.argv[1:]
    by_machine = "--machine" in args
    names = [a for a in args if a != "--machine"] or list(CASES)
    if by_machine:
        machines = json.loads(BY_MACHINE.read_text()) if BY_MACHINE.exists() else {}
        record = machines.setdefault(machine(), {})
    else:
        record = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name in names:
        record[name] = run(name)
        print(name, record[name]["n_points"], record[name]["digest"][:12], flush=True)
    if by_machine:
        BY_MACHINE.write_text(json.dumps(machines, indent=1) + "\n")
    else:
        OUT.write_text(json.dumps(record, indent=1) + "\n")
