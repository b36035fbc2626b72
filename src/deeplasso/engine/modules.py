"""The LassoNet module: a linear skip layer, a feature (input) layer and any body.

``f(x) = theta x + f_W(x)``. The skip layer ``theta`` (n_outputs x n_features, no
bias) and the body's first layer ``W0`` both read the raw inputs, so they are stored
as one fused weight ``input_weight`` of shape ``(n_outputs + H0, n_features)``; the
prox works on the two row blocks of that one tensor in place, whatever the body.

Two input layers share that layout:

- ``"dense"``: ``W0`` (H0 x d) is a fully connected layer, computed with the skip
  layer in one matmul; the body reads its ``H0`` pre-activations (the MLP).
- ``"pixel"``: for images ``(C, H, W)``; every pixel has its own small layer from
  its ``C`` channels to ``C0`` channels at the same position, so ``W0`` is only
  ``C0 x d`` and the body reads a ``(C0, H, W)`` map (a CNN). Column ``j`` of ``W0``
  is still everything the body reads from input ``j``, so the hier-prox is the same.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

__all__ = ["LassoNet", "MLPBody", "CNNBody", "mlp_body", "cnn_body", "PlainMLP"]


class MLPBody(nn.Sequential):
    """The layers of an MLP after its first linear layer (see :func:`mlp_body`)."""

    def __init__(self, hidden_dims: Sequence[int], n_outputs: int, dropout: float | None = None):
        layers: list[nn.Module] = []
        dims = [int(h) for h in hidden_dims]
        for i, width in enumerate(dims):
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            if i + 1 < len(dims):
                layers.append(nn.Linear(width, dims[i + 1]))
            else:
                layers.append(nn.Linear(width, n_outputs, bias=False))
        super().__init__(*layers)
        self.in_features = dims[0]
        self.dropout = dropout


def mlp_body(
    hidden_dims: Sequence[int], n_outputs: int, dropout: float | None = None
) -> MLPBody:
    """Layers of an MLP *after* its first linear layer.

    The body receives the first layer's pre-activations (``hidden_dims[0]`` wide)
    and applies ReLU, optional dropout, then ``Linear`` + ReLU (+ dropout) for every
    further hidden width, and a final bias-free ``Linear`` to ``n_outputs`` (the
    model's output bias lives in the input layer's bias, see :class:`LassoNet`).
    """
    if not len(hidden_dims):
        raise ValueError("hidden_dims is empty: an MLP body needs at least one hidden width.")
    return MLPBody(hidden_dims, n_outputs, dropout)


class CNNBody(nn.Module):
    """A small CNN reading its input as a feature map (see :func:`cnn_body`)."""

    def __init__(self, in_shape: Sequence[int], n_outputs: int, conv_channels: Sequence[int] = (16, 32),
                 pool: bool = True, dropout: float | None = None):
        super().__init__()
        c0, h, w = (int(s) for s in in_shape)
        self.in_shape = (c0, h, w)
        self.in_features = c0 * h * w
        self.dropout = dropout
        layers: list[nn.Module] = []
        prev = c0
        for ch in conv_channels:
            layers += [nn.Conv2d(prev, int(ch), 3, padding=1), nn.ReLU()]
            if pool and min(h, w) >= 2:
                # ceil mode keeps odd sizes' last row and column (7 -> 4, not 3)
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
                h, w = math.ceil(h / 2), math.ceil(w / 2)
            prev = int(ch)
        self.convs = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        # bias-free like the MLP body: the output bias is the skip layer's
        self.head = nn.Linear(prev, int(n_outputs), bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.relu(z).view(z.shape[0], *self.in_shape)
        x = self.convs(x).mean(dim=(2, 3))  # global average pooling
        return self.head(self.drop(x))


def cnn_body(
    image_shape: Sequence[int],
    n_outputs: int,
    conv_channels: Sequence[int] = (16, 32),
    *,
    pixel_channels: int = 8,
    pool: bool = True,
    dropout: float | None = None,
) -> CNNBody:
    """A CNN body for images of shape ``image_shape = (C, H, W)``.

    It reads the feature layer's pre-activations as a ``(pixel_channels, H, W)`` map
    and applies ReLU, then per entry of ``conv_channels`` a 3x3 convolution (padding
    1) + ReLU (+ 2x2 max pooling when ``pool``), global average pooling, optional
    dropout, and a bias-free ``Linear`` to ``n_outputs``. Its input width
    (``in_features``) is ``pixel_channels * H * W``; use it with
    ``LassoNet(..., body=..., input_layer="pixel", image_shape=image_shape)``.
    """
    if len(image_shape) != 3:
        raise ValueError(f"image_shape={tuple(image_shape)!r} is invalid: expected (channels, height, width).")
    _, h, w = (int(s) for s in image_shape)
    if not conv_channels:
        raise ValueError("conv_channels is empty: give at least one convolution width, e.g. (16, 32).")
    return CNNBody((int(pixel_channels), h, w), n_outputs, conv_channels, pool=pool, dropout=dropout)


class LassoNet(nn.Module):
    """LassoNet: ``f(x) = theta x + body(W0 x + b0)``.

    The skip layer and the body's first layer are one fused weight ``input_weight``
    of shape ``(n_outputs + H0, n_features)``: rows ``[:n_outputs]`` are ``theta``,
    rows ``[n_outputs:]`` are ``W0``. Its bias ``input_bias`` holds the model's output
    bias (first ``n_outputs`` entries), then the biases of the body's input units.

    Parameters
    ----------
    n_features : int
        Number of inputs ``d``.
    n_outputs : int
        Number of outputs ``K`` (classes for a classifier, targets for a regressor).
    hidden_dims : sequence of int
        Widths of the MLP body's hidden layers; ``()`` gives a linear model (the
        lasso / group lasso). Ignored when ``body`` is given.
    dropout : float or None
        Dropout after every hidden activation of the MLP body.
    body : nn.Module, optional
        Any module mapping ``(batch, body.in_features)`` to ``(batch, n_outputs)``,
        e.g. from :func:`mlp_body` or :func:`cnn_body`; it receives the input layer's
        pre-activations. Its last layer should be bias-free (``input_bias`` holds
        the output bias).
    input_layer : {"dense", "pixel"}
        ``"dense"``: ``W0`` is ``(body.in_features, d)``, a fully connected layer.
        ``"pixel"``: needs ``image_shape = (C, H, W)`` with ``C*H*W == n_features``;
        every pixel maps its ``C`` channels to ``C0 = body.in_features / (H*W)``
        channels at the same position, so ``W0`` is ``(C0, d)`` and the body receives
        a ``(C0, H, W)`` map flattened channel-major.
    image_shape : (C, H, W), optional
        Input image shape, features ordered channel-major as ``x.reshape(C, H, W)``.
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_dims: Sequence[int] = (100,),
        dropout: float | None = None,
        *,
        body: nn.Module | None = None,
        input_layer: str = "dense",
        image_shape: Sequence[int] | None = None,
    ):
        super().__init__()
        self.n_features = d = int(n_features)
        self.n_outputs = K = int(n_outputs)
        if input_layer not in ("dense", "pixel"):
            raise ValueError(f"input_layer={input_layer!r} is invalid: use 'dense' or 'pixel'.")
        self.input_layer = input_layer
        self.image_shape = None if image_shape is None else tuple(int(s) for s in image_shape)
        if body is None:
            if input_layer == "pixel":
                raise ValueError("input_layer='pixel' needs a body reading a feature map, e.g. body=cnn_body(...).")
            self.hidden_dims = tuple(int(h) for h in hidden_dims)
            self.dropout = dropout
            h0 = self.hidden_dims[0] if self.hidden_dims else 0
            n_units = h0
        else:
            if dropout:
                raise ValueError("dropout applies to the built-in MLP body; build it into your body instead.")
            n_units = getattr(body, "in_features", None)
            if not isinstance(n_units, int) or n_units < 1:
                raise ValueError("body needs an int attribute in_features (its input width), as the bodies "
                                 "from mlp_body and cnn_body have.")
            self.hidden_dims = None
            self.dropout = getattr(body, "dropout", None)
            h0 = n_units
            if input_layer == "pixel":
                shape = self.image_shape
                if shape is None or len(shape) != 3 or min(shape) < 1 or math.prod(shape) != d:
                    raise ValueError(f"input_layer='pixel' needs image_shape=(C, H, W) with C*H*W == "
                                     f"n_features={d}; got image_shape={image_shape!r}.")
                hw = shape[1] * shape[2]
                if n_units % hw:
                    raise ValueError(f"the body reads {n_units} units, not a multiple of H*W={hw}: build it with "
                                     f"cnn_body(image_shape={shape}, ...).")
                h0 = n_units // hw
        self.n_hidden0 = h0  # rows of W0: what the prox sees of the body per feature
        # Initialise each block as nn.Linear would for its own shape.
        skip = nn.Linear(d, K)
        weights, biases = [skip.weight.data], [torch.zeros(K)]
        if h0 and input_layer == "dense":
            first = nn.Linear(d, h0)
            weights.append(first.weight.data)
            biases.append(first.bias.data)
        elif h0:
            C = self.image_shape[0]
            bound = 1.0 / math.sqrt(C)  # each unit reads the C channels of one pixel
            weights.append(torch.empty(h0, d).uniform_(-bound, bound))
            biases.append(torch.empty(n_units).uniform_(-bound, bound))
        self.input_weight = nn.Parameter(torch.cat(weights, dim=0).clone())
        self.input_bias = nn.Parameter(torch.cat(biases).clone())
        if body is None and h0:
            # built after the input layer, so a seed gives the same MLP as before bodies were pluggable
            body = mlp_body(self.hidden_dims, K, dropout)
        self.body = body
        # the fast hand-written step knows the MLP only
        self.is_mlp = input_layer == "dense" and (body is None or (type(body) is MLPBody and not body.dropout))

    @property
    def theta(self) -> torch.Tensor:
        """Skip-layer weights, a view of shape (n_outputs, n_features)."""
        return self.input_weight[: self.n_outputs]

    @property
    def W0(self) -> torch.Tensor:
        """First-layer weights, a view of shape (n_hidden0, n_features)."""
        return self.input_weight[self.n_outputs :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        K = self.n_outputs
        if self.input_layer == "dense":
            z = torch.addmm(self.input_bias, x, self.input_weight.t())
            skip = z[:, :K]
            if self.body is None:
                return skip
            return skip + self.body(z[:, K:])
        skip = torch.addmm(self.input_bias[:K], x, self.theta.t())
        C, H, W = self.image_shape
        B = x.shape[0]
        w0 = self.W0.view(self.n_hidden0, C, H * W)
        if C == 1:
            h = x.reshape(B, 1, H * W) * w0.view(1, self.n_hidden0, H * W)
        else:
            h = torch.einsum("bcp,ocp->bop", x.reshape(B, C, H * W), w0)
        return skip + self.body(h.reshape(B, -1) + self.input_bias[K:])


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
