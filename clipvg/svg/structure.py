"""Structure rewrites on the XML tree, before svgelements reads it: conditional processing
(``<switch>``, ``systemLanguage``, ``requiredExtensions``), ``<use>`` expanded into groups (symbols and
``<svg>`` targets become viewports), and nested ``<svg>`` viewports turned into groups with their
viewBox transform and their clip (``overflow``)."""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections import Counter

from svgelements import Matrix

from ..errors import SVGParseError
from .colors import parse_color
from .css import USE_INSTANCE, apply_stylesheets, resolve_inherited
from .document import SVG_NS, XLINK_HREF, check_uses, drop_bad_paths, local_name, normalize_path_data
from .units import ABSOLUTE, parse_length, resolve_lengths, viewbox, viewport_unit_notes

LANGUAGES = ("en",)
"""Primary language subtags the reader accepts in ``systemLanguage`` (a user agent set to en-US)."""
GRAPHICS = frozenset({"a", "circle", "ellipse", "foreignObject", "g", "image", "line", "path", "polygon", "polyline",
                      "rect", "svg", "switch", "text", "use"})
"""Elements a ``<switch>`` may choose."""
MAX_EXPANDED = 200_000  # elements created by expanding <use>; beyond, the file is refused as a use bomb
VIEWPORT_CLIP = "clipvg-viewport-{}"


def _href(element: ET.Element) -> str:
    return (element.get("href") or element.get(XLINK_HREF) or "").strip()


def _svg(tag: str) -> str:
    return f"{{{SVG_NS}}}{tag}"


def conditions_pass(element: ET.Element) -> bool:
    """Whether ``systemLanguage`` and ``requiredExtensions`` let ``element`` draw (requiredFeatures
    is always true, as in SVG 2 browsers)."""
    if element.get("requiredExtensions") is not None:
        return False
    languages = element.get("systemLanguage")
    if languages is None:
        return True
    return any(tag.strip().split("-")[0].lower() in LANGUAGES for tag in languages.split(",") if tag.strip())


CONDITIONAL = GRAPHICS | {"tspan", "textPath", "tref"}
"""Elements whose failing conditions remove them (inside text, the text after them stays)."""


def _remove_keeping_tail(parent: ET.Element, child: ET.Element) -> None:
    """Remove ``child`` from ``parent`` but keep the character data that follows it."""
    if child.tail:
        index = list(parent).index(child)
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)


def apply_conditions(root: ET.Element) -> None:
    """Keep only the first child of each ``<switch>`` that is a graphics element passing its
    conditions (the switch becomes a ``<g>``), and remove other graphics elements that fail theirs
    (a failing root, like one with ``display="none"``, draws nothing), in place. Conditions on
    definitions (gradients, clip paths, ``<defs>``) are ignored, as browsers do."""
    if not conditions_pass(root) or root.attrib.pop("display", "").strip() == "none":
        root[:] = []

    def visit(parent: ET.Element) -> None:
        if local_name(parent.tag) == "switch":
            chosen = next((c for c in parent if isinstance(c.tag, str) and local_name(c.tag) in GRAPHICS
                           and c.tag.startswith(f"{{{SVG_NS}}}") and conditions_pass(c)), None)
            for child in list(parent):
                if child is not chosen:
                    parent.remove(child)
            parent.tag = _svg("g")
        for child in list(parent):
            name = local_name(child.tag) if isinstance(child.tag, str) else ""
            if name in CONDITIONAL and not conditions_pass(child):
                _remove_keeping_tail(parent, child)
            else:
                visit(child)

    visit(root)


KNOWN = frozenset({
    "a", "altGlyph", "altGlyphDef", "altGlyphItem", "animate", "animateColor", "animateMotion", "animateTransform",
    "circle", "clipPath", "color-profile", "cursor", "defs", "desc", "discard", "ellipse", "filter", "font",
    "font-face", "font-face-format", "font-face-name", "font-face-src", "font-face-uri", "foreignObject", "g",
    "glyph", "glyphRef", "hatch", "hatchpath", "hkern", "image", "line", "linearGradient", "marker", "mask",
    "mesh", "meshgradient", "meshpatch", "meshrow", "metadata", "missing-glyph", "mpath", "path", "pattern",
    "polygon", "polyline", "radialGradient", "rect", "script", "set", "solidcolor", "stop", "style", "svg",
    "switch", "symbol", "text", "textPath", "title", "tref", "tspan", "unknown", "use", "view", "vkern",
})
"""SVG element names; other elements (and anything outside the SVG namespace) draw nothing,
content included."""
SHAPES = frozenset({"rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "image"})


def prune(root: ET.Element) -> None:
    """Remove elements that are not SVG elements, with their content, and the children of shapes
    (which never draw), in place."""

    def visit(parent: ET.Element) -> None:
        shape = local_name(parent.tag) in SHAPES
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            name = local_name(child.tag)
            svg = child.tag.startswith(f"{{{SVG_NS}}}") or "}" not in child.tag
            if not svg or not (name in KNOWN or name.startswith("fe")) or (shape and name not in ("title", "desc")):
                parent.remove(child)
            else:
                visit(child)

    visit(root)


CLIP_CHILDREN = frozenset({"rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text"})


def valid_clip_children(root: ET.Element) -> None:
    """Remove what a ``<clipPath>`` may not hold, in place: only shapes, text and ``<use>`` of a shape
    or text clip (groups, switches, symbols do not)."""
    for clip in [e for e in root.iter() if local_name(e.tag) == "clipPath"]:
        for child in list(clip):
            if not isinstance(child.tag, str):
                continue
            name = local_name(child.tag)
            used = [c for c in child if isinstance(c.tag, str)] if child.get(USE_INSTANCE) is not None else []
            if name in CLIP_CHILDREN or (len(used) == 1 and local_name(used[0].tag) in CLIP_CHILDREN):
                continue
            if name not in ("title", "desc"):
                clip.remove(child)


ROOT_EFFECTS = ("opacity", "clip-path", "mask", "filter", "mix-blend-mode", "isolation")


def disabled_root(root: ET.Element) -> Counter[str]:
    """A root ``<svg>`` whose width or height is zero or negative draws nothing (SVG: zero disables
    rendering, a negative size is an error; resvg's reference draws an empty canvas): its content is
    removed and those sizes dropped (the canvas falls back to the viewBox or 100 x 100), in place."""
    sizes = [parse_length(root.get(name)) for name in ("width", "height")]
    if not any(size is not None and size[0] <= 0 for size in sizes):
        return Counter()
    root[:] = []
    for name in ("width", "height"):
        root.attrib.pop(name, None)
    return Counter({"root <svg> with a zero or negative width/height (nothing drawn)": 1})


def root_effects(root: ET.Element) -> None:
    """Move the root's group effects (opacity, clip-path, mask, filter, blending) onto a ``<g>`` holding
    its content, in place, so they apply like a group's (in the viewBox's user space)."""
    moved = {name: root.attrib.pop(name) for name in ROOT_EFFECTS if name in root.attrib}
    if moved:
        group = ET.Element(_svg("g"), moved)
        group.extend(list(root))
        root[:] = [group]


def drop_singular_paint_transforms(root: ET.Element) -> None:
    """Remove ``gradientTransform``/``patternTransform`` values that cannot be inverted or read, in
    place: like resvg, the paint server is then drawn untransformed."""
    for element in root.iter():
        for name in ("gradientTransform", "patternTransform"):
            if element.get(name) is None:
                continue
            try:
                matrix = Matrix(element.get(name))
                singular = abs(matrix.a * matrix.d - matrix.b * matrix.c) < 1e-12
            except Exception:  # svgelements raises many types for unreadable transforms
                singular = True
            if singular:
                del element.attrib[name]


def background(root: ET.Element) -> None:
    """A root ``background-color`` (an SVG 2 / CSS property resvg and browsers paint) becomes a
    rectangle under the content covering the viewBox (or the canvas), in place."""
    color = root.attrib.pop("background-color", None)
    if color is None or parse_color(color) is None:
        return
    box = viewbox(root)
    x, y, width, height = box if box is not None else (0.0, 0.0, "100%", "100%")
    root.insert(0, ET.Element(_svg("rect"), {"x": str(x), "y": str(y), "width": str(width), "height": str(height),
                                             "fill": color, "stroke": "none"}))


def _use_target(use: ET.Element, target: ET.Element) -> ET.Element:
    """What a ``<use>`` draws: a copy of ``target``; a ``<symbol>`` becomes an ``<svg>`` viewport
    (default size 100 %), and the use's width/height override an ``<svg>``'s."""
    copied = copy.deepcopy(target)
    if local_name(target.tag) == "symbol":
        copied.tag = _svg("svg")
        for name in ("x", "y", "transform"):  # SVG 1.1 symbols have no transform; resvg ignores it
            copied.attrib.pop(name, None)
        copied.set("width", use.get("width", target.get("width", "100%")))
        copied.set("height", use.get("height", target.get("height", "100%")))
    elif local_name(target.tag) == "svg":
        for name in ("width", "height"):
            if use.get(name) is not None:
                copied.set(name, use.get(name))
    return copied


def expand_uses(root: ET.Element, name: str) -> Counter[str]:
    """Replace every ``<use>`` by a ``<g>`` holding a copy of what it refers to (translated by its
    x/y, with its attributes), in place; uses of missing elements or of their own ancestors are
    removed and counted. Raises SVGParseError past MAX_EXPANDED created elements (a use bomb).
    Symbols, which never draw by themselves, are removed afterwards."""
    skipped: Counter[str] = Counter()
    by_id: dict[str, ET.Element] = {}
    for element in root.iter():
        if element.get("id") and element.get("id") not in by_id:
            by_id[element.get("id")] = element
    created = 0

    def expand(parent: ET.Element, ancestors: tuple[int, ...]) -> None:
        nonlocal created
        for index, child in enumerate(list(parent)):
            if not isinstance(child.tag, str):
                continue
            if local_name(child.tag) != "use":
                expand(child, ancestors + (id(child),))
                continue
            reference = _href(child)
            target = by_id.get(reference[1:]) if reference.startswith("#") else None
            if target is None or id(target) in ancestors:
                skipped["use of a missing element or of its own ancestor (not drawn)"] += 1
                parent.remove(child)
                continue
            group = ET.Element(_svg("g"), {k: v for k, v in child.attrib.items()
                                           if k not in ("x", "y", "width", "height", "href", XLINK_HREF)})
            group.set(USE_INSTANCE, "1")
            x, y = child.get("x", "0"), child.get("y", "0")
            group.set("transform", f"{child.get('transform', '')} translate({x or 0}, {y or 0})".strip())
            group.append(_use_target(child, target))
            created += sum(1 for _ in group.iter())
            if created > MAX_EXPANDED:
                raise SVGParseError(f"{name} expands to more than {MAX_EXPANDED} elements through nested <use> "
                                    "references; it looks like a use bomb, not a drawing")
            parent.remove(child)
            parent.insert(index, group)
            expand(group, ancestors + (id(target),))

    expand(root, (id(root),))
    parents = {child: parent for parent in root.iter() for child in parent}
    for symbol in [e for e in root.iter() if local_name(e.tag) == "symbol"]:
        parents[symbol].remove(symbol)
    return skipped


def viewbox_transform(viewport: tuple[float, float, float, float], box: tuple[float, float, float, float],
                      aspect: str | None) -> tuple[float, float, float, float]:
    """(sx, sy, tx, ty) mapping ``box`` (viewBox x, y, w, h) into ``viewport`` (x, y, w, h) with
    ``preserveAspectRatio`` (default xMidYMid meet)."""
    x, y, width, height = viewport
    bx, by, bw, bh = box
    words = (aspect or "xMidYMid meet").replace("defer", "").split()
    align = words[0] if words else "xMidYMid"
    sx, sy = width / bw, height / bh
    if align != "none":
        sx = sy = max(sx, sy) if len(words) > 1 and words[1] == "slice" else min(sx, sy)
    tx, ty = x - bx * sx, y - by * sy
    if align != "none":
        fx = {"xMin": 0.0, "xMid": 0.5, "xMax": 1.0}.get(align[:4], 0.5)
        fy = {"YMin": 0.0, "YMid": 0.5, "YMax": 1.0}.get(align[4:], 0.5)
        tx += (width - bw * sx) * fx
        ty += (height - bh * sy) * fy
    return sx, sy, tx, ty


def nested_viewports(root: ET.Element) -> None:
    """Turn each nested ``<svg>`` (lengths already in user units) into a ``<g>`` keeping its other
    attributes, holding a group clipped to its viewport (unless ``overflow`` is visible or auto) that
    holds its content under the viewBox transform; an empty viewport draws nothing. The clip paths are
    added to the root's first ``<defs>``."""
    defs = ET.SubElement(root, _svg("defs"))
    count = 0
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in [e for e in root.iter() if e is not root and local_name(e.tag) == "svg"]:
        x, y = (float(element.get(n, "0") or 0) for n in ("x", "y"))
        width, height = (float(element.get(n, "100%")) if not element.get(n, "%").endswith("%") else None
                         for n in ("width", "height"))
        if width is None or height is None:  # 100 % of a viewport that was not resolved: the root's
            continue
        if width <= 0 or height <= 0:
            parents[element].remove(element)
            continue
        box = viewbox(element)
        content = list(element)
        for child in content:
            element.remove(child)
        inner = ET.SubElement(element, _svg("g"))
        if box is not None:
            sx, sy, tx, ty = viewbox_transform((x, y, width, height), box, element.get("preserveAspectRatio"))
            inner.set("transform", f"matrix({sx!r} 0 0 {sy!r} {tx!r} {ty!r})")
        else:
            inner.set("transform", f"translate({x!r} {y!r})")
        inner.extend(content)
        if element.get("overflow", "hidden").strip() not in ("visible", "auto"):
            count += 1
            clip_id = VIEWPORT_CLIP.format(count)
            clip = ET.SubElement(defs, _svg("clipPath"), {"id": clip_id, "clipPathUnits": "userSpaceOnUse"})
            ET.SubElement(clip, _svg("rect"), {"x": repr(x), "y": repr(y), "width": repr(width),
                                               "height": repr(height)})
            element.remove(inner)
            clipped = ET.SubElement(element, _svg("g"), {"clip-path": f"url(#{clip_id})"})
            clipped.append(inner)
        for name in ("x", "y", "width", "height", "viewBox", "preserveAspectRatio", "overflow"):
            element.attrib.pop(name, None)
        element.tag = _svg("g")
    if not len(defs):
        root.remove(defs)


def window_size(root: ET.Element) -> tuple[float, float]:
    """The root viewport's size in px: its width and height, where missing or relative the viewBox's
    size, else 100 x 100."""
    box = viewbox(root)
    size = []
    for axis, name in enumerate(("width", "height")):
        parsed = parse_length(root.get(name))
        if parsed is not None and parsed[1] in ABSOLUTE:
            size.append(parsed[0] * ABSOLUTE[parsed[1]])
        else:
            size.append(box[2 + axis] if box is not None else 100.0)
    return size[0], size[1]


def normalize(root: ET.Element, name: str) -> Counter[str]:
    """Every rewrite the reader needs before svgelements, in order, in place: CSS cascade, conditional
    processing, path data checks, ``<use>`` expansion, non-SVG elements removed, ``inherit``/``currentColor``, lengths in user units, nested
    viewports. Returns what was skipped, counted by kind."""
    skipped = apply_stylesheets(root)
    skipped.update(disabled_root(root))
    apply_conditions(root)
    background(root)
    normalize_path_data(root)
    skipped.update(drop_bad_paths(root))
    skipped.update(check_uses(root, name))
    skipped.update(expand_uses(root, name))
    prune(root)
    valid_clip_children(root)
    root_effects(root)
    drop_singular_paint_transforms(root)
    resolve_inherited(root)
    skipped.update(viewport_unit_notes(root))
    resolve_lengths(root, window_size(root))
    nested_viewports(root)
    skipped.update(ignored_hints(root))
    return skipped


# rendering hints for aliased edges, which the renderer does not follow (it always anti-aliases)
ALIASED_HINTS = {"shape-rendering": ("crispEdges", "optimizeSpeed"), "text-rendering": ("optimizeSpeed",)}


def ignored_hints(root: ET.Element) -> Counter[str]:
    """The elements that ask for aliased edges (``ALIASED_HINTS``), counted by property and value."""
    found: Counter[str] = Counter()
    for element in root.iter():
        for name, values in ALIASED_HINTS.items():
            value = (element.get(name) or "").strip()
            if value in values:
                found[f'{name}="{value}" (drawn anti-aliased)'] += 1
    return found
