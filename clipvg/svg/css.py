"""The CSS cascade of an SVG document, resolved into presentation attributes.

``apply_stylesheets`` matches the document's ``<style>`` sheets (type, class, id, universal,
attribute and pseudo-class selectors, combinators; via cssselect2) and each ``style`` attribute
against the elements, and writes the winning declaration of each property as an attribute, in the
CSS order: presentation attribute < style sheet (by specificity, then source order) < ``style``
attribute < ``!important`` sheet < ``!important`` ``style``. Only presentation properties (and
``transform``, as browsers do) are taken from CSS: geometry such as ``height`` in CSS is ignored.
``declarations`` is the one parser of ``style`` attribute text in the package, ``declared`` the one
reader of an element's own attributes.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Iterable

import cssselect2
import tinycss2

from .colors import normalize_paint

PRESENTATION = frozenset({
    "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color", "color-interpolation",
    "color-interpolation-filters", "color-profile", "color-rendering", "cursor", "direction", "display",
    "dominant-baseline", "enable-background", "fill", "fill-opacity", "fill-rule", "filter", "flood-color",
    "flood-opacity", "font", "font-family", "font-feature-settings", "font-kerning", "font-size",
    "font-size-adjust", "font-stretch", "font-style", "font-synthesis", "font-variant", "font-variant-caps",
    "font-variant-east-asian", "font-variant-ligatures", "font-variant-numeric", "font-variant-position",
    "font-variation-settings", "font-weight", "glyph-orientation-horizontal", "glyph-orientation-vertical",
    "image-rendering", "inline-size", "isolation", "kerning", "letter-spacing", "lighting-color", "line-height",
    "marker", "marker-end", "marker-mid", "marker-start", "mask", "mask-type", "mix-blend-mode", "opacity",
    "overflow", "paint-order", "pointer-events", "shape-rendering", "stop-color", "stop-opacity", "stroke",
    "stroke-dasharray", "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-opacity", "stroke-width", "text-anchor", "text-decoration", "text-decoration-color",
    "text-decoration-fill", "text-decoration-line", "text-decoration-stroke", "text-decoration-style",
    "text-orientation", "text-rendering", "transform", "transform-box", "transform-origin", "unicode-bidi",
    "vector-effect", "visibility", "white-space", "word-spacing", "writing-mode",
})
"""Properties CSS may set on SVG elements (SVG 1.1 presentation attributes and the SVG 2 / CSS ones
browsers apply to SVG)."""
CSS_ONLY = ("mix-blend-mode", "isolation", "font", "font-kerning")  # properties an attribute of that name does not set

Declaration = tuple[str, str, bool]  # (property, value, important)


def declarations(text: str) -> list[Declaration]:
    """``'fill: red; stroke: blue !important'`` -> ``[('fill', 'red', False), ('stroke', 'blue', True)]``;
    comments and malformed declarations are dropped, names are lower-cased. A value whose brackets nest
    deeper than Python's recursion allows to write back (``f(f(f(...)))`` hundreds deep) counts as malformed."""
    found = []
    for item in tinycss2.parse_declaration_list(text, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            try:
                value = tinycss2.serialize(item.value).strip()
            except RecursionError:
                continue
            if value:
                found.append((item.lower_name, value, item.important))
    return found


def properties(element: ET.Element, names: Iterable[str] | None = None) -> dict[str, str]:
    """The element's own properties: presentation attributes overridden by its ``style`` attribute
    (``!important`` ones last), optionally only ``names``."""
    keep = None if names is None else set(names)
    values = {key: value for key, value in element.attrib.items() if key in PRESENTATION}
    style = declarations(element.get("style", ""))
    for name, value, important in sorted(style, key=lambda d: d[2]):
        values[name] = value
    return values if keep is None else {k: v for k, v in values.items() if k in keep}


def declared(element: ET.Element) -> dict[str, str]:
    """The element's own attributes (un-namespaced ones and ``xml:space``), values stripped, with a
    ``style`` attribute's declarations winning (``!important`` ones last). ``apply_stylesheets`` has
    removed every ``style`` by the time text layout, filters and markers read a document, so this is
    the one attribute reader they share."""
    values = {k: v.strip() for k, v in element.attrib.items() if "}" not in k or k.endswith("}space")}
    for name, value, important in sorted(declarations(values.pop("style", "")), key=lambda d: d[2]):
        values[name] = value
    return values


def _sheet_rules(root: ET.Element) -> tuple[cssselect2.Matcher, int]:
    """A matcher holding every rule of the document's CSS ``<style>`` elements, its payload the
    rule's declarations, and how many rules were left out because their selector nests deeper than
    Python's recursion allows to compile (``:not(:not(...))`` a few hundred deep)."""
    matcher, too_deep = cssselect2.Matcher(), 0
    for style in root.iter():
        if style.tag.rsplit("}", 1)[-1] != "style" or style.get("type", "text/css").strip() not in ("", "text/css"):
            continue
        for rule in tinycss2.parse_stylesheet("".join(style.itertext()), skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue  # @import, @media, @font-face: not applied
            try:
                selectors = cssselect2.compile_selector_list(rule.prelude)
                found = declarations(tinycss2.serialize(rule.content))
            except cssselect2.SelectorError:
                continue
            except RecursionError:
                too_deep += 1
                continue
            for selector in selectors:
                if selector.pseudo_element is None:
                    matcher.add_selector(selector, found)
    return matcher, too_deep


def apply_stylesheets(root: ET.Element) -> Counter[str]:
    """Resolve the cascade into attributes in place (see the module docstring), then remove the
    ``style`` attributes and ``<style>`` elements. Returns the rules left out, counted."""
    matcher, too_deep = _sheet_rules(root)
    for wrapper in cssselect2.ElementWrapper.from_xml_root(root).iter_subtree():
        element = wrapper.etree_element
        ranked: list[tuple[tuple, str, str]] = []  # (priority, property, value)
        for name in CSS_ONLY:  # not presentation attributes: only CSS sets them (as resvg, browsers)
            element.attrib.pop(name, None)
        for specificity, order, _, found in matcher.match(wrapper):
            for position, (name, value, important) in enumerate(found):
                ranked.append(((important, 0, specificity, order, position), name, value))
        for position, (name, value, important) in enumerate(declarations(element.attrib.pop("style", ""))):
            ranked.append(((important, 1, (1 << 20, 0, 0), 1 << 30, position), name, value))
        for _, name, value in sorted(ranked, key=lambda item: item[0]):
            if name in PRESENTATION or (name == "background-color" and element is root):
                element.set(name, value)
    parents = {child: parent for parent in root.iter() for child in parent}
    for style in [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "style"]:
        parents[style].remove(style)
    return Counter({"CSS rule nested too deeply (not applied)": too_deep} if too_deep else {})


INHERITED = frozenset({
    "clip-rule", "color", "color-interpolation", "color-interpolation-filters", "color-rendering", "cursor",
    "direction", "fill", "fill-opacity", "fill-rule", "font", "font-family", "font-feature-settings", "font-kerning",
    "font-size", "font-size-adjust", "font-stretch", "font-style", "font-synthesis", "font-variant",
    "font-variant-caps", "font-variant-east-asian", "font-variant-ligatures", "font-variant-numeric",
    "font-variant-position", "font-variation-settings", "font-weight", "glyph-orientation-horizontal",
    "glyph-orientation-vertical", "image-rendering", "kerning", "letter-spacing", "line-height", "marker",
    "marker-end", "marker-mid", "marker-start", "paint-order", "pointer-events", "shape-rendering", "stroke",
    "stroke-dasharray", "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-opacity", "stroke-width", "text-anchor", "text-orientation", "text-rendering", "visibility",
    "white-space", "word-spacing", "writing-mode",
})
COLOR_PROPERTIES = ("fill", "stroke", "stop-color", "flood-color", "lighting-color")
DEFINITIONS = ("clipPath", "mask", "pattern", "marker")
USE_INSTANCE = "data-clipvg-use"
"""Attribute marking the group an expanded ``<use>`` became: ``context-fill``/``context-stroke`` in
its content refer to its paint."""
_CURRENT = re.compile(r"currentcolor", re.IGNORECASE)


INITIAL = {"overflow": "visible"}
"""Initial values that differ from what an element without the property gets (markers, patterns and
inner ``<svg>`` default to ``overflow: hidden`` by the user-agent sheet; ``inherit`` from a parent
without the property gives the initial value)."""


def resolve_inherited(root: ET.Element) -> None:
    """Resolve ``inherit``, ``currentColor`` (in fill, stroke, stop-color, flood-color and
    lighting-color; it inherits as a keyword, so each element uses its own ``color``) and, inside
    expanded ``<use>`` content, ``context-fill``/``context-stroke``, in place. An ``inherit`` with
    nothing to inherit gives the property's initial value (dropped where the element's default is that value)."""

    def visit(element: ET.Element, inherited: dict[str, str], parent_own: dict[str, str],
              context_paint: dict[str, str] | None) -> None:
        for name, value in list(element.attrib.items()):
            if name in PRESENTATION and value.strip().lower() == "inherit":
                source = (inherited if name in INHERITED else parent_own).get(name, INITIAL.get(name))
                if source is None:
                    del element.attrib[name]
                else:
                    element.set(name, source)
        own = {k: v for k, v in element.attrib.items() if k in PRESENTATION}
        color = own.get("color", inherited.get("color", "black"))
        if _CURRENT.fullmatch(color.strip()):
            color = inherited.get("color", "black")
            element.set("color", color)
        here = {**inherited, **{k: v for k, v in own.items() if k in INHERITED}, "color": color}
        for name in COLOR_PROPERTIES:
            value = own.get(name, here.get(name) if name in INHERITED else None)
            if value is not None and _CURRENT.search(value):
                element.set(name, _CURRENT.sub(color, value))
            if name in own:
                normalized = normalize_paint(element.get(name), name in ("fill", "stroke"))
                if normalized is None:
                    del element.attrib[name]
                else:
                    element.set(name, normalized)
            if context_paint is not None and value is not None and value.strip() in ("context-fill", "context-stroke"):
                paint = context_paint[value.strip()[8:]]
                if not paint.lstrip().startswith("url("):  # paint servers: the reader lays them out in the <use>'s space
                    element.set(name, paint)
        if element.tag.rsplit("}", 1)[-1] in DEFINITIONS:  # their content inherits from here when used
            for name, value in here.items():
                if name not in own and name != "font":
                    element.set(name, value)
        if element.get(USE_INSTANCE) is not None:
            context_paint = {key: element.get(key, here.get(key, default)) for key, default
                             in (("fill", "black"), ("stroke", "none"))}
        for child in element:
            visit(child, here, {k: element.get(k) for k in own}, context_paint)

    visit(root, {}, {}, None)
