"""Compiled SVG path data (numba) for the vectorizer's result: byte for byte what
``clipvg.svg.path_writer.path_data`` writes, at a fraction of its numpy formatting's cost.

``chunk_data`` is a drop-in for the writer's per-chunk formatter (``path_data(..., chunk=...)``): a
chunk of float32 points at up to MAX_PRECISION decimals is written by one compiled pass into a byte
buffer; anything else (float64 points, more decimals, magnitudes past EXACT) goes to the writer's
own formatter. Numbers are rounded as printf rounds them: float32 x 10**precision in float64,
halves to even (exact there, see ``path_writer.MAX_PRECISION``).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numba import njit

from clipvg.scene.path import Subpath
from clipvg.svg.path_writer import EXACT, MAX_PRECISION, _chunk_data

_LETTERS = np.frombuffer(b"MLQC", np.uint8)  # a subpath's start, then the command of each degree
_SPACE, _MINUS, _POINT, _ZERO, _CLOSE = (ord(c) for c in " -.0Z")
_FRAME_BYTES = 2 + 1 + 1 + 2  # a number's lead, sign, point and " Z" (besides its digits)


def chunk_data(paths: Sequence[Sequence[Subpath]], precision: int) -> list[str]:
    """The ``d`` of each path (a sequence of subpaths), as ``path_writer._chunk_data`` writes it."""
    subpaths = [s for path in paths for s in path]
    if not subpaths:
        return [""] * len(paths)
    points = np.concatenate([s.points for s in subpaths])
    unit = 10.0 ** precision
    largest = float(np.abs(points).max())
    # (not < EXACT: NaN, too, goes to the writer's formatter)
    if points.dtype != np.float32 or precision > MAX_PRECISION or not largest * unit < EXACT:
        return _chunk_data(paths, precision)
    sizes = np.array([len(s.points) for s in subpaths], np.int64)
    closed = np.array([s.closed for s in subpaths], np.bool_)
    segments = np.array([len(s.degrees) for s in subpaths], np.int64)
    degrees = np.concatenate([s.degrees for s in subpaths]).astype(np.int64)
    per_path = np.array([len(path) for path in paths], np.int64)
    numbers = 2 * (int(sizes.sum()) + int(closed.sum()))
    # the buffer holds the longest number: the largest's integer digits (one more where rounding
    # carries) and the decimals (a canvas of a few thousand px: 14 bytes a number at 4 decimals)
    out = np.empty(numbers * (_FRAME_BYTES + len(str(int(largest))) + 1 + precision), np.uint8)
    ends = np.empty(len(paths) + 1, np.int64)
    _write(points, sizes, closed, segments, degrees, per_path, unit, precision, _LETTERS, out, ends)
    text = out[:ends[-1]].tobytes().decode("ascii")
    return [text[lo:hi] for lo, hi in zip(ends[:-1].tolist(), ends[1:].tolist())]


@njit(cache=True, nogil=True)
def _number(value, unit, precision, out, at):
    """Write ``value`` (float32) with at most ``precision`` decimals, trailing decimal zeros (and
    a bare point) dropped, never ``-0``, into ``out`` from ``at``; returns the end."""
    scaled = np.float64(value) * unit
    whole = math.floor(scaled)
    rest = scaled - whole  # exact below EXACT
    if rest > 0.5 or (rest == 0.5 and whole % 2.0 != 0.0):  # halves to even, as printf
        whole += 1.0
    if whole < 0:
        out[at] = _MINUS
        at += 1
    magnitude = np.int64(abs(whole))
    decimals = precision
    while decimals > 0 and magnitude % 10 == 0:  # trailing decimal zeros
        magnitude //= 10
        decimals -= 1
    # digits from the last: the decimals kept, the point, then the integer part (at least a 0)
    length = 0
    probe = magnitude
    while probe > 0 or length <= decimals:
        probe //= 10
        length += 1
    end = at + length + (decimals > 0)
    k = end - 1
    for _ in range(decimals):
        out[k] = _ZERO + magnitude % 10
        magnitude //= 10
        k -= 1
    if decimals > 0:
        out[k] = _POINT
        k -= 1
    while k >= at:
        out[k] = _ZERO + magnitude % 10
        magnitude //= 10
        k -= 1
    return end


@njit(cache=True, nogil=True)
def _write(points, sizes, closed, segments, degrees, per_path, unit, precision, letters, out, ends):
    """Write the path data of ``per_path`` (P,) subpaths per path into ``out``; ``ends`` (P + 1,)
    gets each path's text bounds. Subpath i has ``sizes[i]`` points (rows of ``points`` (N, 2), in
    order), ``segments[i]`` degrees (in order in ``degrees``) and ``closed[i]`` (its last segment
    ends at its start point, then `` Z``)."""
    at, first_point, first_degree, subpath = 0, 0, 0, 0
    ends[0] = 0
    for path in range(len(per_path)):
        for k in range(per_path[path]):
            if k > 0:
                out[at] = _SPACE
                at += 1
            out[at] = letters[0]
            at = _number(points[first_point, 0], unit, precision, out, at + 1)
            out[at] = _SPACE
            at = _number(points[first_point, 1], unit, precision, out, at + 1)
            row = 1
            for s in range(segments[subpath]):
                degree = degrees[first_degree + s]
                for j in range(degree):
                    point = first_point + (row if row < sizes[subpath] else 0)  # closed: back to the start
                    out[at] = _SPACE
                    if j == 0:
                        out[at + 1] = letters[degree]
                        at += 1
                    at = _number(points[point, 0], unit, precision, out, at + 1)
                    out[at] = _SPACE
                    at = _number(points[point, 1], unit, precision, out, at + 1)
                    row += 1
            if closed[subpath]:
                out[at], out[at + 1] = _SPACE, _CLOSE
                at += 2
            first_point += sizes[subpath]
            first_degree += segments[subpath]
            subpath += 1
        ends[path + 1] = at
