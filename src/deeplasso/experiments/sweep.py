"""``deeplasso sweep sweep.toml``: a grid of ``deeplasso fit`` runs, serially or on a cluster.

The TOML file holds a ``[sweep]`` table whose keys are ``deeplasso fit`` settings (the
keys of its config files, :func:`deeplasso.experiments.config.valid_keys`), each with
one value or a list of values (the grid); fixed settings may also sit at the top level
of the file or in a ``[fit]`` table, and ``out`` names the sweep's folder. A setting
whose single value is itself a list (``hidden_dims``, ``fractions``, ``classes``, ...)
is a grid when it is a list of lists (or of strings: ``hidden_dims = ["32", "64,64"]``).

Every combination is one runner task (:func:`deeplasso.runner.run_tasks`): the same
:func:`deeplasso.experiments.fit.run_fit` as ``deeplasso fit``, writing
``OUT/<name>/`` exactly as ``deeplasso fit --out OUT/<name>`` would, where ``<name>``
spells the varying settings (``M=3,seed=0``). Every combination's settings are checked
before any task starts or any folder is written. At the end ``summary.md`` and
``summary.csv`` in ``OUT`` list each run's varying settings, its top-k / random-k /
path scores at each k and its wall time, read from its ``results.json``.

A finished run is one whose ``results.json`` exists: ``resume`` skips those, continues
interrupted ones from their checkpoints (``deeplasso fit --resume``) and runs the rest.
A task that fails is reported by name at the end; the others' results stay.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from ..engine.files import write_json
from . import config as _config
from .rundir import RunExistsError, json_data, read_json, write_text
from .settings import FitSettings

__all__ = ["SweepPlan", "read_sweep", "run_sweep", "sweep_task", "write_summary"]

#: settings whose one value is a list: a grid of them is a list of lists (or of strings)
_LIST_KEYS = ("hidden_dims", "fractions", "classes", "per_class", "conv_channels", "image_shape",
              "retrain_hidden_dims")
#: run options, not settings: not allowed in a sweep (the sweep has its own)
_NOT_IN_SWEEP = ("out", "overwrite", "resume")


@dataclass
class SweepPlan:
    """A checked sweep: its folder, the varying keys and one (name, settings) per run."""

    out: str
    varying: list[str]
    runs: list[tuple[str, dict, FitSettings]] = field(default_factory=list)  # (name, varying values, settings)
    source: str | None = None


def _is_grid(key: str, value) -> bool:
    if not isinstance(value, list):
        return False
    if key in _LIST_KEYS:
        return bool(value) and all(isinstance(v, (list, str)) for v in value)
    return True


def _spell(value) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(_spell(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        value = FsPath(value).stem if ("/" in value or os.sep in value) else value
    return "".join(c if c.isalnum() or c in "._-+" else "-" for c in str(value))


def read_sweep(path, out=None, quiet: bool = False) -> SweepPlan:
    """Read and check a sweep file: every combination's settings are parsed and checked
    here (an error names the combination), so a bad value fails before anything runs.
    Raises FileNotFoundError or :class:`~deeplasso.experiments.config.ConfigError`."""
    path = FsPath(path)
    raw = _config.read_toml(path, "sweep")
    grid = raw.pop("sweep", None)
    if not isinstance(grid, dict) or not grid:
        raise _config.ConfigError(f"{path}: expected a [sweep] table of settings, each one value or a list of "
                                  "values (the grid)")
    fixed = dict(raw)
    if isinstance(fixed.get("fit"), dict):
        fixed.update(fixed.pop("fit"))
    sweep_out = fixed.pop("out", None)
    if sweep_out is not None and not isinstance(sweep_out, str):
        raise _config.ConfigError(f"{path}: out: expected a folder name, got {sweep_out!r}")
    axes: dict[str, list] = {}
    for key, value in grid.items():
        k = key.replace("-", "_")
        if k in _NOT_IN_SWEEP or k == "quiet":
            raise _config.ConfigError(f"{path}: [sweep] {key}: a run option, not a setting; give --out / --resume "
                                      "on the command line (or out at the top of the file)")
        if _is_grid(k, value):
            if not value:
                raise _config.ConfigError(f"{path}: [sweep] {key}: an empty list of values")
            axes[k] = list(value)
        else:
            fixed[k] = value
    for k in list(fixed):
        if k.replace("-", "_") in _NOT_IN_SWEEP:
            raise _config.ConfigError(f"{path}: {k}: a run option, not a setting of the runs")
    varying = [k for k, v in axes.items() if len(v) > 1]
    base = path.parent
    runs, names = [], set()
    for combo in itertools.product(*axes.values()) if axes else [()]:
        values = dict(zip(axes, combo))
        where = ", ".join(f"{k}={v!r}" for k, v in values.items() if k in varying)
        table = {**fixed, **values}
        try:
            checked = _config._check(table)
        except _config.ConfigError as exc:
            raise _config.ConfigError(f"{path}: {'run ' + where + ': ' if where else ''}{exc}") from None
        if "dataset" in checked and "data" in checked:
            raise _config.ConfigError(f"{path}: give either dataset or data, not both")
        for k in ("data", "labels", "data_dir"):
            if checked.get(k) is not None and not os.path.isabs(checked[k]):
                checked[k] = os.path.normpath(base / checked[k]) if str(base) != "." else checked[k]
        if checked.get("data") is not None:
            checked["dataset"] = None
        if checked.pop("quiet", False) or quiet:
            checked["verbose"] = 0
        else:
            checked.setdefault("verbose", 0)  # many runs: no progress bars, the sweep reports per run
        try:
            settings = FitSettings(**checked)
        except TypeError as exc:  # pragma: no cover - _check admits only FitSettings keys
            raise _config.ConfigError(f"{path}: {where}: {exc}") from None
        if settings.data is None and settings.dataset is None:
            settings.dataset = "digits"
        if settings.data is None:
            from ..data.catalog import canonical_name

            try:
                canonical_name(settings.dataset)
            except (ValueError, KeyError) as exc:
                raise _config.ConfigError(f"{path}: {'run ' + where + ': ' if where else ''}dataset: {exc}") from None
        if settings.data is not None and not FsPath(settings.data).is_file():
            raise FileNotFoundError(f"{path}: {'run ' + where + ': ' if where else ''}data file {settings.data} "
                                    "does not exist")
        name = ",".join(f"{k}={_spell(values[k])}" for k in varying) or "run"
        if name in names:
            name = f"{name},{len(runs)}"
        names.add(name)
        runs.append((name, {k: values[k] for k in varying}, settings))
    if out is None:
        out = (os.path.normpath(base / sweep_out) if sweep_out and not os.path.isabs(sweep_out) and str(base) != "."
               else sweep_out) or os.path.join("runs", path.stem)
    return SweepPlan(str(out), varying, runs, str(path))


def sweep_task(settings: FitSettings, out: str, resume: bool) -> dict:
    """A runner task: one ``deeplasso fit`` run into ``out``; returns what the summary
    needs (the run's own files hold the rest)."""
    from .fit import run_fit

    res = run_fit(settings, out, resume=resume)
    return {"selection": res["selection"], "seconds": res["seconds"], "metric": res.get("metric", "accuracy")}


def run_sweep(plan: SweepPlan, workers=None, address=None, resume: bool = False, threads: int | None = None,
              progress=None) -> dict:
    """Run a checked sweep into ``plan.out`` and write its summary.

    Returns ``{"done": [names], "skipped": [names], "failed": {name: error}}``. The
    folder's ``sweep.json`` records the grid; a folder that holds another sweep, or
    this one without ``resume``, is refused before anything runs."""
    from ..runner import Task, TaskFailures, run_tasks

    out = FsPath(plan.out)
    record = {"source": plan.source, "varying": plan.varying,
              "runs": {name: {"values": json.loads(json.dumps(values)), "settings": json_data(s)}
                       for name, values, s in plan.runs}}
    old = read_json(out / "sweep.json")
    if old is not None:
        if not resume:
            raise RunExistsError(f"{out} already holds a sweep (sweep.json); pass --resume to continue it, or choose "
                                 "another --out.")
        if old.get("runs") != record["runs"]:
            raise RunExistsError(f"{out} holds a sweep with other runs or settings; resume it with the same file, or "
                                 "choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "sweep.json", record)
    parallel = address is not None or (workers or 1) > 1
    skipped, tasks = [], []
    for name, _, settings in plan.runs:
        if (out / name / "results.json").exists() and resume:
            skipped.append(name)
            continue
        # an absolute folder: a worker of a cluster elsewhere has another working folder (shared storage)
        tasks.append(Task(name, sweep_task, dict(settings=settings, out=str((out / name).absolute()), resume=resume)))
    failed = {}
    try:
        run_tasks(tasks, workers=workers, address=address, retries=0,
                  threads_per_task=threads if threads is not None else (1 if parallel else None),
                  progress=progress or False)
    except TaskFailures as exc:
        failed = exc.failures
    write_summary(plan)
    return {"done": [t.key for t in tasks if t.key not in failed], "skipped": skipped, "failed": failed}


def _score_columns(runs) -> list[int]:
    ks = sorted({r["k"] for res in runs if res for r in res["selection"]}, reverse=True)
    return ks


def write_summary(plan: SweepPlan) -> tuple[str, str]:
    """``summary.md`` and ``summary.csv`` of a sweep from its runs' ``results.json``
    (runs not finished are listed as such); both written atomically."""
    out = FsPath(plan.out)
    results = [read_json(out / name / "results.json") for name, _, _ in plan.runs]
    ks = _score_columns(results)
    header = ["run", *plan.varying]
    for k in ks:
        header += [f"top-{k}", f"random-{k}", f"path<={k}"]
    header += ["path s", "total s", "status"]
    rows = []
    for (name, values, _), res in zip(plan.runs, results):
        row = [name, *[_spell(values[k]) for k in plan.varying]]
        by_k = {r["k"]: r for r in res["selection"]} if res else {}
        for k in ks:
            r = by_k.get(k)
            row += ["" if r is None or r.get(c) is None else f"{r[c]:.4f}"
                    for c in ("retrained_top_k", "retrained_random_k", "path_test_at_most_k")]
        if res:
            row += [f"{res['seconds']['path']:.1f}", f"{res['seconds']['total']:.1f}", "done"]
        else:
            row += ["", "", "not finished"]
        rows.append(row)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    write_text(out / "summary.csv", buf.getvalue())
    metric = next((r.get("metric", "accuracy") for r in results if r), "accuracy")
    done = sum(r is not None for r in results)
    lines = [f"# deeplasso sweep: {len(plan.runs)} runs", "",
             f"{done} of {len(plan.runs)} runs finished. Varying: {', '.join(plan.varying) or 'nothing'}. Test "
             f"{metric} of a plain network retrained on the top-k features (top-k) and on k random features "
             "(random-k), and of the path's own model with at most k features chosen on validation (path<=k); "
             "wall times in seconds. Each run's folder holds its report.md.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join([f"[{r[0]}]({r[0]}/report.md)", *r[1:]]) + " |" for r in rows]
    write_text(out / "summary.md", "\n".join(lines) + "\n")
    return str(out / "summary.md"), str(out / "summary.csv")
