"""Real image data for deeplasso: loading, checking, preprocessing, splitting.

This subpackage imports nothing else from deeplasso.  Typical use::

    from deeplasso.data import load, paper_split, preprocess_split

    ds = load("cifar10", data_dir="../shared/data")   # uint8 (n, 3, 32, 32)
    split = paper_split(ds, random_state=0)             # pooled 80:10:10, stratified
    prep = preprocess_split(split, normalize="imagenet")  # float32 (n, 3072)

Your own arrays (``.npz``, ``.npy``, ``.csv``) go through :func:`load_arrays`,
:func:`split_arrays` and :func:`standardize_arrays`.

See ``docs/data.md`` for the search order of data files (``data_dir``,
``$DEEPLASSO_DATA``, the cache, ``/usr/share/datasets``), downloads and their
checksums, the feature order and the split rules.
"""

from .arrays import (
    ARRAY_SUFFIXES,
    TASKS,
    ArrayData,
    infer_task,
    load_arrays,
    split_arrays,
    standardize_arrays,
    subsample_train,
)
from .cifar import (
    CIFAR10_CLASSES,
    RestrictedUnpickler,
    load_cifar10_bin_folder,
    load_cifar10_python_folder,
    load_cifar10_tar,
    read_cifar_bin,
    read_cifar_python_batch,
    safe_unpickle,
)
from .dataset import (
    DIGITS_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    ImageDataset,
    load,
)
from .errors import (
    ChecksumError,
    DataFormatError,
    DataNotFoundError,
    DownloadError,
    UnsafePickleError,
)
from .idx import read_idx, read_idx_images, read_idx_labels, write_idx
from .preprocess import (
    IMAGENET_MEAN,
    IMAGENET_MEAN_GRAY,
    IMAGENET_STD,
    IMAGENET_STD_GRAY,
    NormStats,
    PreparedSplit,
    channel_stats,
    compute_stats,
    feature_to_pixel,
    features_to_image,
    pixel_to_feature,
    preprocess,
    preprocess_split,
)
from .sources import DATASET_NAMES, ENV_DATA, ENV_OFFLINE, cache_dir, download_file, fetch, locate, search_roots
from .splits import (
    Split,
    as_generator,
    make_split,
    official_split,
    paper_split,
    select_classes,
    stratified_indices,
    subsample_per_class,
)

__all__ = [
    # loading
    "load", "ImageDataset", "DATASET_NAMES", "MNIST_CLASSES", "FASHION_MNIST_CLASSES",
    "CIFAR10_CLASSES", "DIGITS_CLASSES",
    # files and sources
    "locate", "fetch", "download_file", "cache_dir", "search_roots", "ENV_DATA", "ENV_OFFLINE",
    "read_idx", "read_idx_images", "read_idx_labels", "write_idx",
    "read_cifar_bin", "read_cifar_python_batch", "load_cifar10_bin_folder",
    "load_cifar10_python_folder", "load_cifar10_tar", "safe_unpickle", "RestrictedUnpickler",
    # errors
    "DataFormatError", "UnsafePickleError", "ChecksumError", "DataNotFoundError", "DownloadError",
    # preprocessing
    "preprocess", "compute_stats", "channel_stats", "NormStats", "preprocess_split", "PreparedSplit",
    "IMAGENET_MEAN", "IMAGENET_STD", "IMAGENET_MEAN_GRAY", "IMAGENET_STD_GRAY",
    "feature_to_pixel", "pixel_to_feature", "features_to_image",
    # your own arrays (.npz, .npy, .csv)
    "load_arrays", "ArrayData", "infer_task", "split_arrays", "standardize_arrays", "subsample_train",
    "ARRAY_SUFFIXES", "TASKS",
    # splits
    "Split", "paper_split", "official_split", "make_split", "select_classes",
    "subsample_per_class", "stratified_indices", "as_generator",
]
