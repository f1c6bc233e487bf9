"""SVG markers: where each marker goes on a shape and the transform its content is drawn through.

A shape's segments (svgelements, user units) become a list of vertices as resvg/usvg sees them
(arcs split into cubics as usvg splits them, quadratics raised to cubics); each vertex gets a
``marker-start`` (first), ``marker-mid`` (every other vertex but close-path ones) or ``marker-end``
(last; a close-path ends at its subpath's start) marker. ``orient="auto"`` points a marker along the
path: the out-direction at the start, the in-direction at the end, and the bisector of the in- and
out-directions at a join; ``auto-start-reverse`` turns the start marker round. Zero-length control
arms fall back to the next distinct control point. The reader draws each marker's content through
``marker_placement``'s matrix, clipped to its viewport unless ``overflow`` is visible.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
from svgelements import Arc, Close, CubicBezier, Line, Matrix, Move, QuadraticBezier, Viewbox

from .css import declared
from .document import user_length
from .paint import matrix3, number

KINDS = ("marker-start", "marker-mid", "marker-end")
ARC_TOLERANCE = 0.1  # user units: usvg's arc flattening tolerance, which sets how many cubics an arc becomes
_ANGLE_UNITS = {"deg": 1.0, "grad": 0.9, "rad": 180.0 / math.pi, "turn": 360.0, "": 1.0}


@dataclass
class Vertex:
    """One marker position: ``kind`` (one of KINDS), the point (user units), the auto angle (degrees)."""

    kind: str
    x: float
    y: float
    angle: float


def drop_marker_attributes(root: ET.Element) -> None:
    """Remove ``marker`` XML attributes in place: the shorthand is a CSS property only (SVG ignores
    it as an attribute), and svgelements would not tell the two apart."""
    for element in root.iter():
        element.attrib.pop("marker", None)


def marker_references(values: dict) -> dict[str, str]:
    """The ``url(#id)`` value of each marker kind set on a shape (cascaded ``values``; a longhand
    wins over the ``marker`` shorthand)."""
    shorthand = values.get("marker")
    found = {}
    for kind in KINDS:
        value = values.get(kind) or shorthand
        if value and value.strip() != "none":
            found[kind] = value
    return found


def vertices(segments: list) -> list[Vertex]:
    """Marker vertices of a shape's svgelements ``segments`` (user units), in drawing order."""
    path = _usvg_segments(segments)
    if len(path) < 2:
        return []
    found = [Vertex("marker-start", *_point(path, 0), _angle(path, 0))]
    for index in range(1, len(path) - 1):
        if path[index][0] != "Z":
            found.append(Vertex("marker-mid", *_point(path, index), _angle(path, index)))
    last = len(path) - 1
    found.append(Vertex("marker-end", *_point(path, last), _angle(path, last)))
    return found


def marker_placement(element: ET.Element, ctm: np.ndarray, vertex: Vertex, stroke_width: float,
                     viewport: tuple[float, float]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(content matrix (3, 3): marker content units -> canvas px, clip polygon (4, 2) canvas px or None
    when ``overflow`` is visible) for one marker instance, or None when the marker draws nothing
    (zero or negative size, empty viewBox). ``ctm`` (3, 3): the shape's user units -> canvas px."""
    width = user_length(element.get("markerWidth") or "3", viewport[0])
    height = user_length(element.get("markerHeight") or "3", viewport[1])
    if not (width > 0 and height > 0):
        return None
    orient = (element.get("orient") or "0").strip()
    if orient in ("auto", "auto-start-reverse"):
        angle = vertex.angle + (180.0 if orient == "auto-start-reverse" and vertex.kind == "marker-start" else 0.0)
    else:
        angle = _orient_angle(orient)
    scale = 1.0 if element.get("markerUnits") == "userSpaceOnUse" else stroke_width
    radians = math.radians(angle)
    cos, sin = math.cos(radians), math.sin(radians)
    base = ctm @ np.array([[cos * scale, -sin * scale, vertex.x], [sin * scale, cos * scale, vertex.y], [0, 0, 1.0]])
    view = np.eye(3)
    if element.get("viewBox"):
        try:
            box = Viewbox(element.get("viewBox"))
        except ValueError:
            return None
        if not (box.width and box.height and box.width > 0 and box.height > 0):
            return None
        view = matrix3(Matrix(Viewbox.viewbox_transform(0, 0, width, height, box.x, box.y, box.width, box.height,
                                                        element.get("preserveAspectRatio"))))
    ref = view @ np.array([_ref(element, "refX", viewport[0]), _ref(element, "refY", viewport[1]), 1.0])
    frame = base @ np.array([[1.0, 0, -ref[0]], [0, 1.0, -ref[1]], [0, 0, 1.0]])
    clip = None
    if (declared(element).get("overflow") or "hidden") not in ("visible", "auto"):
        corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1.0]]) @ frame.T
        clip = corners[:, :2]
    return frame @ view, clip


def paint_order(value: str | None) -> list[str]:
    """The CSS ``paint-order`` as a full order of "fill", "stroke", "markers" (normal or invalid: that order)."""
    default = ["fill", "stroke", "markers"]
    words = (value or "normal").split()
    if words == ["normal"] or not words or len(set(words)) != len(words) or any(w not in default for w in words):
        return default
    return words + [w for w in default if w not in words]


def _ref(element: ET.Element, name: str, relative: float) -> float:
    try:
        return user_length(element.get(name) or "0", relative)
    except ValueError:  # SVG 2 keywords (left, center, ...): not supported, as in resvg
        return 0.0


def _orient_angle(text: str) -> float:
    match = re.fullmatch(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(deg|grad|rad|turn)?", text)
    if match is None:
        return 0.0
    return number(match.group(1), 0.0) * _ANGLE_UNITS[match.group(2) or ""]


# ---------------------------------------------------------------------- vertices and angles
def _usvg_segments(segments: list) -> list[tuple]:
    """("M", p) / ("L", p) / ("C", c1, c2, p) / ("Z",) tuples (points as (2,) arrays)."""
    path: list[tuple] = []
    for segment in segments:
        if isinstance(segment, Move):
            path.append(("M", _xy(segment.end)))
        elif not path:
            continue
        elif isinstance(segment, Close):
            path.append(("Z",))
        elif isinstance(segment, Line):
            path.append(("L", _xy(segment.end)))
        elif isinstance(segment, QuadraticBezier):
            p0, c, p = _xy(segment.start), _xy(segment.control), _xy(segment.end)
            path.append(("C", p0 + 2 / 3 * (c - p0), p + 2 / 3 * (c - p), p))
        elif isinstance(segment, CubicBezier):
            path.append(("C", _xy(segment.control1), _xy(segment.control2), _xy(segment.end)))
        elif isinstance(segment, Arc):
            path.extend(_arc_cubics(segment))
    return path


def _xy(point) -> np.ndarray:
    return np.array([float(point[0]), float(point[1])])


def _arc_cubics(arc: Arc) -> list[tuple]:
    """An arc as the cubics usvg makes of it (equal angle steps); control arms along the tangents."""
    if arc.rx == 0 or arc.ry == 0 or arc.sweep == 0:
        return [("L", _xy(arc.end))]
    steps_per_turn = max((1.1163 * max(abs(arc.rx), abs(arc.ry)) / ARC_TOLERANCE) ** (1 / 6), 3.999999)
    count = max(1, math.ceil(steps_per_turn * abs(arc.sweep) / (2 * math.pi)))
    ts = np.linspace(0.0, 1.0, count + 1)
    eps = 1e-4 / count
    cubics = []
    for t0, t1 in zip(ts[:-1], ts[1:]):
        p0, p1 = _xy(arc.point(t0)), _xy(arc.point(t1))
        d0 = _xy(arc.point(min(t0 + eps, 1.0))) - _xy(arc.point(max(t0 - eps, 0.0)))
        d1 = _xy(arc.point(min(t1 + eps, 1.0))) - _xy(arc.point(max(t1 - eps, 0.0)))
        arm = np.linalg.norm(p1 - p0) / 3
        cubics.append(("C", p0 + _unit(d0) * arm, p1 - _unit(d1) * arm, p1 if t1 < 1 else _xy(arc.end)))
    return cubics


def _unit(v: np.ndarray) -> np.ndarray:
    length = float(np.hypot(*v))
    return v / length if length > 0 else v


def _subpath_start(path: list[tuple], index: int) -> np.ndarray:
    for k in range(index, -1, -1):
        if path[k][0] == "M":
            return path[k][1]
    return path[0][1]


def _end(path: list[tuple], index: int) -> np.ndarray:
    """The point segment ``index`` ends at (a close-path ends at its subpath's start)."""
    return _subpath_start(path, index) if path[index][0] == "Z" else path[index][-1]


def _point(path: list[tuple], index: int) -> tuple[float, float]:
    x, y = _end(path, index)
    return float(x), float(y)


def _out_direction(path: list[tuple], index: int) -> np.ndarray:
    """Direction leaving the start of segment ``index`` (its first control point distinct from its start)."""
    start = _end(path, index - 1)
    segment = path[index]
    candidates = [_subpath_start(path, index)] if segment[0] == "Z" else list(segment[1:])
    for point in candidates:
        if not np.allclose(point, start, rtol=0, atol=1e-9):
            return point - start
    return np.zeros(2)


def _in_direction(path: list[tuple], index: int) -> np.ndarray:
    """Direction arriving at the end of segment ``index`` (from its last control point distinct from its end)."""
    end = _end(path, index)
    segment = path[index]
    candidates = [] if segment[0] == "Z" else list(segment[1:-1])[::-1]
    for point in candidates + [_end(path, index - 1)]:
        if not np.allclose(point, end, rtol=0, atol=1e-9):
            return end - point
    return np.zeros(2)


def _angle(path: list[tuple], index: int) -> float:
    """The ``orient="auto"`` angle (degrees) at the vertex ending segment ``index``."""
    kind = path[index][0]
    following = path[index + 1][0] if index + 1 < len(path) else None
    if index == 0 or kind == "M":
        return _direction_angle(_out_direction(path, index + 1)) if following in ("L", "C", "Z") else 0.0
    if following is None or following == "M":
        return _direction_angle(_in_direction(path, index))
    if kind == "Z":
        return 0.0
    return _bisector(_in_direction(path, index), _out_direction(path, index + 1))


def _direction_angle(v: np.ndarray) -> float:
    return math.degrees(math.atan2(v[1], v[0])) if (v[0] or v[1]) else 0.0


def _bisector(incoming: np.ndarray, outgoing: np.ndarray) -> float:
    """Degrees halfway between two directions (resvg's rule: the half-turn-or-less way round)."""
    turn = 2 * math.pi
    a = math.atan2(incoming[1], incoming[0]) % turn
    b = math.atan2(outgoing[1], outgoing[0]) % turn
    half = (b - a) / 2
    angle = a + half
    if abs(half) > math.pi / 2:
        angle -= math.pi
    return math.degrees(angle % turn)


__all__ = ["KINDS", "Vertex", "drop_marker_attributes", "marker_placement", "marker_references", "paint_order", "vertices"]
