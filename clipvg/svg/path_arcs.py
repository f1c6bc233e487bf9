"""Elliptical arcs of path data for ``path_data``: their flags read as SVG reads them, and each arc made into the cubics
svgelements makes of it (SVG's endpoint-to-centre conversion, radii scaled up until the arc fits, then one cubic per
at most ``geometry.ARC_PIECE_SWEEP`` of sweep: ``geometry.arc_piece_count``), for whole arrays of arcs at once."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .geometry import arc_piece_count

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_SEPARATOR = r"[\s,]*"
_ARC_GROUP = re.compile(r"[Aa][^MmZzLlHhVvCcSsQqTtAa]*")


def _whole_number(name: str) -> str:
    """A number read as SVG reads it, the longest at its place and never cut shorter to make the rest match (a
    lookahead takes it whole, a back-reference consumes it), captured as ``name``."""
    return rf"(?=(?P<{name}>{_NUMBER}))(?P={name})"


ARC_ARGUMENTS = _SEPARATOR.join(["", _whole_number("rx"), _whole_number("ry"), _whole_number("rotation"),
                                 "(?P<large>[01])", "(?P<sweep>[01])", _whole_number("x"), _whole_number("y")])
"""One arc's seven arguments, each captured: its flags are one character each, so "0 01.5 2" is 0, 0, 1, .5, 2."""
_ARC_ARGUMENTS = re.compile(ARC_ARGUMENTS)


def separated_arc_flags(data: str) -> str:
    """``data`` with every arc's arguments written apart (flags may be written without separators, "a1 1 0 015 5"),
    so that a tokenizer of numbers reads them; well-formed data is assumed (``document.drop_bad_paths``)."""
    if "a" not in data and "A" not in data:
        return data
    return _ARC_GROUP.sub(_separated, data)


def _separated(match: re.Match) -> str:
    text = match.group(0)
    return text[0] + " " + " ".join(" ".join(arguments) for arguments in _ARC_ARGUMENTS.findall(text, 1)) + " "


@dataclass
class ArcPieces:
    """What N arcs become: ``count`` (N,) segments each (0: an arc ending where it starts, left out; 1 and ``line``:
    a line, for a zero radius), and the K = count.sum() segments in order: ``starts``, ``ends`` (K, 2) and the
    cubics' ``controls`` (K, 2, 2) (zeros for lines)."""

    count: np.ndarray
    line: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    controls: np.ndarray


def arc_pieces(starts: np.ndarray, ends: np.ndarray, arguments: np.ndarray, same_point: float) -> ArcPieces:
    """The segments of arcs from ``starts`` to ``ends`` (N, 2) with ``arguments`` (N, 7) as written (rx, ry, the
    x-axis rotation in degrees, the large-arc and sweep flags; the end point is ``ends``), as svgelements' ``Arc``
    and ``geometry.to_contours`` make them. Ends closer than ``same_point`` in both coordinates are the same point."""
    rx, ry = np.abs(arguments[:, 0]), np.abs(arguments[:, 1])
    left_out = (np.abs(starts - ends) <= same_point).all(1)
    line = ~left_out & ((rx == 0) | (ry == 0))
    drawn = ~left_out & ~line
    center, radii, rotation, start_t, sweep = _centre_form(starts[drawn], ends[drawn], rx[drawn], ry[drawn],
                                                           np.radians(arguments[drawn, 2]), arguments[drawn, 3] != 0,
                                                           arguments[drawn, 4] != 0)
    pieces = arc_piece_count(np.nan_to_num(sweep, nan=0.0, posinf=0.0, neginf=0.0)).astype(np.int64)
    curved = (pieces > 0) & (radii > 0).all(1)  # else drawn as a line (svgelements' radius of 0)
    line[np.flatnonzero(drawn)[~curved]] = True
    count = np.where(left_out, 0, 1)
    count[np.flatnonzero(drawn)[curved]] = pieces[curved]
    cubics = _cubics(starts[drawn][curved], ends[drawn][curved], center[curved], radii[curved], rotation[curved],
                     start_t[curved], sweep[curved], pieces[curved])
    total = int(count.sum())
    out_starts, out_ends, controls = np.zeros((total, 2)), np.zeros((total, 2)), np.zeros((total, 2, 2))
    first = np.cumsum(count) - count
    out_starts[first[line]], out_ends[first[line]] = starts[line], ends[line]
    curved_rows = np.flatnonzero(np.repeat(drawn & ~line, count))
    out_starts[curved_rows], out_ends[curved_rows], controls[curved_rows] = cubics
    return ArcPieces(count, line, out_starts, out_ends, controls)


def _centre_form(start: np.ndarray, end: np.ndarray, rx: np.ndarray, ry: np.ndarray, phi: np.ndarray,
                 large: np.ndarray, sweep_flag: np.ndarray) -> tuple[np.ndarray, ...]:
    """SVG's endpoint-to-centre conversion (implementation notes F.6.5-F.6.6) as svgelements computes it: the centre
    (N, 2), the radii (N, 2) scaled up where the ends are too far apart, the rotation (N,) radians, the start's
    parameter t (N,) and the sweep (N,) radians, in (-2 pi, 0) without the sweep flag, [0, 2 pi) with it."""
    cos_r, sin_r = np.cos(phi), np.sin(phi)
    half = (start - end) / 2
    x1 = cos_r * half[:, 0] + sin_r * half[:, 1]
    y1 = -sin_r * half[:, 0] + cos_r * half[:, 1]
    x1_squared, y1_squared = x1 * x1, y1 * y1
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = x1_squared / (rx * rx) + y1_squared / (ry * ry)
        scale = np.where(fit > 1, np.sqrt(fit), 1.0)
        rx, ry = rx * scale, ry * scale
        rx_squared, ry_squared = rx * rx, ry * ry
        t1, t2 = rx_squared * y1_squared, ry_squared * x1_squared
        c = np.sqrt(np.abs((rx_squared * ry_squared - t1 - t2) / (t1 + t2)))
        c = np.where(large == sweep_flag, -c, c)
        cx, cy = c * rx * y1 / ry, -c * ry * x1 / rx
        middle = (start + end) / 2
        center = np.stack([cos_r * cx - sin_r * cy + middle[:, 0], sin_r * cx + cos_r * cy + middle[:, 1]], 1)
        ux, uy = (x1 - cx) / rx, (y1 - cy) / ry
        vx, vy = (-x1 - cx) / rx, (-y1 - cy) / ry
        cosine = np.clip((ux * vx + uy * vy) / np.sqrt((ux * ux + uy * uy) * (vx * vx + vy * vy)), -1.0, 1.0)
    delta = np.degrees(np.arccos(cosine))
    delta = np.mod(np.where(ux * vy - uy * vx < 0, -delta, delta), 360.0)
    delta = np.where(sweep_flag, delta, delta - 360.0)
    return center, np.stack([rx, ry], 1), phi, np.arctan2(uy, ux), 2 * np.pi * delta / 360.0


def _cubics(start: np.ndarray, end: np.ndarray, center: np.ndarray, radii: np.ndarray, rotation: np.ndarray,
            start_t: np.ndarray, sweep: np.ndarray, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cubics' starts, ends (K, 2) and controls (K, 2, 2) of arcs split into ``pieces`` (N,) equal steps of t,
    each arm alpha = sin(dt) (sqrt(4 + 3 tan^2(dt / 2)) - 1) / 3 times the derivative; an arc's first cubic starts
    at its start and its last ends at its end exactly."""
    arc = np.repeat(np.arange(len(pieces)), pieces)
    index = np.arange(len(arc)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    step = (sweep / np.maximum(pieces, 1))[arc]
    t0 = start_t[arc] + index * step
    t1 = t0 + step
    alpha = np.sin(step) * (np.sqrt(4 + 3 * np.tan(step / 2) ** 2) - 1) / 3
    cos_r, sin_r = np.cos(rotation)[arc], np.sin(rotation)[arc]
    rx, ry = radii[arc, 0], radii[arc, 1]

    def point(t: np.ndarray) -> np.ndarray:
        return center[arc] + np.stack([rx * np.cos(t) * cos_r - ry * np.sin(t) * sin_r,
                                       rx * np.cos(t) * sin_r + ry * np.sin(t) * cos_r], 1)

    def tangent(t: np.ndarray) -> np.ndarray:
        return np.stack([-rx * cos_r * np.sin(t) - ry * sin_r * np.cos(t),
                         -rx * sin_r * np.sin(t) + ry * cos_r * np.cos(t)], 1)

    first, last = index == 0, index == pieces[arc] - 1
    p0 = np.where(first[:, None], start[arc], point(t0))
    p1 = np.where(last[:, None], end[arc], point(t1))
    controls = np.stack([p0 + alpha[:, None] * tangent(t0), p1 - alpha[:, None] * tangent(t1)], 1)
    return p0, p1, controls
