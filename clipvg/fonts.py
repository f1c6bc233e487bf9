"""Text set in a font as a Scene: fontTools glyph outlines, one layer per glyph.

A font is a file path or an installed family name looked up through fontconfig (``find_font``).

TrueType quadratics and CFF/CFF2 cubics become Bézier segments as they are; holes stay holes (one
compound path per glyph, nonzero fill, outline directions as in the font); kerning comes from the
GPOS ``kern`` feature (pair adjustments) or, failing that, the legacy ``kern`` table.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from .errors import FontError, InvalidInputError
from .limits import resource_limits
from .scene import Path, Solid, Subpath

if TYPE_CHECKING:
    from .scene import Scene


class _OutlinePen(BasePen):
    """Collects contours as (start, [(degree, control+end points)]) in font units, y up."""

    def __init__(self, glyph_set) -> None:
        super().__init__(glyph_set)
        self.contours: list[tuple[tuple[float, float], list[tuple[int, list]]]] = []

    def _moveTo(self, pt) -> None:
        self.contours.append((pt, []))

    def _lineTo(self, pt) -> None:
        self.contours[-1][1].append((1, [pt]))

    def _qCurveToOne(self, pt1, pt2) -> None:
        self.contours[-1][1].append((2, [pt1, pt2]))

    def _curveToOne(self, pt1, pt2, pt3) -> None:
        self.contours[-1][1].append((3, [pt1, pt2, pt3]))

    def _closePath(self) -> None:
        pass

    _endPath = _closePath


def _subpath(start, segments, origin: tuple[float, float], scale: float) -> Subpath | None:
    """A closed Subpath in pixels (y down) from one font contour, or None for a degenerate one."""
    if not segments:
        return None
    degrees = [d for d, _ in segments]
    points = [start] + [p for _, pts in segments for p in pts]
    if np.allclose(points[-1], start):
        points.pop()  # the closing segment ends at the start point implicitly
    else:
        degrees.append(1)  # close with a straight line back to the start
    xy = np.asarray(points, dtype=np.float64)
    xy = np.stack([origin[0] + xy[:, 0] * scale, origin[1] - xy[:, 1] * scale], axis=1)
    return Subpath(xy, np.asarray(degrees), closed=True)


def _gpos_kerning(font: TTFont) -> list:
    """The PairPos subtables of the GPOS ``kern`` feature, grouped per lookup (lookup order)."""
    if "GPOS" not in font or font["GPOS"].table.FeatureList is None:
        return []
    table = font["GPOS"].table
    indices = sorted({i for record in table.FeatureList.FeatureRecord if record.FeatureTag == "kern"
                      for i in record.Feature.LookupListIndex})
    lookups = []
    for index in indices:
        lookup = table.LookupList.Lookup[index]
        subtables = [s.ExtSubTable if lookup.LookupType == 9 else s for s in lookup.SubTable]
        lookups.append([s for s in subtables if getattr(s, "LookupType", 2) == 2])
    return lookups


def _pair_value(subtable, left: str, right: str) -> float | None:
    """XAdvance of ``left`` in the pair (left, right) from one PairPos subtable, None if not covered."""
    if left not in subtable.Coverage.glyphs:
        return None
    if subtable.Format == 1:
        pair_set = subtable.PairSet[subtable.Coverage.glyphs.index(left)]
        for record in pair_set.PairValueRecord:
            if record.SecondGlyph == right:
                return float(getattr(record.Value1, "XAdvance", 0) or 0)
        return None
    class1 = subtable.ClassDef1.classDefs.get(left, 0)
    class2 = subtable.ClassDef2.classDefs.get(right, 0)
    value = subtable.Class1Record[class1].Class2Record[class2].Value1
    return float(getattr(value, "XAdvance", 0) or 0)


def _kerning(font: TTFont, left: str, right: str, gpos: list) -> float:
    """Horizontal kerning between two glyphs in font units (GPOS first, then the ``kern`` table)."""
    if gpos:
        total = 0.0
        for subtables in gpos:
            for subtable in subtables:
                value = _pair_value(subtable, left, right)
                if value is not None:
                    total += value
                    break
        return total
    if "kern" in font:
        for table in font["kern"].kernTables:
            value = getattr(table, "kernTable", {}).get((left, right))
            if value is not None:
                return float(value)
    return 0.0


FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2")


def find_font(font: str | os.PathLike) -> str:
    """The file of ``font``: an existing path as it is, else an installed family name (optionally
    ``"Family:bold"``-style fontconfig pattern) resolved through fontconfig. Raises FontError when
    neither is found, naming what to pass instead."""
    path = os.fspath(font)
    if os.path.isfile(path):
        return path
    if path.lower().endswith(FONT_SUFFIXES) or os.sep in path:
        raise FontError(f"font file not found: {path}; pass an existing .ttf/.otf file or an installed family name")
    from .svg.text.faces import installed

    found = installed(path)
    if found is None:
        raise FontError(f"font family {path!r} is not installed (fontconfig has no such family); pass a font "
                        "file path, or a family that `fc-list : family` lists")
    return found


def _open_font(font_path: str | os.PathLike) -> TTFont:
    """``font_path`` (a file or an installed family) opened, its tables of metrics, character map and glyph
    offsets read now, so that a damaged file fails here with FontError. Glyph outlines are decoded when drawn
    (``_contours``, FontError too): decoding all of them up front takes about 0.5 s for a 6000-glyph font."""
    try:
        font = TTFont(find_font(font_path), fontNumber=0)
        font.getGlyphSet(), font["head"], font["hhea"], font.getBestCmap()  # read now: a truncated file fails here
        return font
    except FontError:
        raise
    except FileNotFoundError:
        raise FontError(f"font file not found: {font_path}") from None
    except Exception as error:  # TTLibError, struct.error, KeyError ...: a damaged or non-font file
        raise FontError(f"cannot read font {font_path} ({type(error).__name__}: {error}); pass a complete .ttf "
                        "or .otf file") from None


def check_font(font: str | os.PathLike, text: str) -> str:
    """The file of ``font`` (see ``find_font``), its tables and the outlines of ``text``'s characters read
    through: FontError for a missing or damaged font. Torch-free, so front ends refuse a bad font before
    loading the editor."""
    path = find_font(font)
    opened = _open_font(path)
    glyph_set, cmap = opened.getGlyphSet(), opened.getBestCmap() or {}
    for name in {cmap[ord(c)] for c in text if ord(c) in cmap}:
        _contours(glyph_set, name, font)
    return path


def _contours(glyph_set, name: str, font_path) -> list:
    """The outline contours of glyph ``name``; FontError when the glyph data is damaged."""
    pen = _OutlinePen(glyph_set)
    try:
        glyph_set[name].draw(pen)
    except Exception as error:  # truncated or corrupt glyph data (struct.error, IndexError, ...)
        raise FontError(f"cannot read glyph {name!r} of font {font_path} ({type(error).__name__}); the file is "
                        "damaged: pass a complete .ttf or .otf file") from None
    return pen.contours


def check_text(text: str, size: float) -> None:
    """InvalidInputError for empty ``text`` or a ``size`` (em, px) that is not positive; ResourceLimitError
    when size x characters is over the font_cells limit. Cheap: front ends call it before other work."""
    if not text.strip():
        raise InvalidInputError("the text is empty; pass at least one visible character")
    if not size > 0:
        raise InvalidInputError(f"font size must be positive, got {size}")
    resource_limits().check("font_cells", size * len(text), f"the font size {size:g} px x {len(text)} characters")


def text_to_scene(text: str, font: str | os.PathLike, size: float = 128.0, *,
                  fill: Sequence[float] = (0.0, 0.0, 0.0, 1.0), margin: float | None = None,
                  kerning: bool = True) -> Scene:
    """Set ``text`` in ``font`` (a file path or an installed family name) as filled paths, one layer
    (and one path) per glyph.

    ``size`` the em size in pixels; ``fill`` straight RGBA in [0, 1]; ``margin`` pixels around the
    text (default a quarter of ``size``). Lines split at "\\n". The canvas fits the text; glyphs sit on
    baselines ``ascender`` below each line top. Raises FontError (an InvalidInputError) for a font
    not found or unreadable, InvalidInputError for empty text or a character the font has no glyph for.
    """
    check_text(text, size)
    font_path, font = font, _open_font(font)
    glyph_set, cmap = font.getGlyphSet(), font.getBestCmap() or {}
    missing = sorted({c for c in text if c != "\n" and ord(c) not in cmap})
    if missing:
        raise InvalidInputError(f"font {font_path} has no glyph for {''.join(missing)!r}; "
                                "choose a font that covers the text")
    scale = size / font["head"].unitsPerEm
    hhea = font["hhea"]
    line_height = (hhea.ascent - hhea.descent + hhea.lineGap) * scale
    margin = size / 4 if margin is None else float(margin)
    gpos = _gpos_kerning(font) if kerning else []
    paths, widths = [], []
    for line_index, line in enumerate(text.split("\n")):
        x, baseline = margin, margin + line_index * line_height + hhea.ascent * scale
        previous = None
        for char in line:
            name = cmap[ord(char)]
            if previous is not None and kerning:
                x += _kerning(font, previous, name, gpos) * scale
            subpaths = [s for s in (_subpath(start, segs, (x, baseline), scale)
                                    for start, segs in _contours(glyph_set, name, font_path))
                        if s is not None]
            if subpaths:
                paths.append(Path(subpaths, fill=Solid(tuple(float(v) for v in fill)),
                                  layer=f"glyph{len(paths)}_{name}", id=f"glyph{len(paths)}"))
            x += glyph_set[name].width * scale
            previous = name
        widths.append(x)
    if not paths:
        raise InvalidInputError(f"the text {text!r} has no visible outlines in {font_path}")
    lines = text.count("\n") + 1
    height = 2 * margin + (lines - 1) * line_height + (hhea.ascent - hhea.descent) * scale
    from .scene import Scene
    return Scene.from_paths(paths, width=float(np.ceil(max(widths) + margin)), height=float(np.ceil(height)))
