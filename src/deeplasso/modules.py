"""Moved to :mod:`deeplasso.engine.modules`; kept so that old imports work."""

from .engine.modules import CNNBody, LassoNet, MLPBody, PlainMLP, cnn_body, mlp_body  # noqa: F401

__all__ = ["LassoNet", "MLPBody", "CNNBody", "mlp_body", "cnn_body", "PlainMLP"]
