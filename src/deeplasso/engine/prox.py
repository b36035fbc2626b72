"""The hierarchical proximal operator of LassoNet (hier-prox), flat and grouped.

Pure tensor functions: no state, no ``nn.Module``. Everything is vectorised over
features (or groups); nothing loops in Python over them, so one call costs a sort
of the first layer's weights plus a few elementwise passes, on CPU or GPU.

The problem solved for each feature (column) ``j`` is::

    minimise   1/2 ||b - v||^2 + 1/2 ||w - u||^2 + lam * ||b||_2
    subject to ||w||_inf <= M * ||b||_2

with ``v = theta[:, j]`` (the skip layer's weights of feature ``j``, one per output)
and ``u = W[:, j]`` (the first layer's weights of feature ``j``, one per hidden
unit). For a fixed radius ``r = ||b||_2`` the best ``b`` is ``r * v / ||v||`` and the
best ``w`` clips ``u`` to ``[-M r, M r]``, so the problem is the one-dimensional convex
problem ``min_r>=0 phi(r)`` with::

    phi(r) = 1/2 (r - ||v||)^2 + lam r + 1/2 sum_i (|u_i| - M r)_+^2

``phi'`` is piecewise linear and strictly increasing. With ``a`` the entries of
``|u|`` sorted in decreasing order and ``S_m`` their partial sums, the number of
clipped entries is ``m = #{i : phi'(a_i / M) > 0}`` and then::

    r = max(0, ||v|| - lam + M S_m) / (1 + m M^2)

This is the hier-prox of Lemhadri et al. (2021), generalised to vector ``theta_j``
(several outputs) and to groups of features that share one norm; the count
formula for ``m`` needs no search and is exact under ties.

Where ``v = 0`` the direction of ``b`` is arbitrary; the operator then returns zero
for both ``b`` and ``w``, keeping such a feature out of the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Sequence

import numpy as np
import torch

from .native import native_prox

__all__ = ["hier_prox", "hier_prox_grouped", "hier_prox_fused_", "FeatureGroups", "make_groups"]


def _check_pair(theta: torch.Tensor, W: torch.Tensor, lam: float, M: float) -> None:
    if theta.ndim != 2 or W.ndim != 2:
        raise ValueError(
            "hier_prox expects 2-D weights laid out as nn.Linear weights: theta of shape "
            f"(n_outputs, n_features) and W of shape (n_hidden, n_features); got "
            f"theta {tuple(theta.shape)} and W {tuple(W.shape)}."
        )
    if theta.shape[1] != W.shape[1]:
        raise ValueError(
            f"theta has {theta.shape[1]} feature columns but W has {W.shape[1]}; both must "
            "have one column per input feature."
        )
    if not (float(lam) >= 0.0):
        raise ValueError(f"lam must be a number >= 0, got {lam!r}.")
    if not (0.0 <= float(M) < float("inf")):
        raise ValueError(f"M must be a finite number >= 0, got {M!r}.")


_TOPK = 16


def _count_clipped(a: torch.Tensor, vnorm: torch.Tensor, lam: float, M: float, M2: float):
    """From |u| sorted in decreasing order along dim 1 (all or the top k entries):
    the number m of clipped entries and the sum S_m of those entries."""
    S = torch.cumsum(a, dim=1)  # S_i, i = 1..k
    i = torch.arange(1, a.shape[1] + 1, dtype=a.dtype, device=a.device)
    # M * phi'(a_i / M) > 0, multiplied through by M so that M = 0 needs no case.
    crit = a * (1.0 + i * M2) - M2 * S - (M * (vnorm - lam)).unsqueeze(1)
    m = (crit > 0).sum(dim=1)
    S_m = torch.cat([torch.zeros_like(S[:, :1]), S], dim=1).gather(1, m.unsqueeze(1)).squeeze(1)
    return m, S_m


def _prox_columns(
    v: torch.Tensor, u: torch.Tensor, lam: float, M: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hier-prox on columns: ``v`` is (p, G), ``u`` is (q, G); one problem per column."""
    dtype = v.dtype
    vnorm = torch.linalg.vector_norm(v, dim=0)  # (G,)
    absu = u.abs()
    q = u.shape[0]
    if q == 0:
        r = torch.clamp(vnorm - lam, min=0.0)
    else:
        M2 = M * M
        # Only the entries that end up clipped matter, and they are the largest ones;
        # usually few. So look at the top ``k`` first: crit_i decreases with i, so a
        # count below ``k`` is already exact; the columns that reach ``k`` are solved
        # again over all their entries (on CUDA: all entries at once, no host sync).
        k = q if (u.is_cuda or q <= _TOPK) else _TOPK
        ut = absu.t().contiguous()
        a = torch.topk(ut, k, dim=1, sorted=True).values if k < q else \
            torch.sort(ut, dim=1, descending=True).values  # (G, k)
        m, S_m = _count_clipped(a, vnorm, lam, M, M2)
        if k < q:
            full = torch.nonzero(m == k).squeeze(1)
            if full.numel():
                a_full = torch.sort(ut[full], dim=1, descending=True).values
                m_full, S_full = _count_clipped(a_full, vnorm[full], lam, M, M2)
                m[full] = m_full
                S_m[full] = S_full
        r = torch.clamp(vnorm - lam + M * S_m, min=0.0) / (1.0 + m.to(dtype) * M2)
    positive = vnorm > 0
    r = torch.where(positive, r, torch.zeros_like(r))
    scale = torch.where(positive, r / torch.where(positive, vnorm, torch.ones_like(vnorm)), r)
    b = v * scale
    w = torch.sign(u) * torch.minimum(absu, M * r)
    return b, w


def hier_prox(
    theta: torch.Tensor, W: torch.Tensor, lam: float, M: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hierarchical proximal operator of LassoNet, one problem per input feature.

    Parameters
    ----------
    theta : torch.Tensor of shape (n_outputs, n_features)
        Weights of the linear skip layer, laid out as ``nn.Linear.weight``.
    W : torch.Tensor of shape (n_hidden, n_features)
        Weights of the body's first (input) layer, laid out as ``nn.Linear.weight``.
    lam : float
        Threshold (>= 0). In proximal gradient descent this is step size times the
        penalty ``lambda``. ``lam = 0`` projects onto the constraint set.
    M : float
        Hierarchy coefficient (finite, >= 0): ``||W_j||_inf <= M ||theta_j||_2``.

    Returns
    -------
    theta_new, W_new : torch.Tensor
        For every column ``j`` the exact global minimiser of
        ``1/2||b - theta_j||^2 + 1/2||w - W_j||^2 + lam ||b||_2`` subject to
        ``||w||_inf <= M ||b||_2``. Columns with ``theta_j = 0`` come back zero.
        Same dtype and device as the inputs; the inputs are not modified.
    """
    _check_pair(theta, W, lam, M)
    return _prox_columns(theta, W, float(lam), float(M))


@dataclass(frozen=True)
class FeatureGroups:
    """A partition of the features into groups that share one norm.

    Built by :func:`make_groups`. ``index`` is an (size, n_groups) tensor of feature
    indices, padded with ``n_features`` (a column of zeros appended on use); every
    feature belongs to exactly one group (features not named form their own group).
    """

    index: torch.Tensor
    n_features: int
    sizes: torch.Tensor
    group_of: torch.Tensor  # (n_features,) group id of every feature

    @property
    def n_groups(self) -> int:
        return int(self.index.shape[1])

    def to(self, device: torch.device | str) -> "FeatureGroups":
        return FeatureGroups(self.index.to(device), self.n_features, self.sizes.to(device),
                             self.group_of.to(device))

    def stride(self) -> int | None:
        """``s`` when the groups are exactly ``{g + c G : c < s}`` for ``g < G`` with
        ``n_features = s G`` (the channels of each pixel of a channel-first image), else
        None. The fused weight's ``(K + H) x s G`` block is then, read row-major, a
        ``(K + H) s x G`` matrix whose columns are the groups: the flat prox on it is the
        grouped prox, which is how the C epoch runs such groups."""
        size, G = self.index.shape
        if size < 2 or size * G != self.n_features:
            return None
        members = torch.sort(self.index.cpu(), dim=0).values
        base = members[0]
        want = base.unsqueeze(0) + G * torch.arange(size).unsqueeze(1)
        if not torch.equal(members, want) or not torch.equal(torch.sort(base).values, torch.arange(G)):
            return None
        return int(size)


def make_groups(groups: Sequence[Sequence[int]] | None, n_features: int) -> FeatureGroups:
    """Validate a list of feature groups and build the padded index used by the prox.

    Parameters
    ----------
    groups : sequence of sequences of int, or None
        Disjoint groups of feature indices in ``[0, n_features)``. Features that no
        group names become groups of their own. ``None`` gives one group per feature.
    n_features : int
        Number of input features.
    """
    n_features = int(n_features)
    owner = np.full(n_features, -1, dtype=np.int64)
    members: list[np.ndarray] = []
    for g, group in enumerate(groups or []):
        try:
            items = np.asarray(list(group), dtype=object).ravel()
        except TypeError as exc:
            raise ValueError(f"group {g} must be a sequence of integer feature indices: {exc}") from None
        # np.int64 would truncate 0.7 to 0 and read True as 1: only integers are indices
        bad = [v for v in items if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, np.integer))]
        if bad:
            raise ValueError(f"group {g} must hold integer feature indices; it holds {bad[:3]!r}. Give column "
                             "numbers such as [0, 1, 2] (int, not float or bool).")
        arr = items.astype(np.int64)
        if arr.size == 0:
            raise ValueError(f"group {g} is empty; every group needs at least one feature.")
        if arr.min() < 0 or arr.max() >= n_features:
            raise ValueError(
                f"group {g} names feature indices outside [0, {n_features}): "
                f"{arr[(arr < 0) | (arr >= n_features)][:5].tolist()}."
            )
        if np.unique(arr).size != arr.size:
            raise ValueError(f"group {g} names a feature more than once.")
        clash = owner[arr] >= 0
        if clash.any():
            j = int(arr[clash][0])
            raise ValueError(
                f"feature {j} is in group {int(owner[j])} and in group {g}; groups must be disjoint."
            )
        owner[arr] = g
        members.append(arr)
    singles = np.flatnonzero(owner < 0)
    size = max([m.size for m in members], default=1)
    n_groups = len(members) + singles.size
    index = np.full((size, n_groups), n_features, dtype=np.int64)
    for g, arr in enumerate(members):
        index[: arr.size, g] = arr
    index[0, len(members):] = singles
    sizes = np.concatenate([[m.size for m in members], np.ones(singles.size, dtype=np.int64)])
    owner[singles] = np.arange(len(members), n_groups)
    return FeatureGroups(torch.from_numpy(index), n_features, torch.from_numpy(sizes.astype(np.int64)),
                         torch.from_numpy(owner))


def hier_prox_grouped(
    theta: torch.Tensor, W: torch.Tensor, lam: float, M: float, groups: FeatureGroups
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grouped hier-prox: the features of a group share one norm.

    For each group ``g`` with feature set ``G`` it solves, with ``b`` and ``w`` the
    blocks ``theta[:, G]`` and ``W[:, G]`` flattened::

        minimise 1/2||b - theta_G||^2 + 1/2||w - W_G||^2 + lam ||b||_2
        subject to ||w||_inf <= M ||b||_2

    so a group (e.g. the three colour channels of a pixel) enters or leaves the
    model as a whole. Groups are padded with zero columns, which leave the solution
    unchanged, so there is no Python loop over groups.

    Parameters
    ----------
    theta, W, lam, M
        As in :func:`hier_prox`.
    groups : FeatureGroups
        From :func:`make_groups`.
    """
    _check_pair(theta, W, lam, M)
    d = theta.shape[1]
    if groups.n_features != d:
        raise ValueError(f"groups were built for {groups.n_features} features, the weights have {d}.")
    idx = groups.index.to(theta.device)
    size, n_groups = idx.shape
    zero_t = theta.new_zeros(theta.shape[0], 1)
    zero_w = W.new_zeros(W.shape[0], 1)
    tp = torch.cat([theta, zero_t], dim=1)[:, idx]  # (K, size, G)
    wp = torch.cat([W, zero_w], dim=1)[:, idx]  # (H, size, G)
    K, H = theta.shape[0], W.shape[0]  # explicit sizes: H = 0 (no hidden layer) is an empty block
    b, w = _prox_columns(
        tp.reshape(K * size, n_groups), wp.reshape(H * size, n_groups), float(lam), float(M)
    )
    flat = idx.reshape(-1)
    theta_new = theta.new_zeros(K, d + 1)
    W_new = W.new_zeros(H, d + 1)
    theta_new[:, flat] = b.reshape(K, size * n_groups)
    W_new[:, flat] = w.reshape(H, size * n_groups)
    return theta_new[:, :d], W_new[:, :d]


@torch.no_grad()
def hier_prox_fused_(weight: torch.Tensor, K: int, lam: float, M: float, native: bool = True) -> None:
    """In-place hier-prox on a fused weight (rows ``[:K]`` theta, ``[K:]`` W0).

    Features whose constraint stays inactive after the shrink
    (``||W0_j||_inf <= M (||theta_j|| - lam)``) have the closed form
    ``theta_j *= 1 - lam / ||theta_j||`` with ``W0_j`` unchanged; only the others go
    through the sort-based solution. On CUDA the full solution runs (no host sync).
    On CPU the C kernel of :mod:`deeplasso.engine.native` does all of it in one call when it
    could be built (``native=False`` forces the PyTorch version).
    """
    if native and native_prox(weight, K, lam, M):
        return
    v = weight[:K]
    u = weight[K:]
    hard = None
    if not weight.is_cuda and u.shape[0]:
        vnorm = torch.linalg.vector_norm(v, dim=0)
        shrunk = vnorm - lam
        hard = torch.nonzero(~(u.abs().amax(0) <= M * shrunk)).squeeze(1)  # NaN counts as hard
    if hard is None or hard.numel() == weight.shape[1]:
        b, w = _prox_columns(v, u, lam, M)
        v.copy_(b)
        u.copy_(w)
        return
    n_hard = hard.numel()
    if n_hard:
        b, w = _prox_columns(v[:, hard], u[:, hard], lam, M)  # from the values before the shrink
    if lam > 0:
        scale = torch.where(vnorm > 0, shrunk / torch.where(vnorm > 0, vnorm, torch.ones_like(vnorm)), vnorm)
        v.mul_(scale.clamp_(min=0.0))
    if n_hard:
        v[:, hard] = b
        u[:, hard] = w
