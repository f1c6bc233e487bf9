"""Cubic Bézier fitting of many polylines at once: corner detection, smoothing, and Schneider's
least-squares fit with error tolerance ("An Algorithm for Automatically Fitting Digitized Curves",
Graphics Gems, 1990). Corners, smoothing and pieces come from ``pieces``; the fit runs compiled
(numba), piece by piece, so no Python loop runs per curve.

Polylines come packed: ``points`` (N, 2) pixels, ``offsets`` (C+1,) so polyline c is
``points[offsets[c]:offsets[c+1]]``, ``closed`` (C,) bool (a closed polyline does not repeat its
first point). A fitted curve is a (3 S + 1, 2) float64 array: the start point, then for each of its S
cubic segments two handles and the end point; a closed curve ends where it starts.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .pieces import cut_pieces, unit2

MAX_REPARAMETERIZE = 4   # Newton passes before a piece is split


def fit_polylines(points: np.ndarray, offsets: np.ndarray, closed: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """One (3 S + 1, 2) array per polyline, in input order: ``fit_packed`` split per polyline."""
    control, bounds = fit_packed(points, offsets, closed, tolerance)
    return [control[lo:hi] for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


def fit_packed(points: np.ndarray, offsets: np.ndarray, closed: np.ndarray, tolerance: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Fit cubic Béziers to each packed polyline (see module docstring) within ``tolerance`` pixels
    of its smoothed points.

    Corners (turns sharper than ``pieces.CORNER_ANGLE`` over ``pieces.CORNER_WINDOW`` points, local maxima) and the ends of
    open polylines are kept exactly; other points get one [1, 2, 1] / 4 smoothing pass, which takes
    the stairs out of pixel boundaries. A closed curve starts at its first corner, or at its first
    point when it has none. Returns the curves packed: control points (N', 2) and offsets (C+1,),
    curve c is ``control[offsets[c]:offsets[c+1]]`` ((3 S + 1, 2), see module docstring).
    """
    smooth, indices, piece_offsets, piece_chain, piece_start, left, right = cut_pieces(points, offsets, closed)
    chain, start, beziers = _fit_pieces(smooth, indices, piece_offsets, left, right, float(tolerance),
                                        piece_chain, piece_start)
    order = np.lexsort((start, chain))
    chain, beziers = chain[order], beziers[order]
    first = np.searchsorted(chain, np.arange(len(closed) + 1))  # each curve's first cubic
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


@njit(cache=True, nogil=True)
def _fit_pieces(points, indices, offsets, left, right, tolerance, chain, start):
    """Schneider's fit of every piece (points ``points[indices[offsets[p]:offsets[p+1]]]``, end tangents
    ``left``/``right`` (P, 2)), each piece depth first, its cubics in order along it. A piece within
    ``tolerance`` is accepted; one within 4x tolerance is reparameterised (Newton) up to
    MAX_REPARAMETERIZE times; otherwise it is split at its worst point with a shared centred tangent.
    Returns (chain, start, beziers (B, 4, 2)) of the accepted cubics; ``start`` orders them along
    their chain."""
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
                lx, ly = unit2(x3 - x0, y3 - y0, lx, ly)
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
            cx, cy = unit2(pts[worst - 1, 0] - pts[worst + 1, 0], pts[worst - 1, 1] - pts[worst + 1, 1],
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
