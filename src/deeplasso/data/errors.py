"""Exceptions raised by :mod:`deeplasso.data`.

Every error names the file (or the folders) involved, says what was wrong and
how to fix it.  Format problems are :class:`ValueError` subclasses, missing
files are :class:`FileNotFoundError` subclasses, so callers can catch the
usual built-in types.
"""

from __future__ import annotations

import pickle
from pathlib import Path

__all__ = [
    "DataFormatError",
    "UnsafePickleError",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
]


class DataFormatError(ValueError):
    """A data file is truncated, corrupt or not in the expected format.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file (for a member of an archive: ``archive::member``).
    problem : str
        What is wrong with it.
    hint : str, optional
        How to fix it.  A default hint (delete the file and fetch it again)
        is used when omitted.

    Attributes
    ----------
    path : str
        The file that was being read.
    problem : str
        What is wrong with it.
    """

    default_hint = (
        "the file is damaged or is not the official release: delete it and "
        "download or copy it again"
    )

    def __init__(self, path, problem: str, hint: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.hint = self.default_hint if hint is None else hint
        msg = f"{self.path}: {problem}"
        if self.hint:
            msg += f" ({self.hint})"
        super().__init__(msg)

    def __reduce__(self):  # keep the exception picklable (multiprocessing)
        return (type(self), (self.path, self.problem, self.hint))


class UnsafePickleError(DataFormatError, pickle.UnpicklingError):
    """A pickled CIFAR batch asked for something other than plain data.

    Raised by the restricted unpickler instead of running the pickle's code.
    """

    default_hint = (
        "the official CIFAR-10 python batches only hold dicts, lists, bytes "
        "and numpy arrays; this file was not made by the official release and "
        "was NOT executed. Use the official archive or the binary version"
    )


class ChecksumError(DataFormatError):
    """A downloaded file does not match the published checksum or size.

    The partial download is always deleted before this is raised.
    """

    default_hint = (
        "the download was corrupted or the server sent something else; it was "
        "deleted. Try again later or download the file by hand"
    )


class DataNotFoundError(FileNotFoundError):
    """The files of a data set are not in any searched folder.

    The message lists the missing files, every folder that was searched and
    how to get the files.

    Attributes
    ----------
    dataset : str
        The data set name.
    searched : list of pathlib.Path
        Folders that were searched.
    """

    def __init__(self, message: str, dataset: str = "", searched=()):
        super().__init__(message)
        self.dataset = dataset
        self.searched = [Path(p) for p in searched]

    def __str__(self) -> str:  # FileNotFoundError would print "[Errno None]"
        return self.args[0] if self.args else ""


class DownloadError(OSError):
    """Every mirror of a file failed (network error, HTTP error, ...)."""
