"""Small fake data sets in the official on-disk formats, for tests.

They let any test (here or elsewhere in deeplasso) exercise the real readers
without the real files::

    from deeplasso.data.fakes import write_fake_idx
    write_fake_idx(tmp_path / "mnist")
    ds = load("mnist", data_dir=tmp_path, download=False)

Every class occurs in every split; pixels are random but seeded.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

from .catalog import IDX_FILES
from .cifar_release import (
    CIFAR10_CLASSES,
    CIFAR_BIN_META_FILE,
    CIFAR_BIN_TEST_FILE,
    CIFAR_BIN_TRAIN_FILES,
    CIFAR_PY_META_FILE,
    CIFAR_PY_TEST_FILE,
    CIFAR_PY_TRAIN_FILES,
    RawData,
)
from .idx import write_idx

__all__ = [
    "fake_images",
    "write_fake_idx",
    "write_fake_cifar_bin",
    "write_fake_cifar_python",
    "make_tar",
    "py2_pickle_dumps",
]

#: The files write_fake_idx writes: the official names the readers look for.
IDX_NAMES = IDX_FILES


def fake_images(n, image_shape, n_classes=10, seed=0):
    """Random uint8 images ``(n, *image_shape)`` and balanced int64 labels (shuffled)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, *image_shape), dtype=np.uint8)
    y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    return x, y


def write_fake_idx(folder, n_train=60, n_test=20, image_hw=(28, 28), compress=True, seed=0) -> RawData:
    """Write the four MNIST-style IDX files into ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        E.g. ``tmp_path / "mnist"``.
    n_train, n_test : int
        Number of images.
    image_hw : (int, int)
        Image size.
    compress : bool
        Write ``*.gz`` files (else raw IDX).
    seed : int
        Seed of the pixels and labels.

    Returns
    -------
    RawData
        What was written (x as ``(n, 1, H, W)``).
    """
    folder = Path(folder)
    x_tr, y_tr = fake_images(n_train, (1, *image_hw), seed=seed)
    x_te, y_te = fake_images(n_test, (1, *image_hw), seed=seed + 1)
    ext = ".gz" if compress else ""
    for name, arr in zip(IDX_NAMES, (x_tr[:, 0], y_tr.astype(np.uint8), x_te[:, 0], y_te.astype(np.uint8))):
        write_idx(folder / (name + ext), arr, compress=compress)
    return RawData(x_tr, y_tr, x_te, y_te, tuple(str(i) for i in range(10)))


def _cifar_arrays(n_per_batch, seed):
    parts = [fake_images(n_per_batch, (3, 32, 32), seed=seed + i) for i in range(6)]
    x_tr = np.concatenate([p[0] for p in parts[:5]])
    y_tr = np.concatenate([p[1] for p in parts[:5]])
    return parts, RawData(x_tr, y_tr, parts[5][0], parts[5][1], CIFAR10_CLASSES)


def write_fake_cifar_bin(folder, n_per_batch=20, seed=0, meta=True) -> RawData:
    """Write a CIFAR-10 binary-version folder (6 batches of ``n_per_batch`` records).

    Parameters
    ----------
    folder : str or os.PathLike
        E.g. ``tmp_path / "cifar-10-batches-bin"``.
    n_per_batch : int
        Records per batch file.
    seed : int
        Seed.
    meta : bool
        Also write ``batches.meta.txt``.

    Returns
    -------
    RawData
        What was written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts, raw = _cifar_arrays(n_per_batch, seed)
    for name, (x, y) in zip(CIFAR_BIN_TRAIN_FILES + (CIFAR_BIN_TEST_FILE,), parts):
        rec = np.concatenate([y.astype(np.uint8)[:, None], x.reshape(len(y), -1)], axis=1)
        (folder / name).write_bytes(rec.tobytes())
    if meta:
        (folder / CIFAR_BIN_META_FILE).write_text("\n".join(CIFAR10_CLASSES) + "\n\n")
    return raw


class _Py2Pickler(pickle._Pickler):
    """Protocol-2 pickler that writes ``str``/``bytes`` as Python-2 strings.

    With ``numpy.core.multiarray`` as the module of ``_reconstruct``, this is
    what ``cPickle.dump(batch, f, 2)`` wrote for the official batches.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def save_str8(self, obj):
        if isinstance(obj, str):
            obj = obj.encode("latin1")
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)

    dispatch[bytes] = save_str8
    dispatch[str] = save_str8

    def save_global(self, obj, name=None):
        module = getattr(obj, "__module__", None) or "__main__"
        name = name or obj.__qualname__
        module = {"numpy._core.multiarray": "numpy.core.multiarray", "numpy._core.numeric": "numpy.core.numeric"}.get(
            module, module
        )
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))
        self.memoize(obj)

    dispatch[type] = save_global


def py2_pickle_dumps(obj) -> bytes:
    """Pickle ``obj`` the way Python 2's ``cPickle`` (protocol 2) did."""
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def write_fake_cifar_python(folder, n_per_batch=20, seed=0, py2=True, meta=True) -> RawData:
    """Write a CIFAR-10 python-version folder (pickled dict batches).

    Parameters
    ----------
    folder : str or os.PathLike
        E.g. ``tmp_path / "cifar-10-batches-py"``.
    n_per_batch : int
        Records per batch.
    seed : int
        Seed.
    py2 : bool
        Pickle like Python 2 (as the official files); else with Python 3's
        default protocol.
    meta : bool
        Also write ``batches.meta``.

    Returns
    -------
    RawData
        What was written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dumps = py2_pickle_dumps if py2 else pickle.dumps
    parts, raw = _cifar_arrays(n_per_batch, seed)
    names = CIFAR_PY_TRAIN_FILES + (CIFAR_PY_TEST_FILE,)
    for i, (name, (x, y)) in enumerate(zip(names, parts)):
        batch = {
            b"batch_label": f"batch {i + 1} of 6".encode(),
            b"labels": [int(v) for v in y],
            b"data": x.reshape(len(y), -1),
            b"filenames": [f"img_{i}_{j}.png".encode() for j in range(len(y))],
        }
        (folder / name).write_bytes(dumps(batch))
    if meta:
        m = {b"num_cases_per_batch": n_per_batch, b"label_names": [c.encode() for c in CIFAR10_CLASSES],
             b"num_vis": 3072}
        (folder / CIFAR_PY_META_FILE).write_bytes(dumps(m))
    return raw


def make_tar(folder, tar_path) -> Path:
    """Pack ``folder`` (kept as the top-level member folder) into a ``.tar.gz``."""
    folder, tar_path = Path(folder), Path(tar_path)
    tar_path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path, "w:gz") as tf:
        tf.add(folder, arcname=folder.name)
    return tar_path
