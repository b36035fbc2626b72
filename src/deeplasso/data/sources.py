"""Where data set files come from: local folders, the cache, downloads.

Search order for the files of a data set (first complete set wins):

1. the ``data_dir`` argument,
2. the folders in the environment variable ``DEEPLASSO_DATA``
   (several folders may be separated by ``os.pathsep``, i.e. ``:`` on Linux),
3. the cache folder :func:`cache_dir` (``$XDG_CACHE_HOME/deeplasso`` or
   ``~/.cache/deeplasso``),
4. for Fashion-MNIST only, ``/usr/share/datasets/fashion-mnist`` from the
   Debian package ``dataset-fashion-mnist``.

Each of these is a folder holding one sub-folder per data set, like
``shared/data``: ``mnist/``, ``fashion-mnist/``, ``cifar-10-batches-bin/``,
``cifar-10-batches-py/`` (or the CIFAR tarballs themselves).

Files found locally are checked for format (see :mod:`.idx`, :mod:`.cifar`) but
NOT against the official archive checksums: re-compressed copies (such as the
gzip wrappers in ``shared/data`` or Debian's) are fine.  Only downloads are
verified, against the published MD5 and SHA-256 and size, and written
atomically (temporary file in the same folder, ``fsync``, ``os.replace``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ChecksumError, DataFormatError, DataNotFoundError, DownloadError

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

#: Environment variable naming extra data folders (``os.pathsep``-separated).
ENV_DATA = "DEEPLASSO_DATA"
#: Set to ``1`` to never download (``load(..., download=None)`` honours it).
ENV_OFFLINE = "DEEPLASSO_OFFLINE"

#: Indirection so tests can replace the network with a fake.
urlopen = urllib.request.urlopen


@dataclass(frozen=True)
class RemoteFile:
    """One official file and its published checksums.

    Attributes
    ----------
    filename : str
        Name on disk.
    urls : tuple of str
        Mirrors, tried in order.
    md5, sha256 : str
        Checksums of the official file (both verified when given).
    size : int or None
        Size in bytes of the official file.
    """

    filename: str
    urls: tuple
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class DataSource:
    """How to find and fetch one data set."""

    name: str
    title: str
    layout: str  # "idx" or "cifar"
    subdirs: tuple  # candidate folders below each root
    remote: tuple  # RemoteFile, downloaded into cache_dir()/download_subdir
    download_subdir: str
    homepage: str
    system_roots: tuple = ()  # (root, origin label) searched after the cache
    hint: str = ""


_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_FASHION_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/"


def _idx_remote(mirrors, table):
    return tuple(
        RemoteFile(f"{base}.gz", tuple(m + f"{base}.gz" for m in mirrors), md5, sha, size)
        for base, (md5, sha, size) in zip(_IDX_FILES, table)
    )


MNIST_REMOTE = _idx_remote(
    _MNIST_MIRRORS,
    [
        ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        ("d53e105ee54ea40749a09fcbcd1e9432", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        ("9fb629c4189551a2d022fa330f9573f3", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        ("ec29112dd5afa0611ce80d1b7f02629c", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    ],
)
FASHION_REMOTE = _idx_remote(
    _FASHION_MIRRORS,
    [
        ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        ("25c81989df183df01b3e8a0aad5dffbe", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        ("bef4ecab320f06d8554ea6380940ec79", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        ("bb300cfdad3c16e7a12a480ee83cd310", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    ],
)
CIFAR10_BINARY_REMOTE = RemoteFile(
    "cifar-10-binary.tar.gz",
    (_CIFAR_URL + "cifar-10-binary.tar.gz",),
    "c32a1d4ab5d03f1284b67883e8d87530",
    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    170052171,
)
CIFAR10_PYTHON_REMOTE = RemoteFile(
    "cifar-10-python.tar.gz",
    (_CIFAR_URL + "cifar-10-python.tar.gz",),
    "c58f30108f718f92721af3b95e74349a",
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    170498071,
)

#: Folder of the Debian package ``dataset-fashion-mnist`` is ``<root>/fashion-mnist``.
DEBIAN_DATASETS = Path("/usr/share/datasets")

SOURCES = {
    "mnist": DataSource(
        name="mnist",
        title="MNIST",
        layout="idx",
        subdirs=("mnist", "MNIST/raw"),
        remote=MNIST_REMOTE,
        download_subdir="mnist",
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": DataSource(
        name="fashion-mnist",
        title="Fashion-MNIST",
        layout="idx",
        subdirs=("fashion-mnist", "fashion_mnist", "FashionMNIST/raw"),
        remote=FASHION_REMOTE,
        download_subdir="fashion-mnist",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        system_roots=((DEBIAN_DATASETS, "Debian package dataset-fashion-mnist"),),
        hint="on Debian/Ubuntu: `apt-get install -y dataset-fashion-mnist` (installs "
        "/usr/share/datasets/fashion-mnist/*.gz, found automatically)",
    ),
    "cifar10": DataSource(
        name="cifar10",
        title="CIFAR-10",
        layout="cifar",
        subdirs=("cifar-10-batches-bin", "cifar-10-batches-py"),
        remote=(CIFAR10_BINARY_REMOTE,),
        download_subdir="",
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        hint="either version works: the binary one (cifar-10-binary.tar.gz or its folder "
        "cifar-10-batches-bin/) or the python one (" + _CIFAR_URL + "cifar-10-python.tar.gz "
        "or its folder cifar-10-batches-py/); put the archive or the folder itself in the data folder",
    ),
}

_ALIASES = {
    "mnist": "mnist",
    "fashion-mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "fmnist": "fashion-mnist",
    "cifar10": "cifar10",
    "cifar-10": "cifar10",
    "digits": "digits",
}

DATASET_NAMES = ("mnist", "fashion-mnist", "cifar10", "digits")


def canonical_name(name: str) -> str:
    """Normalise a data set name (``"Fashion_MNIST"`` -> ``"fashion-mnist"``).

    Raises
    ------
    ValueError
        Unknown name; the message lists the known ones.
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in _ALIASES:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASET_NAMES)}")
    return _ALIASES[key]


def cache_dir() -> Path:
    """The download cache: ``$XDG_CACHE_HOME/deeplasso`` or ``~/.cache/deeplasso``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "deeplasso"


def search_roots(name: str, data_dir=None) -> list:
    """Folders searched for ``name``, in order, as ``(path, origin)`` pairs.

    Parameters
    ----------
    name : str
        Data set name.
    data_dir : str or os.PathLike, optional
        Folder given by the caller; searched first.

    Returns
    -------
    list of (pathlib.Path, str)
    """
    src = SOURCES[canonical_name(name)]
    roots = []
    if data_dir is not None:
        roots.append((Path(data_dir).expanduser(), "data_dir argument"))
    for part in os.environ.get(ENV_DATA, "").split(os.pathsep):
        if part.strip():
            roots.append((Path(part.strip()).expanduser(), f"${ENV_DATA}"))
    roots.append((cache_dir(), "cache"))
    roots.extend(src.system_roots)
    return roots


@dataclass(frozen=True)
class Located:
    """A complete set of files for one data set.

    Attributes
    ----------
    name : str
        Data set name.
    kind : str
        ``"idx"``, ``"cifar-bin"``, ``"cifar-py"`` or ``"cifar-tar"``.
    path : pathlib.Path
        The folder (or the tar archive) holding the files.
    files : dict
        For ``"idx"``: logical name (e.g. ``"train-images-idx3-ubyte"``) -> file.
    origin : str
        Which search place it came from (``"data_dir argument"``, ...).
    """

    name: str
    kind: str
    path: Path
    files: dict = field(default_factory=dict)
    origin: str = ""


def _idx_candidates(base: str):
    alt = base.replace("-idx", ".idx")  # "train-images.idx3-ubyte" as some unpackers name it
    return (base, alt, base + ".gz", alt + ".gz")


def _check_idx_folder(folder: Path):
    """Return (files, missing) for an IDX folder."""
    files, missing = {}, []
    for base in _IDX_FILES:
        for cand in _idx_candidates(base):
            if (folder / cand).is_file():
                files[base] = folder / cand
                break
        else:
            missing.append(base + "[.gz]")
    return files, missing


def _cifar_checks(root: Path):
    """Yield (kind, path, missing-list) for every CIFAR layout below root."""
    from .cifar import (
        CIFAR_BIN_TEST_FILE,
        CIFAR_BIN_TRAIN_FILES,
        CIFAR_PY_TEST_FILE,
        CIFAR_PY_TRAIN_FILES,
    )

    for sub, kind, names in (
        ("cifar-10-batches-bin", "cifar-bin", CIFAR_BIN_TRAIN_FILES + (CIFAR_BIN_TEST_FILE,)),
        ("cifar-10-batches-py", "cifar-py", CIFAR_PY_TRAIN_FILES + (CIFAR_PY_TEST_FILE,)),
    ):
        folder = root / sub
        if not folder.is_dir():
            yield kind, folder, None
        else:
            yield kind, folder, [n for n in names if not (folder / n).is_file()]
    for archive in ("cifar-10-binary.tar.gz", "cifar-10-python.tar.gz"):
        p = root / archive
        yield "cifar-tar", p, ([] if p.is_file() else None)


def _scan(name: str, data_dir=None):
    """Return (Located or None, report lines)."""
    src = SOURCES[canonical_name(name)]
    report = []
    for root, origin in search_roots(src.name, data_dir):
        if src.layout == "idx":
            for sub in src.subdirs:
                folder = root / sub
                if not folder.is_dir():
                    report.append(f"{folder} ({origin}): no such folder")
                    continue
                files, missing = _check_idx_folder(folder)
                if not missing:
                    return Located(src.name, "idx", folder, files, origin), report
                report.append(f"{folder} ({origin}): missing {', '.join(missing)}")
        else:
            for kind, path, missing in _cifar_checks(root):
                if missing == []:
                    return Located(src.name, kind, path, {}, origin), report
                if missing is None:
                    what = "no such file" if kind == "cifar-tar" else "no such folder"
                    report.append(f"{path} ({origin}): {what}")
                else:
                    report.append(f"{path} ({origin}): missing {', '.join(missing)}")
    if data_dir is not None:  # a common mistake: pointing at the data set folder itself
        d = Path(data_dir).expanduser()
        direct = (src.layout == "idx" and d.is_dir() and not _check_idx_folder(d)[1]) or (
            src.layout == "cifar" and d.name in src.subdirs
        )
        if direct:
            report.append(
                f"note: {d} itself holds {src.title} files; data_dir must be the folder ABOVE it "
                f"(data_dir={d.parent})"
            )
    return None, report


def _searched(report):
    """Folders/files named in a scan report (notes left out)."""
    return [r.split(" (")[0] for r in report if not r.startswith("note:")]


def _not_found_message(src: DataSource, report, download_note: str) -> str:
    if src.layout == "idx":
        need = ", ".join(f"{b}[.gz]" for b in _IDX_FILES)
        want = f"a folder {' or '.join(repr(s + '/') for s in src.subdirs)} holding {need}"
    else:
        want = (
            "cifar-10-batches-bin/ (data_batch_1.bin .. data_batch_5.bin, test_batch.bin, "
            "batches.meta.txt), or cifar-10-batches-py/ (data_batch_1 .. data_batch_5, test_batch, "
            "batches.meta), or cifar-10-binary.tar.gz / cifar-10-python.tar.gz"
        )
    urls = "\n".join(f"    {r.urls[0]}" for r in src.remote)
    lines = [
        f"{src.title} files not found. Needed: {want}.",
        "Searched, in this order:",
        *[f"  - {line}" for line in report],
        download_note,
        "How to fix, any of:",
        f"  * pass data_dir=FOLDER, or set {ENV_DATA}=FOLDER, where FOLDER holds the data set folder as above;",
        f"  * download the official files into {cache_dir() / src.download_subdir}"
        f"{'' if src.download_subdir else ' (or a data folder)'} from:\n{urls}",
        f"    (home page: {src.homepage});",
        "  * run once on a machine with internet access (files are downloaded into the cache automatically)",
    ]
    if src.layout == "cifar":
        lines.append(f"  * {src.hint}")
    elif src.hint:
        lines.append(f"  * {src.hint}")
    return "\n".join(lines)


def locate(name: str, data_dir=None) -> Located:
    """Find a complete set of local files for a data set (no download).

    Parameters
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``.
    data_dir : str or os.PathLike, optional
        Folder searched first (see the module docstring for the order).

    Returns
    -------
    Located

    Raises
    ------
    DataNotFoundError
        No searched folder holds a complete set; the message lists every
        folder searched and what was missing.
    """
    src = SOURCES[canonical_name(name)]
    found, report = _scan(src.name, data_dir)
    if found is None:
        msg = _not_found_message(src, report, "Download: not attempted.")
        raise DataNotFoundError(msg, src.name, _searched(report))
    return found


# --------------------------------------------------------------------------- #
# downloads
# --------------------------------------------------------------------------- #
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
    from .cifar import CIFAR_BIN_META_FILE, CIFAR_BIN_TEST_FILE, CIFAR_BIN_TRAIN_FILES

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
