"""Text set by the SVG text layout (``clipvg.svg.text``) for ``clipvg font``: letter spacing, a dominant
baseline, vertical writing (``vertical-rl``) and text on a path, one layer per glyph named as
``clipvg.fonts.text_to_scene`` names them (``glyph<i>_<glyph name>``).

The text becomes a small SVG ``<text>`` document read by ``clipvg.load_svg``, so it is laid out by the
same code as any SVG text. The font must be installed (fontconfig finds it by family), since SVG text
names fonts by family.
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Sequence
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .errors import FontError, InvalidInputError
from .fonts import _contours, _open_font, find_font
from .scene import Path, Scene, Solid, Subpath

if TYPE_CHECKING:
    from .svg.reader import ReadSVG

BASELINES = ("alphabetic", "middle", "central", "hanging", "mathematical", "ideographic", "text-before-edge",
             "text-after-edge")
"""``--baseline`` values: the ``dominant-baseline`` sitting on the line."""
_LENGTH = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:px|em)?$")
_GUIDE = "clipvg-guide"


def _family(font_path: str, font) -> str:
    """The family name fontconfig knows the file ``font_path`` by; FontError when it is not installed."""
    family = font["name"].getBestFamilyName()
    from .svg.text.faces import installed

    found = installed(family) if family else None
    if found is None or not os.path.samefile(found, font_path):
        raise FontError(f"font {font_path} is not installed, and text layout finds fonts by family: install it "
                        "(copy it to ~/.local/share/fonts and run fc-cache) or pass an installed family name")
    return family


def _guide(on_path: str | os.PathLike | ReadSVG) -> tuple[str, float, float]:
    """Path data (canvas px) of the first path drawn in the SVG ``on_path`` (a file, or one already read), and
    that SVG's width, height."""
    from .svg.reader import ReadSVG, load_svg
    from .svg.writer import scene_to_svg_string

    read = isinstance(on_path, ReadSVG)
    guide = on_path.to_scene() if read else load_svg(on_path)
    drawn = guide.drawn_paths()
    if not drawn:
        name = on_path.name if read else os.fspath(on_path)
        raise InvalidInputError(f"{name} has no path to set the text on; pass an SVG with a <path>")
    written = ET.fromstring(scene_to_svg_string(guide.subset([drawn[0]])))
    data = next(e.get("d") for e in written.iter() if e.tag.rpartition("}")[2] == "path")
    return data, guide.width, guide.height


def _glyph_names(text: str, font, font_path: str) -> list[str]:
    """Glyph names of the characters that draw an outline, in text order; InvalidInputError for a
    character the font lacks."""
    cmap, glyph_set = font.getBestCmap() or {}, font.getGlyphSet()
    missing = sorted({c for c in text if c != "\n" and ord(c) not in cmap})
    if missing:
        raise InvalidInputError(f"font {font_path} has no glyph for {''.join(missing)!r}; "
                                "choose a font that covers the text")
    names = [cmap[ord(c)] for c in text if c != "\n"]
    return [n for n in names if _contours(glyph_set, n, font_path)]


def text_layout_scene(text: str, font: str | os.PathLike, size: float = 128.0, *, letter_spacing: str = "0",
                      baseline: str = "alphabetic", vertical: bool = False,
                      on_path: str | os.PathLike | ReadSVG | None = None,
                      fill: Sequence[float] = (0.0, 0.0, 0.0, 1.0), margin: float | None = None) -> Scene:
    """Set ``text`` in ``font`` (an installed family name, or the file of one) by the SVG text layout.

    ``size`` em size px; ``letter_spacing`` a CSS length (px, or em of ``size``); ``baseline`` one of
    ``BASELINES``; ``vertical`` writes top to bottom, lines right to left; ``on_path`` an SVG file (or one
    ``clipvg.svg.reader.read_svg`` read, used once) whose first path the text follows (one line; the canvas
    and coordinates are that file's). Otherwise the first line's origin is (``margin``, ``margin`` + ascender)
    (vertical: its column's centre ``margin`` + half a line in from the right, ``margin`` down), moved
    right/down only as far as keeps every glyph ``margin`` px inside the canvas, which fits the text. Raises
    InvalidInputError (one line) for bad values.
    """
    if not text.strip():
        raise InvalidInputError("the text is empty; pass at least one visible character")
    if size <= 0:
        raise InvalidInputError(f"font size must be positive, got {size}")
    if not _LENGTH.match(letter_spacing.strip()):
        raise InvalidInputError(f"--letter-spacing {letter_spacing!r} is not a length; pass a number of px "
                                "(e.g. 4 or -2.5) or of em (0.1em)")
    if baseline not in BASELINES:
        raise InvalidInputError(f"--baseline {baseline!r} is unknown; pass one of {', '.join(BASELINES)}")
    if on_path is not None and (vertical or "\n" in text):
        raise InvalidInputError("--on-path sets one horizontal line; drop --vertical and line breaks")
    font_path = find_font(font)
    opened = _open_font(font_path)
    names = _glyph_names(text, opened, font_path)
    scale = size / opened["head"].unitsPerEm
    hhea = opened["hhea"]
    line = (hhea.ascent - hhea.descent + hhea.lineGap) * scale
    margin = size / 4 if margin is None else float(margin)
    lines = text.split("\n")
    attributes = {"font-family": _family(font_path, opened), "font-size": repr(float(size)),
                  "letter-spacing": letter_spacing.strip(), "dominant-baseline": baseline, "xml:space": "preserve"}
    if on_path is not None:
        data, width, height = _guide(on_path)
        body = (f'<defs><path id="{_GUIDE}" d="{data}"/></defs><text{{}}><textPath href="#{_GUIDE}">'
                f"{escape(text)}</textPath></text>")
    else:
        width = height = 2 * margin + (len(lines) + max(len(t) for t in lines)) * line
        if vertical:
            attributes["writing-mode"] = "vertical-rl"
            right = margin + (len(lines) - 0.5) * line
            spans = [(right - i * line, margin) for i in range(len(lines))]
        else:
            spans = [(margin, margin + hhea.ascent * scale + i * line) for i in range(len(lines))]
        body = "<text{}>" + "".join(f'<tspan x="{x!r}" y="{y!r}">{escape(t)}</tspan>'
                                    for (x, y), t in zip(spans, lines)) + "</text>"
    markup = body.replace("<text{}>", "<text" + "".join(f" {k}={quoteattr(v)}" for k, v in attributes.items()) + ">")
    from .svg.reader import load_svg

    laid = load_svg(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width!r}" height="{height!r}">{markup}</svg>')
    glyphs = list(laid.paths())
    if not glyphs:
        raise InvalidInputError(f"the text {text!r} draws nothing (off the path, or no visible outlines)")
    points = np.concatenate([s.points for p in glyphs for s in p.subpaths])
    shift = np.zeros(2) if on_path is not None else np.maximum(0.0, margin - points.min(0))
    paint = Solid(tuple(float(v) for v in fill))
    names = names if len(names) == len(glyphs) else ["glyph"] * len(glyphs)  # ligatures, glyphs off the path
    paths = [Path([Subpath(s.points + shift, s.degrees, s.closed) for s in p.subpaths], fill=paint,
                  layer=f"glyph{i}_{name}", id=f"glyph{i}") for i, (p, name) in enumerate(zip(glyphs, names))]
    if on_path is None:
        width, height = (float(v) for v in np.ceil(points.max(0) + shift + margin))
    return Scene.from_paths(paths, width=width, height=height)
