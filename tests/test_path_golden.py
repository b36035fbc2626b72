"""The paths are the same as before the engine redesign.

``tests/golden/paths.json`` holds, for fixed seeds, digests of the digits paths (every
point's lambda and ``||theta_j||``, as float64 bytes) written by
``tests/golden/record_paths.py`` from the code before the first redesign commit
(351ac21). A refactor that changes any bit of any path fails here.
"""

import json
import pathlib
import sys

import pytest

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import record_paths  # noqa: E402

RECORDED = json.loads((GOLDEN / "paths.json").read_text())


def test_every_case_is_recorded():
    assert set(RECORDED) == set(record_paths.CASES)


@pytest.mark.parametrize("name", sorted(record_paths.CASES))
def test_path_equals_recorded(name):
    got, want = record_paths.run(name), RECORDED[name]
    # the readable parts first, so that a failure says where the paths part
    assert got["n_selected"] == want["n_selected"]
    assert got["epochs"] == want["epochs"]
    assert got["ranking"] == want["ranking"]
    assert got["digest"] == want["digest"]
