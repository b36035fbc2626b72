"""The task runner: serial and on a real local Dask cluster (2 worker processes), equal
results either way, a worker killed mid-write, resume, failures reported by key, and no
Dask needed for serial runs."""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deeplasso.engine.files import atomic_write
from deeplasso import runner
from deeplasso.runner import INSTALL_HINT, Task, TaskFailures, load_result, run_tasks

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """One local cluster of 2 worker processes (1 thread each) for the module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c.scheduler_address


def _digits(n=300):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-8)
    return X[:n].astype(np.float32), y[:n]


# --------------------------------------------------------------------------- task functions (top level:
# the workers import this module to run them)


def path_fit(X, y, M, seed):
    """A small path: what a sweep task does."""
    from deeplasso import LassoNetClassifier

    sel = LassoNetClassifier(hidden_dims=(8,), M=M, path_multiplier=1.3, max_epochs=8, patience=2, lr=1e-2,
                             random_state=seed, verbose=0).fit(X, y)
    return {"lambdas": [p.lambda_ for p in sel.path_], "n_selected": [p.n_selected for p in sel.path_],
            "importances": sel.feature_importances_, "val_score": [p.val_score for p in sel.path_]}


def count_call(marker_dir, value):
    """Leaves one marker file per call."""
    import uuid

    open(os.path.join(marker_dir, f"{value}-{uuid.uuid4().hex}"), "w").close()
    return {"value": value}


def fail(marker_dir):
    count_call(marker_dir, "fail")
    raise ValueError("this task always fails")


def die_mid_write(out, marker, payload, X):
    """On its first attempt (no marker yet), SIGKILL its own process halfway through
    writing ``out`` (an atomic write: the temp file stays behind, half-written)."""

    def write(f):
        f.write(b"first half;")
        f.flush()
        os.fsync(f.fileno())
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        f.write(b"second half")

    atomic_write(out, write)
    return {"payload": payload, "sum": math.fsum(X.ravel().tolist())}  # exact: np.sum depends on alignment


def held_by_workers(dask_scheduler):
    return [len(ws.processing) for ws in dask_scheduler.workers.values()]


def timed_sleep(secs):
    """Where and when it ran, and how many tasks each worker held meanwhile."""
    import time

    t0 = time.time()
    time.sleep(secs)
    held = distributed.get_client().run_on_scheduler(held_by_workers)
    return {"pid": os.getpid(), "start": t0, "end": time.time(), "held": held}


def _calls(marker_dir, value):
    return sum(name.startswith(f"{value}-") for name in os.listdir(marker_dir))


def _no_temps(folder):
    return [p for p in os.listdir(folder) if p.endswith(".tmp")] == []


# --------------------------------------------------------------------------- tests


def test_serial_writes_atomic_json_and_returns_what_it_wrote(tmp_path):
    X, _ = _digits(50)
    tasks = [Task(f"t{i}", count_call, {"marker_dir": str(tmp_path), "value": i}, path=tmp_path / "r" / f"t{i}.json")
             for i in range(3)]
    out = run_tasks(tasks)
    assert list(out) == ["t0", "t1", "t2"]
    for i in range(3):
        doc = json.loads((tmp_path / "r" / f"t{i}.json").read_text())
        assert doc["key"] == f"t{i}" and doc["result"] == {"value": i} == out[f"t{i}"]
        assert doc["seconds"] >= 0
    assert _no_temps(tmp_path / "r")
    with pytest.raises(ValueError, match="unique"):
        run_tasks([tasks[0], tasks[0]])
    with pytest.raises(ValueError, match="does not hold the result"):
        load_result(tmp_path / "r" / "t0.json", "t1")


def test_sweep_on_cluster_equals_serial(tmp_path, cluster):
    """4 path fits (two M, two seeds): the cluster's results equal the serial ones exactly."""
    X, y = _digits(300)
    assert X.nbytes >= runner._SCATTER_BYTES  # goes to the cluster once, not inside every task

    def tasks(folder):
        return [Task(f"M{M}-seed{s}", path_fit, {"X": X, "y": y, "M": M, "seed": s}, path=folder / f"M{M}-s{s}.json")
                for M in (3.0, 10.0) for s in (0, 1)]

    serial = run_tasks(tasks(tmp_path / "serial"))
    parallel = run_tasks(tasks(tmp_path / "parallel"), address=cluster)
    assert serial == parallel
    assert len({json.dumps(r["importances"]) for r in serial.values()}) == 4  # four different paths
    for key in serial:
        assert serial[key]["lambdas"][0] == 0.0 and serial[key]["n_selected"][-1] == 0


def test_killed_worker_mid_write_run_completes_nothing_half_written(tmp_path, cluster):
    X, _ = _digits(600)  # big enough to be scattered: the data must survive a worker's death
    res, marks = tmp_path / "results", tmp_path / "markers"
    marks.mkdir()
    dying = {1, 2}
    tasks = []
    for i in range(4):
        marker = marks / f"{i}.died" if i in dying else marks / "never-missing"
        tasks.append(Task(f"job{i}", die_mid_write, {"out": str(res / f"job{i}.bin"), "marker": str(marker),
                                                     "payload": i, "X": X},
                          path=res / f"job{i}.json", outputs=[res / f"job{i}.bin"]))
    (marks / "never-missing").touch()
    out = run_tasks(tasks, address=cluster)
    assert sorted(out) == [f"job{i}" for i in range(4)]
    for i in range(4):
        assert out[f"job{i}"] == {"payload": i, "sum": math.fsum(X.ravel().tolist())}
        assert load_result(res / f"job{i}.json", f"job{i}") == out[f"job{i}"]
        assert (res / f"job{i}.bin").read_bytes() == b"first half;second half"
    assert all((marks / f"{i}.died").exists() for i in dying)  # they did die once
    assert _no_temps(res), os.listdir(res)


def test_no_task_waits_behind_a_long_one_while_a_worker_is_free():
    # the reproduce failure: 20 tasks under their own names on 2 workers were assigned to
    # workers up front, and one worker ran all that were left while the other stood idle.
    # Now they wait on the scheduler and each worker holds one task at a time.
    tasks = [Task("long", timed_sleep, {"secs": 4.0})] + [Task(f"short{i}", timed_sleep, {"secs": 0.25})
                                                          for i in range(8)]
    out = run_tasks(tasks, workers=2)
    long, shorts = out["long"], [out[f"short{i}"] for i in range(8)]
    assert all(max(r["held"]) == 1 for r in out.values()), [r["held"] for r in out.values()]
    assert all(s["pid"] != long["pid"] for s in shorts)
    assert max(s["end"] for s in shorts) < long["end"]


def test_resume_reruns_only_unfinished(tmp_path):
    marks, res = tmp_path / "m", tmp_path / "r"
    marks.mkdir()
    tasks = [Task(f"t{i}", count_call, {"marker_dir": str(marks), "value": i}, path=res / f"t{i}.json")
             for i in range(4)]
    first = run_tasks(tasks)
    (res / "t2.json").unlink()  # as if killed before it finished
    (res / "t3.json").write_text('{"key": "t3", "res')  # a torn file (not ours: ours are atomic) counts as missing
    again = run_tasks(tasks)
    assert again == first
    assert [_calls(marks, i) for i in range(4)] == [1, 1, 2, 2]
    run_tasks(tasks, resume=False)
    assert [_calls(marks, i) for i in range(4)] == [2, 2, 3, 3]
    seen = []
    run_tasks(tasks, progress=lambda key, status: seen.append((key, status)))
    assert seen == [(f"t{i}", "skipped") for i in range(4)]


@pytest.mark.parametrize("where", ["serial", "cluster"])
def test_failing_task_reported_by_key_others_kept(tmp_path, where, request):
    address = request.getfixturevalue("cluster") if where == "cluster" else None
    marks, res = tmp_path / "m", tmp_path / "r"
    marks.mkdir()
    tasks = [Task(f"ok{i}", count_call, {"marker_dir": str(marks), "value": i}, path=res / f"ok{i}.json")
             for i in range(3)]
    tasks.insert(1, Task("bad", fail, {"marker_dir": str(marks)}, path=res / "bad.json"))
    with pytest.raises(TaskFailures, match="1 of 4 tasks failed") as info:
        run_tasks(tasks, address=address, retries=1)
    assert list(info.value.failures) == ["bad"] and "this task always fails" in info.value.failures["bad"]
    assert sorted(info.value.results) == ["ok0", "ok1", "ok2"]
    assert sorted(os.listdir(res)) == ["ok0.json", "ok1.json", "ok2.json"]
    assert _calls(marks, "fail") == 2  # retried once


def test_gpu_share_without_gpu_workers_warns_and_runs(tmp_path, cluster):
    marks = tmp_path / "m"
    marks.mkdir()
    tasks = [Task("g", count_call, {"marker_dir": str(marks), "value": 0})]
    with pytest.warns(UserWarning, match="GPU resources"):
        assert run_tasks(tasks, address=cluster, gpus_per_task=0.5) == {"g": {"value": 0}}


def held_gpu():
    """The GPU share the running task holds on its worker."""
    w = distributed.get_worker()
    return {"held": w.state.total_resources["GPU"] - w.state.available_resources["GPU"]}


def test_gpu_share_is_held_on_workers_that_declare_gpus():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  resources={"GPU": 1}, silence_logs=40) as c:
        out = run_tasks([Task(f"g{i}", held_gpu) for i in range(2)], address=c.scheduler_address, gpus_per_task=0.5)
    assert {r["held"] for r in out.values()} <= {0.5, 1.0}  # its own half (and a neighbour's, two threads)


def gpu_env(i):
    """What the worker running it sees: its CUDA_VISIBLE_DEVICES and declared GPUs."""
    import time

    time.sleep(0.5)  # long enough that both workers take tasks
    w = distributed.get_worker()
    return {"visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "gpus": w.state.total_resources.get("GPU", 0)}


def test_local_cluster_pins_each_worker_to_one_gpu(monkeypatch):
    """On a machine with GPUs (faked here: the runner is told devices 3 and 5 are visible)
    worker i sees only GPU i % n and declares GPU=1, so gpus_per_task=1 schedules."""
    monkeypatch.setattr(runner, "visible_gpus", lambda: ["3", "5"])
    out = run_tasks([Task(f"t{i}", gpu_env, {"i": i}) for i in range(6)], workers=2, gpus_per_task=1)
    assert {r["visible"] for r in out.values()} == {"3", "5"}
    assert {r["gpus"] for r in out.values()} == {1.0}


def test_visible_gpus_follows_cuda_visible_devices(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7")
    assert runner.visible_gpus() == ["4", "7"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert runner.visible_gpus() == ["0", "1"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runner.visible_gpus() == []


def test_serial_needs_no_dask_and_workers_without_dask_say_how_to_install(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["dask"] = None          # as if not installed: any import of it fails
        sys.modules["distributed"] = None
        import numpy as np
        from sklearn.datasets import load_digits
        from deeplasso import LassoNetClassifierCV, stability_selection, LassoNetClassifier
        from deeplasso.runner import run_tasks, Task
        X, y = load_digits(return_X_y=True)
        X = ((X - X.mean(0)) / (X.std(0) + 1e-8))[:150]; y = y[:150]
        kw = dict(hidden_dims=(4,), path_multiplier=2.0, max_epochs=3, patience=1, random_state=0, verbose=0)
        cv = LassoNetClassifierCV(cv=2, **kw).fit(X, y)
        r = stability_selection(LassoNetClassifier(**kw), X, y, n_paths=2)
        assert cv.cv_scores_.shape[0] == 2 and r.probabilities.shape[1] == 64
        try:
            run_tasks([Task("a", print, {{}})], workers=2)
        except ImportError as e:
            assert {INSTALL_HINT!r} in str(e), e
        else:
            raise AssertionError("no ImportError")
        print("OK")
    """)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stderr[-2000:]
