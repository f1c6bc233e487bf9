"""An independent reference for the hypothesis tests of the SVG parsers: path data interpreted per the
SVG 1.1 spec (implicit commands, reflections, arcs by the endpoint-to-centre conversion of its
appendix F.6), sampled densely; the 2x3 matrix of a transform list; lengths in pixels at 96 dpi.
Written from the spec, not from the parser under test (which builds on svgelements)."""
from __future__ import annotations

import math
import re

import numpy as np

ARGUMENTS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7, "Z": 0}
UNITS = {"": 1.0, "px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "pt": 96 / 72, "pc": 16.0}
SAMPLES = 200  # per segment (chord sag of a half circle of radius 100: 0.003)


def bezier(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(len(t), 2) points of the Bézier with control ``points`` (degree + 1, 2) at ``t``, by de Casteljau."""
    layer = np.repeat(points[None], len(t), 0)
    while layer.shape[1] > 1:
        layer = layer[:, :-1] + (layer[:, 1:] - layer[:, :-1]) * t[:, None, None]
    return layer[:, 0]


def _arc(start, rx, ry, angle, large, sweep, end, t):
    """Points of an elliptical arc at ``t`` in [0, 1] (SVG 1.1 F.6.5 and F.6.6); a line when a radius is 0."""
    (x1, y1), (x2, y2) = start, end
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return bezier(np.array([start, end]), t)
    phi = math.radians(angle % 360)
    cos, sin = math.cos(phi), math.sin(phi)
    dx, dy = (x1 - x2) / 2, (y1 - y2) / 2
    xp, yp = cos * dx + sin * dy, -sin * dx + cos * dy
    scale = xp * xp / (rx * rx) + yp * yp / (ry * ry)
    if scale > 1:
        rx, ry = rx * math.sqrt(scale), ry * math.sqrt(scale)
    numerator = rx * rx * ry * ry - rx * rx * yp * yp - ry * ry * xp * xp
    root = math.sqrt(max(0.0, numerator / (rx * rx * yp * yp + ry * ry * xp * xp)))
    if large == sweep:
        root = -root
    cxp, cyp = root * rx * yp / ry, -root * ry * xp / rx
    cx, cy = cos * cxp - sin * cyp + (x1 + x2) / 2, sin * cxp + cos * cyp + (y1 + y2) / 2

    def angle_of(ux, uy, vx, vy):
        return math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)

    theta = angle_of(1, 0, (xp - cxp) / rx, (yp - cyp) / ry)
    delta = angle_of((xp - cxp) / rx, (yp - cyp) / ry, (-xp - cxp) / rx, (-yp - cyp) / ry)
    if not sweep and delta > 0:
        delta -= 2 * math.pi
    elif sweep and delta < 0:
        delta += 2 * math.pi
    a = theta + delta * t
    ex, ey = rx * np.cos(a), ry * np.sin(a)
    return np.stack([cos * ex - sin * ey + cx, sin * ex + cos * ey + cy], 1)


def path_samples(d: str) -> list[tuple[np.ndarray, bool]]:
    """(points (N, 2), closed) of each subpath of path data ``d`` that has a segment: ``SAMPLES``
    points per segment (the closing line of a Z included)."""
    tokens = re.findall(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", d)
    current = start = np.zeros(2)
    subpaths: list[tuple[list[np.ndarray], bool]] = []
    pieces: list[np.ndarray] = []
    last_control, last_kind = None, ""
    t = np.linspace(0, 1, SAMPLES)
    i, command = 0, ""

    def flush(closed: bool) -> None:
        if pieces:
            subpaths.append((list(pieces), closed))
        pieces.clear()

    while i < len(tokens):
        if tokens[i].isalpha():
            command, i = tokens[i], i + 1
        count = ARGUMENTS[command.upper()]
        values = [float(v) for v in tokens[i:i + count]]
        i += count
        relative, kind = command.islower(), command.upper()
        base = current if relative else np.zeros(2)
        if kind == "Z":
            if np.any(current != start):
                pieces.append(bezier(np.array([current, start]), t))
            flush(True)
            current, last_kind = start, "Z"
            continue
        if kind == "M":
            flush(False)
            current = start = base + values
            command = "l" if relative else "L"  # further pairs are lines
            last_kind = "M"
            continue
        if kind == "H":
            end = np.array([current[0] * relative + values[0], current[1]])
        elif kind == "V":
            end = np.array([current[0], current[1] * relative + values[0]])
        elif kind == "A":
            end = base + values[5:7]
            if np.any(end != current):
                pieces.append(_arc(current, values[0], values[1], values[2], values[3] != 0, values[4] != 0, end, t))
            current, last_kind = end, "A"
            continue
        else:
            end = base + values[-2:]
        if kind in ("L", "H", "V"):
            controls = [current, end]
        elif kind == "C":
            controls = [current, base + values[0:2], base + values[2:4], end]
        elif kind == "S":
            first = 2 * current - last_control if last_kind in ("C", "S") else current
            controls = [current, first, base + values[0:2], end]
        elif kind == "Q":
            controls = [current, base + values[0:2], end]
        else:  # T
            controls = [current, 2 * current - last_control if last_kind in ("Q", "T") else current, end]
        pieces.append(bezier(np.array(controls, dtype=float), t))
        last_control, last_kind, current = controls[-2], kind, end
    flush(False)
    return [(np.concatenate(p), closed) for p, closed in subpaths]


def subpath_samples(points: np.ndarray, degrees: np.ndarray, closed: bool) -> np.ndarray:
    """Dense samples of a Scene subpath (its ``points``/``degrees``/``closed``, see ``clipvg.scene.Subpath``)."""
    points = np.asarray(points, dtype=float)
    if closed:
        points = np.concatenate([points, points[:1]])
    t, out, at = np.linspace(0, 1, 64), [], 0
    for degree in degrees:
        out.append(bezier(points[at:at + degree + 1], t))
        at += degree
    return np.concatenate(out)


def distance_to_polyline(samples: np.ndarray, polyline: np.ndarray) -> float:
    """The largest distance from a point of ``samples`` (N, 2) to the polyline through ``polyline`` (M, 2)."""
    a, b = polyline[:-1], polyline[1:]
    ab = b - a
    length = np.maximum((ab ** 2).sum(1), 1e-18)
    t = np.clip(((samples[:, None] - a[None]) * ab[None]).sum(2) / length[None], 0, 1)
    nearest = a[None] + t[..., None] * ab[None]
    return float(np.sqrt(((samples[:, None] - nearest) ** 2).sum(2)).min(1).max()) if len(polyline) > 1 else \
        float(np.sqrt(((samples - polyline[0]) ** 2).sum(1)).max())


def transform_matrix(items: list[tuple[str, list[float]]]) -> np.ndarray:
    """The (3, 3) matrix of a transform list [(name, numbers)], applied right to left as SVG says."""
    matrix = np.eye(3)
    for name, v in items:
        if name == "matrix":
            m = [[v[0], v[2], v[4]], [v[1], v[3], v[5]], [0, 0, 1]]
        elif name == "translate":
            m = [[1, 0, v[0]], [0, 1, v[1] if len(v) > 1 else 0], [0, 0, 1]]
        elif name == "scale":
            m = [[v[0], 0, 0], [0, v[1] if len(v) > 1 else v[0], 0], [0, 0, 1]]
        elif name == "rotate":
            a = math.radians(v[0])
            cx, cy = (v[1], v[2]) if len(v) == 3 else (0, 0)
            rotation = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
            m = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]]) @ rotation @ np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
        elif name == "skewX":
            m = [[1, math.tan(math.radians(v[0])), 0], [0, 1, 0], [0, 0, 1]]
        else:  # skewY
            m = [[1, 0, 0], [math.tan(math.radians(v[0])), 1, 0], [0, 0, 1]]
        matrix = matrix @ np.asarray(m, dtype=float)
    return matrix


def viewbox_matrix(width: float, height: float, box: tuple[float, float, float, float], align: str,
                   slice_: bool) -> np.ndarray:
    """The viewport transform of SVG 1.1 7.8 for a ``width`` x ``height`` viewport, viewBox ``box``
    and preserveAspectRatio ``align`` ("none" or xMinYMid-style) with meet or ``slice_``."""
    x, y, w, h = box
    sx, sy = width / w, height / h
    if align != "none":
        sx = sy = max(sx, sy) if slice_ else min(sx, sy)
    tx, ty = -x * sx, -y * sy
    if align != "none":
        fx = {"xMin": 0.0, "xMid": 0.5, "xMax": 1.0}[align[:4]]
        fy = {"YMin": 0.0, "YMid": 0.5, "YMax": 1.0}[align[4:]]
        tx += (width - w * sx) * fx
        ty += (height - h * sy) * fy
    return np.array([[sx, 0, tx], [0, sy, ty], [0, 0, 1]])
