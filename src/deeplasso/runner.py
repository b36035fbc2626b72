"""Run many independent tasks (paths, folds, subsamples) serially or on a Dask cluster.

A :class:`Task` is a stable string key, a picklable top-level function, its keyword
arguments and the file its result goes to. :func:`run_tasks` runs a list of them:

- serially, in this process, when ``workers`` is None or 1 and no ``address`` is given
  (Dask is not imported then);
- on a ``distributed.LocalCluster`` of ``workers`` worker processes (one thread each)
  started on this machine, or on the running cluster at ``address``
  (``tcp://head:8786``), which it leaves running.

Whichever way, the same wrapper runs each task: it removes the temp files a killed
attempt left beside the task's files, runs the function with a fixed torch thread count
(``threads_per_task``), and writes ``{"key", "result", "seconds"}`` to the task's JSON
file atomically (temp file beside it, fsync, rename). The result handed back is that
JSON value, read back from what was written, so serial and parallel runs return the
same objects and a resumed run returns what the first run wrote. Same seeds in the
kwargs, same results, whatever the number of workers.

Nothing is lost: every task is submitted, results are collected as they complete, a
failure does not stop the others (Dask retries a raising task ``retries`` times and
moves the task of a worker that died to another worker, up to the scheduler's
``allowed-failures``), and at the end one :class:`TaskFailures` lists the keys that did
not finish; the results of the others are on disk. With ``resume`` a task whose result
file holds its key is not run again. See docs/distributed.md.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Task", "TaskFailures", "run_tasks", "load_result", "INSTALL_HINT"]

INSTALL_HINT = "pip install deeplasso[distributed]"

#: numpy arguments at least this large are sent to the cluster once (``Client.scatter``)
#: and shared by every task that takes them, instead of travelling inside each task
_SCATTER_BYTES = 1 << 16


@dataclass(frozen=True)
class Task:
    """One unit of work.

    Parameters
    ----------
    key : str
        Stable and unique within a run: the same work has the same key in every run
        (resume finds its result by it). On a cluster the Dask key is the run's token
        and the task's index, so that all tasks form one Dask task group.
    fn : callable
        A top-level (importable, picklable) function; ``fn(**kwargs)`` returns a
        JSON-able value (numbers, strings, lists, dicts; numpy arrays and scalars are
        converted, inf and nan kept).
    kwargs : dict
        Its keyword arguments (picklable). Carry the seeds here: a task's result must
        depend on its kwargs only.
    path : path-like or None
        The JSON file its result is written to. None: nothing is written and the task
        always runs (in-memory work such as a cross-validation without a run folder).
        On a multi-node cluster it must lie on storage every node and the client see.
    outputs : sequence of path-like
        Other files ``fn`` writes itself (with :func:`deeplasso.engine.files.atomic_write`
        or ``Path.save``); the temp files a killed attempt left beside them are removed.
        The result file is written after ``fn`` returns, so it marks all of them done.
    """

    key: str
    fn: Callable[..., Any]
    kwargs: dict = field(default_factory=dict)
    path: str | os.PathLike | None = None
    outputs: Sequence[str | os.PathLike] = ()


class TaskFailures(RuntimeError):
    """Some tasks did not finish. ``failures``: key -> error text; ``results``: key ->
    result of every task that did (also on disk)."""

    def __init__(self, failures: dict[str, str], results: dict[str, Any]):
        self.failures, self.results = failures, results
        lines = "\n".join(f"  {k}: {v}" for k, v in failures.items())
        super().__init__(f"{len(failures)} of {len(failures) + len(results)} tasks failed "
                         f"(the results of the other {len(results)} are kept):\n{lines}")


# --------------------------------------------------------------------------- files


def _stale_temps(path: Path) -> list[Path]:
    """Temp files ``atomic_write`` leaves beside ``path`` when its process is killed."""
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def _clean(paths: Iterable[Path]) -> None:
    for p in paths:
        for tmp in _stale_temps(p):
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass


def load_result(path, key: str | None = None):
    """The result stored in a task's file, or raise (missing, unreadable, or written for
    another key)."""
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or "result" not in doc or (key is not None and doc.get("key") != key):
        raise ValueError(f"{path} does not hold the result of task {key!r}")
    return doc["result"]


def _stored(task: Task):
    """``(result,)`` if the task's file holds its result, else None."""
    if task.path is None:
        return None
    try:
        return (load_result(task.path, task.key),)
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- the wrapper


def _execute(fn, spec, /, **kwargs):
    """Run one task where it is scheduled (this process or a worker) and write its result.

    ``spec``: (key, result path or None, output paths, torch threads)."""
    from .engine.files import atomic_write, json_default
    from .engine.runtime import torch_threads

    key, path, outputs, threads = spec
    files = [Path(p) for p in (*outputs, *(() if path is None else (path,)))]
    _clean(files)  # what an attempt killed mid-write left behind
    t0 = time.perf_counter()
    with torch_threads(threads):
        result = fn(**kwargs)
    doc = {"key": key, "result": result, "seconds": time.perf_counter() - t0}
    text = json.dumps(doc, default=json_default, allow_nan=True, sort_keys=True)
    if path is not None:
        atomic_write(path, lambda f: f.write(text + "\n"), mode="w")
    return json.loads(text)["result"]


def _execute_packed(pack):
    """:func:`_execute` on ``(fn, spec, kwargs)``: one argument, for ``Client.map``."""
    fn, spec, kwargs = pack
    return _execute(fn, spec, **kwargs)


# --------------------------------------------------------------------------- the runner


def run_tasks(
    tasks: Sequence[Task],
    workers: int | None = None,
    address: str | None = None,
    *,
    retries: int = 2,
    resume: bool = True,
    threads_per_task: int | None = 1,
    gpus_per_task: float | None = None,
    progress: bool | Callable[[str, str], None] = False,
    cluster_kwargs: dict | None = None,
) -> dict[str, Any]:
    """Run ``tasks`` and return ``{key: result}`` in task order.

    Parameters
    ----------
    tasks : sequence of Task
        Keys must be unique.
    workers : int or None
        None or 1 (and no ``address``): serially, in this process. More: a local Dask
        cluster of that many worker processes, one thread each, closed at the end.
    address : str or None
        A running Dask scheduler (``"tcp://head:8786"``); ``workers`` is then ignored
        (the cluster has the workers it has) and the cluster is left running.
    retries : int
        Further attempts of a task that raised (a worker that died is handled by the
        scheduler: its tasks move to other workers).
    resume : bool
        Skip tasks whose result file already holds their result.
    threads_per_task : int or None
        torch's CPU thread count while a task runs, the same serially and on workers,
        so that results do not depend on how many run at once. None: leave it.
    gpus_per_task : float or None
        Share of a GPU each task holds, when the cluster's workers declare ``GPU``
        resources (``dask worker --resources GPU=1``); e.g. 0.5 runs two tasks per GPU
        on a worker with two threads. Ignored (with a warning) on a cluster without them.
    progress : bool or callable
        True: a progress bar; a callable is called as ``progress(key, status)`` with
        status "skipped", "done" or "failed".
    cluster_kwargs : dict, optional
        Further ``distributed.LocalCluster`` arguments (e.g. ``dashboard_address=":8787"``).
        Without them, on a machine with CUDA GPUs the local cluster pins worker i to GPU
        ``i % n_gpus`` (its ``CUDA_VISIBLE_DEVICES``) and declares ``GPU=1`` on it, so
        that paths on ``device="cuda"`` spread over the GPUs.

    Raises
    ------
    TaskFailures
        After every task was tried, if any did not finish; it carries the results of
        the others, which are also on disk.
    ImportError
        ``workers`` > 1 or an ``address`` without Dask installed.
    """
    tasks = list(tasks)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"task keys must be unique; repeated: {dup[:5]}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers={workers!r} is invalid: expected None or a positive int.")
    if retries < 0:
        raise ValueError(f"retries={retries!r} is invalid: expected an int >= 0.")

    report = _progress(progress, len(tasks))
    results: dict[str, Any] = {}
    todo = []
    for t in tasks:
        done = _stored(t) if resume else None
        if done is not None:
            results[t.key] = done[0]
            report(t.key, "skipped")
        else:
            todo.append(t)
    failures: dict[str, str] = {}
    try:
        if todo and (address is not None or (workers or 1) > 1):
            _run_dask(todo, workers, address, retries, threads_per_task, gpus_per_task, cluster_kwargs,
                      results, failures, report)
        else:
            _run_serial(todo, retries, threads_per_task, results, failures, report)
    finally:
        report(None, "close")
    _clean(Path(p) for t in tasks for p in (*t.outputs, *(() if t.path is None else (t.path,))))
    ordered = {k: results[k] for k in keys if k in results}
    if failures:
        raise TaskFailures({k: failures[k] for k in keys if k in failures}, ordered)
    return ordered


def _spec(t: Task, threads):
    return (t.key, None if t.path is None else os.fspath(t.path), tuple(os.fspath(p) for p in t.outputs), threads)


def _run_serial(todo, retries, threads, results, failures, report):
    for t in todo:
        for attempt in range(retries + 1):
            try:
                results[t.key] = _execute(t.fn, _spec(t, threads), **t.kwargs)
                report(t.key, "done")
                break
            except Exception as exc:  # noqa: BLE001 - reported by key at the end
                if attempt == retries:
                    failures[t.key] = f"{type(exc).__name__}: {exc}"
                    report(t.key, "failed")


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"running tasks on several workers or a cluster needs Dask distributed: "
                          f"{INSTALL_HINT} (or set workers=None to run serially). ({exc})") from None
    return distributed


def _hold(value):
    return value


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, as ``CUDA_VISIBLE_DEVICES`` names them
    (its entries when set, else ``0 .. n-1``); empty without CUDA."""
    try:
        import torch

        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # a broken driver: as if there were no GPU
        n = 0
    if n == 0:
        return []
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    names = [d.strip() for d in env.split(",") if d.strip()] if env else []
    return names[:n] if len(names) >= n else [str(i) for i in range(n)]


def _queuing_config():
    """Config of the local cluster's scheduler: at most one task per worker thread. The
    rest wait on the scheduler, so no task is queued behind a long one on a busy worker
    while another worker is free (Dask's default 1.1 lets each one-thread worker hold two)."""
    import dask

    return dask.config.set({"distributed.scheduler.worker-saturation": 1.0})


def _gpu_cluster(distributed, workers: int, gpus: list[str]):
    """A local cluster whose worker i sees only GPU ``gpus[i % len(gpus)]`` (as its
    ``cuda:0``, through ``CUDA_VISIBLE_DEVICES``) and declares ``GPU=1``, so that the
    paths spread over the devices and ``gpus_per_task`` shares hold; workers beyond the
    number of GPUs share devices round robin."""
    workers_spec = {
        f"gpu{i}": {"cls": distributed.Nanny,
                    "options": {"nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": gpus[i % len(gpus)]},
                                "resources": {"GPU": 1.0}, "silence_logs": logging.ERROR}}
        for i in range(workers)}
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard": False, "dashboard_address": ":0"}}
    return distributed.SpecCluster(workers=workers_spec, scheduler=scheduler, silence_logs=logging.ERROR)


def _run_dask(todo, workers, address, retries, threads, gpus_per_task, cluster_kwargs, results, failures,
              report):
    import numpy as np

    distributed = _import_distributed()
    cluster = None
    if address is not None:
        client = distributed.Client(address)
    else:
        opts = dict(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR)
        opts.update(cluster_kwargs or {})
        try:
            gpus = visible_gpus() if not cluster_kwargs else []
            with _queuing_config():
                cluster = _gpu_cluster(distributed, int(workers), gpus) if gpus else distributed.LocalCluster(**opts)
        except RuntimeError as exc:
            raise RuntimeError(f"the local Dask cluster did not start ({exc}). Worker processes are spawned, so "
                               "a script that starts one must do so under `if __name__ == \"__main__\":`.") from exc
        client = distributed.Client(cluster)
    try:
        resources = None
        if gpus_per_task:
            info = client.scheduler_info()
            if any(w.get("resources", {}).get("GPU") for w in info["workers"].values()):
                resources = {"GPU": float(gpus_per_task)}
            else:
                warnings.warn("gpus_per_task was given but no worker declares GPU resources (start workers with "
                              "`dask worker ... --resources GPU=1`); tasks are scheduled without GPU shares.",
                              stacklevel=3)
        token = uuid.uuid4().hex[:8]
        shared: dict[int, Any] = {}  # id(array) -> its future: each large array goes to the cluster once

        def send(v):
            if isinstance(v, np.ndarray) and v.nbytes >= _SCATTER_BYTES:
                if id(v) not in shared:
                    # a task that returns the array, not client.scatter: scattered data dies with the
                    # workers that hold it, while the scheduler can run this task again
                    with warnings.catch_warnings():
                        warnings.filterwarnings("ignore", message=".*[Ll]arge (object|graph)")
                        fut = client.submit(_hold, v, key=f"data-{len(shared)}-{token}", pure=False)
                    shared[id(v)] = (fut, v)  # v kept alive: ids stay unique
                return shared[id(v)][0]
            return v

        # One map call: one task group (one key prefix) in one graph, which Dask queues on the
        # scheduler and hands out in list order as threads free up ("root-ish": more tasks
        # than twice the threads, no GPU shares). A group per task is placed on workers at
        # submission, and work stealing may leave a worker idle beside a full queue.
        packs = [(t.fn, _spec(t, threads), {k: send(v) for k, v in t.kwargs.items()}) for t in todo]
        names = [f"deeplasso_task-{token}-{i}" for i in range(len(todo))]
        futs = client.map(_execute_packed, packs, key=names, pure=False, retries=retries, resources=resources)
        futures = {fut: t.key for fut, t in zip(futs, todo)}
        for fut in distributed.as_completed(list(futures)):
            key = futures[fut]
            if fut.status == "finished":
                results[key] = fut.result()
                report(key, "done")
            else:
                exc = fut.exception() if fut.status == "error" else None
                failures[key] = f"{type(exc).__name__}: {exc}" if exc is not None else f"status {fut.status}"
                report(key, "failed")
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _progress(progress, total):
    if callable(progress):
        return lambda key, status: None if status == "close" else progress(key, status)
    if not progress:
        return lambda key, status: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="tasks", unit="task")

    def report(key, status):
        if status == "close":
            bar.close()
            return
        bar.update(1)
        if status == "failed":
            bar.set_postfix(failed=key, refresh=False)

    return report
