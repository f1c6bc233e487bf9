"""Shaping a text chunk with HarfBuzz: bidi runs in visual order, kerning and small caps as
features, and per-character fallback to other faces for characters the chosen face lacks."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import uharfbuzz as hb

from .faces import Face, FontSpec, fallback

_RTL = {"R", "AL"}


@dataclass
class Glyph:
    """A shaped glyph: ``cluster`` is the index of its first character in the chunk; offsets and
    advance in font units of ``face``."""

    face: Face
    id: int
    cluster: int
    dx: float
    dy: float
    advance: float


def levels(text: str) -> list[int]:
    """Unicode bidi embedding level per character (paragraph direction left to right)."""
    if not any(unicodedata.bidirectional(c) in _RTL for c in text):
        return [0] * len(text)
    from bidi import get_display

    report = get_display(text, base_dir="L", debug=True)
    block = report.split("levels:", 1)[1].split("paragraphs:", 1)[0]
    per_byte = [int(v) for v in re.findall(r"Level\(\s*(\d+)", block)]
    result, offset = [], 0
    for char in text:
        result.append(per_byte[offset] if offset < len(per_byte) else 0)
        offset += len(char.encode("utf-8"))
    return result


def visual_runs(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, rtl) runs of equal bidi level, in visual order (rule L2)."""
    level = levels(text)
    runs: list[tuple[int, int, int]] = []
    for i, value in enumerate(level):
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], i + 1, value)
        else:
            runs.append((i, i + 1, value))
    if runs:
        for lowest in range(max(r[2] for r in runs), 0, -1):
            i = 0
            while i < len(runs):
                if runs[i][2] >= lowest:
                    j = i
                    while j < len(runs) and runs[j][2] >= lowest:
                        j += 1
                    runs[i:j] = runs[i:j][::-1]
                    i = j
                else:
                    i += 1
    return [(start, end, value % 2 == 1) for start, end, value in runs]


def shape_with(text: str, face: Face, small_caps: bool, kerning: bool) -> list[Glyph]:
    """Glyphs of ``text`` set in ``face`` alone (missing characters get glyph 0), visual order."""
    features = {"kern": kerning}
    if small_caps:
        features["smcp"] = True
    glyphs: list[Glyph] = []
    for start, end, rtl in visual_runs(text):
        buffer = hb.Buffer()
        buffer.add_codepoints([ord(c) for c in text[start:end]])
        buffer.guess_segment_properties()
        buffer.direction = "rtl" if rtl else "ltr"
        hb.shape(face.font, buffer, features)
        for info, position in zip(buffer.glyph_infos, buffer.glyph_positions):
            glyphs.append(Glyph(face, info.codepoint, start + info.cluster, float(position.x_offset),
                                float(position.y_offset), float(position.x_advance)))
    return glyphs


def shape(text: str, face: Face, spec: FontSpec, small_caps: bool, kerning: bool,
          missing: Counter[str]) -> list[Glyph]:
    """Glyphs of ``text`` in ``face``, characters it lacks taken from fontconfig's fallback faces;
    characters no face has are counted in ``missing`` (and drawn as the face's .notdef box)."""
    glyphs = shape_with(text, face, small_caps, kerning)
    used = {(face.path, face.index)}
    while True:
        absent = next((g for g in glyphs if g.id == 0), None)
        if absent is None:
            break
        char = text[absent.cluster]
        other = fallback(char, face, spec)
        if other is None or (other.path, other.index) in used:
            break
        used.add((other.path, other.index))
        missing[f"character {char!r} (U+{ord(char):04X}) missing from font {face.family} (drawn in {other.family})"] += 1
        replacement = shape_with(text, other, small_caps, kerning)
        if all(g.id != 0 for g in replacement):
            return replacement
        if len(replacement) != len(glyphs):
            break
        glyphs = [new if old.id == 0 and new.id != 0 else old for old, new in zip(glyphs, replacement)]
    for glyph in glyphs:
        if glyph.id == 0:
            char = text[glyph.cluster]
            missing[f"character {char!r} (U+{ord(char):04X}) in no installed font"] += 1
    return glyphs
