"""``load_svg``: an SVG file -> Scene.

Geometry and styles come from svgelements (shapes, transforms, CSS, ``use``, units, viewBox); the
element transform is baked into the points. Layers are the top-level groups. Group ``opacity`` is
multiplied into each path's opacity, an approximation: SVG composites a group first, then fades it.
"""
from __future__ import annotations

import functools
import os
from collections import Counter

import torch
from svgelements import SVG, SVG_STRUCT_ATTRIB, Group, Shape, Use

from ..scene import CAPS, JOINS, Path, Scene, Stroke
from .document import (build_tree, inline_symbols, nested_viewports_to_groups, parse_xml, read_source,
                       strip_unsupported, warn_skipped)
from .geometry import to_subpaths
from .paint import PaintServers, matrix3, number, unit_number

INKSCAPE_LABEL = "{http://www.inkscape.org/namespaces/inkscape}label"
DEFAULT_LAYER = "layer"


def load_svg(source: str | os.PathLike, *, device: str | torch.device = "cpu") -> Scene:
    """Read an SVG file (or SVG markup given as a string starting with '<') into a Scene.

    The canvas is the SVG viewport in pixels (96 dpi for physical units). Top-level ``<g>`` elements
    (Inkscape layers included) become layers named by ``inkscape:label`` or ``id``; shapes outside
    any group go to the layer ``"layer"``. Unsupported elements (text, image, filter, mask, clipPath,
    pattern, marker, ...) and dashed strokes are skipped with one ``UnsupportedSVGWarning``.
    Raises SVGParseError for a missing, empty or malformed file.
    """
    data, name = read_source(source)
    root = parse_xml(data, name)
    skipped = strip_unsupported(root)
    inline_symbols(root)
    nested_viewports_to_groups(root)
    svg = build_tree(root, name)
    viewport = (svg.viewbox.width, svg.viewbox.height) if svg.viewbox else (svg.width, svg.height)
    reader = _Reader(PaintServers(root, viewport), skipped)
    reader.read(svg)
    warn_skipped(skipped, name)
    return Scene.from_paths(reader.paths, svg.width, svg.height, reader.layers, device)


def _own_opacity(node: Shape | Group | Use) -> float:
    return unit_number(node.values.get(SVG_STRUCT_ATTRIB, {}).get("opacity"))


class _Reader:
    """Walks the svgelements tree, collecting paths, layer names and skipped features."""

    def __init__(self, servers: PaintServers, skipped: Counter[str]) -> None:
        self.servers = servers
        self.skipped = skipped
        self.paths: list[Path] = []
        self.layers: list[str] = []
        self._ids: set[str] = set()

    def read(self, svg: SVG) -> None:
        """Read the document; each top-level group is a layer."""
        for index, child in enumerate(svg):
            if isinstance(child, Group) and not isinstance(child, SVG):
                attributes = child.values.get(SVG_STRUCT_ATTRIB, {})
                layer = attributes.get(INKSCAPE_LABEL) or child.id or f"layer{index + 1}"
                self._add_layer(layer)
                self._walk(child, layer, _own_opacity(child))
            else:
                self._walk_node(child, DEFAULT_LAYER, 1.0)

    def _add_layer(self, layer: str) -> None:
        if layer not in self.layers:
            self.layers.append(layer)

    def _walk(self, group: Group | Use, layer: str, opacity: float) -> None:
        for child in group:
            self._walk_node(child, layer, opacity)

    def _walk_node(self, node: object, layer: str, opacity: float) -> None:
        if isinstance(node, (Group, Use)):
            self._walk(node, layer, opacity * _own_opacity(node))
        elif isinstance(node, Shape):
            path = self._path(node, layer, opacity * _own_opacity(node))
            if path is not None:
                self._add_layer(layer)
                self.paths.append(path)

    def _path(self, shape: Shape, layer: str, opacity: float) -> Path | None:
        """The Scene path for one shape, or None when it draws nothing."""
        values = shape.values
        if values.get("visibility") in ("hidden", "collapse"):
            return None
        subpaths = to_subpaths(shape.segments(transformed=False), matrix3(shape.transform))
        if not subpaths:
            return None
        bbox = functools.cache(lambda: shape.bbox(transformed=False))
        fill = self.servers.paint(values.get("fill"), unit_number(values.get("fill-opacity")),
                                  shape.transform, bbox)
        stroke_paint = self.servers.paint(values.get("stroke"), unit_number(values.get("stroke-opacity")),
                                          shape.transform, bbox)
        stroke = None
        width = shape.implicit_stroke_width or 0.0
        if stroke_paint is not None and width > 0:
            if values.get("stroke-dasharray", "none").strip() != "none":
                self.skipped["stroke-dasharray (drawn solid)"] += 1
            cap, join = values.get("stroke-linecap", "butt"), values.get("stroke-linejoin", "miter")
            stroke = Stroke(stroke_paint, width=float(width), cap=cap if cap in CAPS else "butt",
                            join=join if join in JOINS else "miter",
                            miter_limit=max(number(values.get("stroke-miterlimit"), 4.0), 1.0))
        path_id = shape.id if shape.id not in self._ids else None
        if path_id:
            self._ids.add(path_id)
        return Path(subpaths, fill=fill, stroke=stroke,
                    fill_rule="evenodd" if values.get("fill-rule") == "evenodd" else "nonzero",
                    opacity=opacity, layer=layer, id=path_id)
