"""Loading an SVG document: source resolution, XML checks, and removal of elements we cannot draw.

The XML is parsed with ElementTree first, so malformed input raises our own ``SVGParseError``, and
unsupported elements are removed (and counted) before svgelements builds the drawable tree.
"""
from __future__ import annotations

import io
import os
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from svgelements import SVG

from ..errors import SVGParseError

SVG_NS = "http://www.w3.org/2000/svg"
UNSUPPORTED = frozenset({
    "text", "image", "filter", "mask", "clipPath", "pattern", "marker", "foreignObject",
    "meshgradient", "hatch", "video", "audio", "iframe", "canvas",
})


class UnsupportedSVGWarning(UserWarning):
    """An SVG holds elements or features the Scene cannot represent; they were skipped."""


def local_name(tag: str) -> str:
    """``'{ns}rect'`` -> ``'rect'``."""
    return tag.rsplit("}", 1)[-1]


def read_source(source: str | os.PathLike) -> tuple[bytes, str]:
    """The document bytes and a name for messages. A str starting with '<' is SVG markup."""
    if isinstance(source, str) and source.lstrip().startswith("<"):
        return source.encode("utf-8"), "<string>"
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
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise SVGParseError(f"{name} is not well-formed XML ({error}); fix or re-export the file") from None
    if local_name(root.tag) != "svg":
        raise SVGParseError(f"{name} has root element <{local_name(root.tag)}>, not <svg>")
    return root


def strip_unsupported(root: ET.Element) -> Counter[str]:
    """Remove unsupported elements (with their content) in place and count them by kind.

    ``<symbol>`` elements are turned into groups inside ``<defs>``, so they draw only through ``<use>``.
    """
    skipped: Counter[str] = Counter()
    symbols: list[ET.Element] = []

    def visit(parent: ET.Element) -> None:
        for child in list(parent):
            kind = local_name(child.tag)
            if kind in UNSUPPORTED:
                skipped[kind] += 1
                parent.remove(child)
                continue
            if kind == "symbol":
                parent.remove(child)
                child.tag = f"{{{SVG_NS}}}g"
                symbols.append(child)
            visit(child)

    visit(root)
    ET.SubElement(root, f"{{{SVG_NS}}}defs").extend(symbols)
    return skipped


def build_tree(root: ET.Element, name: str) -> SVG:
    """The svgelements document for ``root`` (transforms kept on the shapes, not baked)."""
    try:
        return SVG.parse(io.BytesIO(ET.tostring(root)), reify=False)
    except Exception as error:  # svgelements raises many types for bad attribute values
        raise SVGParseError(f"cannot interpret {name}: {type(error).__name__}: {error}") from None


def warn_skipped(skipped: Counter[str], name: str) -> None:
    """One UnsupportedSVGWarning naming every skipped kind and its count (nothing if none)."""
    if skipped:
        parts = ", ".join(f"{count} x {kind}" for kind, count in sorted(skipped.items()))
        warnings.warn(f"{name}: skipped unsupported SVG elements: {parts}", UnsupportedSVGWarning,
                      stacklevel=3)
