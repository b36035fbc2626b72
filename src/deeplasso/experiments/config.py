"""Settings of ``deeplasso fit`` from a TOML file and command-line flags.

Precedence: :class:`~deeplasso.experiments.settings.FitSettings` defaults < the TOML
file (``--config run.toml``) < flags given on the command line.  The keys are
the flags' long names with ``_`` (``hidden_dims = [80, 100]``, ``batch_size =
64``, ``lambda_start = "auto"``, ``dataset = "mnist"`` or ``data = "x.npz"``;
``-`` is accepted too), plus the settings that have no flag
(``val_fraction``, ``test_fraction``, ``fractions``, ``retrain_hidden_dims``).
The keys may sit at the top level of the file or in a ``[fit]`` table.  An
unknown key is an error that lists the valid ones.

Relative paths in a file (``data``, ``labels``, ``data_dir``, ``out``) are
relative to the file's folder, so a config and its data can move together.
``dataset`` and ``data`` are one choice: a file holds at most one of them, and
either one on the command line replaces the file's.

See ``docs/cli.md``.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from ..engine.results import IMPORTANCES
from ..scoring import SCORING
from .settings import FitSettings

__all__ = ["ConfigError", "FitRun", "resolve_fit", "read_config", "read_toml", "to_toml", "valid_keys",
           "parse_dims", "parse_batch", "parse_lambda", "parse_image_shape"]


class ConfigError(ValueError):
    """A bad setting in a config file or on the command line."""


@dataclass
class FitRun:
    """What ``deeplasso fit`` runs: the settings, where to write and whether to replace
    an earlier run."""

    settings: FitSettings
    out: str
    overwrite: bool = False
    resume: bool = False
    config_file: str | None = None


# --------------------------------------------------------------------------- value parsers


def parse_dims(value, name="hidden_dims") -> tuple[int, ...]:
    """Hidden widths from ``"80,100"``, ``[80, 100]`` or ``80``; ``()`` / ``""`` = none."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected comma-separated ints such as 80,100, got {value!r}")
    if isinstance(value, int):
        value = [value]
    if isinstance(value, str):
        try:
            dims = tuple(int(t) for t in value.split(",") if t.strip())
        except ValueError:
            raise ValueError(f"{name}: expected comma-separated ints such as 80,100, got {value!r}") from None
    elif isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        dims = tuple(value)
    else:
        raise ValueError(f"{name}: expected a list of ints such as [80, 100], got {value!r}")
    if any(h <= 0 for h in dims):
        raise ValueError(f"{name}: widths must be positive, got {value!r}")
    return dims


def parse_image_shape(value, name="image_shape") -> tuple[int, ...]:
    """``C,H,W`` (or ``H,W``) from ``"1,28,28"`` or ``[1, 28, 28]``."""
    try:
        shp = parse_dims(value, name)
    except ValueError:
        shp = ()
    if len(shp) not in (2, 3):
        raise ValueError(f"{name}: expected positive C,H,W (or H,W) such as 1,28,28, got {value!r}")
    return shp


def parse_batch(value, name="batch_size"):
    """A positive int, or ``"full"`` / ``"none"`` for full-batch training (``None``)."""
    if isinstance(value, str):
        if value.strip().lower() in ("none", "full"):
            return None
        try:
            value = int(value)
        except ValueError:
            raise ValueError(f"{name}: expected a positive int or 'full', got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive int or 'full', got {value!r}")
    return value


def parse_lambda(value, name="lambda_start", expected="'auto' or a positive number"):
    """``"auto"`` or a positive number."""
    if value == "auto":
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not x > 0 or math.isinf(x):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return x


def parse_dense_lr(value, name="dense_lr"):
    """``"auto"``, ``"none"`` (None: the dense model at ``lr``) or a positive number."""
    if value is None or isinstance(value, str) and value.lower() == "none":
        return None
    return parse_lambda(value, name, "'auto', 'none' or a positive number")


def _number(kind, positive=False, unit=False):
    def parse(value, name):
        if isinstance(value, str):
            try:
                value = kind(value)
            except ValueError:
                raise ValueError(f"{name}: expected {'an int' if kind is int else 'a number'}, got {value!r}") from None
        ok = not isinstance(value, bool) and isinstance(value, (int, float) if kind is float else int)
        if ok and kind is float:
            value = float(value)
            ok = math.isfinite(value)
        if not ok or (positive and value <= 0) or (unit and not 0 < value < 1):
            want = "in (0, 1)" if unit else "positive" if positive else "non-negative" if kind is int else "finite"
            raise ValueError(f"{name}: expected a {want} {'int' if kind is int else 'number'}, got {value!r}")
        if kind is int and value < 0:
            raise ValueError(f"{name}: expected a non-negative int, got {value!r}")
        return value
    return parse


def _hierarchy(value, name):
    """``M``: a number, then the estimators' own rule (M > 0; :func:`deeplasso.engine.config.check_M`)."""
    from ..engine.config import check_M

    x = _number(float)(value, name)
    check_M(x)
    return x


def _string(choices=None, none=()):
    def parse(value, name):
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, got {value!r}")
        if value in none:
            return None
        if choices is not None and value not in choices:
            raise ValueError(f"{name}: expected one of {sorted(choices) + sorted(none)}, got {value!r}")
        return value
    return parse


def _target(value, name):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{name}: expected a column name or index, got {value!r}")
    return value


def _flag(value, name):
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    return value


def _fractions(value, name):
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{name}: expected a list of fractions such as [0.5, 0.25], got {value!r}")
    out = tuple(_number(float)(v, name) for v in value)
    if any(not 0 < f <= 1 for f in out):
        raise ValueError(f"{name}: fractions of the features must be in (0, 1], got {value!r}")
    return out


def _class_list(value, name):
    if not isinstance(value, (list, tuple)) or not value or \
            any(isinstance(v, bool) or not isinstance(v, (int, str)) for v in value):
        raise ValueError(f"{name}: expected a list of class labels or names such as [1, 4], got {value!r}")
    return tuple(value)


def _per_class(value, name):
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 3 or \
            any(v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0) for v in value):
        raise ValueError(f"{name}: expected up to three counts [n_train, n_val, n_test] such as [100, 20, 20], "
                         f"got {value!r}")
    return tuple(value)


def _folds(value, name):
    k = _number(int)(value, name)
    if k < 2:
        raise ValueError(f"{name}: cross-validation needs at least 2 folds, got {value!r}")
    return k


def _n_paths(value, name):
    return _number(int, positive=True)(value, name)


def _threshold(value, name):
    x = _number(float)(value, name)
    if not 0 < x <= 1:
        raise ValueError(f"{name}: expected a probability in (0, 1], got {value!r}")
    return x


_PARSERS = {
    "dataset": _string(), "data": _string(), "labels": _string(), "target": _target,
    "task": _string({"classification", "regression", "reconstruct"}, none=("auto",)),
    "image_shape": parse_image_shape, "data_dir": _string(),
    "normalize": _string({"train", "imagenet"}, none=("none",)),
    "val_fraction": _number(float, unit=True), "test_fraction": _number(float, unit=True),
    "hidden_dims": parse_dims, "batch_size": parse_batch, "M": _hierarchy,
    "lambda_start": parse_lambda, "path_multiplier": _number(float, positive=True),
    "max_epochs": _number(int, positive=True), "patience": _number(int), "lr": _number(float, positive=True),
    "dense_lr": parse_dense_lr,
    "importance": _string({"auto", *IMPORTANCES}, none=("default",)),  # the estimators' options
    "fractions": _fractions, "retrain_hidden_dims": parse_dims,
    "retrain_max_epochs": _number(int, positive=True), "seed": _number(int),
    "max_train": _number(int, positive=True),
    "split": _string({"official", "paper"}), "split_seed": _number(int), "classes": _class_list,
    "per_class": _per_class, "retrain_patience": _number(int),
    "body": _string({"mlp", "cnn"}), "conv_channels": lambda v, name: parse_dims(v, name),
    "cv": lambda v, name: _folds(v, name), "choose": _string({"1se", "min"}),
    "cv_scoring": _string(set(SCORING), none=("default",)),
    "stability": lambda v, name: _n_paths(v, name), "threshold": lambda v, name: _threshold(v, name),
    # run options, not settings
    "out": _string(), "overwrite": _flag, "resume": _flag, "quiet": _flag,
}
_RUN_KEYS = ("out", "overwrite", "resume", "quiet")
_PATH_KEYS = ("data", "labels", "data_dir", "out")
_NOT_KEYS = ("verbose", "extra")  # FitSettings fields set otherwise (quiet) or not from files


def valid_keys() -> list[str]:
    """Keys a config file may hold, in FitSettings order, then the run options."""
    return [f.name for f in fields(FitSettings) if f.name not in _NOT_KEYS] + list(_RUN_KEYS)


# --------------------------------------------------------------------------- reading, merging


def read_toml(path, what: str = "config") -> dict:
    """The tables of a TOML file. Raises FileNotFoundError ("no such {what} file") or
    :class:`ConfigError` (not valid TOML)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what} file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def read_config(path) -> dict:
    """The checked values of a TOML config file (relative paths made relative to the
    file's folder).  Raises FileNotFoundError or :class:`ConfigError`."""
    path = Path(path)
    table = dict(read_toml(path))
    if isinstance(table.get("fit"), dict):
        table.update(table.pop("fit"))
    values = _check(table, where=f"{path}: ")
    if "dataset" in values and "data" in values:
        raise ConfigError(f"{path}: give either dataset (a built-in data set) or data (your own file), not both")
    base = path.parent
    for k in _PATH_KEYS:
        if values.get(k) is not None and not os.path.isabs(values[k]):
            values[k] = os.path.normpath(base / values[k]) if str(base) != "." else values[k]
    return values


def _check(table: dict, where: str = "") -> dict:
    valid = valid_keys()
    values, unknown = {}, []
    for key, value in table.items():
        k = key.replace("-", "_")
        if k not in valid:
            unknown.append(key)
            continue
        try:
            values[k] = _PARSERS[k](value, k)
        except ValueError as exc:
            raise ConfigError(f"{where}{exc}") from None
    if unknown:
        raise ConfigError(f"{where}unknown key{'s' if len(unknown) > 1 else ''} {unknown}; valid keys: "
                          f"{', '.join(valid)}")
    return values


def resolve_fit(config_file=None, flags: dict | None = None) -> FitRun:
    """Merge defaults, a config file and command-line flags into a :class:`FitRun`.

    Parameters
    ----------
    config_file : str or os.PathLike, optional
        A TOML file (see the module docstring).
    flags : dict, optional
        Values given on the command line (``None`` = not given; keys that are not
        settings, like ``command``, are ignored).  Already parsed by argparse.

    Returns
    -------
    FitRun
    """
    merged = read_config(config_file) if config_file is not None else {}
    given = _check({k: v for k, v in (flags or {}).items() if v is not None and k in _PARSERS})
    if "dataset" in given and "data" in given:
        raise ConfigError("give either --dataset or --data, not both")
    if "dataset" in given or "data" in given:  # the command line's data replaces the file's
        merged.pop("dataset", None)
        merged.pop("data", None)
    merged.update(given)
    if merged.get("data") is not None:
        merged["dataset"] = None
    run = {k: merged.pop(k) for k in _RUN_KEYS if k in merged}
    if run.get("quiet"):
        merged["verbose"] = 0
    settings = FitSettings(**merged)
    if settings.data is None and settings.dataset is None:
        settings.dataset = "digits"
    out = run.get("out") or os.path.join("runs", settings.dataset or Path(settings.data).stem)
    return FitRun(settings, out, bool(run.get("overwrite", False)), bool(run.get("resume", False)),
                  None if config_file is None else str(config_file))


# --------------------------------------------------------------------------- writing


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")  # None: TOML has no null


def to_toml(run: FitRun) -> str:
    """The effective configuration as a TOML file that :func:`resolve_fit` reads back
    to the same settings (unset values are written as comments)."""
    s = run.settings
    values = {k: getattr(s, k) for k in valid_keys() if k not in _RUN_KEYS}
    values.update(out=run.out, overwrite=run.overwrite, resume=run.resume, quiet=s.verbose == 0)
    spelled = {"batch_size": "full", "normalize": "none", "task": "auto"}  # None in FitSettings
    lines = ["# deeplasso fit configuration (deeplasso fit --config FILE); flags given on the command line win.",
             "# Relative paths in a config file are relative to its folder; these are absolute, so the file",
             "# means the same wherever it is saved."]
    for k, v in values.items():
        if k in _PATH_KEYS and v is not None:
            v = os.path.abspath(v)
        if v is None and k in spelled:
            v = spelled[k]
        if k == "dataset" and v is None:
            lines.append("# dataset: not used (data is set)")
        elif v is None:
            lines.append(f"# {k} = ...  (not set)")
        else:
            try:
                lines.append(f"{k} = {_toml_value(v)}")
            except TypeError:  # e.g. None inside a list: TOML has no null
                lines.append(f"# {k} = {v!r}  (not expressible in TOML)")
    return "\n".join(lines) + "\n"
