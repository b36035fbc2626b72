"""One table of path parameters: :class:`deeplasso.engine.config.PathConfig`.

The estimators, ``FitSettings`` (``deeplasso fit``), its CLI flags and its TOML
keys describe the same parameters. Each is checked against PathConfig here: the
same name means the same default, unless a table below lists the difference and
says why. Every name of every table is classified, so a new parameter has to be
placed in one of them, and a listed difference that stops being true fails too.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
import pathlib
import re

import pytest
from sklearn.utils.estimator_checks import check_param_validation

import deeplasso.estimators as estimators
from deeplasso import LassoNetClassifier, LassoNetRegressor
from deeplasso.cli import build_parser
from deeplasso.engine.config import PARAMETERS, PathConfig
from deeplasso.experiments import config as toml_config
from deeplasso.experiments.fit import FitSettings

ENGINE = pathlib.Path(estimators.__file__).resolve().parent / "engine"

PATH_DEFAULTS = {f.name: f.default for f in dataclasses.fields(PathConfig)}
CLF_DEFAULTS = LassoNetClassifier().get_params()
REG_DEFAULTS = LassoNetRegressor().get_params()
FIT_DEFAULTS = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                for f in dataclasses.fields(FitSettings)}

# --------------------------------------------------------------------------- the tables of differences

#: Estimator parameters that are PathConfig fields but deliberately default otherwise:
#: name -> (estimator default, PathConfig default, why).
ESTIMATOR_DIFFERENCES = {
    # an estimator fit on its own data wants early stopping that ends on a plateau; the
    # engine's default keeps every strict improvement (tol=0), as the golden paths were recorded
    "tol": (0.01, 0.0, "the estimators stop on a plateau; the engine counts any improvement"),
    # issue 15 (docs/selection.md): the settings that select best are the estimators'
    # defaults; the engine keeps the behaviour its golden paths were recorded with
    "path_multiplier": ("auto", 1.02, "adaptive steps, fine near n_features_to_select; the engine a fixed ratio"),
    "steps_per_epoch": ("auto", None, "an epoch of at least a batch-64 pass's steps; the engine one pass"),
    "path_optimizer": ("auto", "same", "SGD for full batch; the engine goes on with the optimizer"),
    "dense_lr": ("auto", None, "the dense model at lr or lr/10, the better on validation; the engine at lr"),
}

#: Estimator parameters passed to PathConfig under another name:
#: estimator name -> (PathConfig field, estimator default, PathConfig default, how it maps).
ESTIMATOR_RENAMED = {
    "n_features_to_select": ("n_features_stop", None, 0, "None -> 0 (the empty model); a fraction -> a count"),
    "store_path_weights": ("store_weights", False, False, "also True while a checkpoint is written"),
    "random_state": ("seed", None, 0, "the path's seed is drawn from check_random_state(random_state)"),
}

#: Estimator parameters with no PathConfig field: they build the module or the data split, or read the path.
ESTIMATOR_ONLY = {"hidden_dims", "body", "image_shape", "conv_channels", "pixel_channels", "refit", "importance",
                  "dropout",
                  "validation_fraction", "device"}

#: PathConfig fields the estimators do not expose.
ENGINE_ONLY = {
    "task",  # the estimator class is the task
    "fast", "active_set", "num_threads",  # engine tuning, defaults are right for users
}

#: FitSettings fields (the ``deeplasso fit`` main job, which runs digits) that name a
#: parameter of the estimator or of PathConfig but deliberately default otherwise:
#: name -> (FitSettings default, estimator's or else PathConfig's default, why).
FIT_DIFFERENCES = {
    "hidden_dims": ((32,), (100,), "digits has 64 features: a narrow network is enough and fast"),
    "path_multiplier": (1.1, "auto", "a shorter path: a run on digits takes seconds"),
    "task": (None, "classification", "None ('auto'): inferred from the data's labels, which picks the estimator"),
    "importance": (None, "auto", "None: the estimator's own default (the autoencoder's is 'lambda')"),
    # the estimators are silent by default (scikit-learn's convention, issue 19); the command
    # prints its progress unless --quiet
    "verbose": (1, 0, "deeplasso fit shows its progress; --quiet silences it"),
}

#: FitSettings fields that reach the estimator under another name (the public surface,
#: tests/golden/api.json, is frozen, so these are not renamed):
#: name -> (estimator parameter, FitSettings default, estimator default, why).
FIT_RENAMED = {
    # the share of the data set's split held out as X_val (the estimator's own split is then unused)
    "val_fraction": ("validation_fraction", 0.1, 0.1, "the data set's validation split, given as X_val"),
    # one seed for the splits, the subsampling and the path
    "seed": ("random_state", 0, None, "a run is reproducible by default"),
}

#: FitSettings fields that are settings of the data, the retraining or the report, not of the path.
FIT_NOT_PATH = {"dataset", "data", "labels", "target", "data_dir", "normalize", "test_fraction", "fractions",
                "retrain_hidden_dims", "max_train", "extra", "split", "split_seed", "classes", "per_class",
                "retrain_max_epochs", "retrain_patience",
                "cv", "choose", "cv_scoring", "stability", "threshold"}  # CV and stability selection beside the path (issue 16)

#: FitSettings fields with no TOML key (experiments/config.py ``_NOT_KEYS``).
FIT_NO_TOML_KEY = {"verbose": "set by the run option quiet", "extra": "not settable from a file"}

#: Help texts of ``deeplasso fit`` whose stated default is prose, with the value it stands for.
PROSE_DEFAULTS = {"image_shape": ("bars", None), "target": ("the last column", None),
                  "out": ("runs/<data set or file name>", "runs/digits"),
                  "cv_scoring": ("accuracy, or R^2 for a regression", None),
                  "importance": ("the estimator's, auto", None)}


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                            and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


# --------------------------------------------------------------------------- PathConfig itself


def test_path_config_is_the_table():
    assert list(PARAMETERS) == list(PATH_DEFAULTS)
    for name, (default, doc) in PARAMETERS.items():
        assert _same(default, PATH_DEFAULTS[name]) or (default is None and PATH_DEFAULTS[name] is None)
        assert doc.strip() and "\n" not in doc, name
    attributes = PathConfig.__doc__.split("Attributes\n    ----------\n", 1)[1]
    documented = re.findall(r"^    (\w+) : ", attributes, flags=re.M)
    assert documented == list(PATH_DEFAULTS)  # each field once, in field order


def test_the_engine_imports_no_scikit_learn():
    for file in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] == "sklearn" for n in names), file


# --------------------------------------------------------------------------- the estimators


def test_every_estimator_parameter_is_placed():
    classified = set(PATH_DEFAULTS) | set(ESTIMATOR_RENAMED) | ESTIMATOR_ONLY
    assert set(CLF_DEFAULTS) <= classified, set(CLF_DEFAULTS) - classified
    assert set(REG_DEFAULTS) == set(CLF_DEFAULTS) - {"class_weight"}
    used = (set(CLF_DEFAULTS) & set(PATH_DEFAULTS)) | {v[0] for v in ESTIMATOR_RENAMED.values()}
    assert set(PATH_DEFAULTS) - used == ENGINE_ONLY
    assert not ESTIMATOR_ONLY & set(PATH_DEFAULTS)


@pytest.mark.parametrize("name", sorted(set(CLF_DEFAULTS) & set(PATH_DEFAULTS)))
def test_estimator_defaults_are_the_path_defaults(name):
    for defaults in (CLF_DEFAULTS, REG_DEFAULTS):
        if name not in defaults:
            continue
        if name in ESTIMATOR_DIFFERENCES:
            est, path, _ = ESTIMATOR_DIFFERENCES[name]
            assert _same(defaults[name], est) and _same(PATH_DEFAULTS[name], path), "the listed difference is stale"
            assert not _same(est, path)
        else:
            assert _same(defaults[name], PATH_DEFAULTS[name]) or defaults[name] is PATH_DEFAULTS[name], name


@pytest.mark.parametrize("name", sorted(ESTIMATOR_RENAMED))
def test_renamed_estimator_parameters(name):
    field, est, path, _ = ESTIMATOR_RENAMED[name]
    assert field in PATH_DEFAULTS and name not in PATH_DEFAULTS
    assert CLF_DEFAULTS[name] == est and PATH_DEFAULTS[field] == path


def test_estimator_parameters_reach_the_path_config():
    """Non-default values of the shared and renamed parameters arrive in the PathConfig
    the estimator builds (a callback reads it as the path begins and stops the fit)."""
    import numpy as np

    from deeplasso.engine import Callback

    seen = {}

    class Stop(Exception):
        pass

    class ReadConfig(Callback):
        def on_path_begin(self, trainer, path):
            seen["cfg"] = trainer.cfg
            raise Stop

    given = dict(M=3.0, lambda_start=0.5, path_multiplier=1.5, lambda_max=7.0, lr=0.02, optimizer="sgd",
                 path_optimizer="sgd", batch_size=16, max_epochs=7, patience=2, tol=0.25, verbose=0,
                 groups=[[0, 1], [2], [3], [4], [5]], n_features_to_select=2, store_path_weights=True,
                 dense_max_epochs=9, dense_patience=4, dense_lr=0.005, steps_per_epoch=3,
                 class_weight="balanced")
    assert set(given) == (set(CLF_DEFAULTS) & set(PATH_DEFAULTS)) | set(ESTIMATOR_RENAMED) - {"random_state"}
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6)), np.array([0, 1] * 20)
    with pytest.raises(Stop):
        LassoNetClassifier(**given, device="cpu").fit(X, y, callbacks=[ReadConfig()])
    cfg = seen["cfg"]
    for name, value in given.items():
        field = ESTIMATOR_RENAMED[name][0] if name in ESTIMATOR_RENAMED else name
        if name == "class_weight":
            assert cfg.class_weight is not None and cfg.class_weight.shape == (2,)
        else:
            assert getattr(cfg, field) == value, name
    assert cfg.task == "classification"


def _docstring_parameters(doc: str) -> list[tuple[str, str]]:
    section = doc.split("Parameters\n    ----------\n", 1)[1].split("\n\n    Attributes", 1)[0]
    return re.findall(r"^    (\w+) : (.*)$", section, flags=re.M)


def test_estimator_docstring_describes_each_parameter_once_with_its_default():
    entries = _docstring_parameters(LassoNetClassifier.__doc__)
    names = [n for n, _ in entries]
    assert sorted(names) == sorted(CLF_DEFAULTS) and len(names) == len(set(names))
    for name, spec in entries:
        stated = re.search(r"default=(.+)$", spec)
        assert stated, f"{name}: the docstring states no default"
        text = stated.group(1).strip()
        value = math.inf if text == "inf" else ast.literal_eval(text)
        assert value == CLF_DEFAULTS[name] or value is CLF_DEFAULTS[name], name
    # the regressor refers to the classifier's list instead of repeating it
    assert "Parameters\n    ----------" not in LassoNetRegressor.__doc__
    assert ":class:`LassoNetClassifier`" in LassoNetRegressor.__doc__


@pytest.mark.parametrize("Estimator", [LassoNetClassifier, LassoNetRegressor])
def test_parameter_constraints_cover_every_parameter(Estimator):
    """scikit-learn's own check: a constraint per parameter, and fit refuses a value of a
    wrong type or outside its range with InvalidParameterError."""
    check_param_validation(Estimator.__name__, Estimator(verbose=0, max_epochs=2))


def test_fit_sets_only_trailing_underscore_state():
    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), np.array([0, 1] * 20)
    for est in (LassoNetClassifier(max_epochs=2, verbose=0, path_multiplier=2.0),
                LassoNetRegressor(max_epochs=2, verbose=0, path_multiplier=2.0)):
        before = set(vars(est))
        est.fit(X, y)
        assert set(vars(est)) >= before
        assert all(k.endswith("_") for k in set(vars(est)) - before), sorted(set(vars(est)) - before)
    src = inspect.getsource(estimators.LassoNetBase.__init__)
    assert all(line.strip().startswith("self.") and "= " in line for line in src.split("):\n", 1)[1].splitlines()
               if line.strip())


# --------------------------------------------------------------------------- deeplasso fit


def _reference_default(name):
    """The default the main job's setting would get without FitSettings: the estimator's
    parameter of that name, else PathConfig's field."""
    return CLF_DEFAULTS[name] if name in CLF_DEFAULTS else PATH_DEFAULTS[name]


def test_every_fit_setting_is_placed():
    path_names = set(CLF_DEFAULTS) | set(PATH_DEFAULTS)
    named = {n for n in FIT_DEFAULTS if n in path_names}
    assert set(FIT_DEFAULTS) == named | set(FIT_RENAMED) | FIT_NOT_PATH
    assert not FIT_NOT_PATH & path_names and set(FIT_DIFFERENCES) <= named | set(FIT_RENAMED)


@pytest.mark.parametrize("name", sorted(n for n in FIT_DEFAULTS if n in set(CLF_DEFAULTS) | set(PATH_DEFAULTS)
                                        and n not in FIT_RENAMED))
def test_fit_settings_defaults_are_the_path_defaults(name):
    ref = _reference_default(name)
    if name in FIT_DIFFERENCES:
        fit, listed, _ = FIT_DIFFERENCES[name]
        assert FIT_DEFAULTS[name] == fit and listed == ref, "the listed difference is stale"
        assert fit != ref
    else:
        assert FIT_DEFAULTS[name] == ref, name


@pytest.mark.parametrize("name", sorted(FIT_RENAMED))
def test_renamed_fit_settings(name):
    est_name, fit, est, _ = FIT_RENAMED[name]
    assert name not in CLF_DEFAULTS and est_name in CLF_DEFAULTS
    assert FIT_DEFAULTS[name] == fit and CLF_DEFAULTS[est_name] == est


def test_toml_keys_are_the_fit_settings_names():
    keys = toml_config.valid_keys()
    run_options = {"out", "overwrite", "resume", "quiet"}
    assert set(keys) == (set(FIT_DEFAULTS) - set(FIT_NO_TOML_KEY)) | run_options


def _fit_actions():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    fit = sub.choices["fit"]
    return parser, [a for a in fit._actions if a.option_strings and a.dest != "help"]


def test_cli_flags_are_the_toml_keys():
    _, actions = _fit_actions()
    keys = set(toml_config.valid_keys())
    for a in actions:
        if a.dest in ("config", "print_config", "workers", "address"):  # where the tasks run, not a setting
            continue
        assert a.dest in keys, a.dest
        assert a.option_strings[-1] == "--" + a.dest.replace("_", "-"), a.option_strings


#: "(default X)", "(default: X)", "default X: ..." and "X (default)" / "X (..., default)".
_STATED = [re.compile(r"\(default:? ([^)]*)\)"), re.compile(r"^default (\S+?):"),
           re.compile(r"(\S+) \((?:[^()]*, )?default[;)]")]


def _stated_default(help_text: str) -> str | None:
    for pattern in _STATED:
        m = pattern.search(help_text)
        if m:
            return re.split(r"[:;]", m.group(1), maxsplit=1)[0].strip().strip("'\"")
    return None


def test_cli_help_states_the_real_defaults():
    """Each ``deeplasso fit`` flag whose help states a default: giving that value as the
    flag yields the same run as giving nothing."""
    parser, actions = _fit_actions()
    plain = toml_config.resolve_fit(None, vars(parser.parse_args(["fit"])))
    checked = set()
    for a in actions:
        if not a.help or "default" not in a.help:
            continue
        stated = _stated_default(a.help)
        assert stated is not None, f"{a.option_strings[-1]}: a default is named but cannot be read: {a.help!r}"
        if a.dest in PROSE_DEFAULTS:
            prose, value = PROSE_DEFAULTS[a.dest]
            assert stated == prose
            now = plain.out if a.dest == "out" else getattr(plain.settings, a.dest)
            assert now == value, a.dest
        else:
            run = toml_config.resolve_fit(None, vars(parser.parse_args(["fit", a.option_strings[-1], stated])))
            assert run.settings == plain.settings, f"{a.option_strings[-1]}: help says default {stated!r}"
            assert FIT_DEFAULTS[a.dest] == getattr(plain.settings, a.dest)
        checked.add(a.dest)
    # the flags of path parameters all state their default
    path_flags = {a.dest for a in actions if a.dest in set(CLF_DEFAULTS) | set(PATH_DEFAULTS)} - {"task"}
    assert path_flags - {"image_shape"} <= checked, path_flags - checked
