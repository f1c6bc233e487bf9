"""Tiny fonts built with fontTools' FontBuilder for tests: TrueType (quadratics) and CFF (cubics).

Glyphs (1000 units per em, ascent 800, descent -200): ``A`` a triangle, ``V`` an inverted triangle,
``O`` a 600-unit square ring (outer 100..700, hole 250..550) drawn with curves, ``space`` empty.
"""
from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import newTable
from fontTools.ttLib.tables._k_e_r_n import KernTable_format_0

ADVANCE = 800
ORDER = [".notdef", "space", "A", "V", "O"]
CMAP = {ord(" "): "space", ord("A"): "A", ord("V"): "V", ord("O"): "O"}
LEFT_SIDE = {"A": 50, "V": 50, "O": 100}  # xMin, which hmtx must repeat


def _ring(pen, lo: float, hi: float, clockwise: bool, cubic: bool) -> None:
    """A rounded square from ``lo`` to ``hi``: straight sides with curved corners."""
    r = (hi - lo) / 4
    corners = [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]
    if clockwise:
        corners = corners[::-1]
    pen.moveTo(_toward(corners[0], corners[1], r))
    for i in range(4):
        corner, nxt, after = corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]
        pen.lineTo(_toward(nxt, corner, r))
        end = _toward(nxt, after, r)
        if cubic:
            pen.curveTo(nxt, nxt, end)
        else:
            pen.qCurveTo(nxt, end)
    pen.closePath()


def _toward(a, b, distance):
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = (dx * dx + dy * dy) ** 0.5
    return (a[0] + dx / length * distance, a[1] + dy / length * distance)


def _draw(name: str, pen, cubic: bool) -> None:
    if name == "A":
        pen.moveTo((50, 0)), pen.lineTo((400, 700)), pen.lineTo((750, 0)), pen.closePath()
    elif name == "V":
        pen.moveTo((50, 700)), pen.lineTo((750, 700)), pen.lineTo((400, 0)), pen.closePath()
    elif name == "O":
        # Outer counter-clockwise and hole clockwise in CFF; the reverse in TrueType (y up).
        _ring(pen, 100, 700, clockwise=not cubic, cubic=cubic)
        _ring(pen, 250, 550, clockwise=cubic, cubic=cubic)


def build_font(path: Path, cff: bool = False, gpos: str = "", kern_table: dict | None = None) -> Path:
    """Write a test font to ``path``: CFF outlines if ``cff`` else TrueType; ``gpos`` feature code
    (feaLib syntax) and/or a legacy ``kern`` table {(left, right): units}. The same arguments write the same
    bytes (fixed head timestamps), so generated corpora repeat across processes."""
    builder = FontBuilder(1000, isTTF=not cff)
    builder.font.recalcTimestamp = False
    builder.updateHead(created=0, modified=0)
    builder.setupGlyphOrder(ORDER)
    builder.setupCharacterMap(CMAP)
    if cff:
        strings = {}
        for name in ORDER:
            pen = T2CharStringPen(ADVANCE, None)
            _draw(name, pen, cubic=True)
            strings[name] = pen.getCharString()
        builder.setupCFF("ClipvgTest", {"FullName": "Clipvg Test"}, strings, {})
    else:
        glyphs = {}
        for name in ORDER:
            pen = TTGlyphPen(None)
            _draw(name, pen, cubic=False)
            glyphs[name] = pen.glyph()
        builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (ADVANCE, LEFT_SIDE.get(name, 0)) for name in ORDER})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Clipvg Test", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    if gpos:
        builder.addOpenTypeFeatures(gpos)
    if kern_table:
        table = newTable("kern")
        sub = KernTable_format_0()
        sub.version, sub.coverage, sub.format, sub.tupleIndex = 0, 1, 0, None
        sub.kernTable = dict(kern_table)
        table.version, table.kernTables = 0, [sub]
        builder.font["kern"] = table
    builder.save(str(path))
    return path
