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
from ..runner import Task, TaskFailures, _execute, load_result, run_tasks
from ..runner import _stored as load_stored
from .fit import run_fit
from .prepare import prepare_data
from .reproduce_report import PAPER, write_reproduce_report
from .rundir import RunExistsError, check_out_dir, json_data
from .settings import FitSettings
from .studies import BUDGETS, STUDIES, Budget, tasks

__all__ = ["Budget", "BUDGETS", "STUDIES", "reproduce", "write_reproduce_report", "PAPER"]


def _log(msg: str, verbose: int) -> None:
    if verbose:
        print(f"[reproduce {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def reproduce(budget: str | Budget, out, data_dir=None, resume: bool = False, studies=STUDIES,
              verbose: int = 1, workers: int | None = None, address: str | None = None,
              threads: int | None = None) -> dict:
    """Run the studies of ``budget`` into ``out`` and write its report.

    ``resume=True`` continues an interrupted run: finished tasks are kept, an
    interrupted path restarts from its last finished lambda step. Without it, a
    directory that already holds a reproduction is refused (never overwritten).
    Returns the run's ``reproduce.json`` content.

    The tasks are independent; they go through :func:`deeplasso.runner.run_tasks`:
    one after another in this process (``workers`` None or 1), on a local cluster of
    ``workers`` processes, or on the Dask cluster at ``address``. Each runs under
    ``threads`` torch threads (default: torch's choice serially, 1 in parallel), so
    ``workers=1, threads=1`` gives the numbers of ``workers=2`` (``threads`` 1) bit
    for bit. ``reproduce.json`` is updated as each task finishes; the report is
    rewritten after each task when serial and once at the end in parallel.
    """
    if isinstance(budget, str):
        if budget not in BUDGETS:
            raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
        budget = BUDGETS[budget]
    bad = [s for s in studies if s not in STUDIES]
    if bad or not studies:
        raise ValueError(f"unknown studies {bad or list(studies)}; choose from {', '.join(STUDIES)}")
    out = FsPath(out)
    check_out_dir(out)
    state_file = out / "reproduce.json"
    if state_file.exists() and _started(out):
        state = json.loads(state_file.read_text())
        if not resume:
            raise RunExistsError(f"{out} already holds a reproduction (reproduce.json); pass --resume to continue "
                                 "it, or choose another --out.")
        # `importance` came after some reproductions started; they ranked by "lambda", the paper budget's
        if {"importance": "lambda", **state["budget"]} != json_data(budget):
            raise RunExistsError(f"{out} holds a reproduction with budget {state['budget']['name']!r} and other "
                                 "settings; resume it with the same budget, or choose another --out.")
    else:
        state = {"budget": json_data(budget), "data_dir": None if data_dir is None else str(data_dir),
                 "deeplasso": __version__, "torch": torch.__version__, "tasks": {}}
    state["studies"] = sorted(set(state.get("studies", [])) | set(studies))
    # everything is checked before the first byte is written: a refused reproduction leaves nothing
    # that the corrected command would have to --resume
    _check_data(tasks(budget, data_dir, studies))
    out.mkdir(parents=True, exist_ok=True)
    write_json(state_file, state)
    todo = tasks(budget, data_dir, studies)
    parallel = address is not None or (workers or 1) > 1
    pending, by_key = [], {}
    for i, (study, rel, settings) in enumerate(todo):
        if state["tasks"].get(rel, {}).get("status") == "done":
            continue
        key = rel.removesuffix(".json").replace("/", "__")  # tasks/<key>.json
        by_key[key] = (i, study, rel)
        pending.append(Task(key, run_study_task,
                            dict(study=study, settings=settings, dest=str((out / rel).absolute()),
                                 verbose=0 if parallel else verbose),
                            path=(out / TASK_DIR / f"{key}.json").absolute()))  # a worker elsewhere: other cwd
    th = threads if threads is not None else (1 if parallel else None)

    def finished(key, status):
        i, study, rel = by_key[key]
        if status in ("done", "skipped"):
            spent = load_result(out / TASK_DIR / f"{key}.json", key)["seconds"]
            info = state["tasks"].get(rel, {})
            state["tasks"][rel] = {"study": study, "status": "done", "seconds": info.get("seconds", 0.0) + spent}
            write_json(state_file, state)
            if not parallel:
                write_reproduce_report(out)
            _log(f"done {rel} in {spent:.1f} s", verbose)
        else:
            _log(f"FAILED {rel}", verbose)

    if not parallel:
        # one after another in this process, through the runner's own wrapper (fixed thread count,
        # the record written atomically); a task that raises stops the reproduction, as it always did
        for t in pending:
            i, _, rel = by_key[t.key]
            _log(f"task {i + 1}/{len(todo)}: {rel}", verbose)
            if load_stored(t) is None:
                _execute(t.fn, (t.key, str(t.path), (), th), **t.kwargs)
            finished(t.key, "done")
    elif pending:
        _log(f"{len(pending)} tasks on " + (f"the cluster at {address}" if address else f"{workers} local workers"),
             verbose)
        try:
            run_tasks(pending, workers=workers, address=address, retries=0, resume=True, threads_per_task=th,
                      progress=finished)
        except TaskFailures as exc:
            write_reproduce_report(out)
            raise RuntimeError(f"{len(exc.failures)} of {len(pending)} reproduce tasks failed (the others' results "
                               "are kept; run again with --resume to retry them):\n"
                               + "\n".join(f"  {by_key[k][2]}: {v}" for k, v in exc.failures.items())) from None
    write_reproduce_report(out)
    return state


#: where each task's runner record (its wall time) goes, inside the run directory
TASK_DIR = "tasks"


def run_study_task(study: str, settings: FitSettings, dest: str, verbose: int = 0) -> dict:
    """A runner task: one task of a study (a baselines file or a ``deeplasso fit`` run
    directory at ``dest``); returns its wall time in seconds (a path finished in an
    earlier session counts its own recorded times)."""
    t0 = time.perf_counter()
    if study == "baselines":
        _run_baselines(settings, FsPath(dest), verbose)
    else:
        res = run_fit(settings, dest, resume=True)
    spent = time.perf_counter() - t0
    if study != "baselines" and spent < 1.0:  # finished in an earlier session: its own times
        spent = res["seconds"]["path"] + res["seconds"]["retrain"]
    return {"seconds": spent}


def _started(out: FsPath) -> bool:
    """Whether ``out`` holds a reproduction that ran: anything beside ``reproduce.json``
    (a task's output, the report). A ``reproduce.json`` alone holds only the settings of
    one that never started (an earlier version wrote it before checking the data): not a
    run, replaced by the next."""
    return any(p.name != "reproduce.json" and not (p.name.startswith(".") and p.name.endswith(".tmp"))
               for p in out.iterdir())


def _check_data(todo) -> None:
    """Load every data set the tasks need once, so that missing or corrupt files are
    reported (``DataNotFoundError``: every folder searched and how to get the files)
    before the run directory is made."""
    from ..data import load

    for ds, data_dir in sorted({(s.dataset, s.data_dir) for _, _, s in todo if s.dataset is not None},
                               key=repr):
        load(ds, data_dir)


def _run_baselines(settings: FitSettings, dest: FsPath, verbose: int) -> dict:
    budget_opts = settings.extra.get("baseline_options", {})
    data = prepare_data(settings)
    return run_baselines(data, random_state=0, options=budget_opts, out=dest, resume=True, verbose=verbose)
