"""Glyph clusters of a chunk and the spacing rules that change their advances: letter-spacing,
word-spacing, textLength/lengthAdjust, and vertical writing (upright or rotated glyphs)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import affine
from .faces import Face
from .shaping import Glyph, shape
from .spans import Chunk

# scripts whose letters join (letter-spacing does not apply): Arabic, Syriac, NKo, Mandaic,
# Devanagari, Bengali, Gurmukhi, Mongolian, Ogham, Phags-pa, Syloti Nagri, Modi, Sharada, Tirhuta, ...
_CURSIVE = ((0x0600, 0x08FF), (0x0900, 0x0A7F), (0x1680, 0x169F), (0x1800, 0x18AF), (0xA800, 0xA82F),
            (0xA840, 0xA87F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF), (0x10AC0, 0x10AFF), (0x10B80, 0x10BAF),
            (0x11180, 0x111DF), (0x11480, 0x114DF), (0x11600, 0x1165F))
_WORD_SEPARATORS = {0x20, 0xA0, 0x1361, 0x10100, 0x10101, 0x1039F, 0x1091F}
# Unicode Vertical_Orientation=U (upright in vertical text), roughly; Tu/Tr exceptions below rotate
_UPRIGHT = ((0x1100, 0x11FF), (0x2E80, 0x2FFF), (0x3000, 0x303F), (0x3040, 0x31FF), (0x3200, 0x4DBF),
            (0x4E00, 0x9FFF), (0xA000, 0xA4CF), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xF900, 0xFAFF),
            (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x1F000, 0x1FAFF), (0x20000, 0x3FFFF))
_NOT_UPRIGHT = set(range(0x3008, 0x3012)) | set(range(0x3014, 0x3020)) | {
    0x3001, 0x3002, 0x3030, 0x30A0, 0x30FC, 0xFF08, 0xFF09, 0xFF0C, 0xFF0E, 0xFF1A, 0xFF1B, 0xFF1D, 0xFF3B,
    0xFF3D, 0xFF3F, 0xFF5B, 0xFF5C, 0xFF5D, 0xFF5E, 0xFF5F, 0xFF60, 0xFF0D, 0xFF5C, 0x301C}


def _in(code: int, ranges) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


@dataclass
class Cluster:
    """Glyphs drawn for one or more characters; lengths in px. ``transform`` places it in the
    chunk (scale from lengthAdjust, then position and rotation); ``path_transform`` turns it
    upright in vertical text. ``glyphs`` hold (face, glyph id, x offset, y offset) in font units."""

    index: int
    char: str
    size: float
    width: float
    advance: float
    ascent: float
    descent: float
    face: Face
    glyphs: list[tuple[Face, int, float, float]]
    transform: np.ndarray = field(default_factory=lambda: np.eye(3))
    path_transform: np.ndarray = field(default_factory=lambda: np.eye(3))
    relative_shift: bool = False
    visible: bool = True

    def matrix(self) -> np.ndarray:
        return self.transform @ self.path_transform


def _cluster(glyphs: list[Glyph], text: str, size: float) -> Cluster:
    x, advance, width, placed = 0.0, 0.0, 0.0, []
    for glyph in glyphs:
        scale = size / glyph.face.metrics.units
        placed.append((glyph.face, glyph.id, x + glyph.dx, -glyph.dy))
        x += glyph.advance
        advance += glyph.advance * scale
        width = max(width, glyph.advance * scale)
    face = glyphs[0].face
    scale = size / face.metrics.units
    return Cluster(glyphs[0].cluster, text[glyphs[0].cluster], size, width, advance, face.metrics.ascent * scale,
                   face.metrics.descent * scale, face, placed)


def make_clusters(chunk: Chunk, missing: Counter[str]) -> list[Cluster]:
    """Shape the whole chunk with each span's font; each span's characters take the clusters of
    its own shaping, cluster by cluster where the first span's shaping had them (bidi runs keep
    their visual order; a ligature in one font swallows the clusters it covers in another)."""
    shaped: dict[tuple, list[Glyph]] = {}
    base: list[list[Glyph]] | None = None
    for span in chunk.spans:
        key = (id(span.face), span.small_caps, span.kerning)
        if key not in shaped:
            shaped[key] = shape(chunk.text, span.face, span.spec, span.small_caps, span.kerning, missing)
        groups = _group(shaped[key])
        if base is None:
            base = groups
            continue
        own = {g[0].cluster: g for g in groups if span.start <= g[0].cluster < span.end}
        starts = sorted(g[0].cluster for g in base)
        merged: list[list[Glyph]] = []
        for group in base:
            cluster = group[0].cluster
            if not span.start <= cluster < span.end:
                merged.append(group)
            elif cluster in own:  # the span's own cluster, and those its font splits off up to the next one
                following = next((c for c in starts if c > cluster), span.end)
                merged.extend(own[c] for c in sorted(own) if cluster <= c < following)
        base = merged
    clusters = []
    for glyphs in base or []:
        span = chunk.span_at(glyphs[0].cluster)
        if span is not None:
            clusters.append(_cluster(glyphs, chunk.text, span.size))
    return clusters


def _group(glyphs: list[Glyph]) -> list[list[Glyph]]:
    groups: list[list[Glyph]] = []
    for glyph in glyphs:
        if groups and groups[-1][0].cluster == glyph.cluster:
            groups[-1].append(glyph)
        else:
            groups.append([glyph])
    return groups


def apply_vertical(clusters: list[Cluster]) -> None:
    """Vertical writing: upright characters turn back upright about their centre; the others are
    centred on the vertical axis."""
    for c in clusters:
        code = ord(c.char)
        if _in(code, _UPRIGHT) and code not in _NOT_UPRIGHT:
            middle = (c.ascent + c.descent) / 2
            c.path_transform = affine.translate(0.0, middle) @ affine.rotate(-90.0, c.width / 2, -middle)
            c.ascent, c.descent = c.width / 2, -c.width / 2
        else:
            c.transform = c.transform @ affine.translate(0.0, (c.ascent + c.descent) / 2)


def apply_spacing(chunk: Chunk, clusters: list[Cluster]) -> None:
    """letter-spacing after every cluster but the last (not in cursive scripts), word-spacing after
    word separators. A cluster whose advance turns negative is dropped, as Chrome does."""
    if any(s.letter_spacing for s in chunk.spans):
        for i, c in enumerate(clusters):
            span = chunk.span_at(c.index)
            if span is None or _in(ord(c.char), _CURSIVE):
                continue
            if i != len(clusters) - 1:
                c.advance += span.letter_spacing
            if c.advance < 0:
                c.width, c.advance, c.glyphs = 0.0, 0.0, []
    if any(s.word_spacing for s in chunk.spans):
        for c in clusters:
            span = chunk.span_at(c.index)
            if span is not None and ord(c.char) in _WORD_SEPARATORS:
                c.advance += span.word_spacing


def apply_length_adjust(chunk: Chunk, clusters: list[Cluster]) -> None:
    """textLength per span: ``spacing`` spreads the difference between clusters,
    ``spacingAndGlyphs`` scales the span along the line."""
    for span in chunk.spans:
        if span.text_length is None:
            continue
        members = [c for c in clusters if span.start <= c.index < span.end]
        if not members:
            continue
        width = sum(c.width for c in members)
        if span.length_adjust == "spacingAndGlyphs":
            factor = span.text_length / width if width else 0.0
            if factor < 0.001:
                continue
            for c in members:
                c.transform = c.transform @ affine.scale(factor, 1.0)
                if chunk.text_path is not None:
                    c.advance *= factor
                    c.width *= factor
        else:
            extra = (span.text_length - width) / (len(members) - 1) if len(members) > 1 else 0.0
            for c in members:
                c.advance = c.width + extra
