"""``<text>``/``<tspan>`` set as outlines before svgelements reads the tree.

Each ``<text>`` becomes a ``<g>`` with the text's attributes holding one ``<path>`` per run of
characters (a tspan keeps its own attributes), so fills, strokes, transforms and CSS apply as to any
shape. Fonts are found with fontconfig (``fc-match``) from font-family, font-weight and font-style;
a family that is not installed is drawn with fontconfig's substitute and reported by name. Layout:
x/y/dx/dy (first values), kerning, text-anchor per text chunk, collapsed white space. Not done:
textPath, per-glyph x/y lists and rotate, letter/word spacing, vertical and bidirectional text.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

from fontTools.ttLib import TTFont

from ..fonts import _gpos_kerning, _kerning, _OutlinePen
from .document import SVG_NS, local_name, user_length

GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}
_POSITION = ("x", "y", "dx", "dy")
_FONT_PROPERTIES = ("font-family", "font-size", "font-weight", "font-style", "text-anchor", "font")


@dataclass
class _Font:
    font: TTFont
    glyphs: object
    cmap: dict
    kerning: list
    units: float


@functools.lru_cache(maxsize=64)
def _match(family: str, bold: bool, italic: bool) -> tuple[str, str] | None:
    """(installed family, file) fontconfig picks, or None without fontconfig."""
    if shutil.which("fc-match") is None:
        return None
    pattern = family + (":weight=bold" if bold else "") + (":slant=italic" if italic else "")
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}|%{file}", pattern], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    name, _, path = out.partition("|")
    return (name, path) if path else None


@functools.lru_cache(maxsize=16)
def _open(path: str) -> _Font | None:
    try:
        font = TTFont(path, lazy=True, fontNumber=0)
        return _Font(font, font.getGlyphSet(), font.getBestCmap() or {}, _gpos_kerning(font),
                     float(font["head"].unitsPerEm))
    except Exception:  # an unreadable font file: the text is skipped and reported
        return None


def _style(element: ET.Element) -> dict[str, str]:
    values = {k: v for k, v in element.attrib.items() if k in _FONT_PROPERTIES}
    for declaration in element.get("style", "").split(";"):
        key, _, value = declaration.partition(":")
        if value.strip() and key.strip() in _FONT_PROPERTIES:
            values[key.strip()] = value.strip()
    return values


def texts_to_paths(root: ET.Element, viewport: tuple[float, float]) -> Counter[str]:
    """Replace every ``<text>`` in ``root`` by outlines, in place; returns what was skipped or substituted."""
    skipped: Counter[str] = Counter()
    parents = {child: parent for parent in root.iter() for child in parent}
    for text in [e for e in root.iter() if local_name(e.tag) == "text"]:
        chain = [text]
        while chain[-1] in parents:
            chain.append(parents[chain[-1]])
        inherited: dict[str, str] = {}
        for element in reversed(chain[1:]):
            inherited.update(_style(element))
        group = _set_text(text, inherited, viewport, skipped)
        parent = parents.get(text)
        if parent is not None:
            parent[list(parent).index(text)] = group
    return skipped


def _font_for(style: dict[str, str], skipped: Counter[str]) -> _Font | None:
    """The first installed (or generic) family of font-family; else fontconfig's substitute for the
    first one, reported by name."""
    families = [f.strip().strip("'\"") for f in style.get("font-family", "sans-serif").split(",") if f.strip()]
    families = families or ["sans-serif"]
    bold = style.get("font-weight", "normal") in ("bold", "bolder", "600", "700", "800", "900")
    italic = style.get("font-style", "normal") in ("italic", "oblique")
    chosen = None
    for family in families:
        found = _match(family, bold, italic)
        if found is None:
            skipped["text (fontconfig's fc-match is not installed)"] += 1
            return None
        if family.lower() in GENERIC or family.lower() == found[0].lower():
            chosen = found
            break
    if chosen is None:
        chosen = _match(families[0], bold, italic)
        skipped[f"font '{families[0]}' not installed (text drawn in {chosen[0]})"] += 1
    font = _open(chosen[1])
    if font is None:
        skipped[f"text in unreadable font file {chosen[1]}"] += 1
    return font


def _set_text(text: ET.Element, inherited: dict[str, str], viewport: tuple[float, float],
              skipped: Counter[str]) -> ET.Element:
    group = ET.Element(f"{{{SVG_NS}}}g", {k: v for k, v in text.attrib.items() if k not in _POSITION})
    state = {"x": 0.0, "y": 0.0, "chunk": []}  # the chunk's paths and their advance, for text-anchor

    def number(value: str | None, axis: int) -> float | None:
        if value is None or not value.strip():
            return None
        try:
            return user_length(re.split(r"[\s,]+", value.strip())[0], viewport[axis])
        except Exception:
            return None

    def finish_chunk(anchor: str) -> None:
        chunk = state["chunk"]
        if chunk and anchor in ("middle", "end"):
            width = state["x"] - chunk[0][1]
            shift = -width / 2 if anchor == "middle" else -width
            for path, _ in chunk:
                path.set("transform", f"translate({shift!r} 0)")
        state["chunk"] = []

    def run(element: ET.Element, style: dict[str, str], content: str, parent: ET.Element) -> None:
        if not content:
            return
        font = _font_for(style, skipped)
        if font is None:
            return
        try:
            size = user_length(style.get("font-size", "16px"), viewport[1])
        except Exception:
            size = 16.0
        scale = size / font.units
        data, previous, x = [], None, state["x"]
        for char in content:
            name = font.cmap.get(ord(char))
            if name is None:
                skipped["text character missing from its font"] += 1
                continue
            if previous is not None:
                x += _kerning(font.font, previous, name, font.kerning) * scale
            pen = _OutlinePen(font.glyphs)
            font.glyphs[name].draw(pen)
            for start, segments in pen.contours:
                if not segments:
                    continue
                parts = [f"M{x + start[0] * scale!r},{state['y'] - start[1] * scale!r}"]
                for degree, points in segments:
                    coords = " ".join(f"{x + px * scale!r},{state['y'] - py * scale!r}" for px, py in points)
                    parts.append("LQC"[degree - 1] + coords)
                data.append(" ".join(parts) + "Z")
            x += font.glyphs[name].width * scale
            previous = name
        if data:
            attributes = {} if element is text else {k: v for k, v in element.attrib.items() if k not in _POSITION}
            path = ET.SubElement(parent, f"{{{SVG_NS}}}path", {**attributes, "d": " ".join(data)})
            state["chunk"].append((path, state["x"]))
        state["x"] = x

    def visit(element: ET.Element, style: dict[str, str], parent: ET.Element, anchor: str) -> None:
        style = {**style, **_style(element)}
        anchor = style.get("text-anchor", anchor)
        x, y = number(element.get("x"), 0), number(element.get("y"), 1)
        if x is not None or y is not None:
            finish_chunk(anchor)
            state["x"] = state["x"] if x is None else x
            state["y"] = state["y"] if y is None else y
        state["x"] += number(element.get("dx"), 0) or 0.0
        state["y"] += number(element.get("dy"), 1) or 0.0
        own = _collapse(element.text)
        run(element, style, own.lstrip() if element is text else own, parent)
        for child in element:
            kind = local_name(child.tag)
            if kind == "tspan":
                visit(child, style, parent, anchor)
            elif kind in ("textPath", "tref"):
                skipped[f"{kind} (not drawn)"] += 1
            run(element, style, _collapse(child.tail), parent)
        if element is text:
            finish_chunk(anchor)

    visit(text, inherited, group, "start")
    return group


def _collapse(content: str | None) -> str:
    """SVG's default white-space handling, roughly: white space runs become one space."""
    return re.sub(r"\s+", " ", content or "")
