"""Colour glyphs as SVG content: from a font's OpenType ``SVG `` table (e.g. Twitter Color Emoji) the
glyph's document, ids made unique, inside a group that maps font units (y down) to the text; from
CBDT/sbix strikes the PNG as an ``<image>`` placed as resvg places it."""
from __future__ import annotations

import base64
import copy
import functools
import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np

from ..document import SVG_NS, XLINK_HREF, local_name
from . import affine
from .faces import Bitmap

_REFERENCE = re.compile(r"url\(\s*#([^)\s]+)\s*\)")
_counter = itertools.count()


@functools.lru_cache(maxsize=256)
def _parse(document: str) -> ET.Element | None:
    try:
        return ET.fromstring(document)
    except ET.ParseError:
        return None


def _content(document: str, glyph: int, shared: bool) -> list[ET.Element]:
    root = _parse(document)
    if root is None:
        return []
    if not shared:
        return [e for e in root if local_name(e.tag) not in ("title", "desc", "metadata")]
    target = next((e for e in root.iter() if e.get("id") == f"glyph{glyph}"), None)
    if target is None:
        return []
    defs = [e for e in root.iter() if local_name(e.tag) == "defs"]
    return defs + [target]


def _rename(elements: list[ET.Element], prefix: str) -> None:
    """Prefix every id and every ``url(#id)``/``#id`` reference, in place, so that glyph documents
    cannot clash with the drawing or with each other."""
    for element in (e for top in elements for e in top.iter()):
        for key, value in list(element.attrib.items()):
            if key == "id":
                element.set(key, prefix + value)
            elif key in ("href", XLINK_HREF) and value.startswith("#"):
                element.set(key, "#" + prefix + value[1:])
            elif "url(#" in value:
                element.set(key, _REFERENCE.sub(lambda m: f"url(#{prefix}{m.group(1)})", value))


def svg_glyph_group(document: str, glyph: int, shared: bool, matrix: np.ndarray) -> ET.Element | None:
    """A ``<g>`` drawing ``glyph`` from its SVG ``document`` through ``matrix`` (3, 3: font units,
    y down, to the text's user space); None when the document has nothing for it."""
    content = [copy.deepcopy(e) for e in _content(document, glyph, shared)]
    if not content:
        return None
    _rename(content, f"svg-glyph{next(_counter)}-")
    group = ET.Element(f"{{{SVG_NS}}}g", {"transform": _matrix(matrix)})
    group.extend(content)
    return group


def _matrix(m: np.ndarray) -> str:
    values = (m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])
    return "matrix({})".format(" ".join(repr(float(v)) for v in values))


def bitmap_glyph_image(bitmap: Bitmap, units: int, matrix: np.ndarray) -> ET.Element:
    """An ``<image>`` of ``bitmap`` through ``matrix`` (3, 3: font units, y down, to user space)."""
    width, height = bitmap.size
    placed = matrix
    if bitmap.sbix:  # resvg lifts a bitmap whose outline sits on the baseline by 0.128 em (as macOS)
        x_min, y_min = bitmap.low
        placed = placed @ affine.translate(-x_min, 0.128 * units if abs(y_min) < 1e-6 else -y_min)
    placed = placed @ affine.scale(units / bitmap.ppem)
    if bitmap.sbix:
        placed = placed @ affine.translate(bitmap.bearing[0], -height - bitmap.bearing[1])
    else:
        placed = placed @ affine.translate(bitmap.bearing[0], -bitmap.bearing[1])
    return ET.Element(f"{{{SVG_NS}}}image", {
        "x": "0", "y": "0", "width": str(width), "height": str(height), "preserveAspectRatio": "none",
        "href": "data:image/png;base64," + base64.b64encode(bitmap.png).decode("ascii"), "transform": _matrix(placed)})
