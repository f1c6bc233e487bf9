"""``<text>`` set as outlines before svgelements reads the tree, laid out as browsers do.

Each ``<text>`` becomes a ``<g>`` carrying the text's attributes (its id, paint, transform, CSS
class), with a ``<g>`` per ``<tspan>``/``<a>``/``<tref>``/``<textPath>`` keeping theirs, and one
``<path>`` per glyph where its characters were: the drawing stays editable, glyph by glyph.

Modules: ``style`` (properties and inheritance), ``whitespace`` (xml:space / white-space),
``content`` (text nodes and output groups), ``positions`` (x/y/dx/dy/rotate lists), ``faces``
(fontconfig and HarfBuzz faces), ``shaping`` (bidi, kerning, fallback), ``spans`` (chunks and
span styles), ``clusters`` (spacing, textLength, vertical glyphs), ``baselines``, ``textpath``,
``layout``, ``bbox_paint`` (gradients on the text's box) and ``emit``. The layout follows SVG 2 as Chrome and resvg draw it; features neither
draws (textPath ``side``/``path``/``method``/``spacing``, ``text-orientation``) are ignored likewise.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter

from svgelements import Matrix

from ...errors import SVGParseError
from ...limits import ResourceLimits, resource_limits
from ..document import SVG_NS, check_size, local_name
from .bbox_paint import rebind
from .content import collect
from .emit import emit, outline_points
from .layout import PlacedSpan, layout
from .positions import resolve
from .source import SOURCE, markup
from .spans import build
from .style import Chain
from .textpath import guide, start_offset

_VERTICAL = ("tb", "tb-rl", "vertical-rl", "vertical-lr")
TEXT_BOX = "clipvg-text-box"
"""Attribute of a text's output group: its metric box "x0 y0 x1 y1" in its own user space, the box
objectBoundingBox units of its clip path, mask and filter refer to (as for its paint)."""


def text_box(value: str | None) -> tuple[float, float, float, float] | None:
    """The box a ``TEXT_BOX`` attribute holds, or None."""
    try:
        x0, y0, x1, y1 = (float(v) for v in (value or "").split())
    except ValueError:
        return None
    return x0, y0, x1, y1


# textPath attribute values the layout does not follow (each is drawn as the default: align, left)
TEXT_PATH_IGNORED = (("method", "stretch"), ("side", "right"))


def texts_to_paths(root: ET.Element, viewport: tuple[float, float], name: str) -> Counter[str]:
    """Replace every ``<text>`` in ``root`` by outlines, in place; returns notes on what was
    substituted or skipped (fonts not installed, characters no font has, missing text paths).
    ``viewport`` (w, h) in user units resolves percentages. SVGParseError (its ``limit`` set) when the texts
    hold more characters than the text_characters limit (before any is laid out), or their outlines more points
    than the points limit (before they are written), or the document's path data with them more than the point
    limits (``document.check_size``); ``name``: the file, for the message."""
    notes: Counter[str] = Counter()
    limits = resource_limits()
    texts = [e for e in root.iter() if local_name(e.tag) == "text"]
    limits.check("text_characters", sum(_visible_characters(text) for text in texts),
                 f"{name}: the character count of its text", SVGParseError)
    count = _PointCount(name, limits)
    parents = {child: parent for parent in root.iter() for child in parent}
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    defs: list[ET.Element] = []
    for text in texts:
        ancestors = [text]
        while ancestors[-1] in parents:
            ancestors.append(parents[ancestors[-1]])
        try:
            group = convert(text, Chain(ancestors), by_id, viewport, notes, defs, count)
        except Exception as error:  # a font or input the layout cannot handle: this text only is lost
            if getattr(error, "limit", None) is not None:
                raise  # over a resource limit: the file is refused
            notes[f"text that could not be laid out ({type(error).__name__}: {error})"] += 1
            group = ET.Element(f"{{{SVG_NS}}}g", {"id": text.get("id")} if text.get("id") else {})
        for kind in ("marker-start", "marker-mid", "marker-end"):  # markers are for shapes, never glyphs
            group.set(kind, "none")
        parent = parents.get(text)
        if parent is not None:
            parent[list(parent).index(text)] = group
    if defs:
        ET.SubElement(root, f"{{{SVG_NS}}}defs").extend(defs)
    if texts:  # the document's path data with the outlines written, counted again before svgelements reads it
        check_size(root, name, limits)
    return notes


def _scale(chain: Chain) -> float:
    """sqrt(sx * sy) of the text's transform and its ancestors' (the root's viewBox left out)."""
    matrix = Matrix()
    for element in chain.elements:
        if element.get("transform"):
            try:
                matrix = Matrix(element.get("transform")) * matrix
            except Exception:  # an unreadable transform: svgelements reports it when it reads the tree
                continue
    return math.sqrt(math.hypot(matrix.a, matrix.b) * math.hypot(matrix.c, matrix.d))


def _visible_characters(text: ET.Element) -> int:
    """The characters of ``text`` and its descendants' content, whitespace left out (counted at C speed)."""
    content = "".join(text.itertext())
    return len(content) - sum(content.count(space) for space in " \t\n\r")


class _PointCount:
    """The points of the glyph outlines of a document's texts, against the points limit."""

    def __init__(self, name: str, limits: ResourceLimits) -> None:
        self.name, self.limits, self.points = name, limits, 0

    def add(self, placed: list[PlacedSpan]) -> None:
        """Count the outlines of ``placed`` (one text laid out), before they are written."""
        self.points += outline_points(placed)
        self.limits.check("points", self.points, f"{self.name}: the point count of the text drawn as outlines",
                          SVGParseError)


def convert(text: ET.Element, chain: Chain, by_id: dict[str, ET.Element], viewport: tuple[float, float],
            notes: Counter[str], defs: list[ET.Element], count: _PointCount) -> ET.Element:
    """The output group for one ``<text>`` (``chain`` starts at it and goes up to the root);
    gradients its paint needs on its bounding box are appended to ``defs``; its outlines are ``count``ed."""
    source = markup(text, chain)
    content = collect(text, chain, by_id)
    positions = resolve(content, viewport)
    paths = {}
    for index, element in enumerate(content.elements):
        if element.text_path is not None:
            for name, value in TEXT_PATH_IGNORED:
                if (element.text_path.get(name) or "").strip() == value:
                    notes[f"textPath {name}=\"{value}\" (laid out as the default, as resvg and Chromium)"] += 1
            path = guide(element.text_path, by_id, _scale(chain))
            if path is None:
                notes["textPath whose path is missing (its text is not drawn)"] += 1
            else:
                paths[index] = (path, start_offset(element.text_path, element.chain, path, viewport))
    chunks = build(content, positions, viewport, set(paths), notes)
    vertical = (chain.find("writing-mode") or "lr-tb") in _VERTICAL
    placed, box = layout(chunks, positions, vertical, paths, notes)
    count.add(placed)
    rebind(content, box, by_id, defs)
    group = emit(content, placed)
    if box is not None:
        group.set(TEXT_BOX, " ".join(repr(v) for v in box))
    if source is not None:
        group.set(SOURCE, source)
    return group
