"""The path a ``<textPath>`` follows: its referenced shape (a path or a basic shape, with that
element's transform) measured by arc length, for glyph positions and tangent angles along it."""
from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import numpy as np
from svgelements import SVG, Arc, Close, CubicBezier, Line, Move, QuadraticBezier, Shape

from ..document import SVG_NS, XLINK_HREF
from .style import Chain

SHAPES = ("path", "rect", "circle", "ellipse", "line", "polyline", "polygon")
_SAMPLES = 64  # arc-length samples per segment


class GuidePath:
    """Bézier segments (each (4, 2) cubic control points) with cumulative arc length tables."""

    def __init__(self, cubics: list[np.ndarray]) -> None:
        self.cubics = cubics
        t = np.linspace(0.0, 1.0, _SAMPLES + 1)
        self.t = t
        self.tables = []
        total = 0.0
        for c in cubics:
            points = _eval(c, t)
            lengths = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
            self.tables.append(total + lengths)
            total += float(lengths[-1])
        self.length = total

    def at(self, distance: float) -> tuple[float, float, float] | None:
        """(x, y, tangent angle in degrees) at ``distance`` along the path; None beyond its ends."""
        if distance < 0 or distance > self.length + 1e-9 or not self.cubics:
            return None
        for cubic, table in zip(self.cubics, self.tables):
            if distance <= table[-1] + 1e-9:
                t = float(np.interp(distance, table, self.t))
                x, y = _eval(cubic, np.array([t]))[0]
                dx, dy = _derivative(cubic, t)
                return float(x), float(y), math.degrees(math.atan2(dy, dx))
        return None


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


def _cubics(shape: Shape) -> list[np.ndarray]:
    cubics: list[np.ndarray] = []
    start = current = None
    for segment in shape.segments(transformed=True):
        if isinstance(segment, Move):
            start = current = np.array([segment.end.x, segment.end.y], dtype=np.float64)
            continue
        if current is None:
            start = current = np.array([segment.start.x, segment.start.y], dtype=np.float64)
        if isinstance(segment, (Line, Close)):
            end = start if isinstance(segment, Close) else np.array([segment.end.x, segment.end.y])
            cubics.append(np.array([current, current + (end - current) * 0.33, current + (end - current) * 0.66, end]))
        elif isinstance(segment, QuadraticBezier):
            q = np.array([[current[0], current[1]], [segment.control.x, segment.control.y], [segment.end.x, segment.end.y]])
            cubics.append(np.array([q[0], q[0] + 2 / 3 * (q[1] - q[0]), q[2] + 2 / 3 * (q[1] - q[2]), q[2]]))
        elif isinstance(segment, CubicBezier):
            cubics.append(np.array([current, [segment.control1.x, segment.control1.y],
                                    [segment.control2.x, segment.control2.y], [segment.end.x, segment.end.y]]))
        elif isinstance(segment, Arc):
            for piece in segment.as_cubic_curves(max(1, int(math.ceil(abs(segment.sweep) / (math.pi / 4))))):
                cubics.append(np.array([[piece.start.x, piece.start.y], [piece.control1.x, piece.control1.y],
                                        [piece.control2.x, piece.control2.y], [piece.end.x, piece.end.y]]))
        else:
            continue
        current = cubics[-1][3].copy()
    return cubics


def guide(text_path: ET.Element, by_id: dict[str, ET.Element]) -> GuidePath | None:
    """The guide path of ``text_path`` (its ``href`` to a path or basic shape), None when missing."""
    target = by_id.get((text_path.get("href") or text_path.get(XLINK_HREF) or "").strip().lstrip("#"))
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
    return GuidePath(cubics) if cubics else None


def start_offset(text_path: ET.Element, chain: Chain, path: GuidePath, viewport: tuple[float, float]) -> float:
    """``startOffset`` in user units: a percentage of the path's length, or a length."""
    value = (text_path.get("startOffset") or "0").strip()
    if value.endswith("%"):
        try:
            return path.length * float(value[:-1]) / 100
        except ValueError:
            return 0.0
    return chain.to_user(value, viewport[0])
