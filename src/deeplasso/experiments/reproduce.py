"""``deeplasso reproduce``: every table and figure of the paper from one command.

The studies, each a set of tasks whose results land in the run directory as they
finish (each task is a ``deeplasso fit``-style run directory or a JSON file,
written atomically; paths keep a checkpoint per lambda step):

- ``baselines`` (Table 2, first rows): KNN, linear SVM and PCA + logistic
  regression on CIFAR-10, hyperparameters chosen by cross-validation or on
  validation (:mod:`deeplasso.evaluation.baselines`);
- ``lambda_start`` (Table 1, Figure 2): MNIST 1 vs 4, one path per starting
  lambda of a grid (the paper's values on our scale, plus ``"auto"``): total
  epochs, wall time and accuracy against the number of features;
- ``selection`` (Table 2's LassoNet rows, Figure 3, Figure 4): per data set, a
  shallow and a deeper MLP, several seeds; per path the test accuracy of the path
  itself, of a plain network retrained on the top-k features and on k random
  features, at fractions from 1% to 100%; the importance maps.

A budget fixes the sizes: ``smoke`` (subsets, few epochs: a few minutes on two
CPU cores; CI runs it) and ``paper`` (the paper's protocol). The report
(``report.md`` + PNG figures) is rewritten after every task, so an interrupted run
still has an honest report of what it finished; ``deeplasso report RUN_DIR``
redraws it from the saved results alone.

The budgets and the tasks of each study are in :mod:`.studies`, the report in
:mod:`.reproduce_report`; this module runs the tasks.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path as FsPath

import torch

from ..versions import __version__
from ..engine.files import write_json
from ..evaluation import run_baselines
from .fit import run_fit
from .prepare import prepare_data
from .reproduce_report import PAPER, write_reproduce_report
from .rundir import RunExistsError, json_data
from .settings import FitSettings
from .studies import BUDGETS, STUDIES, Budget, tasks

__all__ = ["Budget", "BUDGETS", "STUDIES", "reproduce", "write_reproduce_report", "PAPER"]


def _log(msg: str, verbose: int) -> None:
    if verbose:
        print(f"[reproduce {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def reproduce(budget: str | Budget, out, data_dir=None, resume: bool = False, studies=STUDIES,
              verbose: int = 1) -> dict:
    """Run the studies of ``budget`` into ``out`` and write its report.

    ``resume=True`` continues an interrupted run: finished tasks are kept, an
    interrupted path restarts from its last finished lambda step. Without it, a
    directory that already holds a reproduction is refused (never overwritten).
    Returns the run's ``reproduce.json`` content.
    """
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
        budget = BUDGETS[budget]
    bad = [s for s in studies if s not in STUDIES]
    if bad or not studies:
        raise ValueError(f"unknown studies {bad or list(studies)}; choose from {', '.join(STUDIES)}")
    out = FsPath(out)
    state_file = out / "reproduce.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if not resume:
            raise RunExistsError(f"{out} already holds a reproduction (reproduce.json); pass --resume to continue "
                                 "it, or choose another --out.")
        if state["budget"] != json_data(budget):
            raise RunExistsError(f"{out} holds a reproduction with budget {state['budget']['name']!r} and other "
                                 "settings; resume it with the same budget, or choose another --out.")
    else:
        state = {"budget": json_data(budget), "data_dir": None if data_dir is None else str(data_dir),
                 "deeplasso": __version__, "torch": torch.__version__, "tasks": {}}
    state["studies"] = sorted(set(state.get("studies", [])) | set(studies))
    out.mkdir(parents=True, exist_ok=True)
    write_json(state_file, state)
    todo = tasks(budget, data_dir, studies)
    for i, (study, rel, settings) in enumerate(todo):
        dest = out / rel
        info = state["tasks"].get(rel, {})
        if info.get("status") == "done":
            continue
        _log(f"task {i + 1}/{len(todo)}: {rel}", verbose)
        t0 = time.perf_counter()
        if study == "baselines":
            _run_baselines(settings, dest, verbose)
        else:
            res = run_fit(settings, dest, resume=True)
        spent = time.perf_counter() - t0
        if study != "baselines" and spent < 1.0:  # finished in an earlier session: its own times
            spent = res["seconds"]["path"] + res["seconds"]["retrain"]
        state["tasks"][rel] = {"study": study, "status": "done",
                               "seconds": info.get("seconds", 0.0) + spent}
        write_json(state_file, state)
        write_reproduce_report(out)
        _log(f"done {rel} in {spent:.1f} s", verbose)
    write_reproduce_report(out)
    return state


def _run_baselines(settings: FitSettings, dest: FsPath, verbose: int) -> dict:
    budget_opts = settings.extra.get("baseline_options", {})
    data = prepare_data(settings)
    return run_baselines(data, random_state=0, options=budget_opts, out=dest, resume=True, verbose=verbose)
