"""Per-character ``x``/``y``/``dx``/``dy`` and ``rotate`` lists, resolved over nested tspans.

A character is a Unicode code point. An element's list applies to its own characters and its
descendants' in order (no further than its content; extra values are dropped); an inner element's
list overrides the outer one for its characters. ``rotate`` repeats its last value over the rest
of the element's characters. Lists on ``<textPath>`` are ignored, as browsers do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..document import local_name
from .content import Content

_SEPARATOR = re.compile(r"[\s,]+")


@dataclass
class Positions:
    """Per character: absolute x/y (None where not given), relative dx/dy and rotation in degrees."""

    x: list[float | None]
    y: list[float | None]
    dx: list[float]
    dy: list[float]
    rotate: list[float]


def _numbers(content: Content, index: int, name: str, relative: float | None) -> list[float] | None:
    """The element's list of lengths (``relative`` for %), or of plain numbers when ``relative`` is
    None; None when absent or unreadable."""
    element = content.elements[index]
    text = element.chain.elements[0].get(name)
    if text is None or not text.strip():
        return None
    values = []
    for item in _SEPARATOR.split(text.strip()):
        if item and relative is None:
            try:
                values.append(float(item))
            except ValueError:
                return None
        elif item:
            values.append(element.chain.to_user(item, relative, float("nan")))
    if any(v != v for v in values):  # an unreadable list is ignored as a whole
        return None
    return values


def resolve(content: Content, viewport: tuple[float, float]) -> Positions:
    """The position and rotate lists of all characters of ``content``; ``viewport`` (w, h) for %."""
    offsets = content.offsets()
    total = sum(len(n.text) for n in content.nodes)
    positions = Positions([None] * total, [None] * total, [0.0] * total, [0.0] * total, [0.0] * total)
    last_angle = 0.0
    for index, element in enumerate(content.elements):
        start = offsets[element.first] if element.first < len(offsets) else total
        count = sum(len(content.nodes[i].text) for i in range(element.first, element.end))
        if local_name(element.chain.elements[0].tag) != "textPath":
            for name, axis, target in (("x", 0, positions.x), ("y", 1, positions.y),
                                       ("dx", 0, positions.dx), ("dy", 1, positions.dy)):
                values = _numbers(content, index, name, viewport[axis])
                for i, value in enumerate((values or [])[:count]):
                    target[start + i] = value
        angles = _numbers(content, index, "rotate", None)
        if angles:
            for i in range(count):
                if i < len(angles):
                    last_angle = angles[i]
                positions.rotate[start + i] = last_angle
    return positions
