"""SVG paint -> Scene paint: colours with their opacities, and linear/radial gradients resolved for
the element they paint (``href`` chains, units, ``gradientTransform``, ``spreadMethod``)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from math import sqrt
from typing import Callable

import numpy as np
from svgelements import Matrix

from ..scene import SPREADS, GradientStops, LinearGradient, Paint, RadialGradient, Solid
from .colors import parse_color
from .css import properties
from .document import XLINK_HREF, local_name, user_length

GRADIENTS = ("linearGradient", "radialGradient")
LEADING_STEP = 1e-6
"""Gap put between stops at the first offset, so the first of them pads the gradient's start (as
browsers and resvg draw it) while the last one starts the ramp."""
BBox = tuple[float, float, float, float]


def number(text: str | None, default: float) -> float:
    """``'0.5'`` or ``'50%'`` -> 0.5; missing or unreadable -> ``default``."""
    if text is None:
        return default
    text = text.strip()
    try:
        return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return default


def unit_number(text: str | None, default: float = 1.0) -> float:
    """A number clamped to [0, 1] (opacities, stop offsets)."""
    return min(max(number(text, default), 0.0), 1.0)


def matrix3(m: Matrix) -> np.ndarray:
    """svgelements Matrix -> (3, 3) float64 acting on column vectors (x, y, 1)."""
    return np.array([[m.a, m.c, m.e], [m.b, m.d, m.f], [0.0, 0.0, 1.0]])


def solid(text: str, opacity: float) -> Solid | None:
    """A CSS colour times ``opacity``; None for 'none' or an empty value."""
    rgba = parse_color(text)
    if rgba is None:
        return None
    return Solid((rgba[0], rgba[1], rgba[2], rgba[3] * opacity))


class PaintServers:
    """Resolves ``fill``/``stroke`` values of one document, including ``url(#gradient)`` references.

    ``viewport`` is the user-space size (viewBox size, or canvas size without a viewBox) that
    percentages of ``userSpaceOnUse`` gradients refer to.
    """

    def __init__(self, root: ET.Element, viewport: tuple[float, float]) -> None:
        self._by_id = {element.get("id"): element for element in root.iter() if element.get("id")}
        self._viewport = viewport
        self.unresolved: dict[str, int] = {}  # kinds of paint servers drawn with their fallback
        self.notes: Counter[str] = Counter()  # paint servers drawn approximately

    def paint(self, value: str | None, opacity: float, ctm: Matrix, bbox: Callable[[], BBox | None]
              ) -> Paint | None:
        """The Scene paint for an SVG paint ``value`` on an element with transform ``ctm``; ``bbox()``
        gives its user-space bounding box (computed only for bounding-box gradients). Unknown references (patterns, missing ids) use the fallback colour or none."""
        if value is None:
            return None
        value = value.strip()
        if value.startswith("url("):
            reference, _, fallback = value.partition(")")
            element = self._by_id.get(reference[4:].strip(" '\"").lstrip("#"))
            if element is not None and local_name(element.tag) in GRADIENTS:
                gradient = self._gradient(element, opacity, matrix3(ctm), bbox)
                if gradient is not None or not fallback.strip():
                    return gradient
            else:  # without stops or on a flat bounding box, a gradient gives way to the fallback, as in resvg
                kind = f"{local_name(element.tag)} paint" if element is not None else "missing paint reference"
                self.unresolved[kind] = self.unresolved.get(kind, 0) + 1
            value = fallback.strip()
        return solid(value, opacity)

    def _chain(self, element: ET.Element) -> list[ET.Element]:
        """``element`` and the gradients it inherits from through ``href``, nearest first."""
        chain = [element]
        while True:
            reference = chain[-1].get("href") or chain[-1].get(XLINK_HREF) or ""
            parent = self._by_id.get(reference.lstrip("#"))
            if parent is None or parent in chain or local_name(parent.tag) not in GRADIENTS:
                return chain
            chain.append(parent)

    def _gradient(self, element: ET.Element, opacity: float, ctm: np.ndarray,
                  element_bbox: Callable[[], BBox | None]) -> Paint | None:
        chain = self._chain(element)
        kind = local_name(element.tag)

        def attr(name: str, default: str | None = None, own_kind: bool = False) -> str | None:
            for source in chain:
                if source.get(name) is not None and (not own_kind or local_name(source.tag) == kind):
                    return source.get(name)
            return default

        stops = next((_stops(source, opacity) for source in chain if source.find("{*}stop") is not None), None)
        if stops is None:
            return None
        if attr("gradientUnits") == "userSpaceOnUse":
            frame, similarity = np.eye(3), np.eye(3)
            width, height = self._viewport
            size = (width, height, sqrt((width ** 2 + height ** 2) / 2))

            def length(text: str, axis: int) -> float:
                return user_length(text, size[axis])
        else:
            bbox = element_bbox()
            if bbox is None or bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
                return None  # per SVG, a bounding-box gradient on a flat shape paints nothing
            x0, y0, width, height = bbox[0], bbox[1], bbox[2] - bbox[0], bbox[3] - bbox[1]
            frame = np.array([[width, 0, x0], [0, height, y0], [0, 0, 1.0]])
            scale = sqrt(width * height)
            similarity = np.array([[scale, 0, x0], [0, scale, y0], [0, 0, 1.0]])

            def length(text: str, axis: int) -> float:
                return number(text, 0.0)
        # Coordinates are moved into pixel scale by a similarity, which keeps the gradient exact.
        gradient_transform = matrix3(Matrix(attr("gradientTransform", "")))
        transform = ctm @ frame @ gradient_transform @ np.linalg.inv(similarity)
        matrix = tuple(float(v) for v in transform[:2].T.reshape(-1))
        spread = attr("spreadMethod", "pad")
        spread = spread if spread in SPREADS else "pad"

        def point(x: str, y: str) -> tuple[float, float]:
            mapped = similarity @ np.array([length(x, 0), length(y, 1), 1.0])
            return float(mapped[0]), float(mapped[1])

        if len(stops.offsets) == 1:
            return Solid(tuple(float(v) for v in stops.colors[0]))
        if kind == "linearGradient":
            start = point(attr("x1", "0%", True), attr("y1", "0%", True))
            end = point(attr("x2", "100%", True), attr("y2", "0%", True))
            if start == end:
                return Solid(tuple(float(v) for v in stops.colors[-1]))
            return LinearGradient(start, end, stops, matrix, spread)
        cx, cy = attr("cx", "50%", True), attr("cy", "50%", True)
        radius = length(attr("r", "50%", True), 2) * similarity[0, 0]
        if radius <= 0:
            return Solid(tuple(float(v) for v in stops.colors[-1]))
        focal_radius = length(attr("fr", "0%", True), 2) * similarity[0, 0]
        if focal_radius > 0:  # the ramp runs from the focal circle to the circle (exact when centred)
            if spread != "pad" or attr("fx", cx, True) != cx or attr("fy", cy, True) != cy:
                self.notes["radial gradient fr with a focal point or spread (approximated)"] += 1
            stops, radius = _focal_circle(stops, radius, focal_radius)
        center, focal = point(cx, cy), point(attr("fx", cx, True), attr("fy", cy, True))
        return RadialGradient(center, radius, stops, focal, matrix, spread)  # a focal point outside: a cone


def _focal_circle(stops: GradientStops, radius: float, focal_radius: float) -> tuple[GradientStops, float]:
    """Stops and radius of a centred radial gradient whose ramp starts on the circle ``focal_radius``
    and ends on ``radius`` (either may be the larger), as an ordinary gradient from the centre."""
    outer = max(radius, focal_radius)
    offsets = (focal_radius + stops.offsets * (radius - focal_radius)) / outer
    order = np.argsort(offsets, kind="stable")
    return GradientStops(offsets[order], stops.colors[order]), outer


def _stops(gradient: ET.Element, opacity: float) -> GradientStops:
    """The ``<stop>`` children of ``gradient``: offsets made non-decreasing, colours times ``opacity``."""
    offsets, colors, previous = [], [], 0.0
    for stop in gradient.findall("{*}stop"):
        style = properties(stop)
        previous = max(previous, unit_number(stop.get("offset"), 0.0))
        color = solid(style.get("stop-color", "black"), unit_number(style.get("stop-opacity")) * opacity)
        offsets.append(previous)
        colors.append(color.rgba if color else (0.0, 0.0, 0.0, 0.0))
    for k in range(1, len(offsets)):  # stops sharing the first offset: the first one pads before it
        if offsets[k] == offsets[0]:
            offsets[k] += k * LEADING_STEP
    return GradientStops(np.maximum.accumulate(np.array(offsets)), np.array(colors))
