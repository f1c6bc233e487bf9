"""Laid-out text -> SVG elements: one ``<path>`` per glyph inside the group of the element that
holds its characters, decoration lines inside the group of the element whose paint they use
(underline and overline before the glyphs, line-through after), so fills, strokes and CSS apply.
Glyphs fill with the nonzero rule whatever ``fill-rule`` says, as SVG 2 specifies for text, and
carry no markers; a glyph
the font draws in its ``SVG `` table (colour emoji) is that SVG content instead of an outline."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ..document import SVG_NS
from .content import Content
from .faces import Face
from .layout import PlacedSpan
from .color_glyphs import bitmap_glyph_image, svg_glyph_group

_PATH = f"{{{SVG_NS}}}path"
_NO_MARKERS = {"marker-start": "none", "marker-mid": "none", "marker-end": "none"}  # text draws no markers


def glyph_data(operations: list[tuple[str, tuple]], matrix: np.ndarray) -> str:
    """SVG path data of a glyph outline (font units, y up) mapped by ``matrix`` (3, 3)."""
    parts = []
    for op, points in operations:
        if op == "Z":
            parts.append("Z")
            continue
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2) @ matrix[:2, :2].T + matrix[:2, 2]
        parts.append(op + " ".join(f"{x:.4f},{y:.4f}" for x, y in xy))
    return " ".join(parts)


_FLIP = np.diag([1.0, -1.0, 1.0])  # colour glyphs are y-down: the outline map's flip undone


def outline_points(placed: list[PlacedSpan]) -> int:
    """The points of the glyph outlines ``emit`` writes for ``placed`` (decorations and colour glyphs left out)."""
    each: dict[tuple[int, int], int] = {}
    total = 0
    for item in placed:
        if item.span.visible:
            for face, glyph, _ in item.glyphs:
                key = (id(face), glyph)
                if key not in each:
                    each[key] = sum(np.size(points) for op, points in face.outline(glyph) if op != "Z") // 2
                total += each[key]
    return total


def _colour_glyph(face: Face, glyph: int, matrix: np.ndarray) -> ET.Element | None:
    """An SVG-table glyph, else a bitmap glyph, else None (resvg's order after COLR)."""
    document = face.svg_glyph(glyph)
    if document is not None:
        group = svg_glyph_group(document[0], glyph, document[1], matrix)
        if group is not None:
            return group
    bitmap = face.bitmaps.get(glyph)
    return None if bitmap is None else bitmap_glyph_image(bitmap, face.metrics.units, matrix)


def _rectangles(corners: list[np.ndarray]) -> str:
    return " ".join("M" + " L".join(f"{x:.4f},{y:.4f}" for x, y in rect) + " Z" for rect in corners)


def _child_toward(group: ET.Element, target: ET.Element, parents: dict[ET.Element, ET.Element]) -> ET.Element:
    """The child of ``group`` that is ``target`` or contains it."""
    while parents.get(target) is not None and parents[target] is not group:
        target = parents[target]
    return target


def emit(content: Content, placed: list[PlacedSpan]) -> ET.Element:
    """The output group of the text with glyphs and decorations filled in, placeholders removed."""
    root = content.elements[0].group
    parents = {child: parent for parent in root.iter() for child in parent}
    for item in placed:
        node = item.span.node
        if not item.span.visible:
            continue
        for kind, corners in item.decorations.items():
            group = content.elements[item.span.decorations[kind]].group
            anchor = _child_toward(group, node.placeholder, parents)
            path = ET.Element(_PATH, {"d": _rectangles(corners), **_NO_MARKERS})
            position = list(group).index(anchor) if anchor in list(group) else len(group)
            group.insert(position + (kind == "line-through"), path)
            parents[path] = group
        for face, glyph, matrix in item.glyphs:
            colour = _colour_glyph(face, glyph, matrix @ _FLIP)
            if colour is not None:
                node.placeholder.append(colour)
                continue
            data = glyph_data(face.outline(glyph), matrix)
            if data:
                ET.SubElement(node.placeholder, _PATH, {"d": data, "fill-rule": "nonzero", **_NO_MARKERS})
    for placeholder in [n.placeholder for n in content.nodes]:
        parent = parents.get(placeholder)
        if parent is None:
            continue
        position = list(parent).index(placeholder)
        parent[position:position + 1] = list(placeholder)
    return root
