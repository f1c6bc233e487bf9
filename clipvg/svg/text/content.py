"""A ``<text>`` element's content as text nodes in document order, white space resolved.

``<tspan>`` and ``<a>`` nest; ``<tref>`` contributes the character data of the element it refers
to; ``<textPath>`` counts only as a direct child of ``<text>``; any other element (and its text) is
ignored, as browsers do. Each output element (a ``<g>`` standing for the text, tspan, ...) is made
here so glyphs can later be put where their characters were.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..document import SVG_NS, XLINK_HREF, local_name
from .style import Chain
from .whitespace import Piece, collapse, preserves, trim

CONTAINERS = ("tspan", "a", "tref", "textPath")
# attributes that position or lay out characters: they do not go onto the output groups
LAYOUT_ATTRIBUTES = frozenset({"x", "y", "dx", "dy", "rotate", "textLength", "lengthAdjust", "href", XLINK_HREF,
                               "startOffset", "method", "spacing", "side", "path"})
# SVG elements a <tref> may take its characters from (anything else, e.g. a foreign element, gives none)
SVG_ELEMENTS = frozenset(
    "a circle clipPath defs desc ellipse feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix "
    "feDiffuseLighting feDisplacementMap feDistantLight feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR "
    "feGaussianBlur feImage feMerge feMergeNode feMorphology feOffset fePointLight feSpecularLighting feSpotLight "
    "feTile feTurbulence filter g image line linearGradient marker mask metadata path pattern polygon polyline "
    "radialGradient rect script set stop style svg switch symbol text textPath title tref tspan use view".split())


def reference(element: ET.Element, by_id: dict[str, ET.Element]) -> ET.Element | None:
    """The element an ``href``/``xlink:href`` of the form ``#id`` points to, or None."""
    link = (element.get("href") or element.get(XLINK_HREF) or "").strip()
    return by_id.get(link[1:]) if link.startswith("#") else None


@dataclass
class Element:
    """One text-content element: its style chain, output group, and text-node range [first, end)."""

    chain: Chain
    group: ET.Element
    first: int = 0
    end: int = 0
    text_path: ET.Element | None = None  # for a <textPath>: the element itself


@dataclass
class Node:
    """A text node: characters (white space resolved), owner element index, output placeholder."""

    piece: Piece
    owner: int
    placeholder: ET.Element
    text_path: int | None  # index of the enclosing <textPath> element, if any

    @property
    def text(self) -> str:
        return self.piece.text


@dataclass
class Content:
    elements: list[Element] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)

    def offsets(self) -> list[int]:
        """Character offset of each node's first character within the whole text."""
        result, total = [], 0
        for node in self.nodes:
            result.append(total)
            total += len(node.text)
        return result


# what browsers ignore on a tspan, textPath, tref or a: they apply to graphics and containers only
_NOT_ON_SPANS = frozenset({"transform", "opacity", "clip-path", "mask", "filter", "mix-blend-mode", "isolation"})


def _group(element: ET.Element, is_text: bool) -> ET.Element:
    """The output group of a text-content element; only ``<text>`` keeps its transform, opacity,
    clipping, masking, filter and blending."""
    attributes = {k: v for k, v in element.attrib.items()
                  if k not in LAYOUT_ATTRIBUTES and (is_text or k not in _NOT_ON_SPANS)}
    return ET.Element(f"{{{SVG_NS}}}g", attributes)


def collect(text: ET.Element, chain: Chain, by_id: dict[str, ET.Element]) -> Content:
    """The content of ``text`` (whose ``chain`` starts at it); ``by_id`` resolves tref links."""
    content = Content()

    def mode(element_chain: Chain) -> bool:
        return preserves(element_chain.find("white-space"), element_chain.find("xml:space"))

    def add_text(raw: str | None, owner: int, parent_group: ET.Element, text_path: int | None) -> None:
        if not raw:
            return
        placeholder = ET.SubElement(parent_group, f"{{{SVG_NS}}}g")
        element_chain = content.elements[owner].chain
        depth = len(element_chain.elements) - len(chain.elements)
        piece = Piece(collapse(raw, mode(element_chain)), mode(element_chain), depth)
        content.nodes.append(Node(piece, owner, placeholder, text_path))

    def visit(element: ET.Element, element_chain: Chain, parent_group: ET.Element | None,
              text_path: int | None) -> ET.Element:
        group = _group(element, element is text)
        if parent_group is not None:
            parent_group.append(group)
        index = len(content.elements)
        content.elements.append(Element(element_chain, group, first=len(content.nodes)))
        if local_name(element.tag) == "textPath":
            content.elements[index].text_path = element
            text_path = index
        if local_name(element.tag) == "tref":
            target = reference(element, by_id)
            if target is not None and target.tag == f"{{{SVG_NS}}}{local_name(target.tag)}" and \
                    local_name(target.tag) in SVG_ELEMENTS:
                add_text("".join(target.itertext()), index, group, text_path)
        else:
            add_text(element.text, index, group, text_path)
            for child in element:
                kind = local_name(child.tag)
                if kind in CONTAINERS and (kind != "textPath" or element is text):
                    visit(child, element_chain.child(child), group, text_path)
                add_text(child.tail, index, group, text_path)
        content.elements[index].end = len(content.nodes)
        return group

    visit(text, chain, None, None)
    trim([node.piece for node in content.nodes])
    return content
