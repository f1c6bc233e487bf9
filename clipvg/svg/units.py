"""SVG/CSS lengths -> user units (px at 96 dpi), resolved in the XML before svgelements reads it.

Units: none, px, in, cm, mm, Q, pt, pc (absolute); em, ex, cap (the element's font size: ex = em / 2
as resvg takes it, cap = 0.7 em); ch, ic, lh from the first available face of the element's
font-family (CSS Values 4: the advance of "0", of "水", the normal line height; without a face, em / 2,
em and 1.2 em); rem, rlh (the root's font); vw, vh, vmin, vmax, vi, vb (1 % of the root
viewport); % per axis (x: viewport width, y: height, other: the diagonal / sqrt 2). ``resolve_lengths``
rewrites font sizes, shape geometry and stroke lengths in place; an unreadable length is dropped, so
the attribute takes its default, as SVG says for invalid values.
"""
from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, replace
from math import sqrt

from .document import local_name

DEFAULT_FONT_SIZE = 12.0  # px: resvg's, and what the text layout uses
ABSOLUTE = {"": 1.0, "px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6, "pt": 4 / 3,
            "pc": 16.0}
FONT_RELATIVE = {"em": 1.0, "ex": 0.5, "ch": 0.5, "cap": 0.7, "ic": 1.0, "lh": 1.2}  # ch, ic, lh: without a face
ROOT_RELATIVE = {"rem": "em", "rlh": "lh"}  # the root's font, in the unit named
FONT_METRIC = ("ch", "ic", "lh")  # read from the face
FONT_KEYWORDS = {"xx-small": 3 / 5, "x-small": 3 / 4, "small": 8 / 9, "medium": 1.0, "large": 6 / 5,
                 "x-large": 3 / 2, "xx-large": 2.0, "xxx-large": 3.0}
_LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(%|[a-zA-Z]*)\s*$")

# attribute -> axis ("x", "y" or "d" for the diagonal) per element kind; "*" for every element
GEOMETRY = {
    "rect": {"x": "x", "y": "y", "width": "x", "height": "y", "rx": "x", "ry": "y"},
    "circle": {"cx": "x", "cy": "y", "r": "d"},
    "ellipse": {"cx": "x", "cy": "y", "rx": "x", "ry": "y"},
    "line": {"x1": "x", "y1": "y", "x2": "x", "y2": "y"},
    "svg": {"x": "x", "y": "y", "width": "x", "height": "y"},
    "symbol": {"x": "x", "y": "y", "width": "x", "height": "y"},
    "use": {"x": "x", "y": "y", "width": "x", "height": "y"},
    "image": {"x": "x", "y": "y", "width": "x", "height": "y"},
    "foreignObject": {"x": "x", "y": "y", "width": "x", "height": "y"},
    "*": {"stroke-width": "d", "stroke-dashoffset": "d"},
}
# radii that are not the element's own attributes (a circle's rx, an ellipse's r): ignored, as browsers do
FOREIGN_RADII = {"circle": ("rx", "ry"), "ellipse": ("r",)}
# lengths whose percentages mean something else (bounding-box fractions, ...): units resolved, % kept
KEEP_PERCENT = {
    "linearGradient": ("x1", "y1", "x2", "y2"), "radialGradient": ("cx", "cy", "r", "fx", "fy", "fr"),
    "pattern": ("x", "y", "width", "height"), "mask": ("x", "y", "width", "height"),
    "filter": ("x", "y", "width", "height"), "marker": ("markerWidth", "markerHeight", "refX", "refY"),
}


@dataclass(frozen=True)
class LengthContext:
    """What relative lengths refer to at one element: font sizes (px), the nearest viewport's size
    (user units, for %) and the root viewport's size (px, for vw/vh)."""

    font_size: float = DEFAULT_FONT_SIZE
    root_font_size: float = DEFAULT_FONT_SIZE
    families: tuple[str, ...] = ()  # font-family, in order (empty: the default family)
    root_families: tuple[str, ...] = ()
    viewport: tuple[float, float] = (100.0, 100.0)
    window: tuple[float, float] = (100.0, 100.0)

    def reference(self, axis: str) -> float:
        """The length 100 % stands for along ``axis`` ("x", "y" or "d")."""
        width, height = self.viewport
        return {"x": width, "y": height}.get(axis, sqrt((width * width + height * height) / 2))


def parse_length(text: str | None) -> tuple[float, str] | None:
    """``'2.5em'`` -> ``(2.5, 'em')``; None when ``text`` is not a length."""
    match = _LENGTH.match(text or "")
    return (float(match.group(1)), match.group(2).lower()) if match else None


def to_user(text: str | None, context: LengthContext, axis: str = "d", percent: bool = True) -> float | None:
    """``text`` in user units, or None when it is not a length (or a % and ``percent`` is False)."""
    parsed = parse_length(text)
    if parsed is None:
        return None
    value, unit = parsed
    if unit in ABSOLUTE:
        return value * ABSOLUTE[unit]
    if unit in FONT_RELATIVE:
        return value * font_unit(unit, context.families, context.font_size)
    if unit in ROOT_RELATIVE:
        return value * font_unit(ROOT_RELATIVE[unit], context.root_families, context.root_font_size)
    if unit == "%":
        return value / 100 * context.reference(axis) if percent else None
    width, height = context.window
    per = {"vw": width, "vi": width, "vh": height, "vb": height, "vmin": min(width, height),
           "vmax": max(width, height)}.get(unit)
    return None if per is None else value * per / 100


VIEWPORT_UNITS = ("vw", "vh", "vi", "vb", "vmin", "vmax")
# a number (not the tail of a word, as in base64 text) followed by a viewport unit
_VIEWPORT_LENGTH = re.compile(r"(?<![\w.+-])[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?(?:vw|vh|vi|vb|vmin|vmax)\b",
                              re.IGNORECASE)


_WITHOUT_LENGTHS = frozenset({"href", "d", "points"})


def viewport_unit_notes(root: ET.Element) -> Counter[str]:
    """Elements with a length in viewport units (VIEWPORT_UNITS), counted once each: they are taken of
    the SVG's own size, where a browser takes its window's, so the picture depends on the viewer. Links
    (``href``, e.g. a base64 data URI) and point lists (``d``, ``points``) hold no lengths and are not searched."""
    found: Counter[str] = Counter()
    for element in root.iter():
        if any(_VIEWPORT_LENGTH.search(value) for key, value in element.attrib.items()
               if local_name(key) not in _WITHOUT_LENGTHS):
            found["length in vw/vh/vi/vb/vmin/vmax (taken of the SVG's own size; a browser takes its window's)"] += 1
    return found


def font_unit(unit: str, families: tuple[str, ...], size: float) -> float:
    """One ``unit`` (a key of FONT_RELATIVE) in px for the font ``families`` at ``size`` px; lh is
    ascent + descent + line gap, each rounded to whole px, as Chromium lays out ``line-height: normal``."""
    if unit not in FONT_METRIC:
        return FONT_RELATIVE[unit] * size
    measures = _face_measures(unit, families)
    if measures is None:
        return FONT_RELATIVE[unit] * size
    return sum(round(m * size) for m in measures) if unit == "lh" else measures[0] * size


@functools.lru_cache(maxsize=64)
def _face_measures(unit: str, families: tuple[str, ...]) -> tuple[float, ...] | None:
    """ch, ic or lh in em from the first available face of ``families`` (the default family's when
    none is installed): (advance of "0" or "水",), or (ascent, descent, line gap); None without a face
    or that glyph."""
    from .text.faces import FontSpec, select
    from .text.style import DEFAULT_FAMILY

    face, _ = select(FontSpec(families or (DEFAULT_FAMILY,)), DEFAULT_FONT_SIZE)
    if face is None:
        return None
    upem = face.hb_face.upem
    if unit == "lh":
        extents = face.font.get_font_extents("ltr")
        return extents.ascender / upem, -extents.descender / upem, extents.line_gap / upem
    glyph = face.font.get_nominal_glyph(ord("0" if unit == "ch" else "\u6c34"))
    return None if glyph is None else (face.font.get_glyph_h_advance(glyph) / upem,)


def font_families(text: str | None, parent: tuple[str, ...]) -> tuple[str, ...]:
    """The family names of a ``font-family`` value (quotes removed), or ``parent``'s when it has none."""
    names = tuple(name.strip().strip("'\"").strip() for name in (text or "").split(","))
    names = tuple(name for name in names if name)
    return names or parent


def font_size(text: str | None, parent: LengthContext) -> float:
    """The computed font size (px) for a ``font-size`` value under ``parent``'s font size."""
    if text is None:
        return parent.font_size
    keyword = text.strip().lower()
    if keyword in FONT_KEYWORDS:
        return DEFAULT_FONT_SIZE * FONT_KEYWORDS[keyword]
    if keyword in ("larger", "smaller"):
        return parent.font_size * (1.2 if keyword == "larger" else 1 / 1.2)
    parsed = parse_length(text)
    if parsed is not None and parsed[1] == "%":
        return parent.font_size * parsed[0] / 100
    size = to_user(text, parent)
    return parent.font_size if size is None or size < 0 else size


def _number(value: float) -> str:
    return repr(float(value))


def _resolve_list(text: str, context: LengthContext) -> str | None:
    items = [item for item in re.split(r"[\s,]+", text.strip()) if item]
    values = [to_user(item, context) for item in items]
    return None if any(v is None for v in values) else " ".join(_number(v) for v in values)


def resolve_lengths(root: ET.Element, window: tuple[float, float]) -> None:
    """Rewrite lengths in ``root`` as user-unit numbers, in place (see the module docstring).
    ``window`` is the root viewport's size in px; nested ``<svg>`` elements start new viewports for
    percentages (their viewBox size, or their own width and height)."""
    def visit(element: ET.Element, parent: LengthContext, is_root: bool) -> None:
        kind = local_name(element.tag)
        size = font_size(element.get("font-size"), parent)
        families = font_families(element.get("font-family"), parent.families)
        context = replace(parent, font_size=size, root_font_size=size if is_root else parent.root_font_size,
                          families=families, root_families=families if is_root else parent.root_families)
        if element.get("font-size") is not None:
            element.set("font-size", _number(size))
        for name in FOREIGN_RADII.get(kind, ()):  # svgelements would take them for the radii
            element.attrib.pop(name, None)
        if element.get("viewBox") is not None and _malformed_viewbox(element.get("viewBox")):
            del element.attrib["viewBox"]  # not four finite numbers: ignored, as browsers do
        if is_root:  # the canvas size in units svgelements cannot resolve (em, ex): in px; percentages kept
            for name, axis in (("width", "x"), ("height", "y")):
                parsed = parse_length(element.get(name))
                value = to_user(element.get(name), context, axis) if parsed is not None and parsed[1] != "%" else None
                if value is not None:
                    element.set(name, _number(value))
        else:
            if kind == "svg":  # a nested viewport's size defaults to its parent viewport's
                for name in ("width", "height"):
                    element.attrib.setdefault(name, "100%")
            for name, axis in {**GEOMETRY["*"], **GEOMETRY.get(kind, {})}.items():
                if element.get(name) is not None:
                    value = to_user(element.get(name), context, axis)
                    if value is None:
                        del element.attrib[name]
                    else:
                        element.set(name, _number(value))
            for name in KEEP_PERCENT.get(kind, ()):
                parsed = parse_length(element.get(name))
                value = to_user(element.get(name), context) if parsed is not None and parsed[1] != "%" else None
                if value is not None:
                    element.set(name, _number(value))
            valid_geometry(element, kind)
        origin = element.attrib.pop("transform-origin", None)
        if origin is not None:
            apply_transform_origin(element, origin, context)
        dashes = element.get("stroke-dasharray")
        if dashes is not None and dashes.strip() != "none":
            resolved = _resolve_list(dashes, context)
            if resolved is None:
                del element.attrib["stroke-dasharray"]
            else:
                element.set("stroke-dasharray", resolved)
        if kind == "svg":
            context = replace(context, viewport=viewport_size(element, context))
        for child in element:
            visit(child, context, False)

    start = LengthContext(viewport=window, window=window)
    visit(root, replace(start, viewport=viewport_size(root, start)), True)


def viewbox(element: ET.Element) -> tuple[float, float, float, float] | None:
    """The element's ``viewBox`` (x, y, width, height), or None when absent or unusable."""
    values = re.split(r"[\s,]+", (element.get("viewBox") or "").strip())
    try:
        box = tuple(float(v) for v in values)
    except ValueError:
        return None
    return box if len(box) == 4 and box[2] > 0 and box[3] > 0 else None


def _malformed_viewbox(text: str) -> bool:
    """Whether a ``viewBox`` value is not four finite numbers."""
    try:
        values = [float(v) for v in re.split(r"[\s,]+", text.strip())]
    except ValueError:
        return True
    return len(values) != 4 or not all(math.isfinite(v) for v in values)


def viewport_size(svg: ET.Element, parent: LengthContext) -> tuple[float, float]:
    """The size (user units) percentages refer to inside ``svg``: its viewBox size, else its width
    and height (default 100 % of ``parent``'s viewport)."""
    box = viewbox(svg)
    if box is not None:
        return box[2], box[3]
    width = to_user(svg.get("width", "100%"), parent, "x")
    height = to_user(svg.get("height", "100%"), parent, "y")
    return (parent.viewport[0] if width is None else width, parent.viewport[1] if height is None else height)


TRANSFORMS = ("transform", "gradientTransform", "patternTransform")
_ORIGIN_KEYWORDS = {"left": ("x", "0%"), "right": ("x", "100%"), "top": ("y", "0%"), "bottom": ("y", "100%"),
                    "center": (None, "50%")}


def transform_origin(text: str, context: LengthContext) -> tuple[float, float] | None:
    """The point (user units) a CSS ``transform-origin`` names: one or two keywords or lengths (a
    third, z, is ignored); percentages of the viewport. None when unreadable."""
    words = text.split()[:2]
    if not words:
        return None
    placed: dict[str, str] = {}
    free: list[str] = []
    for word in words:
        axis, value = _ORIGIN_KEYWORDS.get(word.lower(), (None, word))
        if axis is None or axis in placed:
            free.append(value)
        else:
            placed[axis] = value
    for axis in ("x", "y"):
        if axis not in placed:
            placed[axis] = free.pop(0) if free else "50%"
    x, y = to_user(placed["x"], context, "x"), to_user(placed["y"], context, "y")
    return None if x is None or y is None else (x, y)


def apply_transform_origin(element: ET.Element, text: str, context: LengthContext) -> None:
    """Fold ``transform-origin`` into the element's transform attribute(s), in place:
    ``translate(o) T translate(-o)``."""
    origin = transform_origin(text, context)
    if origin is None or origin == (0.0, 0.0):
        return
    x, y = origin
    for name in TRANSFORMS:
        if element.get(name) is not None:
            element.set(name, f"translate({x!r} {y!r}) {element.get(name)} translate({-x!r} {-y!r})")


CONTAINERS = ("g", "a", "switch", "defs")
_GEOMETRY_NAMES = frozenset(name for kind, names in GEOMETRY.items() if kind != "*" for name in names)


def valid_geometry(element: ET.Element, kind: str) -> None:
    """Apply SVG 2's rules for shape geometry in place (lengths already numbers): a negative width,
    height or r, or a rect's missing (``auto``, unreadable) width or height, draws nothing
    (``display="none"``); a negative or missing ellipse radius, or a negative
    rect corner radius, is ``auto`` (the other radius); containers lose geometry attributes, which
    they do not have (svgelements would pass them on to their children)."""
    if kind in CONTAINERS:
        for name in _GEOMETRY_NAMES & set(element.attrib):
            del element.attrib[name]
        return

    def value(name: str) -> float | None:
        return float(element.get(name)) if element.get(name) is not None else None

    negative = {"rect": ("width", "height"), "circle": ("r",)}.get(kind, ())
    if any((value(name) or 0.0) < 0 for name in negative) or (
            kind == "rect" and (value("width") is None or value("height") is None)):
        element.set("display", "none")
    if kind in ("rect", "ellipse"):
        for name in ("rx", "ry"):
            if (value(name) or 0.0) < 0 or element.get(name) in ("auto", ""):
                element.attrib.pop(name, None)
    if kind == "ellipse":
        rx, ry = value("rx"), value("ry")
        if rx is None and ry is None:
            element.set("display", "none")
        elif rx is None or ry is None:
            element.set("rx" if rx is None else "ry", _number(ry if rx is None else rx))
