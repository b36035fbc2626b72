"""Steps built as the trainer builds them, for tests that drive a step directly."""

from deeplasso.engine import FlatStep
from deeplasso.engine.penalty import InputPenalty


def make_step(model, task, lr, class_weight=None, kind=FlatStep, M=10.0):
    """A ``kind`` step (FlatStep or a subclass) on ``model`` with a flat penalty."""
    return kind(model, task, lr, InputPenalty(model, M), class_weight)
