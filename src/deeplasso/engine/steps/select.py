"""The one place that chooses how a model trains: :func:`select_step`."""

from __future__ import annotations

import torch

from ..config import PathConfig
from ..penalty import InputPenalty
from .autograd import AutogradStep
from .base import Step
from .cuda_graph import CudaGraphStep
from .flat import FlatStep
from .native_epoch import NativeEpochStep

__all__ = ["select_step"]


def select_step(model: torch.nn.Module, config: PathConfig, device: torch.device, penalty: InputPenalty,
                class_weight: torch.Tensor | None = None) -> Step:
    """The fastest step that computes the update ``config`` asks for.

    - A :class:`LassoNet` MLP without dropout, Adam, ``config.fast``: the flat step;
      without groups its epoch runs in C on the CPU (:class:`NativeEpochStep`) or as
      CUDA-graph replays on a GPU (:class:`CudaGraphStep`), else as a Python loop
      (:class:`FlatStep`; grouped features need the grouped prox, which the C epoch
      has for the channels of each pixel, :meth:`FeatureGroups.stride`).
    - Anything else (a CNN or user body, dropout, another optimiser, a plain
      network): autograd and ``torch.optim`` (:class:`AutogradStep`).
    """
    task, lr = config.task, config.lr
    if not (config.fast and FlatStep.supports(model, config.optimizer)):
        return AutogradStep(model, task, lr, penalty, class_weight, optimizer=config.optimizer)
    kind = FlatStep
    if penalty.groups is None:
        kind = {"cpu": NativeEpochStep, "cuda": CudaGraphStep}.get(torch.device(device).type, FlatStep)
    elif torch.device(device).type == "cpu" and penalty.groups.stride() is not None:
        kind = NativeEpochStep  # the channels of each pixel: the C epoch's grouped prox
    return kind(model, task, lr, penalty, class_weight)
