"""Cubic Bézier fitting of many polylines at once: corner detection, smoothing, and Schneider's
least-squares fit with error tolerance ("An Algorithm for Automatically Fitting Digitized Curves",
Graphics Gems, 1990), batched over all pieces with numpy so no Python loop runs per curve.

Polylines come packed: ``points`` (N, 2) pixels, ``offsets`` (C+1,) so polyline c is
``points[offsets[c]:offsets[c+1]]``, ``closed`` (C,) bool (a closed polyline does not repeat its
first point). A fitted curve is a (3 S + 1, 2) float64 array: the start point, then for each of its S
cubic segments two handles and the end point; a closed curve ends where it starts.
"""
from __future__ import annotations

import numpy as np

CORNER_WINDOW = 4        # points each side used to measure the turning angle
RUN = 3                  # identical steps each side that make a turn between them a corner
CORNER_ANGLE = 50.0      # degrees of turn over the window that make a corner
MAX_REPARAMETERIZE = 4   # Newton passes before a piece is split


def fit_polylines(points: np.ndarray, offsets: np.ndarray, closed: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Fit cubic Béziers to each packed polyline (see module docstring) within ``tolerance`` pixels
    of its smoothed points.

    Corners (turns sharper than CORNER_ANGLE over CORNER_WINDOW points, local maxima) and the ends of
    open polylines are kept exactly; other points get one [1, 2, 1] / 4 smoothing pass, which takes
    the stairs out of pixel boundaries. A closed curve starts at its first corner, or at its first
    point when it has none. Returns one (3 S + 1, 2) array per polyline, in input order.
    """
    points = np.asarray(points, np.float64)
    batch = _Batch(np.asarray(offsets, np.int64), np.asarray(closed, bool))
    corner = find_corners(points, batch)
    split = corner | _default_splits(batch, corner)
    smooth = np.where(split[:, None], points, 0.25 * points[batch.shift(-1)] + 0.5 * points
                      + 0.25 * points[batch.shift(1)])
    pieces = _pieces(batch, split)
    sharp = corner | ~batch.closed[batch.owner]
    left = np.where(sharp[pieces.first, None], _ahead_tangent(smooth, pieces),
                    _centred_tangent(smooth, batch, pieces.first))
    right = np.where(sharp[pieces.last, None], _ahead_tangent(smooth, pieces.reversed()),
                     -_centred_tangent(smooth, batch, pieces.last))
    chain, start, beziers = _fit_cubics(smooth, pieces.indices, pieces.offsets, left, right, tolerance,
                                        pieces.chain, pieces.start)
    order = np.lexsort((start, chain))
    chain, beziers = chain[order], beziers[order]
    bounds = np.searchsorted(chain, np.arange(len(batch.closed) + 1))
    return [np.concatenate([beziers[lo, :1], beziers[lo:hi, 1:].reshape(-1, 2)]) for lo, hi in zip(bounds[:-1], bounds[1:])]


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
        self.local = np.arange(offsets[-1]) - offsets[self.owner]
        self.size = self.lengths[self.owner]

    def shift(self, k: int) -> np.ndarray:
        """(N,) global index of the point ``k`` steps along each point's polyline (wrapping on
        closed polylines, clamped to the ends of open ones)."""
        moved = np.where(self.closed[self.owner], (self.local + k) % self.size,
                         np.clip(self.local + k, 0, self.size - 1))
        return self.offsets[self.owner] + moved

    def inside(self, k: int) -> np.ndarray:
        """(N,) bool: the point ``k`` steps along exists without clamping."""
        return self.closed[self.owner] | ((self.local + k >= 0) & (self.local + k < self.size))


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
    lines, single pixels). Staircases turn alternately left and right, so they stay smooth."""
    step = points[batch.shift(1)] - points
    incoming, outgoing = step[batch.shift(-1)], step
    moving = (np.abs(incoming).sum(1) > 0) & (np.abs(outgoing).sum(1) > 0) & batch.inside(-1) & batch.inside(1)
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
    closed = batch.closed[batch.owner]
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
    """Schneider's fit of every piece at once. A piece within ``tolerance`` is accepted; one within
    4x tolerance is reparameterised (Newton) up to MAX_REPARAMETERIZE times; otherwise it is split
    at its worst point with a shared centred tangent. Returns (chain, start, beziers (B, 4, 2)) of
    the accepted cubics; ``start`` orders them along their chain."""
    done_chain, done_start, done_bezier = [], [], []
    u = _chord_parameters(points[indices], offsets)
    tries = np.zeros(len(offsets) - 1, np.int64)
    while len(offsets) > 1:
        lengths = np.diff(offsets)
        owner = np.repeat(np.arange(len(lengths)), lengths)
        pts = points[indices]
        first, last = pts[offsets[:-1]], pts[offsets[1:] - 1]
        line = lengths <= 2
        chord_dir = _unit(last - first, left)
        left = np.where(line[:, None], chord_dir, left)
        right = np.where(line[:, None], -chord_dir, right)
        bezier = _least_squares(pts, u, owner, first, last, left, right)
        distance = np.linalg.norm(np.einsum("nk,nkd->nd", _bernstein(u), bezier[owner]) - pts, axis=1)
        error = np.maximum.reduceat(distance, offsets[:-1])
        accept = (error <= tolerance) | line
        retry = ~accept & (error <= 4 * tolerance) & (tries < MAX_REPARAMETERIZE)
        split = ~accept & ~retry
        done_chain.append(chain[accept])
        done_start.append(start[accept])
        done_bezier.append(bezier[accept])
        # Worst interior point of each piece to split at.
        position = np.arange(len(pts)) - offsets[owner]
        interior = (position > 0) & (position < lengths[owner] - 1)
        score = np.where(interior, distance, -1.0)
        worst = offsets[:-1] + _segment_argmax(score, offsets)
        centre = _unit(pts[worst - 1] - pts[worst + 1], (first - last))
        new_u = np.where(retry[owner], _newton(pts, bezier[owner], u), 0.0)
        # Next round: retried pieces keep their points; split pieces become head [lo, worst] and tail [worst, hi].
        keep = [(retry, offsets[:-1], offsets[1:] - 1, left, right, start, tries + 1),
                (split, offsets[:-1], worst, left, centre, start, np.zeros_like(tries)),
                (split, worst, offsets[1:] - 1, -centre, right, start + (worst - offsets[:-1]), np.zeros_like(tries))]
        parts = [(mask, lo[mask], hi[mask], l[mask], r[mask], s[mask], t[mask]) for mask, lo, hi, l, r, s, t in keep]
        lo = np.concatenate([p[1] for p in parts])
        hi = np.concatenate([p[2] for p in parts])
        counts = hi - lo + 1
        gather = np.repeat(lo - np.r_[0, np.cumsum(counts)][:-1], counts) + np.arange(counts.sum())
        is_retry = np.repeat(np.r_[np.ones(retry.sum(), bool), np.zeros(2 * split.sum(), bool)], counts)
        indices = indices[gather]
        offsets = np.r_[0, np.cumsum(counts)]
        u = np.where(is_retry, new_u[gather], _chord_parameters(points[indices], offsets))
        left = np.concatenate([p[3] for p in parts])
        right = np.concatenate([p[4] for p in parts])
        start = np.concatenate([p[5] for p in parts])
        tries = np.concatenate([p[6] for p in parts])
        chain = np.concatenate([chain[mask] for mask, *_ in keep])
    return np.concatenate(done_chain), np.concatenate(done_start), np.concatenate(done_bezier)


def _segment_argmax(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(P,) position within each packed segment of its maximum value (first on ties)."""
    lengths = np.diff(offsets)
    top = np.maximum.reduceat(values, offsets[:-1])
    position = np.arange(len(values)) - np.repeat(offsets[:-1], lengths)
    at_top = np.where(values == np.repeat(top, lengths), position, len(values))
    return np.minimum.reduceat(at_top, offsets[:-1])


def _chord_parameters(points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(M,) chord-length parameters in [0, 1] of packed runs ``points`` (M, 2)."""
    step = np.r_[0.0, np.linalg.norm(np.diff(points, axis=0), axis=1)]
    step[offsets[:-1]] = 0.0
    total = np.cumsum(step)
    lengths = np.diff(offsets)
    relative = total - np.repeat(total[offsets[:-1]], lengths)
    span = np.repeat(relative[offsets[1:] - 1], lengths)
    return relative / np.maximum(span, 1e-12)


def _bernstein(u: np.ndarray) -> np.ndarray:
    """(n, 4) cubic Bernstein basis at ``u`` (n,)."""
    v = 1.0 - u
    return np.stack([v ** 3, 3 * u * v * v, 3 * u * u * v, u ** 3], axis=1)


def _least_squares(points: np.ndarray, u: np.ndarray, owner: np.ndarray, first: np.ndarray,
                   last: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(P, 4, 2): per piece, the cubic with fixed ends and tangent directions closest (least squares)
    to its points at parameters ``u``; degenerate systems fall back to handles of chord / 3."""
    count = len(first)
    basis = _bernstein(u)
    a1 = basis[:, 1:2] * left[owner]
    a2 = basis[:, 2:3] * right[owner]
    rest = points - (basis[:, :1] + basis[:, 1:2]) * first[owner] - (basis[:, 2:3] + basis[:, 3:]) * last[owner]

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(owner, values.sum(1), minlength=count)

    c11, c12, c22 = total(a1 * a1), total(a1 * a2), total(a2 * a2)
    x1, x2 = total(rest * a1), total(rest * a2)
    det = c11 * c22 - c12 * c12
    chord = np.linalg.norm(last - first, axis=1)
    safe = np.where(np.abs(det) > 1e-12, det, 1.0)
    alpha_l, alpha_r = (x1 * c22 - x2 * c12) / safe, (c11 * x2 - c12 * x1) / safe
    good = (np.abs(det) > 1e-12) & (alpha_l > 1e-6 * chord) & (alpha_r > 1e-6 * chord)
    alpha_l = np.where(good, alpha_l, chord / 3)[:, None]
    alpha_r = np.where(good, alpha_r, chord / 3)[:, None]
    return np.stack([first, first + alpha_l * left, last + alpha_r * right, last], axis=1)


def _newton(points: np.ndarray, bezier: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One Newton-Raphson step moving each ``u`` (n,) towards the nearest parameter on its cubic
    ``bezier`` (n, 4, 2) for ``points`` (n, 2)."""
    v = (1.0 - u)[:, None]
    d1 = 3 * np.diff(bezier, axis=1)
    d2 = 2 * np.diff(d1, axis=1)
    uu = u[:, None]
    q = np.einsum("nk,nkd->nd", _bernstein(u), bezier)
    q1 = v * v * d1[:, 0] + 2 * uu * v * d1[:, 1] + uu * uu * d1[:, 2]
    q2 = v * d2[:, 0] + uu * d2[:, 1]
    diff = q - points
    numerator = (diff * q1).sum(1)
    denominator = (q1 * q1).sum(1) + (diff * q2).sum(1)
    step = numerator / np.where(np.abs(denominator) > 1e-12, denominator, np.inf)
    return np.clip(u - step, 0.0, 1.0)
