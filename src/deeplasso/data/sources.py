"""Downloads of the official data set files: verified, atomic, into the cache.

:func:`fetch` downloads the files a data set's :class:`~.catalog.DataSource`
lists, trying each mirror in turn; :func:`download_file` verifies every
download against the published MD5 and SHA-256 and size, and writes it
atomically (temporary file in the same folder, ``fsync``, ``os.replace``,
see :func:`atomic_write`), so only verified files ever appear in the cache.

This module is also the historical home of the registry (:mod:`.catalog`) and
of the local search (:mod:`.lookup`); their names stay importable from here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tarfile
import tempfile
import urllib.request
from pathlib import Path

# Names of .catalog and .lookup re-exported here are kept importable from
# deeplasso.data.sources, where they lived before the split.
from .catalog import (  # noqa: F401
    CIFAR10_BINARY_REMOTE,
    CIFAR10_PYTHON_REMOTE,
    DATASET_NAMES,
    DEBIAN_DATASETS,
    FASHION_REMOTE,
    MNIST_REMOTE,
    SOURCES,
    DataSource,
    RemoteFile,
    canonical_name,
)
from .cifar_release import CIFAR_BIN_META_FILE, CIFAR_BIN_TEST_FILE, CIFAR_BIN_TRAIN_FILES
from .errors import ChecksumError, DataFormatError, DownloadError
from .lookup import ENV_DATA, Located, cache_dir, locate, search_roots

__all__ = [
    "ENV_DATA",
    "ENV_OFFLINE",
    "RemoteFile",
    "DataSource",
    "SOURCES",
    "Located",
    "canonical_name",
    "cache_dir",
    "search_roots",
    "locate",
    "download_file",
    "atomic_write",
    "fetch",
]

#: Set to ``1`` to never download (``load(..., download=None)`` honours it).
ENV_OFFLINE = "DEEPLASSO_OFFLINE"

#: Indirection so tests can replace the network with a fake.  They patch
#: ``deeplasso.data.sources.urlopen``, which is why the downloads live here.
urlopen = urllib.request.urlopen


@contextlib.contextmanager
def atomic_write(dest):
    """Write ``dest`` atomically.

    Yields a binary file object on a temporary file in the same folder; on
    success it is flushed, ``fsync``-ed and moved onto ``dest`` with
    :func:`os.replace`; on any error it is deleted and ``dest`` is untouched.

    Parameters
    ----------
    dest : str or os.PathLike
        Final path.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable (not on all platforms)
        dfd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def download_file(url, dest, *, md5=None, sha256=None, size=None, progress=True, timeout=60.0) -> Path:
    """Download ``url`` to ``dest`` atomically and verify it.

    Parameters
    ----------
    url : str
        ``http(s)://`` or ``file://`` URL.
    dest : str or os.PathLike
        Destination file; its folder is created.
    md5, sha256 : str, optional
        Expected hex digests.
    size : int, optional
        Expected size in bytes.
    progress : bool
        Show a tqdm progress bar (on stderr).
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumError
        Size or digest mismatch; nothing is left at ``dest`` (nor any
        temporary file).
    OSError
        Network or HTTP errors (``urllib.error.URLError``) and disk errors.
    """
    # Lazy: tqdm.auto probes for IPython/notebook support on import, a cost
    # only worth paying when something is actually downloaded.
    from tqdm.auto import tqdm

    dest = Path(dest)
    h_md5, h_sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    n = 0
    req = urllib.request.Request(url, headers={"User-Agent": "deeplasso-data/1"})
    with urlopen(req, timeout=timeout) as resp, atomic_write(dest) as out:
        total = resp.headers.get("Content-Length") if getattr(resp, "headers", None) else None
        total = int(total) if total and str(total).isdigit() else size
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=dest.name, disable=not progress, leave=False) as bar:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
                h_md5.update(chunk)
                h_sha.update(chunk)
                n += len(chunk)
                bar.update(len(chunk))
        problems = []
        if size is not None and n != size:
            problems.append(f"size is {n} bytes, expected {size}")
        if md5 and h_md5.hexdigest() != md5.lower():
            problems.append(f"MD5 is {h_md5.hexdigest()}, expected {md5}")
        if sha256 and h_sha.hexdigest() != sha256.lower():
            problems.append(f"SHA-256 is {h_sha.hexdigest()}, expected {sha256}")
        if problems:  # raising inside atomic_write deletes the temporary file
            raise ChecksumError(dest, f"download from {url} failed verification: " + "; ".join(problems))
    return dest


def _fetch_one(rf: RemoteFile, folder: Path, progress: bool) -> Path:
    dest = folder / rf.filename
    if dest.is_file():  # only verified downloads are ever moved there
        return dest
    errors = []
    for url in rf.urls:
        try:
            return download_file(url, dest, md5=rf.md5, sha256=rf.sha256, size=rf.size, progress=progress)
        except ChecksumError as exc:
            errors.append(exc)
        except OSError as exc:  # URLError, HTTPError, timeouts, connection resets
            errors.append(exc)
    detail = "; ".join(f"{type(e).__name__}: {e}" for e in errors)
    if any(isinstance(e, ChecksumError) for e in errors):
        raise ChecksumError(dest, f"no mirror delivered the official file ({detail})")
    raise DownloadError(f"could not download {rf.filename} from any mirror ({detail})")


def _extract_cifar(archive: Path, root: Path) -> None:
    """Extract the known members of a verified CIFAR tarball, atomically each."""
    wanted = {f"cifar-10-batches-bin/{n}" for n in CIFAR_BIN_TRAIN_FILES + (CIFAR_BIN_TEST_FILE, CIFAR_BIN_META_FILE)}
    try:
        with tarfile.open(archive, "r:*") as tf:
            for m in tf:
                name = m.name.lstrip("./")
                if m.isfile() and name in wanted:  # fixed names: no path traversal possible
                    with tf.extractfile(m) as src, atomic_write(root / name) as out:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
    except (tarfile.TarError, EOFError) as exc:
        raise DataFormatError(archive, f"cannot extract ({exc})") from exc


def fetch(name: str, root=None, progress: bool = True) -> Path:
    """Download the official files of a data set into the cache and verify them.

    Parameters
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``.
    root : str or os.PathLike, optional
        Data folder to download into (default :func:`cache_dir`); files go to
        its usual sub-folder (``mnist/``, ``fashion-mnist/``; CIFAR-10: the
        binary tarball, extracted to ``cifar-10-batches-bin/``).
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    pathlib.Path
        ``root``.

    Raises
    ------
    DownloadError
        No mirror could be reached.
    ChecksumError
        A mirror delivered a file with the wrong checksum (it was deleted).
    """
    src = SOURCES[canonical_name(name)]
    root = Path(root) if root is not None else cache_dir()
    folder = root / src.download_subdir if src.download_subdir else root
    for rf in src.remote:
        path = _fetch_one(rf, folder, progress)
        if src.layout == "cifar":
            _extract_cifar(path, root)
    return root
