"""The C kernels (deeplasso/engine/kernels.c): the epoch's argument struct has the
layout the ctypes side assumes, the source compiles without a warning, and without
the kernels training says so once and runs the PyTorch step."""

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import pytest

from deeplasso.engine import native

WARNINGS = ("-Wall", "-Wextra", "-Werror")


def _lib_or_skip():
    lib = native._load(warn=False)
    if lib is None:
        pytest.skip(f"the C kernels are not built here: {native.native_status()['reason']}")
    return lib


def test_epoch_args_layout_matches_ctypes():
    """Every field of struct deeplasso_epoch_args, in order, has the name, offset and
    size of the same field of EpochArgs, and the structs have the same size."""
    lib = _lib_or_skip()
    size, fields = native.epoch_args_layout(lib)
    assert size == ctypes.sizeof(native.EpochArgs)
    assert [name for name, _, _ in fields] == [name for name, _ in native.EpochArgs._fields_]
    for name, offset, fsize in fields:
        assert (offset, fsize) == (getattr(native.EpochArgs, name).offset, getattr(native.EpochArgs, name).size), name
    assert len(fields) == 40
    assert native.epoch_args_mismatches(lib) == []


def test_kernels_compile_without_warnings(tmp_path):
    """kernels.c with the normal flags plus -Wall -Wextra -Werror: no warning at all."""
    cc = native.find_compiler()
    if cc is None:
        pytest.skip("no C compiler here")
    src = tmp_path / "kernels.c"
    src.write_text(native.kernel_source())
    out = subprocess.run(native.compile_command(cc, str(src), str(tmp_path / "kernels.so"), WARNINGS),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr


def test_kernel_source_is_the_package_file():
    """The build reads kernels.c next to native.py (package data in pyproject.toml)."""
    here = os.path.join(os.path.dirname(native.__file__), "kernels.c")
    with open(here, encoding="utf-8") as f:
        assert native.kernel_source() == f.read()
    assert "struct deeplasso_epoch_args" in native.kernel_source()


# In a fresh process (the warning is once per process): build the kernels through the
# paths training takes several times, run a short path, and report the deeplasso
# warnings, the backend status and show_versions' output.
PROBE = textwrap.dedent("""
    import io, json, warnings
    import torch
    import deeplasso
    from deeplasso.engine import LassoNet, PathConfig, fit_path, native

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = torch.zeros(5, 4)
        for _ in range(3):
            native.native_prox_bound(w, 1, 0.1, 1.0)
            native.native_epoch_function(torch.float32)
        g = torch.Generator().manual_seed(0)
        X = torch.randn(60, 4, generator=g)
        y = (X[:, 0] > 0).long()
        cfg = PathConfig(lambda_start=1.0, path_multiplier=2.0, max_epochs=2, patience=1, n_features_stop=2)
        path = fit_path(LassoNet(4, 2, (3,)), X[:40], y[:40], X[40:], y[40:], cfg)
    text = io.StringIO()
    deeplasso.show_versions(file=text)
    print(json.dumps({
        "warnings": [str(x.message) for x in caught if "deeplasso" in str(x.message)],
        "categories": [x.category.__name__ for x in caught if "deeplasso" in str(x.message)],
        "points": len(path), "status": native.native_status(), "versions": text.getvalue()}))
""")


def _probe(tmp_path, **env):
    base = {"PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(tmp_path), "PATH": str(tmp_path / "empty"),
            "DEEPLASSO_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    (tmp_path / "empty").mkdir(exist_ok=True)
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_missing_compiler_warns_once_and_trains_with_pytorch(tmp_path):
    got = _probe(tmp_path, CC=str(tmp_path / "no-such-cc"))
    assert got["categories"] == ["RuntimeWarning"], got["warnings"]
    (message,) = got["warnings"]
    assert "no C compiler found" in message
    assert "slower PyTorch step" in message and "DEEPLASSO_NATIVE=0" in message
    assert got["points"] > 0
    assert got["status"]["backend"] == "pytorch" and got["status"]["library"] is None
    assert "native backend: pytorch (no C compiler found" in got["versions"]


def test_failing_compiler_warning_quotes_its_output(tmp_path):
    cc = tmp_path / "broken-cc"
    cc.write_text("#!/bin/sh\necho 'kernels.c:1:1: error: this compiler is broken' >&2\nexit 3\n")
    cc.chmod(0o755)
    got = _probe(tmp_path, CC=str(cc))
    (message,) = got["warnings"]
    assert "failed (exit 3)" in message and "this compiler is broken" in message
    assert got["status"]["backend"] == "pytorch" and got["status"]["compiler"] == str(cc)


def test_switched_off_does_not_warn(tmp_path):
    got = _probe(tmp_path, DEEPLASSO_NATIVE="0")
    assert got["warnings"] == []
    assert got["status"]["backend"] == "pytorch" and "DEEPLASSO_NATIVE=0" in got["status"]["reason"]
    assert "native backend: pytorch (switched off with DEEPLASSO_NATIVE=0)" in got["versions"]


def test_show_versions_prints_the_backend(capsys):
    import deeplasso

    deeplasso.show_versions()
    out = capsys.readouterr().out
    for key in ("deeplasso:", "python:", "torch:", "numpy:", "scikit-learn:", "platform:", "CUDA:"):
        assert key in out
    backend = native.native_status()["backend"]
    assert f"native backend: {backend} (" in out
