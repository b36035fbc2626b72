"""Record the public surface that tests/test_api_surface.py holds fixed.

Written from the code before the engine redesign (commit 351ac21). A change of the
public API is recorded by rerunning this (python tests/golden/record_api.py) together
with a CHANGELOG entry that gives the reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "api.json"


def _flags(parser: argparse.ArgumentParser) -> dict:
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[name] = _flags(sub)
        elif action.option_strings:
            out[action.option_strings[-1]] = {"default": repr(action.default),
                                              "choices": None if action.choices is None else list(action.choices)}
        else:
            out[action.dest] = "positional"
    return out


def surface() -> dict:
    import deeplasso
    from deeplasso import LassoNetClassifier, LassoNetRegressor
    from deeplasso.cli import build_parser
    from deeplasso.experiments import config
    from deeplasso.experiments.fit import FitSettings

    return {
        "__all__": sorted(deeplasso.__all__),
        "LassoNetClassifier": {k: repr(v) for k, v in LassoNetClassifier().get_params().items()},
        "LassoNetRegressor": {k: repr(v) for k, v in LassoNetRegressor().get_params().items()},
        "cli": _flags(build_parser()),
        "toml_keys": sorted(config.valid_keys()),
        "FitSettings": {f.name: repr(f.default) if f.default is not dataclasses.MISSING
                        else repr(f.default_factory()) for f in dataclasses.fields(FitSettings)},
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(surface(), indent=1, sort_keys=True) + "\n")
    print("wrote", OUT)
