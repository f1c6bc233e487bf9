"""SVG ``<pattern>`` paint servers: their attributes through ``href`` chains and the layout of their
tile, as resvg resolves them.

A tile is laid out in *tile px*: the pattern's tile coordinates (origin at its x, y) scaled along each
axis by the length that axis has on the canvas, so one tile px is about one canvas px and the tile's
content can be drawn into a texture at the canvas's resolution (``clipvg.render.pattern``).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable

import numpy as np
from svgelements import Matrix, Viewbox

from .document import XLINK_HREF, local_name, user_length
from .paint import BBox, matrix3, number

MAX_CHAIN = 16  # href links followed at most
UNITS = ("userSpaceOnUse", "objectBoundingBox")


def units_value(value: str | None, default: str) -> str:
    """A ``*Units`` attribute's value: ``default`` when missing or neither of UNITS."""
    return value if value in UNITS else default


def pattern_chain(element: ET.Element, definitions: dict[str, ET.Element]) -> list[ET.Element]:
    """``element`` and the ``<pattern>`` elements its ``href`` links lead to, in order (a loop or a
    link to anything else ends it)."""
    chain = [element]
    while len(chain) < MAX_CHAIN:
        link = (chain[-1].get("href") or chain[-1].get(XLINK_HREF) or "").strip().lstrip("#")
        parent = definitions.get(link) if link else None
        if parent is None or local_name(parent.tag) != "pattern" or any(parent is c for c in chain):
            break
        chain.append(parent)
    return chain


def chain_attr(chain: list[ET.Element], name: str, default: str | None = None) -> str | None:
    """The first value of attribute ``name`` along a pattern's ``href`` chain, or ``default``."""
    return next((e.get(name) for e in chain if e.get(name) is not None), default)


@dataclass
class Tile:
    """A pattern's tile: ``content`` (the ``<pattern>`` whose children are drawn) through
    ``content_matrix`` (3, 3) (content units -> tile px) in a tile of ``size`` (w, h) tile px placed by
    ``transform`` (a..f, tile px -> canvas px), sampled as ``sampling`` says (see ``Pattern``)."""

    content: ET.Element
    content_matrix: np.ndarray
    size: tuple[float, float]
    transform: tuple[float, float, float, float, float, float]
    sampling: str = "auto"


def tile_of(chain: list[ET.Element], space: np.ndarray, bbox: Callable[[], BBox | None],
            viewport: tuple[float, float], element: np.ndarray | None = None) -> Tile | None:
    """The tile of the pattern ``chain`` painting an element whose user space maps to the canvas by
    ``space`` (3, 3) and whose bounding box (x0, y0, x1, y1 user units) ``bbox`` gives; None when it
    draws nothing (no content, an empty box or tile, a singular ``patternTransform``). ``element``: the
    painted element's own transform (3, 3) when ``space`` is another's (a context paint's).

    When any of these transforms turns or skews, the tile is always filtered, even if they cancel out:
    resvg multiplies them in float32, and the rounding keeps tiny-skia off its nearest-texel path."""
    content = next((e for e in chain if len(e)), None)
    units = units_value(chain_attr(chain, "patternUnits"), "objectBoundingBox")
    content_units = units_value(chain_attr(chain, "patternContentUnits"), "userSpaceOnUse")
    box = bbox() if "objectBoundingBox" in (units, content_units) else None
    if content is None or (box is not None and (box[2] <= box[0] or box[3] <= box[1])):
        return None
    if units == "objectBoundingBox" and box is None:
        return None
    values = []
    for axis, name in enumerate(("x", "y", "width", "height")):
        text = chain_attr(chain, name, "0")
        if units == "objectBoundingBox":
            values.append(number(text, 0.0) * (box[2 + axis % 2] - box[axis % 2]) + (box[axis] if axis < 2 else 0.0))
        else:
            values.append(user_length(text, viewport[axis % 2]))
    x, y, width, height = values
    if not (width > 0 and height > 0):
        return None
    inner = np.eye(3)
    if chain_attr(chain, "viewBox"):
        view = Viewbox(chain_attr(chain, "viewBox"))
        if not (view.width and view.height and view.width > 0 and view.height > 0):
            return None
        inner = matrix3(Matrix(Viewbox.viewbox_transform(0, 0, width, height, view.x, view.y, view.width,
                                                         view.height, chain_attr(chain, "preserveAspectRatio"))))
    elif content_units == "objectBoundingBox":
        inner = np.diag([box[2] - box[0], box[3] - box[1], 1.0])  # scaled, not moved, as resvg
    pattern_transform = matrix3(Matrix(chain_attr(chain, "patternTransform", "")))
    turned = any(m[0, 1] != 0 or m[1, 0] != 0 for m in (space, pattern_transform, space if element is None else element))
    pattern_space = space @ pattern_transform
    if not np.isfinite(pattern_space).all() or abs(np.linalg.det(pattern_space[:2, :2])) < 1e-12:
        return None
    scale = np.hypot(pattern_space[0, :2], pattern_space[1, :2])  # canvas px per tile unit, per axis
    to_canvas = pattern_space @ np.array([[1.0, 0, x], [0, 1.0, y], [0, 0, 1]]) @ np.diag([1 / scale[0], 1 / scale[1], 1.0])
    transform = tuple(float(v) for v in to_canvas[:2].T.reshape(-1))  # a, b, c, d, e, f
    return Tile(content, np.diag([scale[0], scale[1], 1.0]) @ inner, (float(width * scale[0]), float(height * scale[1])),
                transform, "bicubic" if turned else "auto")
