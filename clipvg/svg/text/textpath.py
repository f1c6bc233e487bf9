"""The path a ``<textPath>`` follows: its referenced shape (a path or a basic shape, with that
element's transform) measured by arc length, for glyph positions and tangent angles along it."""
from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import numpy as np
from svgelements import SVG, Arc, Close, CubicBezier, Line, Move, QuadraticBezier, Shape

from ..document import SVG_NS
from .content import reference
from .style import Chain

SHAPES = ("path", "rect", "circle", "ellipse", "line", "polyline", "polygon")


class GuidePath:
    """Bézier segments (each (4, 2) cubic control points; lines as cubics with controls at 0.33 and
    0.66, as resvg makes them) measured by arc length.

    Positions along a segment are found as resvg finds them (kurbo's ``inv_arclen``: an ITP root
    search that stops within ``accuracy`` user units), so glyphs land where resvg puts them."""

    def __init__(self, cubics: list[np.ndarray], accuracy: float = 0.5) -> None:
        self.cubics = cubics
        self.accuracy = accuracy
        self.lengths = [_arclen(c, 0.0, 1.0) for c in cubics]
        self.length = float(sum(self.lengths))

    def at(self, distance: float) -> tuple[float, float, float] | None:
        """(x, y, tangent angle in degrees) at ``distance`` along the path; None beyond its ends."""
        if distance < 0:
            return None
        start = 0.0
        for cubic, length in zip(self.cubics, self.lengths):
            if start <= distance <= start + length:
                t = _inv_arclen(cubic, distance - start, length, self.accuracy)
                x, y = _eval(cubic, np.array([t]))[0]
                dx, dy = _derivative(cubic, t)
                return float(x), float(y), math.degrees(math.atan2(dy, dx))
            start += length
        return None


_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(24)


def _arclen(c: np.ndarray, t0: float, t1: float) -> float:
    """Arc length of cubic ``c`` between parameters t0 and t1 (Gauss-Legendre, 4 x 24 points)."""
    total = 0.0
    for a, b in zip(np.linspace(t0, t1, 5)[:-1], np.linspace(t0, t1, 5)[1:]):
        t = (b - a) / 2 * _GAUSS_X + (a + b) / 2
        u = 1 - t
        d = (3 * (u * u)[:, None] * (c[1] - c[0]) + 6 * (u * t)[:, None] * (c[2] - c[1])
             + 3 * (t * t)[:, None] * (c[3] - c[2]))
        total += (b - a) / 2 * float(np.sum(_GAUSS_W * np.hypot(d[:, 0], d[:, 1])))
    return total


def _inv_arclen(c: np.ndarray, target: float, total: float, accuracy: float) -> float:
    """The parameter where the arc length from 0 reaches ``target``, by kurbo's ITP search
    (k1 0.2, k2 2, n0 1) to ``accuracy`` / length in t."""
    if target <= 0:
        return 0.0
    if target >= total:
        return 1.0
    epsilon = accuracy / total
    a, b, ya, yb = 0.0, 1.0, -target, total - target
    n_max = 1 + max(math.ceil(math.log2((b - a) / epsilon)) - 1, 0)
    scaled = epsilon * (1 << n_max)
    while b - a > 2 * epsilon:
        middle = 0.5 * (a + b)
        r = scaled - 0.5 * (b - a)
        xf = (yb * a - ya * b) / (yb - ya)
        sigma = middle - xf
        delta = 0.2 * (b - a) ** 2
        xt = xf + math.copysign(delta, sigma) if delta <= abs(sigma) else middle
        x = xt if abs(xt - middle) <= r else middle - math.copysign(r, sigma)
        y = _arclen(c, 0.0, x) - target
        if y > 0:
            b, yb = x, y
        elif y < 0:
            a, ya = x, y
        else:
            return x
        scaled *= 0.5
    return 0.5 * (a + b)


def _eval(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    u = (1 - t)[:, None]
    t = t[:, None]
    return u ** 3 * c[0] + 3 * u * u * t * c[1] + 3 * u * t * t * c[2] + t ** 3 * c[3]


def _derivative(c: np.ndarray, t: float) -> tuple[float, float]:
    u = 1 - t
    d = 3 * u * u * (c[1] - c[0]) + 6 * u * t * (c[2] - c[1]) + 3 * t * t * (c[3] - c[2])
    if not np.any(d):  # a degenerate end (coincident control points): the chord's direction
        d = c[3] - c[0]
    return float(d[0]), float(d[1])


def _line(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """A line as resvg measures it: a cubic with controls at 0.33 and 0.66 of the way."""
    return np.array([start, start + (end - start) * 0.33, start + (end - start) * 0.66, end])


def _arc_cubics(arc: Arc, start: np.ndarray) -> list[np.ndarray]:
    """The (4, 2) cubics of an elliptical arc from ``start`` as resvg's path parser makes them
    (kurbo, tolerance 0.1): equal angle steps, each with control arms 4/3 tan(step / 4) of the
    ellipse's tangent; a line where a radius is under 1e-5 or the arc ends where it starts."""
    end = np.array([arc.end.x, arc.end.y], dtype=np.float64)
    if min(abs(arc.rx), abs(arc.ry)) <= 1e-5 or np.array_equal(start, end) or not arc.sweep:
        return [_line(start, end)]
    per_turn = max((1.1163 * max(abs(arc.rx), abs(arc.ry)) / 0.1) ** (1 / 6), 3.999999)
    pieces = max(1, math.ceil(per_turn * abs(arc.sweep) / (2 * math.pi)))
    step = arc.sweep / pieces
    arm = 4 / 3 * math.tan(step / 4)
    rotation = arc.get_rotation()
    axes = np.array([[math.cos(rotation), -math.sin(rotation)], [math.sin(rotation), math.cos(rotation)]])
    center = np.array([arc.center.x, arc.center.y], dtype=np.float64)

    def point(t: float) -> np.ndarray:
        return center + axes @ [arc.rx * math.cos(t), arc.ry * math.sin(t)]

    def tangent(t: float) -> np.ndarray:
        return axes @ [-arc.rx * math.sin(t), arc.ry * math.cos(t)]

    first = arc.get_start_t()
    cubics = []
    for k in range(pieces):
        t0, t1 = first + k * step, first + (k + 1) * step
        p0, p3 = point(t0), point(t1)
        cubics.append(np.array([p0, p0 + arm * tangent(t0), p3 - arm * tangent(t1), p3]))
    return cubics


def _cubics(shape: Shape) -> list[np.ndarray]:
    """(4, 2) cubics of ``shape`` in its parent's user space: made in the shape's own coordinates
    (arcs as resvg makes them), then moved by its transform, as resvg moves the made path."""
    cubics: list[np.ndarray] = []
    start = current = None
    for segment in shape.segments(transformed=False):
        if isinstance(segment, Move):
            start = current = np.array([segment.end.x, segment.end.y], dtype=np.float64)
            continue
        if current is None:
            start = current = np.array([segment.start.x, segment.start.y], dtype=np.float64)
        if isinstance(segment, (Line, Close)):
            cubics.append(_line(current, start if isinstance(segment, Close) else np.array([segment.end.x, segment.end.y])))
        elif isinstance(segment, QuadraticBezier):
            q = np.array([[current[0], current[1]], [segment.control.x, segment.control.y], [segment.end.x, segment.end.y]])
            cubics.append(np.array([q[0], q[0] + 2 / 3 * (q[1] - q[0]), q[2] + 2 / 3 * (q[1] - q[2]), q[2]]))
        elif isinstance(segment, CubicBezier):
            cubics.append(np.array([current, [segment.control1.x, segment.control1.y],
                                    [segment.control2.x, segment.control2.y], [segment.end.x, segment.end.y]]))
        elif isinstance(segment, Arc):
            cubics.extend(_arc_cubics(segment, current))
        else:
            continue
        current = cubics[-1][3].copy()
    m = shape.transform
    linear, offset = np.array([[m.a, m.c], [m.b, m.d]]), np.array([m.e, m.f])
    return [c @ linear.T + offset for c in cubics]


def guide(text_path: ET.Element, by_id: dict[str, ET.Element], scale: float = 1.0) -> GuidePath | None:
    """The guide path of ``text_path`` (its ``href`` to a path or basic shape), None when missing.
    ``scale`` is how much the text's transforms enlarge it: positions are found to 0.5 px."""
    target = reference(text_path, by_id)
    if target is None or target.tag.rsplit("}", 1)[-1] not in SHAPES:
        return None
    document = ET.Element(f"{{{SVG_NS}}}svg", {"width": "100", "height": "100"})
    document.append(ET.Element(target.tag, {k: v for k, v in target.attrib.items() if k != "id"}))
    try:
        shapes = [e for e in SVG.parse(io.BytesIO(ET.tostring(document)), reify=False).elements()
                  if isinstance(e, Shape)]
        cubics = _cubics(shapes[0]) if shapes else []
    except Exception:  # unreadable shape data: no path, as for a missing reference
        return None
    return GuidePath(cubics, 0.5 / max(scale, 1.0)) if cubics else None


def start_offset(text_path: ET.Element, chain: Chain, path: GuidePath, viewport: tuple[float, float]) -> float:
    """``startOffset`` in user units: a percentage of the path's length, or a length."""
    value = (text_path.get("startOffset") or "0").strip()
    if value.endswith("%"):
        try:
            return path.length * float(value[:-1]) / 100
        except ValueError:
            return 0.0
    return chain.to_user(value, viewport[0])
