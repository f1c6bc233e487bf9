"""Loading an SVG document: source resolution, XML checks, and XML rewrites before svgelements.

The XML is parsed with ElementTree first, so malformed input raises our own ``SVGParseError``;
unsupported elements are removed (and counted) before svgelements builds the drawable tree (the
structure rewrites are in ``structure``).
"""
from __future__ import annotations

import gc
import io
import math
import os
import re
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from svgelements import DEFAULT_PPI, SVG, Length, Path as SVGPath, SVGLexicalParser

from ..errors import SVGParseError
from ..limits import ResourceLimits, resource_limits
from .path_arcs import ARC_ARGUMENTS
from .path_data import long_path_data_set_aside
from .point_count import PointTally, element_label

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
UNSUPPORTED = frozenset({
    "text", "image", "foreignObject", "meshgradient", "hatch", "video", "audio", "iframe", "canvas",
})
DEFINITIONS = frozenset({"clipPath", "mask", "filter", "marker", "pattern"})
"""Elements that never draw where they stand; they are taken out of the tree and used by reference."""
MAX_CANVAS = 1 << 16  # px: a larger canvas is refused (render sizes follow the canvas by default)


class UnsupportedSVGWarning(UserWarning):
    """An SVG holds elements or features the Scene cannot represent; they were skipped.
    ``counts`` maps each skipped kind to how many times it was skipped."""

    def __init__(self, message: str, counts: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.counts = dict(counts or {})


def local_name(tag: str) -> str:
    """``'{ns}rect'`` -> ``'rect'``."""
    return tag.rsplit("}", 1)[-1]


def source_name(source: str | os.PathLike) -> str:
    """How messages name a document: its path, or ``<string>`` for markup (a str starting with '<')."""
    return "<string>" if isinstance(source, str) and source.lstrip().startswith("<") else str(Path(source))


def read_source(source: str | os.PathLike) -> tuple[bytes, str]:
    """The document bytes and a name for messages (``source_name``). A str starting with '<' is SVG markup."""
    if isinstance(source, str) and source.lstrip().startswith("<"):
        return source.encode("utf-8"), source_name(source)
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise SVGParseError(f"SVG file not found: {path}; check the path") from None
    except OSError as error:
        raise SVGParseError(f"cannot read SVG file {path}: {error.strerror or error}") from None


def parse_xml(data: bytes, name: str) -> ET.Element:
    """The root ``<svg>`` element; raises SVGParseError for empty, malformed or non-SVG input."""
    if not data.strip():
        raise SVGParseError(f"{name} is empty; an SVG document needs an <svg> root element")
    try:
        with gc_paused():  # elements are never cyclic: no collections (of every object of the process) mid-parse
            root = ET.fromstring(data)
    except ET.ParseError as error:
        raise SVGParseError(f"{name} is not well-formed XML ({error}); fix or re-export the file") from None
    if local_name(root.tag) != "svg":
        raise SVGParseError(f"{name} has root element <{local_name(root.tag)}>, not <svg>")
    if root.tag not in ("svg", f"{{{SVG_NS}}}svg"):
        raise SVGParseError(f"{name}: the <svg> root is in the namespace {root.tag[1:].split('}')[0]!r}; give it "
                            f'xmlns="{SVG_NS}"')
    check_size(root, name, resource_limits())
    return root


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block (back on after, if it was on): parsing a
    large document allocates elements by the ten thousand, each batch of which triggered a collection
    over the process's millions of objects (torch's among them): 0.2-5 s for 20 000 nested groups, and
    0.3 s more, now and then, to read a path of 40 000 points in a process holding 2.4 million objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_size(root: ET.Element, name: str, limits: ResourceLimits) -> None:
    """SVGParseError when ``root`` nests elements deeper than the group_depth limit, or its path data
    (``d``, ``points``) holds more points than the points_per_path / points limits (``PointTally``).
    Iterative (the depth is the user's)."""
    stack, tally = [(root, 1)], PointTally(name, limits)
    while stack:
        element, depth = stack.pop()
        limits.check("group_depth", depth, f"{name}: the element nesting depth (at <{local_name(element.tag)}>)", SVGParseError)
        stack.extend((child, depth + 1) for child in element)
        data = element.get("d") or element.get("points")
        if data:
            tally.add(data, element_label(local_name(element.tag), element.get("id")))
    tally.finish()


def check_canvas(width: float, height: float, name: str) -> None:
    """SVGParseError when a canvas of ``width`` x ``height`` px is not finite and positive, or over
    MAX_CANVAS px on a side."""
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise SVGParseError(f"{name} has an unusable canvas size {width} x {height}; give the <svg> a "
                            "positive width and height or a viewBox")
    if max(width, height) > MAX_CANVAS:
        raise SVGParseError(f"{name} has a canvas of {width:g} x {height:g} px, more than {MAX_CANVAS} px on a "
                            "side; fix its width/height (a viewBox alone sets the size)")


def strip_unsupported(root: ET.Element) -> Counter[str]:
    """Remove unsupported elements (with their content) in place and count them by kind."""
    skipped: Counter[str] = Counter()

    def visit(parent: ET.Element) -> None:
        for child in list(parent):
            kind = local_name(child.tag)
            if kind in UNSUPPORTED:
                skipped[kind] += 1
                parent.remove(child)
            else:
                visit(child)

    visit(root)
    return skipped


def extract_definitions(root: ET.Element) -> dict[str, ET.Element]:
    """Remove clip paths, masks, filters, markers and patterns (wherever they are, nested ones too)
    from the tree, in place; returns them by id (those without an id can never be used)."""
    found: dict[str, ET.Element] = {}

    def visit(parent: ET.Element) -> None:
        for child in list(parent):
            visit(child)
            if local_name(child.tag) in DEFINITIONS:
                parent.remove(child)
                if child.get("id") and child.get("id") not in found:
                    found[child.get("id")] = child

    visit(root)
    return found


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def normalize_path_data(root: ET.Element) -> None:
    """Rewrite numbers with a trailing dot ("5." and "5.e1", valid SVG) in path data, which svgelements
    rejects (it would drop the rest of the path), and give a ``<path>`` without ``d`` an empty one, in place."""

    def fix(match: re.Match) -> str:
        text = match.group(0)
        if "." not in text:
            return text
        mantissa, e, exponent = re.split(r"([eE])", text, maxsplit=1) if re.search(r"[eE]", text) else (text, "", "")
        if mantissa.endswith("."):
            return mantissa[:-1] + e + exponent + " "
        return text

    for element in root.iter():
        if local_name(element.tag) == "path" and element.get("d") is None:
            element.set("d", "")  # a path without data draws nothing (svgelements would fail on it)
        data = element.get("d")
        if data and re.search(r"\d\.(?!\d)", data):
            element.set("d", _NUMBER.sub(fix, data))


def _readable_prefix(data: str) -> str:
    """The longest prefix of path data, cut before a command letter, that svgelements reads. Prefixes ending
    past the place where its reading of the whole ``data`` failed fail the same way, so only the cuts before that
    place are tried (from the last): a parse or two, where trying every cut took O(n^2) (19 s for a million "M")."""
    lexer = SVGLexicalParser()
    try:
        lexer.parse(SVGPath(), data)
        return data
    except Exception:  # svgelements raises many types for malformed data
        failed_at = lexer.pos
    cuts = [m.start() for m in re.finditer(r"[MmZzLlHhVvCcSsQqTtAa]", data)][1:] + [len(data)]
    for end in reversed([cut for cut in cuts if cut <= failed_at]):
        try:
            SVGPath(data[:end])
            return data[:end]
        except Exception:
            continue
    return ""


_ARGUMENTS = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}
_PATH_COMMAND = re.compile(r"([MmZzLlHhVvCcSsQqTtAa])([^MmZzLlHhVvCcSsQqTtAa]*)")
_SEPARATOR_ONLY = re.compile(r"[\s,]*$")
_ARC_RUN = re.compile(rf"(?:{ARC_ARGUMENTS})+[\s,]*")  # one arc command's arguments: whole arcs, nothing else


def _arguments_well_formed(command: str, text: str) -> bool:
    """Whether ``text`` holds whole argument groups of ``command`` (numbers, arc flags that may be
    written without separators)."""
    if command in "Aa":
        return _ARC_RUN.fullmatch(text) is not None
    count = _ARGUMENTS[command.lower()]
    if _SEPARATOR_ONLY.match(_NUMBER.sub(" ", text)) is None:  # numbers alone: counted with C-level regex calls
        return False
    values = len(_NUMBER.findall(text))
    return not values if count == 0 else values > 0 and values % count == 0


def _well_formed(data: str) -> bool:
    """Whether SVG path data is free of syntax errors; cheaper than parsing it into segments."""
    if _PATH_COMMAND.sub("", data).strip():
        return False
    return all(_arguments_well_formed(command, text) for command, text in _PATH_COMMAND.findall(data))


def drop_bad_paths(root: ET.Element) -> Counter[str]:
    """Check path data in place, as browsers draw it: a path whose data does not start with a
    moveto draws nothing; one with an error draws up to the error. Returns what was changed, counted."""
    skipped: Counter[str] = Counter()
    for element in root.iter():
        data = (element.get("d") or "").strip() if local_name(element.tag) == "path" else ""
        if not data:
            continue
        if data[0] not in "Mm":
            element.set("d", "")
            skipped["path data not starting with a moveto (path not drawn)"] += 1
            continue
        prefix = data if _well_formed(data) else _readable_prefix(data)
        if prefix != data:
            element.set("d", prefix)
            skipped["path data with an error (drawn up to the error)"] += 1
    return skipped


MAX_EXPANDED_ELEMENTS = 200_000  # elements after expanding every <use>: beyond, a "use bomb" is refused


def check_uses(root: ET.Element, name: str) -> Counter[str]:
    """Remove ``<use>`` elements that refer to themselves through any chain (browsers draw nothing
    for them) and count them; raise SVGParseError when expanding the uses would make more than
    MAX_EXPANDED_ELEMENTS elements (nested uses multiply like an entity-expansion bomb), or nest elements
    deeper than the group_depth limit (a chain of uses each drawing the next)."""
    limits = resource_limits()
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    parents = {child: parent for parent in root.iter() for child in parent}
    skipped: Counter[str] = Counter()
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def target(use: ET.Element) -> ET.Element | None:
        return by_id.get((use.get("href") or use.get(XLINK_HREF) or "").strip().lstrip("#"))

    def size(element: ET.Element, depth: int) -> int:
        """Elements drawn for ``element``, at nesting ``depth``, with uses expanded; cyclic uses are removed on
        the way."""
        key = id(element)
        if key in sizes:
            return sizes[key]
        if depth > limits.group_depth:  # (the message is made only then)
            limits.check("group_depth", depth, f"{name}: the element nesting depth with <use> expanded (at "
                         f"{element_label(local_name(element.tag), element.get('id'))})", SVGParseError)
        active.add(key)
        total = 1
        for child in list(element):
            total += size(child, depth + 1)
        if local_name(element.tag) == "use":
            referenced = target(element)
            if referenced is not None:
                if id(referenced) in active:
                    skipped["use that refers to itself (recursive)"] += 1
                    parent = parents.get(element)
                    if parent is not None:
                        parent.remove(element)
                    total = 0
                else:
                    total += size(referenced, depth + 1)
        active.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_ELEMENTS:
            raise SVGParseError(f"{name} expands to more than {MAX_EXPANDED_ELEMENTS} elements through nested "
                                "<use> references; it looks like a use bomb, not a drawing" if uses else
                                f"{name} holds more than {MAX_EXPANDED_ELEMENTS} elements; split it or simplify it")
        return total

    uses = any(local_name(e.tag) == "use" for e in root.iter())
    size(root, 1)
    return skipped


def user_length(text: str, relative: float) -> float:
    """An SVG length in user units (px at 96 dpi); percentages of ``relative``; font units as numbers."""
    value = Length(text).value(ppi=DEFAULT_PPI, relative_length=relative)
    return float(value) if isinstance(value, (int, float)) else float(Length(text).amount or 0.0)


def build_tree(root: ET.Element, name: str) -> SVG:
    """The svgelements document for ``root`` (transforms kept on the shapes, not baked); long path data is set
    aside for ``shape_data`` to read (``path_data``)."""
    with long_path_data_set_aside(root):
        markup = ET.tostring(root)
    try:
        return SVG.parse(io.BytesIO(markup), reify=False)
    except Exception as error:  # svgelements raises many types for bad attribute values
        raise SVGParseError(f"cannot interpret {name}: {type(error).__name__}: {error}") from None


def warn_skipped(skipped: Counter[str], name: str) -> None:
    """One UnsupportedSVGWarning naming every skipped kind and its count (nothing if none), reported at the line
    that called ``load_svg`` or ``read_svg`` (the caller of the caller of the caller of this function's caller)."""
    if skipped:
        parts = ", ".join(f"{count} x {kind}" for kind, count in sorted(skipped.items()))
        warnings.warn(UnsupportedSVGWarning(f"{name}: skipped unsupported SVG elements: {parts}", dict(skipped)),
                      stacklevel=5)
