"""What the official CIFAR-10 release holds, shared by its two readers.

The class names, the image shape, the file names of the binary and the python
version, the :class:`RawData` both readers return, and the checks both apply
(labels in range, equal record counts per batch, ten class names).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import DataFormatError

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_IMAGE_SHAPE",
    "CIFAR10_PIXELS",
    "CIFAR_BIN_TRAIN_FILES",
    "CIFAR_BIN_TEST_FILE",
    "CIFAR_BIN_META_FILE",
    "CIFAR_PY_TRAIN_FILES",
    "CIFAR_PY_TEST_FILE",
    "CIFAR_PY_META_FILE",
    "RawData",
    "check_labels",
    "check_same_counts",
    "check_class_count",
]

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
CIFAR10_IMAGE_SHAPE = (3, 32, 32)
#: Pixel bytes of one image (1024 red, 1024 green, 1024 blue).
CIFAR10_PIXELS = 3 * 32 * 32

CIFAR_BIN_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_BIN_TEST_FILE = "test_batch.bin"
CIFAR_BIN_META_FILE = "batches.meta.txt"
CIFAR_PY_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_PY_TEST_FILE = "test_batch"
CIFAR_PY_META_FILE = "batches.meta"


class RawData(NamedTuple):
    """Official train and test arrays as read from disk."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple


def check_labels(y: np.ndarray, name: str, n_classes: int) -> None:
    """Raise :class:`DataFormatError` unless every label is in ``0 .. n_classes-1``."""
    if y.size and int(y.max()) >= n_classes:
        bad = int(np.argmax(y >= n_classes))
        raise DataFormatError(name, f"label {int(y[bad])} of record {bad} is out of range 0..{n_classes - 1}")
    if y.size and int(y.min()) < 0:
        bad = int(np.argmax(y < 0))
        raise DataFormatError(name, f"label {int(y[bad])} of record {bad} is negative")


def check_same_counts(counts: dict, what: str) -> None:
    """Raise :class:`DataFormatError` unless all batches hold the same number of records.

    Every batch of the official release does; ``counts`` maps file name to records.
    """
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{Path(k).name}: {v}" for k, v in counts.items())
        odd = min(counts, key=lambda k: counts[k])
        raise DataFormatError(
            odd,
            f"record counts differ between the {what} batches ({detail}); every official batch "
            "holds the same number of records, so this one is truncated or from another release",
        )


def check_class_count(classes, name: str, n_classes: int = 10):
    """Raise :class:`DataFormatError` unless ``classes`` lists ``n_classes`` names."""
    if len(classes) != n_classes:
        raise DataFormatError(name, f"lists {len(classes)} class names, CIFAR-10 has {n_classes}")
