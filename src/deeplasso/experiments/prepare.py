"""The data of a run: the train/validation/test arrays its :class:`FitSettings` name."""

from __future__ import annotations

from ..data import (
    ArrayData, load, load_arrays, make_split, preprocess_split, select_classes, split_arrays, standardize_arrays,
    subsample_per_class, subsample_train,
)
from .settings import FitSettings

__all__ = ["prepare_data"]


def prepare_data(s: FitSettings) -> ArrayData:
    """Train/val/test arrays of the run as an :class:`~deeplasso.data.ArrayData`."""
    if s.data is not None:
        return _prepare_arrays(s)
    only_data = [k for k in ("labels", "target", "image_shape") if getattr(s, k) is not None]
    if only_data or s.task == "regression":
        raise ValueError(f"{', '.join(only_data) or 'task=regression'} only appl{'ies' if len(only_data) < 2 else 'y'} "
                         "to your own data file (--data), not to the built-in data set "
                         f"{s.dataset!r}")
    split_seed = s.seed if s.split_seed is None else s.split_seed
    ds = load(s.dataset, s.data_dir)
    split = make_split(ds, s.split, val_fraction=s.val_fraction, random_state=split_seed)
    if s.classes:
        split = select_classes(split, list(s.classes))
    if s.per_class:
        split = subsample_per_class(split, *s.per_class, random_state=split_seed)
    if s.max_train:
        per_class = max(1, s.max_train // len(split.classes))
        split = subsample_per_class(split, n_train=per_class, random_state=split_seed)
    p = preprocess_split(split, s.normalize)
    return ArrayData(p.X_train, p.y_train, p.X_val, p.y_val, p.X_test, p.y_test, task="classification",
                     classes=tuple(p.classes), image_shape=tuple(p.image_shape), source=s.dataset)


def _prepare_arrays(s: FitSettings) -> ArrayData:
    if s.normalize not in ("train", None):
        raise ValueError(f"normalize={s.normalize!r} is for the built-in image sets; for your own data use "
                         "'train' (standardise each feature, the default) or 'none'")
    image_only = [k for k in ("classes", "per_class") if getattr(s, k)] + (["split"] if s.split != "official" else [])
    if image_only:
        raise ValueError(f"{', '.join(image_only)} only appl{'ies' if len(image_only) < 2 else 'y'} to the built-in "
                         "data sets (--dataset), not to your own data file")
    split_seed = s.seed if s.split_seed is None else s.split_seed
    # reconstruct: labels are optional (without --labels/--target every column is a feature); labels
    # that are given are read, play no part in the selection and score the kept features
    reconstruct = s.task == "reconstruct"
    data = load_arrays(s.data, labels=s.labels, target=s.target, task=None if reconstruct else s.task,
                       image_shape=s.image_shape, unlabeled=reconstruct)
    data = split_arrays(data, s.val_fraction, s.test_fraction, random_state=split_seed)
    if s.max_train:
        data = subsample_train(data, s.max_train, random_state=split_seed)
    return standardize_arrays(data, features=s.normalize == "train")
