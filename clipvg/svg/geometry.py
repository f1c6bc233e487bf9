"""svgelements path segments -> Scene subpaths. Arcs become cubics; lines and Béziers are kept as they are."""
from __future__ import annotations

from dataclasses import dataclass
from math import pi
from typing import Iterable

import numpy as np

from svgelements import Arc, Close, CubicBezier, Line, Move, PathSegment, QuadraticBezier

from ..scene import Subpath

ARC_PIECE_SWEEP = pi / 4
"""Largest sweep (radians) of one cubic replacing part of an arc: radial error below 5e-6 x radius."""
ARC_PIECE_SLACK = 1e-6
"""How far past a whole number of ARC_PIECE_SWEEP an arc's sweep may be rounded and still take that many cubics (a
half circle is 4 whichever way its sweep was rounded: where the radii were scaled up to fit, the centre comes from a
square root of rounding noise, ~1e-8 of the radius)."""


def arc_piece_count(sweep: float | np.ndarray) -> float | np.ndarray:
    """The cubics an arc of ``sweep`` radians (any sign; an array too) is drawn as, as float(s)."""
    return np.ceil(np.abs(sweep) / ARC_PIECE_SWEEP - ARC_PIECE_SLACK)


@dataclass
class Contour:
    """One subpath in the element's own coordinates: ``points`` (K, 2) float64 (as Subpath lays them out),
    ``degrees`` (S,) and whether it is ``closed``."""

    points: np.ndarray
    degrees: list[int]
    closed: bool

    def mapped(self, transform: np.ndarray) -> Subpath:
        """The Subpath of this contour under ``transform`` ((3, 3), column vectors), e.g. to canvas px."""
        return Subpath(self.points @ transform[:2, :2].T + transform[:2, 2], self.degrees, self.closed)


class _Contour:
    """Points and segment degrees of one subpath being collected."""

    def __init__(self, start) -> None:
        self.points = [(start.x, start.y)]
        self.degrees: list[int] = []

    def add(self, degree: int, *points) -> None:
        self.points += [(p.x, p.y) for p in points]
        self.degrees.append(degree)

    def finish(self, closed: bool) -> Contour | None:
        if not self.degrees:
            return None
        return Contour(np.asarray(self.points[:-1] if closed else self.points, dtype=np.float64), self.degrees, closed)

    def add_arc(self, arc: Arc) -> None:
        """Append ``arc`` as cubics; per SVG, an arc with a zero radius is a line and one ending where
        it starts is omitted."""
        if arc.start == arc.end:
            return
        pieces = int(arc_piece_count(arc.sweep))
        if not pieces or arc.rx <= 0 or arc.ry <= 0:
            self.add(1, arc.end)
            return
        for cubic in arc.as_cubic_curves(pieces):
            self.add(3, cubic.control1, cubic.control2, cubic.end)


def to_contours(segments: Iterable[PathSegment]) -> list[Contour]:
    """The contours of a segment sequence in the element's own coordinates (map them with
    ``Contour.mapped``). Arcs are converted here, before any transform, which keeps them exact under skews.

    A ``Z`` whose closing line has zero length closes the subpath without a segment of its own, so
    ``M a C ... a Z`` is one closed cubic subpath; a ``Z`` with length adds a line back to the start.
    Subpaths without segments (a lone ``M``) are dropped.
    """
    contours: list[Contour] = []
    contour: _Contour | None = None
    previous: PathSegment | None = None
    quad_control = None  # the control point drawn for the last quadratic (svgelements reflects its own, unfixed one)

    def flush(closed: bool) -> None:
        finished = contour.finish(closed) if contour else None
        if finished is not None:
            contours.append(finished)

    for segment in segments:
        if isinstance(segment, Move):
            flush(False)
            contour = _Contour(segment.end)
            previous = segment
            continue
        if contour is None:
            contour = _Contour(segment.start)
        if isinstance(segment, Close):
            if segment.start != segment.end:
                contour.add(1, segment.end)
            flush(True)
            contour = None
        elif isinstance(segment, Line):
            contour.add(1, segment.end)
        elif isinstance(segment, QuadraticBezier):
            control = segment.control
            if getattr(segment, "smooth", False):  # T: the reflection of the control used for the previous Q/T
                control = segment.start * 2 - quad_control if isinstance(previous, QuadraticBezier) else segment.start
            contour.add(2, control, segment.end)
            quad_control = control
        elif isinstance(segment, CubicBezier):
            # per SVG, S/T reflect the previous control point only after a segment of their own degree
            smooth_after_other = getattr(segment, "smooth", False) and not isinstance(previous, CubicBezier)
            contour.add(3, segment.start if smooth_after_other else segment.control1, segment.control2, segment.end)
        elif isinstance(segment, Arc):
            contour.add_arc(segment)
        previous = segment
    flush(False)
    return contours
