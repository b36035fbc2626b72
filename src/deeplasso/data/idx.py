"""Reader and writer for the IDX format of MNIST and Fashion-MNIST.

An IDX file is::

    0x00 0x00 <type code> <number of dimensions d>
    d big-endian uint32 sizes
    the data, big-endian, row-major (C order)

Files may be gzipped; gzip is recognised by its magic bytes (``1f 8b``), not
by the file name.  The whole file is read at once and turned into an array with
:func:`numpy.frombuffer` (no per-record Python loop).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataFormatError

__all__ = ["parse_idx", "read_idx", "write_idx", "read_idx_images", "read_idx_labels"]

#: IDX type code -> numpy dtype (big-endian as stored on disk).
IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=").str if dt.itemsize > 1 else dt.str: code for code, dt in IDX_TYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"
#: Refuse to decompress more than this many bytes (protects against gzip bombs).
MAX_BYTES = 2**31


def _read_bytes(path: Path, name: str | None = None) -> bytearray:
    """Return the (decompressed) content of ``path``; gzip is sniffed.

    A :class:`bytearray` is returned so that arrays made from it with
    :func:`numpy.frombuffer` are writable without another copy.
    """
    name = name or str(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head != GZIP_MAGIC:
                buf = bytearray(os.fstat(f.fileno()).st_size)
                n = f.readinto(buf)
                del buf[n:]
                return buf
            out = bytearray()
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                while chunk := g.read(1 << 24):
                    out += chunk
                    if len(out) > MAX_BYTES:
                        raise DataFormatError(name, f"decompresses to more than {MAX_BYTES} bytes")
            return out
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataFormatError(name, f"corrupt or truncated gzip data ({exc})") from exc


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    data : bytes or bytearray
        The whole file content (a bytearray gives a writable array).
    name : str
        File name used in error messages.

    Returns
    -------
    numpy.ndarray
        Array of the stored shape in native byte order.

    Raises
    ------
    DataFormatError
        Bad magic number, unknown type code, truncated data or trailing bytes.
    """
    if len(data) < 4:
        raise DataFormatError(name, f"file has only {len(data)} bytes, an IDX header needs at least 4")
    if data[0] != 0 or data[1] != 0:
        raise DataFormatError(
            name,
            f"bad IDX magic number 0x{data[0]:02x}{data[1]:02x}{data[2]:02x}{data[3]:02x}: "
            "an IDX file starts with two zero bytes (e.g. 0x00000803 for images, "
            "0x00000801 for labels)",
        )
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise DataFormatError(name, f"unknown IDX type code 0x{code:02x} (magic 0x0000{code:02x}{ndim:02x})")
    if ndim == 0:
        raise DataFormatError(name, "IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(name, f"truncated IDX header: {ndim} dimensions need {header} bytes, file has {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_TYPES[code]
    count = 1
    for d in dims:
        count *= d
    expected = header + count * dtype.itemsize
    shape_txt = "x".join(map(str, dims))
    if len(data) < expected:
        raise DataFormatError(
            name,
            f"truncated: header declares shape {shape_txt} ({expected} bytes in all) "
            f"but the file has only {len(data)} bytes",
        )
    if len(data) > expected:
        raise DataFormatError(
            name,
            f"{len(data) - expected} unexpected bytes after the data: header declares shape "
            f"{shape_txt} ({expected} bytes) but the file has {len(data)} bytes",
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(path) -> np.ndarray:
    """Read an IDX file, gzipped or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file.  Gzip compression is detected from the content.

    Returns
    -------
    numpy.ndarray
        The stored array (writable, native byte order).

    Raises
    ------
    DataFormatError
        Corrupt gzip data, bad magic number, wrong size.
    FileNotFoundError
        The file does not exist.
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def _check_images(arr: np.ndarray, name: str, image_hw=None) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise DataFormatError(
            name,
            f"expected an image file (uint8, 3 dimensions, magic 0x00000803), "
            f"got {arr.dtype} with {arr.ndim} dimension(s) {arr.shape}",
        )
    if image_hw is not None and tuple(arr.shape[1:]) != tuple(image_hw):
        raise DataFormatError(name, f"images are {arr.shape[1]}x{arr.shape[2]}, expected {image_hw[0]}x{image_hw[1]}")
    return arr


def _check_labels(arr: np.ndarray, name: str, n_classes=None) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise DataFormatError(
            name,
            f"expected a label file (uint8, 1 dimension, magic 0x00000801), "
            f"got {arr.dtype} with {arr.ndim} dimension(s) {arr.shape}",
        )
    if n_classes is not None and arr.size and int(arr.max()) >= n_classes:
        bad = int(np.argmax(arr >= n_classes))
        raise DataFormatError(
            name, f"label {int(arr[bad])} at record {bad} is out of range 0..{n_classes - 1}"
        )
    return arr


def read_idx_images(path, image_hw=(28, 28)) -> np.ndarray:
    """Read an IDX image file as uint8 ``(n, 1, H, W)``.

    Parameters
    ----------
    path : str or os.PathLike
        ``*-images-idx3-ubyte`` file, optionally gzipped.
    image_hw : tuple of int or None
        Expected ``(height, width)``; ``None`` accepts any size.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape ``(n, 1, H, W)``.
    """
    arr = _check_images(read_idx(path), str(path), image_hw)
    return arr.reshape(arr.shape[0], 1, arr.shape[1], arr.shape[2])


def read_idx_labels(path, n_classes=10) -> np.ndarray:
    """Read an IDX label file as int64 ``(n,)``, checking the label range.

    Parameters
    ----------
    path : str or os.PathLike
        ``*-labels-idx1-ubyte`` file, optionally gzipped.
    n_classes : int or None
        Labels must lie in ``0 .. n_classes-1``; ``None`` skips the check.

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(n,)``.
    """
    arr = _check_labels(read_idx(path), str(path), n_classes)
    return arr.astype(np.int64)


def write_idx(path, array, compress=None) -> Path:
    """Write an array as an IDX file (used for tests and conversions).

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    array : array_like
        uint8, int8, int16, int32, float32 or float64 data, at least 1-D.
    compress : bool or None
        Gzip the file; ``None`` means "if the name ends in ``.gz``".

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    arr = np.asarray(array)
    if arr.ndim == 0:
        raise ValueError("write_idx needs an array with at least one dimension")
    key = arr.dtype.newbyteorder("=").str if arr.dtype.itemsize > 1 else arr.dtype.str
    if key not in _CODE_OF:
        raise ValueError(f"IDX cannot store dtype {arr.dtype}; use one of uint8, int8, int16, int32, float32, float64")
    code = _CODE_OF[key]
    body = np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    data = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + body
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path

