"""The paths are the same as before the engine redesign.

``tests/golden/paths.json`` holds, for fixed seeds, digests of the digits paths (every
point's lambda and ``||theta_j||``, as float64 bytes) written by
``tests/golden/record_paths.py`` from the code before the first redesign commit
(351ac21). A refactor that changes any bit of any path fails here.

A path's float bits also depend on the CPU's kernels, so ``paths_by_machine.json`` holds
the same cases recorded on other kinds of machine (``record_paths.py --machine``, from code
that passed here on a recorded one). A path must equal one of the records; on a machine
kind with no record of its own, a path that equals none is skipped with that reason
rather than failed (it cannot tell a refactor from the CPU).
"""

import json
import pathlib
import sys

import pytest

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import record_paths  # noqa: E402

RECORDED = json.loads((GOLDEN / "paths.json").read_text())
BY_MACHINE = json.loads((GOLDEN / "paths_by_machine.json").read_text())
HERE = record_paths.machine()


def test_every_case_is_recorded():
    assert set(RECORDED) == set(record_paths.CASES)
    for sig, cases in BY_MACHINE.items():
        assert set(cases) == set(record_paths.CASES), sig


@pytest.mark.parametrize("name", sorted(record_paths.CASES))
def test_path_equals_recorded(name):
    got = record_paths.run(name)
    if HERE in BY_MACHINE:
        want = BY_MACHINE[HERE][name]
    else:
        known = [RECORDED[name]] + [cases[name] for cases in BY_MACHINE.values()]
        if any(got == w for w in known):
            return
        pytest.skip(f"this machine ({HERE}) has no golden record, and its path {name!r} equals none of the "
                    f"{len(known)} recorded on other machines: record it with tests/golden/record_paths.py "
                    "--machine from code that passes on a recorded machine")
    # the readable parts first, so that a failure says where the paths part
    assert got["n_selected"] == want["n_selected"]
    assert got["epochs"] == want["epochs"]
    assert got["ranking"] == want["ranking"]
    assert got["digest"] == want["digest"]
