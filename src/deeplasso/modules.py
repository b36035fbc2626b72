"""The LassoNet module: a linear skip layer plus a feed-forward body.

``f(x) = theta x + f_W(x)``. The skip layer ``theta`` (n_outputs x n_features, no
bias) and the body's first layer ``W0`` (hidden x n_features) both read the raw
inputs, so they are stored as one fused weight ``input_weight`` of shape
``(n_outputs + hidden, n_features)`` and computed with a single matmul; the prox
works on the two row blocks of that one tensor in place.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["LassoNet", "mlp_body", "PlainMLP"]


def mlp_body(
    hidden_dims: Sequence[int], n_outputs: int, dropout: float | None = None
) -> nn.Sequential:
    """Layers of an MLP *after* its first linear layer.

    The body receives the first layer's pre-activations (``hidden_dims[0]`` wide)
    and applies ReLU, optional dropout, then ``Linear`` + ReLU (+ dropout) for every
    further hidden width, and a final bias-free ``Linear`` to ``n_outputs`` (the
    model's output bias lives in the input layer's bias, see :class:`LassoNet`).
    """
    layers: list[nn.Module] = []
    dims = list(hidden_dims)
    for i, width in enumerate(dims):
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        if i + 1 < len(dims):
            layers.append(nn.Linear(width, dims[i + 1]))
        else:
            layers.append(nn.Linear(width, n_outputs, bias=False))
    return nn.Sequential(*layers)


class LassoNet(nn.Module):
    """LassoNet with an MLP body: ``f(x) = theta x + MLP(x)``.

    The skip layer and the body's first layer are one fused ``nn.Linear``-style
    weight ``input_weight`` of shape ``(n_outputs + hidden_dims[0], n_features)``:
    rows ``[:n_outputs]`` are ``theta``, rows ``[n_outputs:]`` are ``W0``. Its bias
    ``input_bias`` likewise holds the model's output bias (first ``n_outputs``
    entries) and the first hidden layer's bias. One matmul serves both layers.

    Parameters
    ----------
    n_features : int
        Number of inputs ``d``.
    n_outputs : int
        Number of outputs ``K`` (classes for a classifier, targets for a regressor).
    hidden_dims : sequence of int
        Widths of the body's hidden layers; ``()`` gives a linear model (the
        lasso / group lasso).
    dropout : float or None
        Dropout after every hidden activation.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_dims: Sequence[int] = (100,),
        dropout: float | None = None,
    ):
        super().__init__()
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        self.hidden_dims = tuple(int(h) for h in hidden_dims)
        self.dropout = dropout
        h0 = self.hidden_dims[0] if self.hidden_dims else 0
        self.n_hidden0 = h0
        # Initialise each block as nn.Linear would for its own shape.
        skip = nn.Linear(self.n_features, self.n_outputs)
        weights, biases = [skip.weight.data], [torch.zeros(self.n_outputs)]
        if h0:
            first = nn.Linear(self.n_features, h0)
            weights.append(first.weight.data)
            biases.append(first.bias.data)
        self.input_weight = nn.Parameter(torch.cat(weights, dim=0).clone())
        self.input_bias = nn.Parameter(torch.cat(biases).clone())
        self.body = mlp_body(self.hidden_dims, self.n_outputs, dropout) if h0 else None

    @property
    def theta(self) -> torch.Tensor:
        """Skip-layer weights, a view of shape (n_outputs, n_features)."""
        return self.input_weight[: self.n_outputs]

    @property
    def W0(self) -> torch.Tensor:
        """First-layer weights, a view of shape (hidden_dims[0], n_features)."""
        return self.input_weight[self.n_outputs :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.addmm(self.input_bias, x, self.input_weight.t())
        skip = z[:, : self.n_outputs]
        if self.body is None:
            return skip
        return skip + self.body(z[:, self.n_outputs :])


class PlainMLP(nn.Module):
    """A plain feed-forward network (no skip layer, no constraint), for retraining
    on selected features."""

    def __init__(self, n_features: int, n_outputs: int, hidden_dims: Sequence[int] = (100,),
                 dropout: float | None = None):
        super().__init__()
        dims = [int(n_features), *[int(h) for h in hidden_dims]]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(dims[-1], int(n_outputs)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
