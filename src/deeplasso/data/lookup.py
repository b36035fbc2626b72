"""Finding the files of a data set on this machine (no download).

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
``cifar-10-batches-py/`` (or the CIFAR tarballs themselves).  :func:`scan`
reports every place it looked at, and :func:`not_found_message` turns that
report into the error a user sees.

Files found locally are checked for format when read (see :mod:`.idx`,
:mod:`.cifar`) but NOT against the official archive checksums: re-compressed
copies (such as the gzip wrappers in ``shared/data`` or Debian's) are fine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import IDX_FILES, SOURCES, DataSource, canonical_name
from .cifar_release import CIFAR_BIN_TEST_FILE, CIFAR_BIN_TRAIN_FILES, CIFAR_PY_TEST_FILE, CIFAR_PY_TRAIN_FILES
from .errors import DataNotFoundError

__all__ = [
    "ENV_DATA",
    "Located",
    "cache_dir",
    "search_roots",
    "scan",
    "searched_paths",
    "not_found_message",
    "locate",
]

#: Environment variable naming extra data folders (``os.pathsep``-separated).
ENV_DATA = "DEEPLASSO_DATA"


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
    for base in IDX_FILES:
        for cand in _idx_candidates(base):
            if (folder / cand).is_file():
                files[base] = folder / cand
                break
        else:
            missing.append(base + "[.gz]")
    return files, missing


def _cifar_checks(root: Path):
    """Yield (kind, path, missing-list) for every CIFAR layout below root."""
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


def scan(name: str, data_dir=None):
    """Look for a complete set of files of ``name`` in every search place.

    Parameters
    ----------
    name : str
        Data set name.
    data_dir : str or os.PathLike, optional
        Folder searched first.

    Returns
    -------
    found : Located or None
        The first complete set, ``None`` when there is none.
    report : list of str
        One line per place looked at before (and what it lacked), plus a
        ``note:`` line when ``data_dir`` is the data set folder itself.
    """
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


def searched_paths(report):
    """Folders/files named in a scan report (notes left out)."""
    return [r.split(" (")[0] for r in report if not r.startswith("note:")]


def not_found_message(src: DataSource, report, download_note: str) -> str:
    """The "files not found" text: what is needed, where it was looked for, how to fix it."""
    if src.layout == "idx":
        need = ", ".join(f"{b}[.gz]" for b in IDX_FILES)
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
    found, report = scan(src.name, data_dir)
    if found is None:
        msg = not_found_message(src, report, "Download: not attempted.")
        raise DataNotFoundError(msg, src.name, searched_paths(report))
    return found
