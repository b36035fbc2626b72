"""Training steps: one :class:`Step` interface, four implementations, one chooser.

| step | what runs | used for |
| --- | --- | --- |
| :class:`AutogradStep` | autograd + ``torch.optim`` | any body, any optimiser |
| :class:`FlatStep` | hand-written backward, one flat buffer, Python loop | LassoNet MLP + Adam, with groups |
| :class:`NativeEpochStep` | the whole epoch in one C call | LassoNet MLP + Adam on CPU |
| :class:`CudaGraphStep` | one CUDA-graph replay per mini-batch | LassoNet MLP + Adam on CUDA |

:func:`select_step` is the only place that picks one.
"""

from .autograd import AutogradStep, make_optimizer
from .base import Step, batches
from .cuda_graph import CudaGraphStep, graphs_enabled
from .flat import FlatStep
from .native_epoch import NativeEpochStep
from .select import select_step

__all__ = ["Step", "AutogradStep", "FlatStep", "NativeEpochStep", "CudaGraphStep", "select_step",
           "make_optimizer", "batches", "graphs_enabled"]
