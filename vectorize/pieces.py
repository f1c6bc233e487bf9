"""Packed polylines cut into the pieces ``fit`` fits: corners, smoothing, and each piece's end
tangents, compiled (numba) in passes over each polyline's points (numpy only takes the arccos of the
corner test's cosines).

Polylines come packed as in ``fit``: ``points`` (N, 2) float64 pixels, ``offsets`` (C+1,) int64,
``closed`` (C,) bool. Along a polyline, the point ``k`` steps from local index ``i`` wraps on a
closed polyline and is clamped to the ends of an open one (see ``_shift``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

CORNER_WINDOW = 4        # points each side used to measure the turning angle
RUN = 3                  # identical steps each side that make a turn between them a corner
CORNER_ANGLE = 50.0      # degrees of turn over the window that make a corner


def cut_pieces(points: np.ndarray, offsets: np.ndarray, closed: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Corners, smoothing and pieces of packed polylines (see module docstring).

    Corners are kept exactly, by two rules (``_step_corners``; turning angles over CORNER_WINDOW
    points above CORNER_ANGLE that are the first maximum within the window and have no step corner
    within it); the ends of open polylines are kept too, and a corner-free closed polyline is cut at
    its first point and the point half way round. Every other point gets one [1, 2, 1] / 4 smoothing
    pass. Pieces run from one kept point to the next (a closed polyline's last wraps to its first).

    Returns ``smooth`` (N, 2), the pieces' global point indices (M,) and offsets (P+1,), each
    piece's polyline (P,) and unwrapped local start (P,) (sort key along the polyline), and its unit
    end tangents ``left`` (P, 2) leaving its first point and ``right`` (P, 2) arriving backwards at
    its last (towards the mean of the 3 points next to the end at a corner or an open end, else
    centred on the end).
    """
    points = np.ascontiguousarray(points, np.float64)
    offsets, closed = np.asarray(offsets, np.int64), np.asarray(closed, np.bool_)
    by_steps, cosine = _steps_and_cosines(points, offsets, closed)
    # numpy's arccos, as the angle was always measured (a compiled acos may round differently)
    angle = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return _cut(points, offsets, closed, by_steps, angle)


@njit(cache=True, nogil=True, inline="always")
def _shift(i, k, n, closed):
    """Local index ``k`` steps from local index ``i`` on a polyline of ``n`` points."""
    if closed:
        return (i + k) % n
    return min(max(i + k, 0), n - 1)


@njit(cache=True, nogil=True, inline="always")
def _inside(i, k, n, closed):
    """Whether the point ``k`` steps from ``i`` exists without clamping."""
    return closed or (i + k >= 0 and i + k < n)


@njit(cache=True, nogil=True)
def unit2(x: float, y: float, fx: float, fy: float) -> tuple[float, float]:
    """(x, y) normalised; a vector of zero length uses the fallback (fx, fy), then +x."""
    if math.sqrt(x * x + y * y) <= 1e-9:
        x, y = fx, fy
    if math.sqrt(x * x + y * y) <= 1e-9:
        x, y = 1.0, 0.0
    norm = max(math.sqrt(x * x + y * y), 1e-12)
    return x / norm, y / norm


@njit(cache=True, nogil=True)
def _steps_and_cosines(points, offsets, closed):
    """(N,) bool step corners (``_step_corners``) and (N,) float64 cosines of the turn between
    ``p[i] - p[i - w]`` and ``p[i + w] - p[i]`` (w = CORNER_WINDOW)."""
    total = len(points)
    by_steps = np.zeros(total, np.bool_)
    cosine = np.empty(total)
    turn_local = np.empty(max(total, 1), np.int64)
    turn_sense = np.empty(max(total, 1))
    w = CORNER_WINDOW
    for c in range(len(offsets) - 1):
        base, n, loop = offsets[c], offsets[c + 1] - offsets[c], closed[c]
        for i in range(n):
            b, f = base + _shift(i, -w, n, loop), base + _shift(i, w, n, loop)
            ax, ay = points[base + i, 0] - points[b, 0], points[base + i, 1] - points[b, 1]
            bx, by = points[f, 0] - points[base + i, 0], points[f, 1] - points[base + i, 1]
            norms = math.sqrt(ax * ax + ay * ay) * math.sqrt(bx * bx + by * by)
            cosine[base + i] = (ax * bx + ay * by) / max(norms, 1e-12)
        turns = _step_turns(points, base, n, loop, turn_local, turn_sense)
        _step_corners(by_steps, base, n, loop, turn_local[:turns], turn_sense[:turns])
    return by_steps, cosine


@njit(cache=True, nogil=True)
def _step_turns(points, base, n, loop, turn_local, turn_sense):
    """Write the turns of one polyline (between non-zero axis-aligned steps that differ) to
    ``turn_local`` (local index) and ``turn_sense`` (sign of the cross product); returns their count."""
    turns = 0
    for i in range(n):
        if not (_inside(i, -1, n, loop) and _inside(i, 1, n, loop)):
            continue
        previous = base + _shift(i, -1, n, loop)
        after_previous = base + _shift(_shift(i, -1, n, loop), 1, n, loop)
        ix, iy = points[after_previous, 0] - points[previous, 0], points[after_previous, 1] - points[previous, 1]
        following = base + _shift(i, 1, n, loop)
        ox, oy = points[following, 0] - points[base + i, 0], points[following, 1] - points[base + i, 1]
        moving = (abs(ix) + abs(iy) > 0) and (abs(ox) + abs(oy) > 0)
        # pixel-boundary steps only: a smooth curve's points each turn a little between one-point
        # runs the same way, which is no block's end
        axis_aligned = (ix == 0 or iy == 0) and (ox == 0 or oy == 0)
        if moving and axis_aligned and (ix != ox or iy != oy):
            cross = ix * oy - iy * ox
            turn_local[turns] = i
            turn_sense[turns] = 1.0 if cross > 0 else (-1.0 if cross < 0 else (0.0 if cross == 0 else cross))
            turns += 1
    return turns


@njit(cache=True, nogil=True)
def _step_corners(corner, base, n, loop, local, sense):
    """Mark in ``corner`` the turns (``local``, ``sense``, in order along one polyline) that are
    corners: both straight runs at least RUN steps long, or the two turns at the ends of a run
    shorter than RUN that turn the same way (the ends of thin lines, single pixels). Staircases turn
    alternately left and right, so they stay smooth."""
    m = len(local)
    for j in range(m):
        has_next = j + 1 < m or loop
        following = j + 1 if j + 1 < m else 0
        run_out = (local[following] - local[j]) % n if has_next else n - 1 - local[j]
        preceding = j - 1 if j > 0 else m - 1
        run_in = (local[j] - local[preceding]) % n if (j > 0 or loop) else local[j]
        if run_in >= RUN and run_out >= RUN:
            corner[base + local[j]] = True
        if has_next and run_out < RUN and sense[following] == sense[j] and following != j:
            corner[base + local[j]] = True
            corner[base + local[following]] = True


@njit(cache=True, nogil=True)
def _corners(by_steps, angle, offsets, closed):
    """(N,) bool corners: step corners, and angle corners (``angle`` (N,) degrees over the window,
    zero where the window does not fit) that are the first maximum within the window and have no
    step corner within it."""
    w = CORNER_WINDOW
    total = len(by_steps)
    masked = np.zeros(total)
    corner = by_steps.copy()
    for c in range(len(offsets) - 1):
        base, n, loop = offsets[c], offsets[c + 1] - offsets[c], closed[c]
        for i in range(n):
            if _inside(i, -w, n, loop) and _inside(i, w, n, loop) and n >= 2 * w + 1:
                masked[base + i] = angle[base + i]
        for i in range(n):
            a = masked[base + i]
            peak = a > CORNER_ANGLE
            near_step = by_steps[base + i]
            for k in range(1, w + 1):
                before = masked[base + _shift(i, -k, n, loop)] if _inside(i, -k, n, loop) else 0.0
                after = masked[base + _shift(i, k, n, loop)] if _inside(i, k, n, loop) else 0.0
                peak = peak and a > before and a >= after
                near_step = near_step or by_steps[base + _shift(i, -k, n, loop)] or by_steps[base + _shift(i, k, n, loop)]
            if peak and not near_step:
                corner[base + i] = True
    return corner


@njit(cache=True, nogil=True)
def _cut(points, offsets, closed, by_steps, angle):
    """``cut_pieces`` after the angles: corners, splits, smoothing, pieces and tangents."""
    corner = _corners(by_steps, angle, offsets, closed)
    total, chains = len(points), len(offsets) - 1
    split = corner.copy()
    for c in range(chains):
        base, n = offsets[c], offsets[c + 1] - offsets[c]
        has_corner = False
        for i in range(n):
            has_corner = has_corner or corner[base + i]
        if not closed[c] and n > 0:
            split[base] = split[base + n - 1] = True
        elif closed[c] and not has_corner and n > 0:
            split[base] = split[base + n // 2] = True
    smooth = np.empty((total, 2))
    for c in range(chains):
        base, n, loop = offsets[c], offsets[c + 1] - offsets[c], closed[c]
        for i in range(n):
            before, after = base + _shift(i, -1, n, loop), base + _shift(i, 1, n, loop)
            for d in range(2):
                if split[base + i]:
                    smooth[base + i, d] = points[base + i, d]
                else:
                    smooth[base + i, d] = (0.25 * points[before, d] + 0.5 * points[base + i, d]
                                           + 0.25 * points[after, d])
    # pieces: count, then fill
    pieces = points_in_pieces = 0
    for c in range(chains):
        base, n = offsets[c], offsets[c + 1] - offsets[c]
        kept = 0
        for i in range(n):
            kept += split[base + i]
        chain_pieces = kept if closed[c] else max(kept - 1, 0)
        pieces += chain_pieces
        if chain_pieces:
            points_in_pieces += chain_pieces + (n if closed[c] else n - 1)
    indices = np.empty(points_in_pieces, np.int64)
    piece_offsets = np.zeros(pieces + 1, np.int64)
    chain = np.empty(pieces, np.int64)
    start = np.empty(pieces, np.int64)
    p = at = 0
    for c in range(chains):
        base, n = offsets[c], offsets[c + 1] - offsets[c]
        first_split = previous = -1
        for i in range(n + 1):
            if i == n:  # a closed polyline's last piece ends at its first split, one round on
                if not closed[c] or first_split < 0:
                    break
                end = first_split + n
            elif split[base + i]:
                end = i
            else:
                continue
            if previous >= 0:
                chain[p], start[p] = c, previous
                for q in range(previous, end + 1):
                    indices[at] = base + q % n
                    at += 1
                p += 1
                piece_offsets[p] = at
            if first_split < 0:
                first_split = end
            previous = end
    left, right = np.empty((pieces, 2)), np.empty((pieces, 2))
    for p in range(pieces):
        lo, hi = piece_offsets[p], piece_offsets[p + 1]
        first, last = indices[lo], indices[hi - 1]
        c = chain[p]
        if corner[first] or not closed[c]:
            left[p, 0], left[p, 1] = _ahead(smooth, indices, lo, hi, 1)
        else:
            left[p, 0], left[p, 1] = _centred(smooth, offsets[c], offsets[c + 1] - offsets[c], first - offsets[c])
        if corner[last] or not closed[c]:
            right[p, 0], right[p, 1] = _ahead(smooth, indices, hi - 1, lo - 1, -1)
        else:
            x, y = _centred(smooth, offsets[c], offsets[c + 1] - offsets[c], last - offsets[c])
            right[p, 0], right[p, 1] = -x, -y
    return smooth, indices, piece_offsets, chain, start, left, right


@njit(cache=True, nogil=True)
def _ahead(smooth, indices, end, beyond, step):
    """Unit tangent leaving the piece end ``indices[end]`` towards the mean of the next 3 points
    (walking by ``step`` towards ``beyond``, the far end's index plus ``step``, clamped at the far
    end); falls back to the chord to the far end."""
    length = (beyond - end) * step
    here = indices[end]
    far = indices[beyond - step]
    a, b = indices[end + step * min(1, length - 1)], indices[end + step * min(2, length - 1)]
    c = indices[end + step * min(3, length - 1)]
    mean_x = (smooth[a, 0] + smooth[b, 0] + smooth[c, 0]) / 3.0
    mean_y = (smooth[a, 1] + smooth[b, 1] + smooth[c, 1]) / 3.0
    return unit2(mean_x - smooth[here, 0], mean_y - smooth[here, 1],
                 smooth[far, 0] - smooth[here, 0], smooth[far, 1] - smooth[here, 1])


@njit(cache=True, nogil=True)
def _centred(smooth, base, n, i):
    """Unit tangent along the direction of travel at local point ``i`` of the closed polyline
    starting at global index ``base`` with ``n`` points."""
    after, before = base + _shift(i, 1, n, True), base + _shift(i, -1, n, True)
    return unit2(smooth[after, 0] - smooth[before, 0], smooth[after, 1] - smooth[before, 1], 1.0, 0.0)
