"""``save_paths_svg`` / ``paths_to_svg_string``: a list of per-path views (``clipvg.scene.Path``, numpy)
-> SVG (svgwrite), with no torch: the vectorizer writes its result here without building a Scene.

``PathWriter`` holds the formatting every SVG the project writes shares (numbers, path data, colours,
paints and gradients, strokes, ids, Inkscape layers); ``clipvg.svg.writer`` extends it with the group
tree, images, clips, masks and filters of a Scene. A Scene without a tree is written by this module's
``write_paths``, so both ways give the same bytes.
"""
from __future__ import annotations

import os
import re
from itertools import groupby
from typing import Iterable, Sequence

import numpy as np
import svgwrite

from ..atomic import atomic_path
from ..errors import InvalidInputError
from ..scene.paint import IDENTITY, LinearGradient, Paint, Solid, Stroke
from ..scene.path import Path, Subpath

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>\n'
# Dropped from printf-formatted numbers ("%.Nf"): the minus of a zero, and (N > 0) trailing decimal
# zeros, with the point when no decimal is left; one regex pass with a literal replacement (fast)
_MINUS_ZERO = r"-(?=0(?:\.0*)?(?![\d.]))"
_TIDY = {False: re.compile(_MINUS_ZERO), True: re.compile(_MINUS_ZERO + r"|(?<=[1-9])0+(?![\d.])|\.0+(?!\d)")}
# The root element's attributes besides the size, as svgwrite writes them.
_ROOT = {"baseProfile": "full", "version": "1.1", "xmlns": "http://www.w3.org/2000/svg",
         "xmlns:ev": "http://www.w3.org/2001/xml-events", "xmlns:inkscape": INKSCAPE_NS,
         "xmlns:xlink": "http://www.w3.org/1999/xlink"}
_ATTRIBUTE_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("\r", "&#13;"),
                      ("\n", "&#10;"), ("\t", "&#09;"))


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write the SVG ``text`` (no XML declaration) to ``path`` atomically, with the declaration."""
    with atomic_path(path) as tmp:
        tmp.write_text(XML_DECLARATION + text, encoding="utf-8")


def save_paths_svg(paths: Sequence[Path], width: float, height: float, layer_names: Sequence[str],
                   path: str | os.PathLike, *, precision: int = 4) -> None:
    """Write ``paths`` on a ``width`` x ``height`` px canvas to ``path`` atomically (see
    ``paths_to_svg_string``)."""
    write_text(paths_to_svg_string(paths, width, height, layer_names, precision=precision), path)


def paths_to_svg_string(paths: Sequence[Path], width: float, height: float, layer_names: Sequence[str], *,
                        precision: int = 4) -> str:
    """The SVG document for ``paths`` (drawn in order) on a ``width`` x ``height`` px canvas: one
    Inkscape layer ``<g>`` per run of paths in the same layer, ``layer_names`` giving the order of
    empty layers too; coordinates with ``precision`` decimals. Raises InvalidInputError for NaN or
    infinite values."""
    for item in paths:
        for subpath in item.subpaths:
            if not np.isfinite(subpath.points).all():
                raise InvalidInputError(f"path {item.id or ''} holds NaN or infinite points; cannot write an SVG")
    writer = PathWriter(width, height, (p.id for p in paths), precision)
    return writer.write_paths(paths, layer_names)


def markup(tag: str, attributes: dict[str, str], content: str = "") -> str:
    """``<tag ...>content</tag>`` (``<tag ... />`` when empty) with the attributes sorted by name and
    escaped, byte for byte as svgwrite (ElementTree) serialises the same element."""
    parts = [tag]
    for name, value in sorted(attributes.items()):
        value = str(value)
        for char, escape in _ATTRIBUTE_ESCAPES:
            if char in value:
                value = value.replace(char, escape)
        parts.append(f'{name}="{value}"')
    opening = " ".join(parts)
    return f"<{opening}>{content}</{tag}>" if content else f"<{opening} />"


def hex_colour(rgba: np.ndarray) -> str:
    """``#rrggbb`` of the first three values of ``rgba`` in [0, 1] (clamped, 8 bits)."""
    r, g, b = (int(round(min(max(float(v), 0.0), 1.0) * 255)) for v in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


class PathWriter:
    """Builds the svgwrite Drawing of a canvas: number formatting, ids, layers and paths. A document of
    paths in layers only (``write_paths``) is written as text directly (svgwrite's bytes, without its
    element objects); the group tree's writer (``clipvg.svg.writer``) adds svgwrite elements."""

    def __init__(self, width: float, height: float, ids: Iterable[str | None], precision: int) -> None:
        self.width, self.height = float(width), float(height)
        self.precision = precision
        self.spec = f"%.{precision}f"
        # the ``d`` of one segment of each degree (1 line, 2 quadratic, 3 cubic), as printf templates
        self.segments = ["", *("LQC"[d - 1] + " ".join([self.spec] * (2 * d)) for d in (1, 2, 3))]
        w, h = self.num(width), self.num(height)
        self.drawing = svgwrite.Drawing(size=(w, h), viewBox=f"0 0 {w} {h}", debug=False)
        self.drawing.attribs["xmlns:inkscape"] = INKSCAPE_NS
        self.taken = {i for i in ids if i}
        self.suffix: dict[str, int] = {}  # last number tried per id base, so ids are found in O(1)
        self.defs: list[str] | None = None  # gradients as text while ``write_paths`` writes text

    def write_paths(self, paths: Sequence[Path], layer_names: Sequence[str]) -> str:
        """The SVG text (no XML declaration) of ``paths`` in their layers, empty layers kept in the
        order of ``layer_names``."""
        self.defs = []
        used = {p.layer for p in paths}
        empty = [name for name in layer_names if name not in used]
        order = list(layer_names)
        layers = []
        for layer, run in groupby(paths, key=lambda p: p.layer):
            while empty and order.index(empty[0]) < order.index(layer):
                layers.append(markup("g", self.layer_attributes(empty.pop(0))))
            content = "".join(markup("path", self.path_attributes(path)) for path in run)
            layers.append(markup("g", self.layer_attributes(layer), content))
        layers += [markup("g", self.layer_attributes(name)) for name in empty]
        w, h = self.num(self.width), self.num(self.height)
        root = {**_ROOT, "width": w, "height": h, "viewBox": f"0 0 {w} {h}"}
        return markup("svg", root, markup("defs", {}, "".join(self.defs)) + "".join(layers))

    def fill(self, template: str, values) -> str:
        """``template``'s ``%.{precision}f`` slots filled from ``values`` (any shape, flattened), in one
        formatting call; each number keeps at most ``precision`` decimals, trailing zeros dropped, and
        a zero is never written ``-0``."""
        text = template % tuple(np.asarray(values, dtype=np.float64).reshape(-1).tolist())
        return _TIDY[self.precision > 0].sub("", text)

    def num(self, value: float) -> str:
        """``value`` (a number or a one-element tensor on any device) as written (see ``fill``)."""
        return self.fill(self.spec, float(value))

    def nums(self, values) -> str:
        """``values`` as written (see ``fill``), space-separated."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        return self.fill(" ".join([self.spec] * len(values)), values)

    def fresh_id(self, base: str) -> str:
        """An id not used yet in the document, made from ``base``."""
        base = re.sub(r"[^\w.-]", "_", base)
        base = base if re.match(r"[A-Za-z_]", base) else f"id_{base}"
        count = self.suffix.get(base, 1)
        candidate = base if count == 1 else f"{base}-{count}"
        while candidate in self.taken:
            count += 1
            candidate = f"{base}-{count}"
        self.taken.add(candidate)
        self.suffix[base] = count
        return candidate

    def layer_attributes(self, name: str) -> dict[str, str]:
        """An Inkscape layer ``<g>``'s attributes (a fresh id from ``name``)."""
        return {"id": self.fresh_id(name), "inkscape:groupmode": "layer", "inkscape:label": name}

    def layer(self, name: str) -> svgwrite.container.Group:
        group = self.drawing.g(**self.layer_attributes(name))
        self.drawing.add(group)
        return group

    def path(self, path: Path) -> svgwrite.path.Path:
        return self.drawing.path(**self.path_attributes(path))

    def path_attributes(self, path: Path) -> dict[str, str]:
        """A ``<path>``'s attributes: its data, id, paints (gradients added to the definitions)."""
        attributes = {"d": " ".join(self.subpath_data(s) for s in path.subpaths)}
        if path.id:
            attributes["id"] = path.id
        # clipvg fades a path's fill and stroke each by its opacity; SVG's ``opacity`` fades them as a
        # group, the same only with one paint: with both, the opacity goes into fill- and stroke-opacity
        fold = path.opacity if path.fill is not None and path.stroke is not None else 1.0
        attributes.update(self.paint(path.fill, "fill", fold))
        if path.fill_rule == "evenodd":
            attributes["fill-rule"] = "evenodd"
        if path.opacity != 1.0 and fold == 1.0:
            attributes["opacity"] = self.num(path.opacity)
        if path.stroke is not None:
            attributes.update(self.stroke(path.stroke, fold))
        return attributes

    def subpath_data(self, subpath: Subpath) -> str:
        """``M`` then one ``L``/``Q``/``C`` per segment; a closed subpath's last segment is written out
        to the start point, then ``Z``."""
        points = np.vstack([subpath.points, subpath.points[:1]]) if subpath.closed else subpath.points
        template = " ".join([f"M{self.spec} {self.spec}", *(self.segments[d] for d in subpath.degrees.tolist())])
        return self.fill(template, points) + (" Z" if subpath.closed else "")

    def stroke(self, stroke: Stroke, opacity: float = 1.0) -> dict[str, str]:
        attributes = self.paint(stroke.paint, "stroke", opacity)
        attributes["stroke-width"] = self.num(stroke.width)
        if stroke.cap != "butt":
            attributes["stroke-linecap"] = stroke.cap
        if stroke.join != "miter":
            attributes["stroke-linejoin"] = stroke.join
        if stroke.miter_limit != 4.0:
            attributes["stroke-miterlimit"] = self.num(stroke.miter_limit)
        if stroke.dashes:
            attributes["stroke-dasharray"] = self.nums(stroke.dashes)
            if stroke.dash_offset:
                attributes["stroke-dashoffset"] = self.num(stroke.dash_offset)
        return attributes

    def paint(self, paint: Paint | None, prefix: str, opacity: float = 1.0) -> dict[str, str]:
        if paint is None:
            return {prefix: "none"}
        if isinstance(paint, Solid):
            attributes = {prefix: hex_colour(np.asarray(paint.rgba))}
            if paint.rgba[3] * opacity != 1.0:
                attributes[f"{prefix}-opacity"] = self.num(paint.rgba[3] * opacity)
            return attributes
        attributes = {prefix: f"url(#{self.gradient(paint)})"}
        if opacity != 1.0:
            attributes[f"{prefix}-opacity"] = self.num(opacity)
        return attributes

    def gradient(self, paint: Paint) -> str:
        """Add ``paint`` (a gradient) to ``<defs>``; returns its id."""
        attributes = {"id": self.fresh_id("gradient"), "gradientUnits": "userSpaceOnUse"}
        if tuple(paint.transform) != IDENTITY:
            attributes["gradientTransform"] = f"matrix({self.nums(paint.transform)})"
        if paint.spread != "pad":
            attributes["spreadMethod"] = paint.spread
        if isinstance(paint, LinearGradient):
            (x1, y1), (x2, y2) = paint.start, paint.end
            tag, values = "linearGradient", {"x1": x1, "y1": y1, "x2": x2, "y2": y2}
        else:
            (cx, cy), (fx, fy) = paint.center, paint.focal or paint.center
            tag, values = "radialGradient", {"cx": cx, "cy": cy, "r": paint.radius, "fx": fx, "fy": fy}
        attributes.update({k: self.num(v) for k, v in values.items()})
        stops = []
        for offset, color in zip(paint.stops.offsets, paint.stops.colors):
            stop = {"offset": self.num(offset), "stop-color": hex_colour(color)}
            if color[3] != 1:
                stop["stop-opacity"] = self.num(color[3])
            stops.append(stop)
        if self.defs is not None:
            self.defs.append(markup(tag, attributes, "".join(markup("stop", stop) for stop in stops)))
            return attributes["id"]
        element = getattr(self.drawing, tag)(**attributes)
        for stop in stops:
            element.add_stop_color(stop["offset"], stop["stop-color"], stop.get("stop-opacity"))
        self.drawing.defs.add(element)
        return attributes["id"]
