"""Text chunks and their spans: each character's style, from the element that holds it.

A chunk starts at the first character, at each character with an absolute ``x`` or ``y``, and at
the first character inside and after a ``<textPath>``. A span is one text node's share of a chunk.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

from ..document import local_name
from .content import Content, Node
from .faces import Face, FontSpec, select
from .positions import Positions
from .style import STRETCHES, Chain

DECORATIONS = ("overline", "underline", "line-through")


@dataclass
class Span:
    """Characters [start, end) of a chunk's text that one text node holds, with their style."""

    start: int
    end: int
    node: Node
    face: Face
    spec: FontSpec
    size: float
    small_caps: bool
    kerning: bool
    dominant_baseline: str
    alignment_baseline: str
    baseline_shift: list[str | float]
    letter_spacing: float
    word_spacing: float
    text_length: float | None
    length_adjust: str
    visible: bool
    decorations: dict[str, int]  # kind -> index of the element whose paint draws it


@dataclass
class Chunk:
    """A run of characters laid out together; ``offset`` is its first character's index in the text."""

    x: float | None
    y: float | None
    anchor: str
    text_path: int | None
    offset: int
    text: str = ""
    spans: list[Span] = field(default_factory=list)

    def span_at(self, index: int) -> Span | None:
        return next((s for s in self.spans if s.start <= index < s.end), None)


def _variations(value: str | None) -> tuple[tuple[str, float], ...]:
    if not value or value == "normal":
        return ()
    found = []
    for tag, number in re.findall(r"[\"']([^\"']{4})[\"']\s+([+-]?[\d.]+(?:[eE][+-]?\d+)?)", value):
        found.append((tag, float(number)))
    return tuple(found)


def spec_of(chain: Chain) -> FontSpec:
    style = chain.find("font-style", "normal")
    return FontSpec(tuple(chain.families()), chain.font_weight(),
                    style if style in ("italic", "oblique") else "normal",
                    STRETCHES.get(chain.find("font-stretch", "normal"), 100.0),
                    _variations(chain.find("font-variation-settings")))


def _parent_or_own(chain: Chain, name: str, default: str) -> str:
    """A non-inherited property: the element's own value, else its parent's (as resvg reads them)."""
    own = chain.own(name)
    if own is not None:
        return own
    parent = chain.values[1].get(name) if len(chain.values) > 1 else None
    return parent if parent not in (None, "inherit") else default


def _baseline_shift(chain: Chain, text: ET.Element, viewport: tuple[float, float]) -> list[str | float]:
    shifts: list[str | float] = []
    for depth, element in enumerate(chain.elements):
        if element is text:
            break
        value = chain.values[depth].get("baseline-shift")
        if value is None:
            continue
        if value in ("sub", "super", "baseline"):
            shifts.append(value)
            continue
        inner = Chain(chain.elements[depth:], chain.values[depth:])
        if value.strip().endswith("%"):
            shifts.append(inner.font_size() * float(value.strip()[:-1]) / 100)
        else:
            shifts.append(inner.to_user(value, viewport[1]))
    return [] if all(s == "baseline" for s in shifts) else shifts


def _decorations(content: Content, owner: int) -> dict[str, int]:
    """For each decoration on the element or an ancestor: the element whose paint draws it (the
    nearest declaring element inside the text, else the ``<text>`` itself)."""
    chain = content.elements[owner].chain
    index_of = {id(e.chain.elements[0]): i for i, e in enumerate(content.elements)}
    found: dict[str, int] = {}
    for kind in DECORATIONS:
        declared = [kind in (values.get("text-decoration") or "").split() for values in chain.values]
        if not any(declared):
            continue
        for depth, element in enumerate(chain.elements):
            if declared[depth] or local_name(element.tag) == "text":
                found[kind] = index_of.get(id(element), 0)
                break
    return found


def build(content: Content, positions: Positions, viewport: tuple[float, float], paths: set[int],
          notes: Counter[str]) -> list[Chunk]:
    """The text chunks of ``content``; characters in a ``<textPath>`` not in ``paths`` (its path is
    missing) and spans whose font cannot be found are left out (noted)."""
    chunks: list[Chunk] = []
    text = content.elements[0].chain.elements[0]
    offset = 0
    split = False
    previous_path: int | None = None
    for node in content.nodes:
        element = content.elements[node.owner]
        chain = element.chain
        count = len(node.text)
        on_path = node.text_path if node.text_path in paths else None  # a broken textPath: plain text
        if on_path != previous_path:
            split = True
            previous_path = on_path
        if not count:
            continue
        size = chain.font_size()
        if chain.own("display") == "none" or size <= 0 or (node.text_path is not None and node.text_path not in paths):
            offset += count
            continue
        spec = spec_of(chain)
        face, note = select(spec, size)
        if note:
            notes[note] += 1
        if face is None:
            offset += count
            continue
        text_length = chain.to_user(chain.own("textLength"), viewport[0], -1.0) if chain.own("textLength") else -1.0
        span = Span(0, 0, node, face, spec, size,
                    small_caps=chain.find("font-variant", "normal") == "small-caps",
                    kerning=not (chain.find("kerning") in ("0", "0px") or chain.find("font-kerning") == "none"),
                    dominant_baseline=_dominant(chain),
                    alignment_baseline=_parent_or_own(chain, "alignment-baseline", "auto"),
                    baseline_shift=_baseline_shift(chain, text, viewport),
                    letter_spacing=chain.length("letter-spacing", viewport[0]),
                    word_spacing=chain.length("word-spacing", viewport[0]),
                    text_length=text_length if text_length >= 0 else None,
                    length_adjust=chain.own("lengthAdjust") or "spacing",
                    visible=chain.find("visibility", "visible") == "visible",
                    decorations=_decorations(content, node.owner))
        anchor = chain.find("text-anchor", "start")
        current: Span | None = None
        for char in node.text:
            new_chunk = (positions.x[offset] is not None or positions.y[offset] is not None or split
                         or not chunks)
            split = False
            if new_chunk:
                chunks.append(Chunk(positions.x[offset], positions.y[offset], anchor, node.text_path, offset))
                current = None
            chunk = chunks[-1]
            if current is None:
                current = Span(**{**span.__dict__, "start": len(chunk.text), "end": len(chunk.text)})
                chunk.spans.append(current)
            chunk.text += char
            current.end += 1
            offset += 1
    return chunks


def _dominant(chain: Chain) -> str:
    value = _parent_or_own(chain, "dominant-baseline", "auto")
    if value == "no-change":
        parent = chain.values[1].get("dominant-baseline") if len(chain.values) > 1 else None
        value = parent or "auto"
    return value
