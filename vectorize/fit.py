"""Cubic Bézier fitting of many polylines at once: corner detection, smoothing, and Schneider's
least-squares fit with error tolerance ("An Algorithm for Automatically Fitting Digitized Curves",
Graphics Gems, 1990). Corners, smoothing and pieces are batched over all polylines with numpy;
the fit runs compiled (numba), piece by piece, so no Python loop runs per curve.

Polylines come packed: ``points`` (N, 2) pixels, ``offsets`` (C+1,) so polyline c is
``points[offsets[c]:offsets[c+1]]``, ``closed`` (C,) bool (a closed polyline does not repeat its
first point). A fitted curve is a (3 S + 1, 2) float64 array: the start point, then for each of its S
cubic segments two handles and the end point; a closed curve ends where it starts.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

CORNER_WINDOW = 4        # points each side used to measure the turning angle
RUN = 3                  # identical steps each side that make a turn between them a corner
CORNER_ANGLE = 50.0      # degrees of turn over the window that make a corner
MAX_REPARAMETERIZE = 4   # Newton passes before a piece is split


def fit_polylines(points: np.ndarray, offsets: np.ndarray, closed: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """One (3 S + 1, 2) array per polyline, in input order: ``fit_packed`` split per polyline."""
    control, bounds = fit_packed(points, offsets, closed, tolerance)
    return [control[lo:hi] for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


def fit_packed(points: np.ndarray, offsets: np.ndarray, closed: np.ndarray, tolerance: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Fit cubic Béziers to each packed polyline (see module docstring) within ``tolerance`` pixels
    of its smoothed points.

    Corners (turns sharper than CORNER_ANGLE over CORNER_WINDOW points, local maxima) and the ends of
    open polylines are kept exactly; other points get one [1, 2, 1] / 4 smoothing pass, which takes
    the stairs out of pixel boundaries. A closed curve starts at its first corner, or at its first
    point when it has none. Returns the curves packed: control points (N', 2) and offsets (C+1,),
    curve c is ``control[offsets[c]:offsets[c+1]]`` ((3 S + 1, 2), see module docstring).
    """
    points = np.asarray(points, np.float64)
    batch = _Batch(np.asarray(offsets, np.int64), np.asarray(closed, bool))
    corner = find_corners(points, batch)
    split = corner | _default_splits(batch, corner)
    smooth = np.where(split[:, None], points, 0.25 * points[batch.shift(-1)] + 0.5 * points
                      + 0.25 * points[batch.shift(1)])
    pieces = _pieces(batch, split)
    sharp = corner | ~batch.point_closed
    left = np.where(sharp[pieces.first, None], _ahead_tangent(smooth, pieces),
                    _centred_tangent(smooth, batch, pieces.first))
    right = np.where(sharp[pieces.last, None], _ahead_tangent(smooth, pieces.reversed()),
                     -_centred_tangent(smooth, batch, pieces.last))
    chain, start, beziers = _fit_cubics(smooth, pieces.indices, pieces.offsets, left, right, tolerance,
                                        pieces.chain, pieces.start)
    order = np.lexsort((start, chain))
    chain, beziers = chain[order], beziers[order]
    first = np.searchsorted(chain, np.arange(len(batch.closed) + 1))  # each curve's first cubic
    # Curve c starts at c + 3 * first[c]: its start point, then 3 points per cubic.
    bounds = np.arange(len(first)) + 3 * first
    control = np.empty((bounds[-1], 2))
    control[bounds[:-1]] = beziers[first[:-1], 0]
    at = chain + 1 + 3 * np.arange(len(chain))
    for k in range(3):
        control[at + k] = beziers[:, 1 + k]
    return control, bounds


def fit_polyline(points: np.ndarray, closed: bool, tolerance: float) -> np.ndarray:
    """``fit_polylines`` for one polyline ``points`` (K, 2), K >= 2 -> (3 S + 1, 2) control points."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    return fit_polylines(points, np.array([0, len(points)]), np.array([closed]), tolerance)[0]


class _Batch:
    """Index arithmetic for packed polylines: owner, position and neighbours of every point."""

    def __init__(self, offsets: np.ndarray, closed: np.ndarray) -> None:
        self.offsets, self.closed = offsets, closed
        self.lengths = np.diff(offsets)
        self.owner = np.repeat(np.arange(len(self.lengths)), self.lengths)
        self.base = offsets[self.owner]  # global index of each point's polyline start
        self.local = np.arange(offsets[-1]) - self.base
        self.size = self.lengths[self.owner]
        self.point_closed = closed[self.owner]
        self._shifts: dict[int, np.ndarray] = {}

    def shift(self, k: int) -> np.ndarray:
        """(N,) global index of the point ``k`` steps along each point's polyline (wrapping on
        closed polylines, clamped to the ends of open ones); computed once per ``k``."""
        if k not in self._shifts:
            moved = self.local + k
            self._shifts[k] = self.base + np.where(self.point_closed, moved % self.size,
                                                   np.minimum(np.maximum(moved, 0), self.size - 1))
        return self._shifts[k]

    def inside(self, k: int) -> np.ndarray:
        """(N,) bool: the point ``k`` steps along exists without clamping."""
        return self.point_closed | ((self.local + k >= 0) & (self.local + k < self.size))


def find_corners(points: np.ndarray, batch: _Batch) -> np.ndarray:
    """(N,) bool corners of packed polylines ``points`` (N, 2), by two rules:

    * steps (see ``_step_corners``): the corners of rectangles and small blocks in pixel
      boundaries, which smoothing would otherwise round off;
    * angles: the turning angle between ``p[i] - p[i-w]`` and ``p[i+w] - p[i]`` (w = CORNER_WINDOW)
      exceeds CORNER_ANGLE and is the first maximum within w either side, with no step corner
      within w (oblique corners of larger shapes).
    """
    w = CORNER_WINDOW
    by_steps = _step_corners(points, batch)
    a = points - points[batch.shift(-w)]
    b = points[batch.shift(w)] - points
    cosine = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    angle = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    angle[~(batch.inside(-w) & batch.inside(w)) | (batch.size < 2 * w + 1)] = 0.0
    by_angle = angle > CORNER_ANGLE
    for k in range(1, w + 1):
        by_angle &= angle > np.where(batch.inside(-k), angle[batch.shift(-k)], 0.0)
        by_angle &= angle >= np.where(batch.inside(k), angle[batch.shift(k)], 0.0)
    near_step = by_steps.copy()
    for k in range(1, w + 1):
        near_step |= by_steps[batch.shift(-k)] | by_steps[batch.shift(k)]
    return by_steps | (by_angle & ~near_step)


def _step_corners(points: np.ndarray, batch: _Batch) -> np.ndarray:
    """(N,) bool turns between straight runs that are corners: both runs at least RUN steps long, or
    the two turns at the ends of a run shorter than RUN that turn the same way (the ends of thin
    lines, single pixels). Staircases turn alternately left and right, so they stay smooth. Only turns
    between axis-aligned steps count (pixel boundaries); other polylines get angle corners alone."""
    step = points[batch.shift(1)] - points
    incoming, outgoing = step[batch.shift(-1)], step
    moving = (np.abs(incoming).sum(1) > 0) & (np.abs(outgoing).sum(1) > 0) & batch.inside(-1) & batch.inside(1)
    moving &= (incoming == 0).any(1) & (outgoing == 0).any(1)  # pixel-boundary steps only: a smooth curve's
    # points each turn a little between one-point runs the same way, which is no block's end
    turns = np.nonzero(moving & (incoming != outgoing).any(1))[0]
    sense = np.sign(incoming[turns, 0] * outgoing[turns, 1] - incoming[turns, 1] * outgoing[turns, 0])
    owner, local, size = batch.owner[turns], batch.local[turns], batch.size[turns]
    closed = batch.closed[owner]
    same_next = np.r_[owner[1:] == owner[:-1], False]
    first = np.r_[True, owner[1:] != owner[:-1]]
    first_index = np.nonzero(first)[0][np.cumsum(first) - 1]
    last_index = np.r_[np.nonzero(first)[0][1:], len(turns)][np.cumsum(first) - 1] - 1
    following = np.where(same_next, np.arange(len(turns)) + 1, first_index)
    has_next = same_next | closed
    run_out = np.where(has_next, (local[following] - local) % size, size - 1 - local)
    preceding = np.where(first, last_index, np.arange(len(turns)) - 1)
    run_in = np.where(~first | closed, (local - local[preceding]) % size, local)
    corner = np.zeros(len(points), bool)
    corner[turns[(run_in >= RUN) & (run_out >= RUN)]] = True
    short_same = has_next & (run_out < RUN) & (sense[following] == sense) & (following != np.arange(len(turns)))
    corner[turns[short_same]] = True
    corner[turns[following[short_same]]] = True
    return corner


def _default_splits(batch: _Batch, corner: np.ndarray) -> np.ndarray:
    """(N,) bool: the ends of open polylines, and two opposite points of corner-free closed ones."""
    has_corner = np.bincount(batch.owner, corner, minlength=len(batch.closed)) > 0
    closed = batch.point_closed
    ends = ~closed & ((batch.local == 0) | (batch.local == batch.size - 1))
    smooth_loop = closed & ~has_corner[batch.owner] & ((batch.local == 0) | (batch.local == batch.size // 2))
    return ends | smooth_loop


class _Pieces:
    """Runs of points between consecutive split points, packed: ``indices`` (M,) global point
    indices, ``offsets`` (P+1,); ``chain`` (P,), ``start`` (P,) unwrapped position of the first point
    (sort key along the chain), ``first``/``last`` (P,) global index of the end points."""

    def __init__(self, indices: np.ndarray, offsets: np.ndarray, chain: np.ndarray, start: np.ndarray) -> None:
        self.indices, self.offsets, self.chain, self.start = indices, offsets, chain, start
        self.first, self.last = indices[offsets[:-1]], indices[offsets[1:] - 1]

    def reversed(self) -> "_Pieces":
        """The same pieces walked backwards (for tangents at their last point)."""
        lengths = np.diff(self.offsets)
        position = np.arange(len(self.indices)) - np.repeat(self.offsets[:-1], lengths)
        flipped = self.offsets[:-1].repeat(lengths) + (lengths.repeat(lengths) - 1 - position)
        return _Pieces(self.indices[flipped], self.offsets, self.chain, self.start)


def _pieces(batch: _Batch, split: np.ndarray) -> _Pieces:
    """Cut every polyline at its split points; a closed polyline's last piece wraps to its first split."""
    at = np.nonzero(split)[0]
    owner = batch.owner[at]
    nxt = np.r_[at[1:], 0]
    same = np.r_[owner[1:] == owner[:-1], False]
    first_of_chain = np.r_[True, owner[1:] != owner[:-1]]
    # The split after the last one of a chain is, for a closed chain, its first split plus its length.
    chain_first = at[first_of_chain][np.cumsum(first_of_chain) - 1]
    end_local = np.where(same, batch.local[nxt], batch.local[chain_first] + batch.size[at])
    keep = same | batch.closed[owner]
    start_local, end_local, owner = batch.local[at][keep], end_local[keep], owner[keep]
    lengths = end_local - start_local + 1
    offsets = np.r_[0, np.cumsum(lengths)]
    position = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths) + np.repeat(start_local, lengths)
    size = batch.lengths[owner]
    indices = batch.offsets[owner].repeat(lengths) + position % size.repeat(lengths)
    return _Pieces(indices, offsets, owner, start_local)


def _ahead_tangent(points: np.ndarray, pieces: _Pieces) -> np.ndarray:
    """(P, 2) unit tangents leaving each piece's first point, towards the mean of the next 3 points."""
    lengths = np.diff(pieces.offsets)
    ahead = np.stack([pieces.indices[pieces.offsets[:-1] + np.minimum(k, lengths - 1)] for k in (1, 2, 3)])
    return _unit(points[ahead].mean(0) - points[pieces.first], points[pieces.last] - points[pieces.first])


def _centred_tangent(points: np.ndarray, batch: _Batch, at: np.ndarray) -> np.ndarray:
    """(P, 2) unit tangents along the direction of travel at global points ``at``."""
    after, before = batch.shift(1)[at], batch.shift(-1)[at]
    return _unit(points[after] - points[before], np.tile([1.0, 0.0], (len(at), 1)))


def _unit(vectors: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Normalise rows of ``vectors`` (P, 2); rows of zero length use ``fallback`` (then +x)."""
    norm = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.where(norm > 1e-9, vectors, fallback)
    norm = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.where(norm > 1e-9, vectors, np.array([1.0, 0.0]))
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _fit_cubics(points: np.ndarray, indices: np.ndarray, offsets: np.ndarray, left: np.ndarray,
                right: np.ndarray, tolerance: float, chain: np.ndarray, start: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Schneider's fit of every piece (points ``points[indices[offsets[p]:offsets[p+1]]]``, end tangents
    ``left``/``right`` (P, 2)). A piece within ``tolerance`` is accepted; one within 4x tolerance is
    reparameterised (Newton) up to MAX_REPARAMETERIZE times; otherwise it is split at its worst point
    with a shared centred tangent. Returns (chain, start, beziers (B, 4, 2)) of the accepted cubics;
    ``start`` orders them along their chain."""
    return _fit_pieces(np.ascontiguousarray(points, np.float64), np.asarray(indices, np.int64),
                       np.asarray(offsets, np.int64), np.ascontiguousarray(left, np.float64),
                       np.ascontiguousarray(right, np.float64), float(tolerance),
                       np.asarray(chain, np.int64), np.asarray(start, np.int64))


@njit(cache=True, nogil=True)
def _unit2(x: float, y: float, fx: float, fy: float) -> tuple[float, float]:
    """(x, y) normalised; a vector of zero length uses the fallback (fx, fy), then +x (as ``_unit``)."""
    if math.sqrt(x * x + y * y) <= 1e-9:
        x, y = fx, fy
    if math.sqrt(x * x + y * y) <= 1e-9:
        x, y = 1.0, 0.0
    norm = max(math.sqrt(x * x + y * y), 1e-12)
    return x / norm, y / norm


@njit(cache=True, nogil=True)
def _fit_pieces(points, indices, offsets, left, right, tolerance, chain, start):
    """Compiled ``_fit_cubics``: each piece depth first, its cubics in order along it."""
    pieces = len(offsets) - 1
    capacity = max(len(indices) - pieces, 1)  # a cubic spans 2+ points; neighbours share one
    out_chain = np.empty(capacity, np.int64)
    out_start = np.empty(capacity, np.int64)
    out = np.empty((capacity, 4, 2))
    longest = 1
    for p in range(pieces):
        longest = max(longest, offsets[p + 1] - offsets[p])
    pts = np.empty((longest, 2))
    u = np.empty(longest)
    distance = np.empty(longest)
    # Task stack: (lo, hi, start, tries) and (left, right) tangents, pending tails of split pieces.
    stack = np.empty((longest + 1, 4), np.int64)
    tangents = np.empty((longest + 1, 4))
    made = 0
    for p in range(pieces):
        n = offsets[p + 1] - offsets[p]
        for i in range(n):
            pts[i, 0] = points[indices[offsets[p] + i], 0]
            pts[i, 1] = points[indices[offsets[p] + i], 1]
        stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = 0, n - 1, start[p], 0
        tangents[0, 0], tangents[0, 1], tangents[0, 2], tangents[0, 3] = left[p, 0], left[p, 1], right[p, 0], right[p, 1]
        depth = 1
        while depth > 0:
            depth -= 1
            lo, hi, at, tries = stack[depth, 0], stack[depth, 1], stack[depth, 2], stack[depth, 3]
            lx, ly, rx, ry = tangents[depth, 0], tangents[depth, 1], tangents[depth, 2], tangents[depth, 3]
            if tries == 0:
                _chord_parameters(pts, lo, hi, u)
            x0, y0, x3, y3 = pts[lo, 0], pts[lo, 1], pts[hi, 0], pts[hi, 1]
            line = hi - lo + 1 <= 2
            if line:
                lx, ly = _unit2(x3 - x0, y3 - y0, lx, ly)
                rx, ry = -lx, -ly
            x1, y1, x2, y2 = _least_squares(pts, u, lo, hi, lx, ly, rx, ry)
            error = 0.0
            for i in range(lo, hi + 1):
                dx, dy = _miss(pts, i, u[i], x0, y0, x1, y1, x2, y2, x3, y3)
                distance[i] = math.sqrt(dx * dx + dy * dy)
                error = max(error, distance[i])
            if error <= tolerance or line:
                out_chain[made], out_start[made] = chain[p], at
                out[made, 0, 0], out[made, 0, 1], out[made, 1, 0], out[made, 1, 1] = x0, y0, x1, y1
                out[made, 2, 0], out[made, 2, 1], out[made, 3, 0], out[made, 3, 1] = x2, y2, x3, y3
                made += 1
                continue
            if error <= 4 * tolerance and tries < MAX_REPARAMETERIZE:
                _newton(pts, u, lo, hi, x0, y0, x1, y1, x2, y2, x3, y3)
                stack[depth, 3] = tries + 1
                tangents[depth, 0], tangents[depth, 1], tangents[depth, 2], tangents[depth, 3] = lx, ly, rx, ry
                depth += 1
                continue
            worst, top = lo + 1, -1.0  # worst interior point (first on ties)
            for i in range(lo + 1, hi):
                if distance[i] > top:
                    worst, top = i, distance[i]
            cx, cy = _unit2(pts[worst - 1, 0] - pts[worst + 1, 0], pts[worst - 1, 1] - pts[worst + 1, 1],
                            x0 - x3, y0 - y3)
            stack[depth, 0], stack[depth, 1], stack[depth, 2], stack[depth, 3] = worst, hi, at + worst - lo, 0
            tangents[depth, 0], tangents[depth, 1], tangents[depth, 2], tangents[depth, 3] = -cx, -cy, rx, ry
            depth += 1
            stack[depth, 0], stack[depth, 1], stack[depth, 2], stack[depth, 3] = lo, worst, at, 0
            tangents[depth, 0], tangents[depth, 1], tangents[depth, 2], tangents[depth, 3] = lx, ly, cx, cy
            depth += 1
    return out_chain[:made].copy(), out_start[:made].copy(), out[:made].copy()


@njit(cache=True, nogil=True)
def _chord_parameters(pts, lo, hi, u):
    """Chord-length parameters in [0, 1] of ``pts[lo:hi + 1]`` (K, 2), written to ``u[lo:hi + 1]``."""
    u[lo] = 0.0
    for i in range(lo + 1, hi + 1):
        dx, dy = pts[i, 0] - pts[i - 1, 0], pts[i, 1] - pts[i - 1, 1]
        u[i] = u[i - 1] + math.sqrt(dx * dx + dy * dy)
    span = max(u[hi], 1e-12)
    for i in range(lo, hi + 1):
        u[i] /= span


@njit(cache=True, nogil=True)
def _least_squares(pts, u, lo, hi, lx, ly, rx, ry):
    """Inner control points (x1, y1, x2, y2) of the cubic from ``pts[lo]`` to ``pts[hi]`` with end
    tangent directions (lx, ly), (rx, ry) closest (least squares) to the points at parameters ``u``;
    a degenerate system falls back to handles of chord / 3."""
    x0, y0, x3, y3 = pts[lo, 0], pts[lo, 1], pts[hi, 0], pts[hi, 1]
    c11 = c12 = c22 = r1 = r2 = 0.0
    for i in range(lo, hi + 1):
        t = u[i]
        v = 1.0 - t
        b0, b1, b2, b3 = v * v * v, 3 * t * v * v, 3 * t * t * v, t * t * t
        ax, ay, bx, by = b1 * lx, b1 * ly, b2 * rx, b2 * ry
        ex = pts[i, 0] - (b0 + b1) * x0 - (b2 + b3) * x3
        ey = pts[i, 1] - (b0 + b1) * y0 - (b2 + b3) * y3
        c11 += ax * ax + ay * ay
        c12 += ax * bx + ay * by
        c22 += bx * bx + by * by
        r1 += ex * ax + ey * ay
        r2 += ex * bx + ey * by
    det = c11 * c22 - c12 * c12
    chord = math.sqrt((x3 - x0) ** 2 + (y3 - y0) ** 2)
    alpha_l = alpha_r = chord / 3
    if abs(det) > 1e-12:
        a, b = (r1 * c22 - r2 * c12) / det, (c11 * r2 - c12 * r1) / det
        if a > 1e-6 * chord and b > 1e-6 * chord:
            alpha_l, alpha_r = a, b
    return x0 + alpha_l * lx, y0 + alpha_l * ly, x3 + alpha_r * rx, y3 + alpha_r * ry


@njit(cache=True, nogil=True, inline="always")
def _miss(pts, i, t, x0, y0, x1, y1, x2, y2, x3, y3):
    """The cubic (x0, y0) .. (x3, y3) at parameter ``t`` minus point ``pts[i]``: (dx, dy)."""
    v = 1.0 - t
    b0, b1, b2, b3 = v * v * v, 3 * t * v * v, 3 * t * t * v, t * t * t
    return b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 - pts[i, 0], b0 * y0 + b1 * y1 + b2 * y2 + b3 * y3 - pts[i, 1]


@njit(cache=True, nogil=True)
def _newton(pts, u, lo, hi, x0, y0, x1, y1, x2, y2, x3, y3):
    """One Newton-Raphson step moving each ``u[lo:hi + 1]`` towards the nearest parameter on the cubic
    (x0, y0) .. (x3, y3) for its point, clipped to [0, 1]."""
    d0x, d0y, d1x, d1y, d2x, d2y = 3 * (x1 - x0), 3 * (y1 - y0), 3 * (x2 - x1), 3 * (y2 - y1), 3 * (x3 - x2), 3 * (y3 - y2)
    e0x, e0y, e1x, e1y = 2 * (d1x - d0x), 2 * (d1y - d0y), 2 * (d2x - d1x), 2 * (d2y - d1y)
    for i in range(lo, hi + 1):
        t = u[i]
        v = 1.0 - t
        qx, qy = _miss(pts, i, t, x0, y0, x1, y1, x2, y2, x3, y3)
        q1x = v * v * d0x + 2 * t * v * d1x + t * t * d2x
        q1y = v * v * d0y + 2 * t * v * d1y + t * t * d2y
        q2x, q2y = v * e0x + t * e1x, v * e0y + t * e1y
        numerator = qx * q1x + qy * q1y
        denominator = q1x * q1x + q1y * q1y + qx * q2x + qy * q2y
        step = numerator / denominator if abs(denominator) > 1e-12 else 0.0
        u[i] = min(max(t - step, 0.0), 1.0)
