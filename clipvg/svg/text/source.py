"""A ``<text>``'s source kept beside its outlines, so that a text whose glyphs were not edited is
written back as ``<text>`` (``clipvg.save_svg``) and one whose glyphs moved or changed paint as outlines.

``markup`` is the ``<text>`` element (namespaces dropped) with the properties it inherits from its
ancestors written on it (font size computed in px) and its own effects (opacity, clip, mask, filter,
transform) left to the output group; ``signature`` records the glyph paths' points (canvas px) and paint
as laid out. Texts that link to other elements (``textPath``, ``tref``, ``url(...)`` paint) or use
percentages keep no source: their outlines are written."""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Iterable

import numpy as np

from ...scene import Path, Solid
from ..document import local_name
from .style import Chain, declarations

SOURCE = "clipvg-text-source"
"""Attribute of a text's output group holding its source markup (``markup``)."""
_INHERITED = ("font-family", "font-style", "font-weight", "font-stretch", "font-variant", "font-kerning",
              "font-feature-settings", "font-variation-settings", "fill", "fill-opacity", "fill-rule", "stroke",
              "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
              "stroke-dasharray", "stroke-dashoffset", "letter-spacing", "word-spacing", "text-anchor",
              "writing-mode", "direction", "text-orientation", "visibility", "white-space", "xml:space",
              "text-decoration", "dominant-baseline")
_LEFT_TO_GROUP = ("id", "class", "style", "opacity", "clip-path", "mask", "filter", "transform", "mix-blend-mode",
                  "isolation", "marker-start", "marker-mid", "marker-end")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
ATOL = 1e-3  # px and colour units: a glyph moved or repainted by less is unedited


def markup(text: ET.Element, chain: Chain) -> str | None:
    """The source of ``text`` (``chain`` starts at it) as standalone markup, or None when it cannot
    stand alone (links to other elements, percentages)."""
    elements = list(text.iter())
    if any(local_name(e.tag) in ("textPath", "tref") for e in elements):
        return None
    inherited = {name: chain.find(name) for name in _INHERITED}
    values = [v for e in elements for v in e.attrib.values()] + [v for v in inherited.values() if v]
    if any("url(" in v or "context-" in v or "%" in v or "var(" in v for v in values):
        return None
    element = copy.deepcopy(text)
    for node in element.iter():
        node.tag = local_name(node.tag)
        for key in [k for k in node.attrib if "}" in k and k != _XML_SPACE]:
            del node.attrib[key]
    own = {k: v for k, v in declarations(text).items() if k not in _LEFT_TO_GROUP and k != "xml:space"}
    own.update({name: value for name, value in inherited.items()
                if value is not None and name not in own and name != "xml:space"})
    own["font-size"] = repr(chain.font_size())
    element.attrib = {k: v for k, v in own.items() if "}" not in k}
    if inherited["xml:space"]:
        element.set(_XML_SPACE, inherited["xml:space"])
    element.tail = None
    return ET.tostring(element, encoding="unicode")


def _paint(paint) -> list[float] | None:
    """RGBA of a solid paint, [-1] for none; None for a gradient (no signature then)."""
    if paint is None:
        return [-1.0]
    return [float(v) for v in paint.rgba] if isinstance(paint, Solid) else None


def signature(paths: Iterable[Path]) -> dict | None:
    """The glyph paths' ``points`` (flat list, canvas px), ``paint`` (flat list: fill RGBA, stroke RGBA
    and width, opacity) and ``shape`` (segment degrees, closing, rules, stroke style) as plain values;
    None when a path has gradient paint."""
    points: list[float] = []
    paint: list[float] = []
    shape: list[str] = []
    for path in paths:
        stroke = path.stroke
        colours = [_paint(path.fill), _paint(None if stroke is None else stroke.paint)]
        if any(c is None for c in colours):
            return None
        paint += colours[0] + colours[1] + [float(path.opacity)] + ([] if stroke is None else [float(stroke.width)])
        shape.append(f"{path.fill_rule}|" + ("" if stroke is None else
                                             f"{stroke.cap},{stroke.join},{stroke.miter_limit},{stroke.dashes}"))
        for subpath in path.subpaths:
            points += np.asarray(subpath.points, dtype=np.float64).reshape(-1).tolist()
            shape.append(f"{np.asarray(subpath.degrees).tolist()}{subpath.closed}")
    return {"points": points, "paint": paint, "shape": "/".join(shape)}


def unchanged(source: dict, paths: Iterable[Path]) -> bool:
    """Whether ``paths`` still have the points and paint recorded in ``source`` (within ``ATOL``)."""
    now = signature(paths)
    return (now is not None and now["shape"] == source["shape"]
            and all(len(now[k]) == len(source[k]) and np.allclose(now[k], source[k], rtol=0, atol=ATOL)
                    for k in ("points", "paint")))
