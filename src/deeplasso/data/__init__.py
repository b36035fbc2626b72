"""Real image data for deeplasso: loading, checking, preprocessing, splitting.

This subpackage imports nothing else from deeplasso.  Typical use::

    from deeplasso.data import load, paper_split, preprocess_split

    ds = load("cifar10", data_dir="../shared/data")   # uint8 (n, 3, 32, 32)
    split = paper_split(ds, random_state=0)             # pooled 80:10:10, stratified
    prep = preprocess_split(split, normalize="imagenet")  # float32 (n, 3072)

Your own arrays (``.npz``, ``.npy``, ``.csv``) go through :func:`load_arrays`,
:func:`split_arrays` and :func:`standardize_arrays`.

Modules, each with one concern (a module imports only those above it or
beside it, never in a circle):

- image data sets: :mod:`.catalog` (which data sets, their folders and
  official files), :mod:`.lookup` (finding them on this machine),
  :mod:`.sources` (downloading and verifying them), :mod:`.dataset`
  (:class:`ImageDataset` and :func:`load`);
- file formats: :mod:`.idx` (MNIST), :mod:`.cifar_release` (what CIFAR-10
  holds), :mod:`.cifar_bin` and :mod:`.cifar_python` (its two versions),
  :mod:`.safe_pickle` (unpickling without running code), :mod:`.cifar`
  (its tarballs, and every CIFAR name);
- splits and pixels: :mod:`.stratify` (seeded stratified indices),
  :mod:`.splits` (train / validation / test of an image data set),
  :mod:`.preprocess` (uint8 images to float features);
- your own arrays: :mod:`.array_data` (:class:`ArrayData`),
  :mod:`.array_readers` (the file parsers), :mod:`.arrays`
  (:func:`load_arrays` and its checks), :mod:`.array_splits` (held-out parts,
  standardisation);
- :mod:`.errors` (the exceptions), :mod:`.fakes` (tiny data sets for tests).

See ``docs/data.md`` for the search order of data files (``data_dir``,
``$DEEPLASSO_DATA``, the cache, ``/usr/share/datasets``), downloads and their
checksums, the feature order and the split rules.
"""

from .array_data import TASKS, ArrayData
from .array_readers import ARRAY_SUFFIXES
from .array_splits import split_arrays, standardize_arrays, subsample_train
from .arrays import infer_task, load_arrays
from .catalog import DATASET_NAMES
from .cifar import load_cifar10_tar
from .cifar_bin import load_cifar10_bin_folder, read_cifar_bin
from .cifar_python import load_cifar10_python_folder, read_cifar_python_batch
from .cifar_release import CIFAR10_CLASSES
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
from .lookup import ENV_DATA, cache_dir, locate, search_roots
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
from .safe_pickle import RestrictedUnpickler, safe_unpickle
from .sources import ENV_OFFLINE, download_file, fetch
from .splits import Split, make_split, official_split, paper_split, select_classes, subsample_per_class
from .stratify import as_generator, stratified_indices

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
