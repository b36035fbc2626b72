"""Preprocessing as in the paper, and the feature <-> pixel mapping.

Pixels are scaled to [0, 1] and normalised per channel::

    feature = (pixel / 255 - mean[c]) / std[c]

with ``normalize=``

``"imagenet"``
    ImageNet mean ``(0.485, 0.456, 0.406)`` and std ``(0.229, 0.224, 0.225)``
    for 3-channel images; for 1-channel images the average of those,
    mean ``0.449`` and std ``0.226`` (:data:`IMAGENET_MEAN_GRAY`,
    :data:`IMAGENET_STD_GRAY`).
``"train"``
    The per-channel mean and (population, ddof=0) std of the training images
    (computed exactly from 256-bin histograms, in chunks).  Compute them once
    with :func:`compute_stats` on the training part and apply the same
    :class:`NormStats` to validation and test.
``None``
    Only the scaling to [0, 1].

Feature order (the one order used everywhere in deeplasso): images
``(n, C, H, W)`` are flattened to ``(n, C*H*W)`` channel-major, then row,
then column::

    index = c * H * W + r * W + col

which is ``x.reshape(n, -1)`` of a C-ordered ``(n, C, H, W)`` array and the
on-disk pixel order of CIFAR-10.  :func:`feature_to_pixel`,
:func:`pixel_to_feature` and :func:`features_to_image` convert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGENET_MEAN_GRAY",
    "IMAGENET_STD_GRAY",
    "NormStats",
    "channel_stats",
    "compute_stats",
    "preprocess",
    "PreparedSplit",
    "preprocess_split",
    "feature_to_pixel",
    "pixel_to_feature",
    "features_to_image",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: 1-channel ImageNet normalisation: the mean of the three channel values.
IMAGENET_MEAN_GRAY = float(np.mean(IMAGENET_MEAN))  # 0.449
IMAGENET_STD_GRAY = float(np.mean(IMAGENET_STD))  # 0.226

_CHUNK = 4096


def _check_images(x, what="x") -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(
            f"{what} must be a numpy array of images (n, C, H, W), got "
            f"{type(x).__name__} of shape {getattr(x, 'shape', None)}; add the channel axis with x[:, None] "
            "for grayscale (n, H, W) images"
        )
    if x.dtype != np.uint8:
        raise TypeError(f"{what} must hold uint8 pixels 0..255 (as returned by load()), got {x.dtype}")
    return x


@dataclass(frozen=True)
class NormStats:
    """Per-channel normalisation on the [0, 1] scale.

    Attributes
    ----------
    mean, std : tuple of float
        One value per channel.
    kind : str
        ``"imagenet"``, ``"train"`` or ``"none"``.
    """

    mean: tuple
    std: tuple
    kind: str = "train"

    def __post_init__(self):
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))
        if len(self.mean) != len(self.std) or not self.mean:
            raise ValueError(f"mean and std need one value per channel, got {self.mean} and {self.std}")
        if any(not s > 0 for s in self.std):
            raise ValueError(f"std must be positive, got {self.std}")

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.mean)

    def apply(self, x) -> np.ndarray:
        """Scale, normalise and flatten uint8 images ``(n, C, H, W)`` to float32 ``(n, C*H*W)``."""
        return preprocess(x, stats_from=self)


def channel_stats(x):
    """Exact per-channel mean and std (ddof=0) of uint8 images on the [0, 1] scale.

    Works in chunks with 256-bin histograms, so memory stays small even for
    all of CIFAR-10.

    Parameters
    ----------
    x : numpy.ndarray
        uint8 ``(n, C, H, W)``.

    Returns
    -------
    mean, std : numpy.ndarray
        float64 arrays of shape ``(C,)``.
    """
    x = _check_images(x)
    n, c = x.shape[:2]
    if n == 0:
        raise ValueError("cannot compute statistics of zero images")
    hist = np.zeros((c, 256), dtype=np.int64)
    flat = x.reshape(n, c, -1)
    for s in range(0, n, _CHUNK):
        block = flat[s:s + _CHUNK]
        for ch in range(c):
            hist[ch] += np.bincount(block[:, ch].ravel(), minlength=256)
    v = np.arange(256, dtype=np.float64) / 255.0
    cnt = hist.sum(1).astype(np.float64)
    mean = hist @ v / cnt
    var = hist @ (v * v) / cnt - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def compute_stats(x_or_channels, normalize="imagenet") -> NormStats:
    """The normalisation statistics to use, as a :class:`NormStats`.

    Parameters
    ----------
    x_or_channels : numpy.ndarray or int
        Training images uint8 ``(n, C, H, W)`` (needed for ``"train"``), or
        just the number of channels for ``"imagenet"`` / ``None``.
    normalize : {"imagenet", "train", None}
        See the module docstring.  A channel with zero std (constant pixels)
        gets std 1.

    Returns
    -------
    NormStats
    """
    if isinstance(x_or_channels, (int, np.integer)):
        c = int(x_or_channels)
        x = None
    else:
        x = _check_images(x_or_channels, "x_train")
        c = x.shape[1]
    if normalize is None or normalize == "none":
        return NormStats((0.0,) * c, (1.0,) * c, "none")
    if normalize == "imagenet":
        if c == 3:
            return NormStats(IMAGENET_MEAN, IMAGENET_STD, "imagenet")
        if c == 1:
            return NormStats((IMAGENET_MEAN_GRAY,), (IMAGENET_STD_GRAY,), "imagenet")
        raise ValueError(f"ImageNet normalisation needs 1 or 3 channels, got {c}; use normalize='train' or None")
    if normalize == "train":
        if x is None:
            raise ValueError("normalize='train' needs the training images, not just a channel count")
        mean, std = channel_stats(x)
        return NormStats(tuple(mean), tuple(np.where(std > 0, std, 1.0)), "train")
    raise ValueError(f"normalize must be 'imagenet', 'train' or None, got {normalize!r}")


def preprocess(x, normalize="imagenet", stats_from=None) -> np.ndarray:
    """Scale uint8 images to [0, 1], normalise per channel, flatten.

    Parameters
    ----------
    x : numpy.ndarray
        uint8 images ``(n, C, H, W)``.
    normalize : {"imagenet", "train", None}
        Which statistics (see the module docstring).  Ignored when
        ``stats_from`` is a :class:`NormStats`.
    stats_from : NormStats or numpy.ndarray, optional
        Statistics to reuse (e.g. those of the training part, for
        validation and test), or, for ``normalize="train"``, the uint8
        training images to compute them from.  With ``normalize="train"`` and
        no ``stats_from``, the statistics of ``x`` itself are used.

    Returns
    -------
    numpy.ndarray
        float32 ``(n, C*H*W)`` in the documented feature order
        (``index = c*H*W + r*W + col``).

    Examples
    --------
    >>> stats = compute_stats(split.x_train, "train")      # doctest: +SKIP
    >>> X_train = preprocess(split.x_train, stats_from=stats)  # doctest: +SKIP
    >>> X_test = stats.apply(split.x_test)                 # doctest: +SKIP
    """
    x = _check_images(x)
    n, c = x.shape[:2]
    if isinstance(stats_from, NormStats):
        stats = stats_from
    elif stats_from is not None:
        if normalize != "train":
            raise ValueError("stats_from as an image array only makes sense with normalize='train'")
        stats = compute_stats(stats_from, "train")
    elif normalize == "train":
        stats = compute_stats(x, "train")
    else:
        stats = compute_stats(c, normalize)
    if stats.n_channels != c:
        raise ValueError(f"statistics are for {stats.n_channels} channel(s) but the images have {c}")
    mean = np.asarray(stats.mean, dtype=np.float64)
    std = np.asarray(stats.std, dtype=np.float64)
    scale = (1.0 / (255.0 * std)).astype(np.float32)[None, :, None]
    offset = (-mean / std).astype(np.float32)[None, :, None]
    flat = x.reshape(n, c, -1)
    out = np.empty((n, c, flat.shape[2]), dtype=np.float32)
    for s in range(0, n, _CHUNK):  # no float64 temporaries
        o = out[s:s + _CHUNK]
        np.multiply(flat[s:s + _CHUNK], scale, out=o, casting="unsafe")
        o += offset
    return out.reshape(n, -1)


@dataclass(frozen=True, eq=False)
class PreparedSplit:
    """Float features of a :class:`~deeplasso.data.splits.Split`.

    Attributes
    ----------
    X_train, X_val, X_test : numpy.ndarray
        float32 ``(n, C*H*W)``.
    y_train, y_val, y_test : numpy.ndarray
        int64 labels.
    classes : tuple of str
    image_shape : tuple of int
    stats : NormStats
        The statistics used for all three parts.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    image_shape: tuple
    stats: NormStats


def preprocess_split(split, normalize="imagenet") -> PreparedSplit:
    """Preprocess all parts of a split with statistics from its training part.

    Parameters
    ----------
    split : Split
        uint8 split (from :func:`paper_split` / :func:`official_split`).
    normalize : {"imagenet", "train", None}
        ``"train"`` uses the statistics of ``split.x_train`` for all parts.

    Returns
    -------
    PreparedSplit
    """
    stats = compute_stats(split.x_train if normalize == "train" else split.image_shape[0], normalize)
    return PreparedSplit(
        stats.apply(split.x_train), split.y_train, stats.apply(split.x_val), split.y_val,
        stats.apply(split.x_test), split.y_test, split.classes, split.image_shape, stats,
    )


def _shape(image_shape):
    shp = tuple(int(s) for s in image_shape)
    if len(shp) != 3 or min(shp) < 1:
        raise ValueError(f"image_shape must be (channels, height, width) with positive sizes, got {image_shape}")
    return shp


def feature_to_pixel(index, image_shape):
    """Map flat feature indices to ``(channel, row, col)``.

    Parameters
    ----------
    index : int or array_like of int
        Feature index ``c*H*W + r*W + col``, in ``0 .. C*H*W-1``.
    image_shape : (int, int, int)
        ``(C, H, W)``.

    Returns
    -------
    (channel, row, col)
        ints for a scalar index, int64 arrays of the index's shape otherwise.
    """
    shp = _shape(image_shape)
    idx = np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"feature indices must be integers, got {idx.dtype}")
    d = shp[0] * shp[1] * shp[2]
    if idx.size and (idx.min() < 0 or idx.max() >= d):
        raise ValueError(f"feature index out of range 0..{d - 1} for image_shape {shp}")
    c, r, col = np.unravel_index(idx, shp)
    if idx.ndim == 0:
        return int(c), int(r), int(col)
    return c.astype(np.int64), r.astype(np.int64), col.astype(np.int64)


def pixel_to_feature(channel, row, col, image_shape):
    """Inverse of :func:`feature_to_pixel`.

    Parameters
    ----------
    channel, row, col : int or array_like of int
        Pixel coordinates (broadcast together).
    image_shape : (int, int, int)
        ``(C, H, W)``.

    Returns
    -------
    int or numpy.ndarray
        ``channel*H*W + row*W + col``.
    """
    shp = _shape(image_shape)
    out = np.ravel_multi_index((np.asarray(channel), np.asarray(row), np.asarray(col)), shp)
    return int(out) if np.ndim(out) == 0 else out.astype(np.int64)


def features_to_image(vector, image_shape) -> np.ndarray:
    """Reshape per-feature values (e.g. importances) to image form.

    Parameters
    ----------
    vector : array_like
        Shape ``(C*H*W,)``, or ``(k, C*H*W)`` for several maps.
    image_shape : (int, int, int)
        ``(C, H, W)``.

    Returns
    -------
    numpy.ndarray
        ``(C, H, W)`` (or ``(k, C, H, W)``), same dtype, in the documented
        feature order.
    """
    shp = _shape(image_shape)
    v = np.asarray(vector)
    d = shp[0] * shp[1] * shp[2]
    if v.ndim not in (1, 2) or v.shape[-1] != d:
        raise ValueError(f"expected {d} = {'*'.join(map(str, shp))} values per map, got an array of shape {v.shape}")
    return v.reshape(*v.shape[:-1], *shp)
