"""The public surface is what it was before the engine redesign, or the CHANGELOG says
why not: ``tests/golden/api.json`` (written by ``tests/golden/record_api.py``) holds
``deeplasso.__all__``, the estimators' parameters and defaults, every CLI flag with
its default and choices, the TOML keys and ``FitSettings``."""

import json
import pathlib
import sys

import pytest

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import record_api  # noqa: E402

RECORDED = json.loads((GOLDEN / "api.json").read_text())
NOW = record_api.surface()


@pytest.mark.parametrize("part", sorted(RECORDED))
def test_surface_unchanged(part):
    assert NOW[part] == RECORDED[part]


def test_no_part_added_unrecorded():
    assert set(NOW) == set(RECORDED)
