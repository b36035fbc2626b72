"""The registry of the image data sets: names, folders and official files.

One :class:`DataSource` per data set (``SOURCES``) says where its files sit
below a data folder, which official files make it up (:class:`RemoteFile`,
with their mirrors and published checksums) and what to tell a user who lacks
them.  :func:`canonical_name` maps the accepted spellings to the keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RemoteFile",
    "DataSource",
    "IDX_FILES",
    "MNIST_REMOTE",
    "FASHION_REMOTE",
    "CIFAR10_BINARY_REMOTE",
    "CIFAR10_PYTHON_REMOTE",
    "DEBIAN_DATASETS",
    "SOURCES",
    "DATASET_NAMES",
    "canonical_name",
]


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


#: The four files of an MNIST-style data set, without ``.gz``.
IDX_FILES = (
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
        for base, (md5, sha, size) in zip(IDX_FILES, table)
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
