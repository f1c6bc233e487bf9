"""Gradients in objectBoundingBox units on text refer to the whole text's box (font metrics), not
to each glyph's outline: such a fill or stroke is rewritten to a userSpaceOnUse copy mapped onto
that box, so per-glyph paths draw one continuous gradient, as browsers and resvg draw it."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..document import SVG_NS, XLINK_HREF, local_name
from .content import Content

_GRADIENTS = ("linearGradient", "radialGradient")
_GEOMETRY = {"linearGradient": {"x1": "0", "y1": "0", "x2": "1", "y2": "0"},
             "radialGradient": {"cx": "0.5", "cy": "0.5", "r": "0.5", "fr": "0"}}
_URL = re.compile(r"^\s*url\(\s*['\"]?#([^'\")]+)['\"]?\s*\)(.*)$")


def _chain(element: ET.Element, by_id: dict[str, ET.Element]) -> list[ET.Element]:
    chain = [element]
    while len(chain) < 16:
        link = (chain[-1].get("href") or chain[-1].get(XLINK_HREF) or "").strip()
        parent = by_id.get(link[1:]) if link.startswith("#") else None
        if parent is None or parent in chain or local_name(parent.tag) not in _GRADIENTS:
            break
        chain.append(parent)
    return chain


def _fraction(text: str) -> str:
    text = text.strip()
    try:
        return repr(float(text[:-1]) / 100) if text.endswith("%") else repr(float(text))
    except ValueError:
        return "0"


def _on_box(gradient: ET.Element, box: tuple[float, float, float, float], by_id: dict[str, ET.Element],
            new_id: str) -> ET.Element | None:
    """A userSpaceOnUse gradient equal to ``gradient`` (objectBoundingBox) on ``box``; None when
    ``gradient`` is in user space already."""
    chain = _chain(gradient, by_id)

    def attr(name: str) -> str | None:
        return next((e.get(name) for e in chain if e.get(name) is not None), None)

    if (attr("gradientUnits") or "objectBoundingBox") != "objectBoundingBox":
        return None
    kind = local_name(gradient.tag)
    x0, y0, x1, y1 = box
    mapping = f"matrix({x1 - x0!r} 0 0 {y1 - y0!r} {x0!r} {y0!r}) {attr('gradientTransform') or ''}".strip()
    attributes = {"id": new_id, "href": f"#{gradient.get('id')}", "gradientUnits": "userSpaceOnUse",
                  "gradientTransform": mapping}
    for name, default in _GEOMETRY[kind].items():
        attributes[name] = _fraction(attr(name) or default)
    if kind == "radialGradient":
        attributes["fx"] = _fraction(attr("fx") or attributes["cx"])
        attributes["fy"] = _fraction(attr("fy") or attributes["cy"])
    return ET.Element(f"{{{SVG_NS}}}{kind}", attributes)


def rebind(content: Content, box: tuple[float, float, float, float] | None, by_id: dict[str, ET.Element],
           defs: list[ET.Element]) -> None:
    """Point the text's and its tspans' own bounding-box gradient paints at copies on ``box``
    (x0, y0, x1, y1), appended to ``defs``."""
    if box is None or box[2] <= box[0] or box[3] <= box[1]:
        return
    for element in content.elements:
        group = element.group
        for prop in ("fill", "stroke"):
            value = element.chain.own(prop)
            match = _URL.match(value or "")
            gradient = by_id.get(match.group(1)) if match else None
            if gradient is None or local_name(gradient.tag) not in _GRADIENTS:
                continue
            new_id = f"{gradient.get('id')}-text-box-{len(defs)}"
            copy = _on_box(gradient, box, by_id, new_id)
            if copy is None:
                continue
            defs.append(copy)
            group.set(prop, f"url(#{new_id}){match.group(2)}")
            style = ";".join(d for d in group.get("style", "").split(";") if d.partition(":")[0].strip() != prop)
            if "style" in group.attrib:
                group.set("style", style)
