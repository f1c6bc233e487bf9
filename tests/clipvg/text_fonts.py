"""Fonts for the SVG text tests: the synthetic test font (family "Clipvg Test", glyphs A V O and
space, 1000 units per em) with known metrics, registered with fontconfig beside the system fonts."""
from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

import clipvg
from synthetic_fonts import build_font

FAMILY = "Clipvg Test"
# metrics written into the test font (font units, y up)
SUBSCRIPT, SUPERSCRIPT, STRIKEOUT, X_HEIGHT, UNDERLINE, THICKNESS = 150, 350, 300, 500, -100, 50


def build_text_font(directory: Path) -> Path:
    """The synthetic font with the metrics above (OS/2 version 2 for sxHeight) and GPOS kerning A V."""
    path = build_font(directory / "clipvg-test.ttf", gpos="feature kern { pos A V -100; } kern;")
    font = TTFont(path)
    os2 = font["OS/2"]
    os2.version = max(os2.version, 2)
    os2.ySubscriptYOffset, os2.ySuperscriptYOffset, os2.yStrikeoutPosition = SUBSCRIPT, SUPERSCRIPT, STRIKEOUT
    os2.sxHeight, os2.sCapHeight, os2.usDefaultChar, os2.usBreakChar, os2.usMaxContext = X_HEIGHT, 700, 0, 32, 2
    font["post"].underlinePosition, font["post"].underlineThickness = UNDERLINE, THICKNESS
    for name_id, value in ((1, FAMILY), (2, "Regular"), (4, FAMILY), (6, "ClipvgTest-Regular")):
        font["name"].setName(value, name_id, 3, 1, 0x409)  # Windows English names, which resvg's fontdb reads
    font.save(path)
    return path


@pytest.fixture(scope="session")
def text_font(tmp_path_factory) -> Path:
    """A fonts.conf with the system configuration plus the test font; FONTCONFIG_FILE points at it
    for the session (fontconfig is asked in subprocesses, which read it on every call)."""
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig (fc-match) is not installed")
    directory = tmp_path_factory.mktemp("text-fonts")
    path = build_text_font(directory)
    build_svg_glyph_font(path)
    build_variable_font(directory)
    conf = directory / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{directory}</dir>
  <cachedir>{directory / "cache"}</cachedir>
</fontconfig>
""")
    previous = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(conf)
    yield path
    if previous is None:
        os.environ.pop("FONTCONFIG_FILE", None)
    else:
        os.environ["FONTCONFIG_FILE"] = previous


def svg(body: str, width: int = 400, height: int = 200, **root) -> str:
    attributes = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in root.items())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width}" height="{height}" {attributes}>{body}</svg>')


def load(markup: str) -> clipvg.Scene:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clipvg.load_svg(markup)


def boxes(scene: clipvg.Scene) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of every path's control points, in draw order."""
    result = []
    for index in range(scene.num_paths):
        points = np.concatenate([s.points for s in scene.path(index).subpaths])
        result.append((float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()),
                       float(points[:, 1].max())))
    return result


def build_svg_glyph_font(base: Path) -> Path:
    """``base`` (the test font) with an ``SVG `` table drawing A as a red 500 x 500 unit square standing on the
    baseline (SVG glyphs are y-down), under the family name "Clipvg Colour"."""
    from fontTools.ttLib import newTable

    font = TTFont(base)
    table = newTable("SVG ")
    gid = font.getGlyphID("A")
    table.docList = [(f'<svg xmlns="http://www.w3.org/2000/svg"><rect id="box" x="100" y="-500" width="500" '
                      f'height="500" fill="red"/></svg>', gid, gid)]
    font["SVG "] = table
    for name_id, value in ((1, "Clipvg Colour"), (4, "Clipvg Colour"), (6, "ClipvgColour-Regular")):
        font["name"].setName(value, name_id, 3, 1, 0x409)
        font["name"].setName(value, name_id, 1, 0, 0)
    path = base.with_name("clipvg-colour.ttf")
    font.save(path)
    return path


def build_variable_font(directory: Path) -> Path:
    """"Clipvg Var": one glyph A, a bar 200 units wide at wght 400 (the default) that widens by 400
    units at wght 900 (fvar axis 100..900, gvar delta on its right side)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib.tables._g_v_a_r import TupleVariation

    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "A"])
    builder.setupCharacterMap({ord("A"): "A"})
    pens = {name: TTGlyphPen(None) for name in (".notdef", "A")}
    pen = pens["A"]
    pen.moveTo((100, 0)), pen.lineTo((100, 700)), pen.lineTo((300, 700)), pen.lineTo((300, 0)), pen.closePath()
    builder.setupGlyf({name: p.glyph() for name, p in pens.items()})
    builder.setupHorizontalMetrics({".notdef": (800, 0), "A": (800, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Clipvg Var", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.setupFvar(axes=[("wght", 100, 400, 900, "Weight")], instances=[])
    right = (400, 0)  # the two right-side points move; the left ones and the phantom points stay
    builder.setupGvar({"A": [TupleVariation({"wght": (0, 1.0, 1.0)},
                                            [(0, 0), (0, 0), right, right, (0, 0), (0, 0), (0, 0), (0, 0)])]})
    path = directory / "clipvg-var.ttf"
    builder.save(path)
    return path
