"""Seeded stratified index splits: the one source of randomness of every split.

:func:`stratified_indices` cuts ``range(len(y))`` into parts of given
fractions, class by class; :func:`as_generator` turns the ``random_state``
argument every split takes into a :class:`numpy.random.Generator`.  Both work
on labels alone, so the image splits (:mod:`.splits`), the user arrays
(:mod:`.array_splits`) and the ``digits`` test part (:mod:`.dataset`) share
them.

Allocation rule of :func:`stratified_indices`: class ``c`` with ``n_c`` items
puts ``floor`` or ``ceil`` of ``fraction * n_c`` items into each part, and
each part gets ``floor`` or ``ceil`` of ``fraction * n`` items in all (a
controlled rounding; leftover units go to the largest fractional parts
first).  Which items of a class go where is random.  Within every part the
items keep their original order (indices are sorted).
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator", "stratified_indices"]


def as_generator(random_state=0) -> np.random.Generator:
    """Turn ``random_state`` (int, Generator or None) into a Generator.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        Seed, generator (returned as is, so it is consumed) or ``None``.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__}")


def _round_allocation(sizes: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Integer counts[c, p] close to sizes[c] * f[p].

    Row sums equal ``sizes`` exactly; every entry and every column sum is the
    floor or the ceiling of its exact value (such a controlled rounding always
    exists).  Leftover units go first to the largest fractional parts; an
    augmenting-path search (a tiny max-flow) handles what the greedy pass
    cannot: first every part is filled up to the floor of its share, then up
    to the ceiling.
    """
    exact = sizes[:, None] * f[None, :]
    counts = np.floor(exact + 1e-9).astype(np.int64)
    frac = exact - counts
    can = frac > 1e-9
    need = sizes - counts.sum(1)
    share = np.round(frac.sum(0), 6)
    n_cls, k = frac.shape
    up = np.zeros((n_cls, k), dtype=bool)
    load = np.zeros(k, dtype=np.int64)
    order = np.lexsort((np.arange(frac.size), -frac.ravel()))

    def augment(c0, cap):
        prev = {("c", c0): None}
        queue, end = [("c", c0)], None
        while queue and end is None:
            kind, i = queue.pop(0)
            if kind == "c":
                for p in range(k):
                    if can[i, p] and not up[i, p] and ("p", p) not in prev:
                        prev[("p", p)] = (kind, i)
                        if load[p] < cap[p]:
                            end = ("p", p)
                            break
                        queue.append(("p", p))
            else:
                for c in np.nonzero(up[:, i])[0]:
                    if ("c", c) not in prev:
                        prev[("c", c)] = (kind, i)
                        queue.append(("c", c))
        if end is None:
            return False
        load[end[1]] += 1
        node = end
        while prev[node] is not None:
            a = prev[node]
            if node[0] == "p":
                up[a[1], node[1]] = True
            else:
                up[node[1], a[1]] = False
            node = a
        need[c0] -= 1
        return True

    for cap in (np.floor(share).astype(np.int64), np.ceil(share).astype(np.int64)):
        for flat in order:  # greedy: largest fractional parts first
            c, p = divmod(int(flat), k)
            if can[c, p] and not up[c, p] and need[c] > 0 and load[p] < cap[p]:
                up[c, p] = True
                need[c] -= 1
                load[p] += 1
        for c in range(n_cls):
            while need[c] > 0 and augment(c, cap):
                pass
    if need.any():  # pragma: no cover - impossible by the rounding theorem
        raise RuntimeError("stratified allocation failed")
    return counts + up


def stratified_indices(y, fractions, random_state=0) -> list:
    """Split ``range(len(y))`` into stratified random parts.

    Parameters
    ----------
    y : array_like of int
        Labels.
    fractions : sequence of float
        Non-negative part sizes (normalised to sum 1), e.g. ``(0.8, 0.1, 0.1)``.
    random_state : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    list of numpy.ndarray
        One sorted int64 index array per part; together they are a partition.
        Each class contributes ``floor`` or ``ceil`` of ``fraction * n_class``
        images to each part, and each part's size is ``floor`` or ``ceil`` of
        ``fraction * n``.
    """
    y = np.asarray(y)
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 1 or f.size == 0 or np.any(f < 0) or not np.isfinite(f).all() or f.sum() <= 0:
        raise ValueError(f"fractions must be non-negative numbers with a positive sum, got {fractions!r}")
    rng = as_generator(random_state)
    labels, inverse = np.unique(y, return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(labels))
    counts = _round_allocation(sizes, f / f.sum())
    k = len(f)
    parts = [[] for _ in range(k)]
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for c in range(len(labels)):
        members = rng.permutation(order[starts[c]:starts[c + 1]])
        cut = np.concatenate([[0], np.cumsum(counts[c])])
        for p in range(k):
            parts[p].append(members[cut[p]:cut[p + 1]])
    return [np.sort(np.concatenate(p)).astype(np.int64) if p else np.empty(0, np.int64) for p in parts]
