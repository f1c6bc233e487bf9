"""Compiled greedy region merging (numba): one pair at a time, cheapest added error first.

The kernel behind ``merge.merge_levels``. Regions are rows of a statistics matrix (see
``merge.Layout``); a union is the sum of two rows and its error comes from ``row_error``. Pair costs
live in a binary heap of arrays and are refreshed lazily: a popped pair is re-costed and put back when
it is no longer the cheapest, and all pairs of a region are re-costed only when it has grown by REFRESH_GROWTH since
they last were. Adjacency is kept as linked lists of half-edges (one per side of each initial pair)
whose far end is resolved through the union-find forest, so a merge concatenates two lists instead
of copying sets; a list is compacted (dead and repeated neighbours dropped) whenever it is walked.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# A region's pair costs are all recomputed when it has grown this much since they last were.
REFRESH_GROWTH = 1.25


@njit(cache=True, nogil=True)
def row_error(row: np.ndarray, channels: int, features: int, ridge: float) -> float:
    """Least-squares error of one statistics ``row`` (width,) under its best colour model: the mean
    colour (``features`` = 0) or the rank-1 (x, y) gradient (``features`` = 2); see ``merge``."""
    n = row[0]
    if n <= 0:
        return 0.0
    total = 0.0
    for k in range(channels):
        total += row[1 + k] * row[1 + k]
    flat = row[1 + channels] - total / n
    if features == 0 or n < 3:
        return flat if flat > 0 else 0.0
    at = 2 + channels
    fx, fy, fxx, fxy, fyy = row[at], row[at + 1], row[at + 2], row[at + 3], row[at + 5]
    sxx = fxx - fx * fx / n + ridge * n
    sxy = fxy - fx * fy / n
    syy = fyy - fy * fy / n + ridge * n
    det = sxx * syy - sxy * sxy
    if det <= 0:
        return flat if flat > 0 else 0.0
    mx, my = fx / n, fy / n
    xc, yc = at + 6, at + 6 + channels
    b11 = b12 = b22 = 0.0
    for k in range(channels):
        x = row[xc + k] - mx * row[1 + k]
        y = row[yc + k] - my * row[1 + k]
        b11 += x * x
        b12 += x * y
        b22 += y * y
    i11, i12, i22 = syy / det, -sxy / det, sxx / det
    m11, m12 = i11 * b11 + i12 * b12, i11 * b12 + i12 * b22
    m21, m22 = i12 * b11 + i22 * b12, i12 * b12 + i22 * b22
    trace, determinant = m11 + m22, m11 * m22 - m12 * m21
    disc = trace * trace - 4 * determinant
    top = 0.5 * (trace + math.sqrt(disc if disc > 0 else 0.0))
    left = flat - (top if top > 0 else 0.0)
    return left if left > 0 else 0.0


@njit(cache=True, nogil=True)
def _pair_cost(rows, errors, a, b, scratch, channels, features, ridge):
    for k in range(rows.shape[1]):
        scratch[k] = rows[a, k] + rows[b, k]
    return row_error(scratch, channels, features, ridge) - errors[a] - errors[b]


@njit(cache=True, nogil=True)
def _find(parent, r):
    root = r
    while parent[root] != root:
        root = parent[root]
    while parent[r] != root:  # path compression
        up = parent[r]
        parent[r] = root
        r = up
    return root


@njit(cache=True, nogil=True)
def _compact(region, exclude, head, tail, nxt, other, parent, stamp, tick, out):
    """Walk ``region``'s half-edge list, dropping edges to ``region``, to ``exclude`` and repeats;
    point the kept ones at their current roots, stamp those roots with ``tick`` and write them to
    ``out``. Returns how many were written."""
    count = 0
    previous = -1
    h = head[region]
    while h >= 0:
        c = _find(parent, other[h])
        following = nxt[h]
        if c == region or c == exclude or stamp[c] == tick:
            if previous < 0:
                head[region] = following
            else:
                nxt[previous] = following
        else:
            other[h] = c
            stamp[c] = tick
            out[count] = c
            count += 1
            previous = h
        h = following
    tail[region] = previous
    return count


@njit(cache=True, nogil=True, inline="always")
def _less(c, a0, a1, a2, d, b0, b1, b2):
    """Heap order of entries (c, a0, a1, a2) and (d, b0, b1, b2): by cost, then the pair and
    versions (as tuples compare)."""
    if c != d:
        return c < d
    if a0 != b0:
        return a0 < b0
    if a1 != b1:
        return a1 < b1
    return a2 < b2


@njit(cache=True, nogil=True, inline="always")
def _before(cost, ends, i, j):
    """Heap order of entries i and j (see ``_less``)."""
    return _less(cost[i], ends[i, 0], ends[i, 1], ends[i, 2], cost[j], ends[j, 0], ends[j, 1], ends[j, 2])


@njit(cache=True, nogil=True, inline="always")
def _move(cost, ends, to, at):
    """Copy entry ``at`` over entry ``to``."""
    cost[to], ends[to, 0], ends[to, 1], ends[to, 2] = cost[at], ends[at, 0], ends[at, 1], ends[at, 2]


@njit(cache=True, nogil=True)
def _rise(cost, ends, i, c, a0, a1, a2):
    """Put the entry (c, a0, a1, a2) in the hole at ``i``, moving the hole up past the entries it
    comes before."""
    while i > 0:
        up = (i - 1) // 2
        if not _less(c, a0, a1, a2, cost[up], ends[up, 0], ends[up, 1], ends[up, 2]):
            break
        _move(cost, ends, i, up)
        i = up
    cost[i], ends[i, 0], ends[i, 1], ends[i, 2] = c, a0, a1, a2


@njit(cache=True, nogil=True)
def _push(cost, ends, size, value, a, b, va, vb):
    """Add (value, a, b, va, vb) to the heap of ``size`` entries (arrays grown when full; the
    versions, under 2**8, as va << 16 | vb); returns the arrays and the new size."""
    if size == len(cost):
        room = size + size // 4 + 16  # by a quarter: old and new arrays are both alive while copying
        grown_cost, grown_ends = np.empty(room), np.empty((room, 3), np.int32)
        grown_cost[:size] = cost[:size]
        grown_ends[:size] = ends[:size]
        cost, ends = grown_cost, grown_ends
    _rise(cost, ends, size, value, np.int32(a), np.int32(b), (np.int32(va) << 16) | np.int32(vb))
    return cost, ends, size + 1


@njit(cache=True, nogil=True)
def _pop(cost, ends, size):
    """Remove the first entry of the heap (moved to index ``size - 1``); returns the new size.
    Bottom-up: the hole at the top goes down to a leaf along the lesser children (one comparison a
    level), then the last entry rises from there (most stay near the bottom). Any valid heap pops
    the same sequence (no two entries tie), so the merges do not depend on how it is laid out."""
    size -= 1
    top, t0, t1, t2 = cost[0], ends[0, 0], ends[0, 1], ends[0, 2]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and _before(cost, ends, child + 1, child):
            child += 1
        _move(cost, ends, i, child)
        i = child
    _rise(cost, ends, i, cost[size], ends[size, 0], ends[size, 1], ends[size, 2])
    cost[size], ends[size, 0], ends[size, 1], ends[size, 2] = top, t0, t1, t2
    return size


@njit(cache=True, nogil=True)
def half_edges(first: np.ndarray, second: np.ndarray, count: int):
    """The adjacency lists of ``count`` regions with unique adjacent pairs (first, second) (E,):
    (other (2E,), next (2E,), head (R,), tail (R,), degree (R,)), all int32 (regions and pairs <
    2**31): half-edge h points at region other[h] and is followed by next[h] (-1: the last) in its
    region's list from head[r] to tail[r] (-1: none); each region's half-edges side by side (its
    list walks memory in order), in pair order."""
    pairs = len(first)
    other = np.empty(2 * pairs, np.int32)
    nxt = np.full(2 * pairs, -1, np.int32)
    head = np.full(count, -1, np.int32)
    tail = np.full(count, -1, np.int32)
    degree = np.zeros(count, np.int32)
    for i in range(pairs):
        degree[first[i]] += 1
        degree[second[i]] += 1
    at = 0
    for r in range(count):
        if degree[r] > 0:
            head[r] = tail[r] = at
            at += degree[r]
    for i in range(pairs):
        a, b = first[i], second[i]
        for owner, far in ((a, b), (b, a)):
            h = tail[owner]
            other[h] = far
            if h + 1 < head[owner] + degree[owner]:
                nxt[h] = h + 1
                tail[owner] = h + 1
    return other, nxt, head, tail, degree


@njit(cache=True, nogil=True)
def greedy_merge(stats: np.ndarray, other: np.ndarray, nxt: np.ndarray, head: np.ndarray, tail: np.ndarray,
                 degree: np.ndarray, channels: int, features: int, ridge: float, stop: int):
    """Merge R regions with ``stats`` (R, width) and the adjacency lists of ``half_edges`` (which
    the merge rewrites) greedily down to ``stop`` regions (or until no adjacent pair is left).
    Returns the merges in order: (kept (M,) int32, merged (M,) int32, cost (M,) float64, error):
    merge i joined region merged[i] into kept[i], adding cost[i] to the squared error, which is
    ``error`` before any merge (so the first R - K merges give K regions: ``merge.merge_levels``).
    ``stats`` is the working copy: its rows are overwritten with the merged regions' sums (no
    second copy of R x width doubles)."""
    count = stats.shape[0]
    rows = stats
    errors = np.empty(count)
    for r in range(count):
        errors[r] = row_error(rows[r], channels, features, ridge)
    start_error = errors.sum()
    pairs = len(other) // 2
    scratch = np.empty(rows.shape[1])
    # The heap of pair costs: cost (S,) and (a, b, version of a << 16 | version of b) (S, 3), a
    # binary heap, with room for a quarter more entries than pairs: at 256-512 px it never grows (a
    # grown heap and its old copy are both alive while it does: 7 bytes a pixel at 256 px). A
    # region's version counts how often it grew by REFRESH_GROWTH: under 2**8 for under 2**31 pixels.
    # Its first entries are every pair (a < b) once: the order of the pops does not depend on the
    # order they go in (no two entries tie).
    cost = np.empty(pairs + pairs // 4 + 16)
    ends = np.zeros((len(cost), 3), np.int32)
    size = 0
    for a in range(count):
        h = head[a]
        while h >= 0:
            b = other[h]
            if a < b:
                cost[size], ends[size, 0], ends[size, 1] = _pair_cost(rows, errors, a, b, scratch, channels, features,
                                                                      ridge), a, b
                size += 1
            h = nxt[h]
    for i in range(size):  # in heap order by insertion (most entries rise a level or two)
        _rise(cost, ends, i, cost[i], ends[i, 0], ends[i, 1], ends[i, 2])
    version = np.zeros(count, np.uint8)  # under 2**8 (see the heap above)
    costed_size = rows[:, 0].astype(np.int32)  # pixel counts: whole numbers under 2**31
    parent = np.arange(count).astype(np.int32)
    stamp_a = np.full(count, -1, np.int32)
    stamp_b = np.full(count, -1, np.int32)
    around_a = np.empty(count, np.int32)
    gained = np.empty(count, np.int32)
    remaining = count
    tick = 0
    kept_of = np.empty(count, np.int32)
    merged_of = np.empty(count, np.int32)
    cost_of = np.empty(count)
    while remaining > stop and size > 0:
        size = _pop(cost, ends, size)
        a, b, va, vb = np.int64(ends[size, 0]), np.int64(ends[size, 1]), ends[size, 2] >> 16, ends[size, 2] & 0xFFFF
        if parent[a] != a or parent[b] != b or version[a] != va or version[b] != vb:  # merged, or re-costed since
            continue
        now = _pair_cost(rows, errors, a, b, scratch, channels, features, ridge)
        if size > 0 and now > cost[0] + 1e-12 * abs(now):
            cost, ends, size = _push(cost, ends, size, now, a, b, va, vb)
            continue
        if degree[a] < degree[b]:
            a, b = b, a
        tick += 1
        kept = _compact(a, b, head, tail, nxt, other, parent, stamp_a, tick, around_a)
        n_gained = 0
        h = head[b]
        while h >= 0:  # b's neighbours: common ones lose b, the others are gained by a
            c = _find(parent, other[h])
            if c != a and c != b and stamp_b[c] != tick:
                stamp_b[c] = tick
                if stamp_a[c] == tick:
                    degree[c] -= 1
                else:
                    gained[n_gained] = c
                    n_gained += 1
            h = nxt[h]
        if head[b] >= 0:  # a's list takes b's half-edges (stale ones are dropped on a later walk)
            if tail[a] < 0:
                head[a] = head[b]
            else:
                nxt[tail[a]] = head[b]
            tail[a] = tail[b]
        head[b] = tail[b] = -1
        degree[a] = kept + n_gained
        degree[b] = 0
        for k in range(rows.shape[1]):
            rows[a, k] += rows[b, k]
        errors[a] = row_error(rows[a], channels, features, ridge)
        parent[b] = a
        kept_of[count - remaining], merged_of[count - remaining], cost_of[count - remaining] = a, b, now
        remaining -= 1
        if rows[a, 0] > REFRESH_GROWTH * costed_size[a]:
            version[a] += 1
            costed_size[a] = rows[a, 0]
            for k in range(kept):
                gained[n_gained + k] = around_a[k]
            n_gained += kept
        for k in range(n_gained):
            c = gained[k]
            lo, hi = (a, c) if a < c else (c, a)
            cost, ends, size = _push(cost, ends, size, _pair_cost(rows, errors, a, c, scratch, channels, features, ridge),
                                     lo, hi, version[lo], version[hi])
    done = count - remaining
    return kept_of[:done], merged_of[:done], cost_of[:done], start_error  # views: no copies
