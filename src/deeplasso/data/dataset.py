"""The :class:`ImageDataset` container and :func:`load`: an image data set by name.

:func:`load` finds the files (:mod:`.lookup`), downloads them when missing
(:mod:`.sources`) and reads them with the format readers (:mod:`.idx`,
:mod:`.cifar`); ``"digits"`` comes from scikit-learn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .catalog import SOURCES, canonical_name
from .cifar import (
    CIFAR10_CLASSES,
    load_cifar10_bin_folder,
    load_cifar10_python_folder,
    load_cifar10_tar,
)
from .errors import DataFormatError, DataNotFoundError, DownloadError
from .idx import read_idx_images, read_idx_labels
from .lookup import Located, cache_dir, not_found_message, scan, searched_paths
from .sources import ENV_OFFLINE, fetch
from .stratify import stratified_indices

__all__ = [
    "ImageDataset",
    "load",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "CIFAR10_CLASSES",
    "DIGITS_CLASSES",
    "DIGITS_TEST_FRACTION",
    "DIGITS_SEED",
]

MNIST_CLASSES = tuple(str(i) for i in range(10))
DIGITS_CLASSES = MNIST_CLASSES
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
#: "digits" has no official split: stratified 80/20 with this fixed seed.
DIGITS_TEST_FRACTION = 0.2
DIGITS_SEED = 0


def _check_xy(x, y, name, image_shape, n_classes):
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4 or tuple(x.shape[1:]) != tuple(image_shape):
        raise ValueError(
            f"x_{name} must be a uint8 array of shape (n, {', '.join(map(str, image_shape))}), "
            f"got {getattr(x, 'dtype', type(x))} {getattr(x, 'shape', '')}"
        )
    if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (x.shape[0],):
        raise ValueError(f"y_{name} must be an int64 array of shape ({x.shape[0]},), got {getattr(y, 'dtype', type(y))} {getattr(y, 'shape', '')}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"y_{name} holds labels outside 0..{n_classes - 1}")


class ImageMeta:
    """``n_features`` and ``n_classes`` of anything with ``image_shape`` and ``classes``."""

    @property
    def n_features(self) -> int:
        """Number of flattened features ``C*H*W``."""
        c, h, w = self.image_shape
        return c * h * w

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)


@dataclass(frozen=True, eq=False)
class ImageDataset(ImageMeta):
    """Official train and test images of one data set.

    Attributes
    ----------
    x_train, x_test : numpy.ndarray
        uint8 images of shape ``(n, C, H, W)`` in the official order.
    y_train, y_test : numpy.ndarray
        int64 labels ``0 .. len(classes)-1``.
    classes : tuple of str
        Class names; ``classes[k]`` is the name of label ``k``.
    image_shape : tuple of int
        ``(C, H, W)``.
    name : str
        Data set name (``"mnist"``, ...).
    source : str
        Where the files were read from.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    image_shape: tuple
    name: str = ""
    source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        if len(self.image_shape) != 3:
            raise ValueError(f"image_shape must be (channels, height, width), got {self.image_shape}")
        _check_xy(self.x_train, self.y_train, "train", self.image_shape, len(self.classes))
        _check_xy(self.x_test, self.y_test, "test", self.image_shape, len(self.classes))

    def __repr__(self) -> str:
        return (
            f"ImageDataset(name={self.name!r}, x_train={self.x_train.shape}, x_test={self.x_test.shape}, "
            f"classes={len(self.classes)}, image_shape={self.image_shape}, source={self.source!r})"
        )


def _load_idx(loc: Located, classes) -> ImageDataset:
    f = loc.files
    x_tr = read_idx_images(f["train-images-idx3-ubyte"])
    y_tr = read_idx_labels(f["train-labels-idx1-ubyte"], len(classes))
    x_te = read_idx_images(f["t10k-images-idx3-ubyte"])
    y_te = read_idx_labels(f["t10k-labels-idx1-ubyte"], len(classes))
    for xs, ys, xi, yi in ((x_tr, y_tr, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                           (x_te, y_te, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        if xs.shape[0] != ys.shape[0]:
            raise DataFormatError(
                f[yi], f"holds {ys.shape[0]} labels but {f[xi].name} holds {xs.shape[0]} images; the counts must match"
            )
    x_tr, x_te = (np.require(a, requirements=["C", "W"]) for a in (x_tr, x_te))
    return ImageDataset(x_tr, y_tr, x_te, y_te, classes, (1, 28, 28), loc.name, str(loc.path))


def _load_cifar(loc: Located) -> ImageDataset:
    if loc.kind == "cifar-bin":
        raw = load_cifar10_bin_folder(loc.path)
    elif loc.kind == "cifar-py":
        raw = load_cifar10_python_folder(loc.path)
    else:
        raw = load_cifar10_tar(loc.path)
    return ImageDataset(raw.x_train, raw.y_train, raw.x_test, raw.y_test, raw.classes, (3, 32, 32), "cifar10", str(loc.path))


def _load_digits() -> ImageDataset:
    # Lazy: scikit-learn takes a while to import and only "digits" needs it.
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.rint(d.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[:, None, :, :]
    y = d.target.astype(np.int64)
    train, test = stratified_indices(y, [1 - DIGITS_TEST_FRACTION, DIGITS_TEST_FRACTION], DIGITS_SEED)
    return ImageDataset(x[train], y[train], x[test], y[test], DIGITS_CLASSES, (1, 8, 8), "digits",
                        "sklearn.datasets.load_digits")


def _env_offline() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")


def load(name: str, data_dir=None, *, download=None, progress: bool = True) -> ImageDataset:
    """Load the official train and test split of an image data set.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10", "digits"}
        Data set (``_`` and ``-`` and case are ignored; ``"cifar-10"`` works).
    data_dir : str or os.PathLike, optional
        Folder holding one folder per data set (``mnist/``,
        ``fashion-mnist/``, ``cifar-10-batches-bin/`` ...), like
        ``shared/data``.  Searched first, then ``$DEEPLASSO_DATA``, then the
        cache (``$XDG_CACHE_HOME/deeplasso`` or ``~/.cache/deeplasso``), then
        (Fashion-MNIST) ``/usr/share/datasets/fashion-mnist``.
    download : bool, optional
        Download the official files into the cache when none are found.
        Default: yes, unless the environment variable ``DEEPLASSO_OFFLINE``
        is ``1``.  Downloads are verified against the published MD5/SHA-256.
    progress : bool
        Show a progress bar while downloading.

    Returns
    -------
    ImageDataset
        uint8 images ``(n, C, H, W)`` and int64 labels in the official order.
        ``"digits"`` (scikit-learn's 8x8 digits, 1,797 images, values 0..16)
        is scaled to 0..255 by ``round(v * 255 / 16)`` and split 80/20,
        stratified, with the fixed seed 0 (1,438 train / 359 test images, each
        part in the original order).

    Raises
    ------
    DataNotFoundError
        No local files and no download possible; the message lists every
        folder searched and how to get the files.
    DataFormatError
        A file is truncated or corrupt (the message names it).
    ChecksumError
        A download did not match the published checksum.
    """
    key = canonical_name(name)
    if key == "digits":
        return _load_digits()
    classes = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}[key]
    src = SOURCES[key]
    found, report = scan(key, data_dir)
    if found is None:
        if download is None:
            download = not _env_offline()
            why = f"${ENV_OFFLINE} is set"
        else:
            why = "download=False"
        if not download:
            note = f"Download: not attempted ({why})."
            raise DataNotFoundError(not_found_message(src, report, note), key,
                                    searched_paths(report))
        try:
            fetch(key, progress=progress)
        except DownloadError as exc:
            note = f"Download into {cache_dir()} failed (offline?): {exc}"
            raise DataNotFoundError(not_found_message(src, report, note), key,
                                    searched_paths(report)) from exc
        found, more = scan(key, data_dir)
        if found is None:  # pragma: no cover - fetch() guarantees the files
            raise DataNotFoundError(not_found_message(src, more, "Download finished but files are missing."),
                                    key)
    if found.kind == "idx":
        return _load_idx(found, classes)
    return _load_cifar(found)
