"""Reference loops broken before reading, as usvg does: a ``fill``/``stroke`` inside a ``<pattern>``
that paints with that pattern again (directly, or through the content of the pattern it links to),
and a ``clip-path``/``mask`` inside a ``<clipPath>``/``<mask>`` that leads back to it, are set to
``none`` on the element that closes the loop. Which element that is follows document order, as in
usvg, so both renderers drop the same link (for ``mask`` SVG leaves the choice open)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from .document import local_name

_URL = re.compile(r"\s*url\(\s*['\"]?#([^'\")]+)['\"]?\s*\)")
LINKS = (("pattern", "fill"), ("pattern", "stroke"), ("clipPath", "clip-path"), ("mask", "mask"))


def url_id(value: str | None) -> str | None:
    """``url(#id)`` (with or without a fallback after it) -> ``id``; None for none, absent or other values."""
    match = _URL.match(value) if value else None
    return match.group(1) if match else None


def break_reference_cycles(root: ET.Element) -> Counter[str]:
    """Set to ``none`` each attribute that closes a reference loop (see the module docstring), in place;
    returns the loops broken, counted by kind."""
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    broken: Counter[str] = Counter()
    for kind, attribute in LINKS:
        owners = [e for e in root.iter() if isinstance(e.tag, str) and local_name(e.tag) == kind and e.get("id")]
        while (closing := _loop_closer(owners, attribute, by_id)) is not None:
            closing.set(attribute, "none")
            broken[f"{attribute} that refers to itself (it leads back into its own {kind}; set to none)"] += 1
    return broken


def _loop_closer(owners: list[ET.Element], attribute: str, by_id: dict[str, ET.Element]) -> ET.Element | None:
    """The first element (in document order) under one of ``owners`` whose ``attribute`` links to that
    owner, or under an element linked from it whose ``attribute`` does so; None when there is none."""
    for owner in owners:
        own_id = owner.get("id")
        for node in owner.iter():
            link = url_id(node.get(attribute))
            if link is None:
                continue
            if link == own_id:
                return node
            linked = by_id.get(link)
            for inner in [] if linked is None else linked.iter():
                if url_id(inner.get(attribute)) == own_id:
                    return inner
    return None
