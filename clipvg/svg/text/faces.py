"""Fonts for SVG text: faces chosen through fontconfig, opened with HarfBuzz, metrics from the tables.

A ``FontSpec`` (families, weight, style, stretch, variations) resolves to the first installed
family in its list (generic families through fontconfig's aliases); when none is installed, the
generic ``serif`` family is used, as browsers and resvg do, and the substitution is reported.
Characters the face lacks come from fontconfig's best face that has them (``charset``).
"""
from __future__ import annotations

import functools
import io
import shutil
import subprocess
from dataclasses import dataclass

import uharfbuzz as hb
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.ttLib import TTFont

from .style import DEFAULT_FAMILY, GENERIC

_FC_WEIGHTS = {100: 0, 200: 40, 300: 50, 400: 80, 500: 100, 600: 180, 700: 200, 800: 205, 900: 210}
_FC_SLANTS = {"normal": 0, "italic": 100, "oblique": 110}


@dataclass(frozen=True)
class FontSpec:
    """What a text span asks for; ``stretch`` in percent, ``variations`` ((tag, value), ...)."""

    families: tuple[str, ...]
    weight: int = 400
    style: str = "normal"
    stretch: float = 100.0
    variations: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Metrics:
    """Vertical metrics in font units (y up), as resvg reads them."""

    units: int
    ascent: float
    descent: float
    x_height: float
    underline_position: float
    underline_thickness: float
    line_through_position: float
    subscript_offset: float
    superscript_offset: float


class Face:
    """One opened font file (a face of it) at one point of its variation space."""

    def __init__(self, path: str, index: int, family: str, variations: tuple[tuple[str, float], ...] = ()) -> None:
        self.path, self.index, self.family, self.variations = path, index, family, variations
        with open(path, "rb") as handle:
            data = handle.read()
        self.hb_face = hb.Face(hb.Blob(data), index)
        self.font = hb.Font(self.hb_face)
        axes = {axis.tag for axis in self.hb_face.axis_infos}
        self.axes = axes
        if variations:
            self.font.set_variations({tag: value for tag, value in variations if tag in axes})
        self.cmap = set(self.hb_face.unicodes)
        with TTFont(io.BytesIO(data), fontNumber=index, lazy=True) as tables:
            self.metrics = _metrics(tables)
            self.svg_documents = _svg_documents(tables)
            self.bitmaps = _bitmaps(tables)
        self._outlines: dict[int, list] = {}

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def svg_glyph(self, glyph: int) -> tuple[str, bool] | None:
        """The SVG document drawing ``glyph`` (font units, y down) and whether it holds other
        glyphs too (then the element ``glyph<id>`` is the glyph), or None."""
        for first, last, document in self.svg_documents:
            if first <= glyph <= last:
                return document, first != last
        return None

    def outline(self, glyph: int) -> list[tuple[str, tuple]]:
        """Pen operations of one glyph in font units (y up): ("M"|"L"|"Q"|"C"|"Z", points)."""
        if glyph not in self._outlines:
            pen = _RecordingPen()
            self.font.draw_glyph_with_pen(glyph, pen)
            self._outlines[glyph] = pen.operations
        return self._outlines[glyph]


def _svg_documents(font: TTFont) -> list[tuple[int, int, str]]:
    """The OpenType ``SVG `` table's documents: (first glyph, last glyph, SVG text)."""
    if "SVG " not in font:
        return []
    try:
        return [(int(first), int(last), str(doc)) for doc, first, last, *_ in font["SVG "].docList]
    except Exception:  # a damaged SVG table: the glyphs' outlines are drawn instead
        return []


@dataclass(frozen=True)
class Bitmap:
    """A PNG colour glyph (CBDT or sbix, the largest strike): ``bearing`` in strike pixels (CBDT:
    left and top above the baseline; sbix: origin offset), ``ppem`` the strike's pixels per em,
    ``size`` the image's (w, h) pixels, ``low`` the outline's (x_min, y_min) in font units (sbix)."""

    png: bytes
    bearing: tuple[float, float]
    ppem: float
    size: tuple[int, int]
    sbix: bool
    low: tuple[float, float] = (0.0, 0.0)


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _bitmaps(font: TTFont) -> dict[int, Bitmap]:
    """PNG glyphs of the largest CBDT or sbix strike, by glyph id ({} without or when damaged)."""
    try:
        order = {name: gid for gid, name in enumerate(font.getGlyphOrder())}
        found: dict[int, Bitmap] = {}
        if "CBDT" in font and "CBLC" in font:
            strikes = list(zip(font["CBLC"].strikes, font["CBDT"].strikeData))
            index, data = max(strikes, key=lambda s: s[0].bitmapSizeTable.ppemX)
            for name, glyph in data.items():
                if getattr(glyph, "imageData", b"")[:4] == b"\x89PNG" and name in order:
                    m = glyph.metrics
                    found[order[name]] = Bitmap(glyph.imageData, (m.BearingX, m.BearingY),
                                                index.bitmapSizeTable.ppemX, (m.width, m.height), False)
        elif "sbix" in font:
            ppem = max(font["sbix"].strikes)
            glyph_set = font.getGlyphSet()
            for name, glyph in font["sbix"].strikes[ppem].glyphs.items():
                if glyph.graphicType == "png " and name in order:
                    pen = ControlBoundsPen(glyph_set)
                    glyph_set[name].draw(pen)
                    low = pen.bounds[:2] if pen.bounds else (0.0, 0.0)
                    found[order[name]] = Bitmap(glyph.imageData, (glyph.originOffsetX, glyph.originOffsetY), ppem,
                                                _png_size(glyph.imageData), True, low)
        return found
    except Exception:  # a damaged bitmap table: the glyphs' outlines are drawn instead
        return {}


class _RecordingPen:
    """The pen protocol HarfBuzz draws with; quadratic runs arrive one control point at a time."""

    def __init__(self) -> None:
        self.operations: list[tuple[str, tuple]] = []

    def moveTo(self, p) -> None:
        self.operations.append(("M", (p,)))

    def lineTo(self, p) -> None:
        self.operations.append(("L", (p,)))

    def qCurveTo(self, *points) -> None:
        self.operations.append(("Q", points))

    def curveTo(self, *points) -> None:
        self.operations.append(("C", points))

    def closePath(self) -> None:
        self.operations.append(("Z", ()))

    endPath = closePath


def _metrics(font: TTFont) -> Metrics:
    units = int(font["head"].unitsPerEm)
    os2 = font["OS/2"] if "OS/2" in font else None
    hhea = font["hhea"] if "hhea" in font else None
    if os2 is not None and (os2.fsSelection & (1 << 7) or hhea is None or (hhea.ascent == 0 and hhea.descent == 0)):
        ascent, descent = float(os2.sTypoAscender), float(os2.sTypoDescender)
    else:
        ascent, descent = float(hhea.ascent), float(hhea.descent)
    x_height = float(getattr(os2, "sxHeight", 0) or 0) if os2 is not None else 0.0
    if x_height <= 0:
        x_height = round((ascent - descent) * 0.45)
    line_through = float(os2.yStrikeoutPosition) if os2 is not None else x_height // 2
    if "post" in font:
        underline = float(font["post"].underlinePosition)
        thickness = float(font["post"].underlineThickness) or units // 12
    else:
        underline, thickness = -(units // 9), units // 12
    subscript = float(os2.ySubscriptYOffset) if os2 is not None else round(units / 0.2)
    superscript = float(os2.ySuperscriptYOffset) if os2 is not None else round(units / 0.4)
    return Metrics(units, ascent, descent, x_height, underline, float(thickness), line_through, subscript, superscript)


def _fc(pattern: str) -> list[tuple[list[str], str, int]]:
    """fontconfig's best match for ``pattern``: [(family names, file, face index)] or []."""
    if shutil.which("fc-match") is None:
        return []
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}|%{file}|%{index}", pattern], capture_output=True,
                             text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    parts = out.split("|")
    if len(parts) != 3 or not parts[1]:
        return []
    return [([n.strip() for n in parts[0].split(",")], parts[1], int(parts[2] or 0))]


def _pattern(family: str, spec: FontSpec) -> str:
    weight = _FC_WEIGHTS.get(min(_FC_WEIGHTS, key=lambda w: abs(w - spec.weight)), 80)
    return f"{_escape(family)}:weight={weight}:slant={_FC_SLANTS.get(spec.style, 0)}:width={spec.stretch:g}"


def _escape(family: str) -> str:
    return family.replace("-", "\\-").replace(":", "\\:").replace(",", "\\,")


@dataclass(frozen=True)
class _Installed:
    """One installed face: family names, file, face index, CSS weight, fontconfig slant, width %."""

    names: tuple[str, ...]
    path: str
    index: int
    weight: int
    slant: int
    width: float


@functools.lru_cache(maxsize=256)
def _faces_of(family: str) -> tuple[_Installed, ...]:
    """Every installed face of ``family`` (fontconfig's ``fc-list``)."""
    if shutil.which("fc-list") is None:
        return ()
    try:
        out = subprocess.run(["fc-list", "-f", "%{family}|%{file}|%{index}|%{weight}|%{slant}|%{width}\n",
                              _escape(family)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    faces = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) != 6 or not parts[1]:
            continue
        fc_weight = float((parts[3].strip("[]").split() or ["80"])[0])
        css = min(_FC_WEIGHTS, key=lambda w: abs(_FC_WEIGHTS[w] - fc_weight))
        faces.append(_Installed(tuple(n.strip() for n in parts[0].split(",")), parts[1], int(parts[2] or 0), css,
                                int(float(parts[4] or 0)), float((parts[5].strip("[]").split() or ["100"])[0])))
    return tuple(sorted(faces, key=lambda f: (f.path, f.index)))


def _css_match(faces: tuple[_Installed, ...], spec: FontSpec) -> _Installed:
    """CSS Fonts' matching: the nearest stretch, then style (italic, oblique, normal fallbacks),
    then weight (lighter first below 400, heavier first above 500)."""
    widths = sorted({f.width for f in faces})
    narrower = [w for w in widths if w <= spec.stretch][::-1]
    wider = [w for w in widths if w > spec.stretch]
    width = (narrower + wider if spec.stretch <= 100 else wider + narrower)[0]
    faces = tuple(f for f in faces if f.width == width)
    order = {"italic": (100, 110, 0), "oblique": (110, 100, 0), "normal": (0, 110, 100)}[spec.style]
    slant = next(s for s in order + tuple(f.slant for f in faces) if any(f.slant == s for f in faces))
    faces = tuple(f for f in faces if f.slant == slant)
    weights = sorted({f.weight for f in faces})
    desired = spec.weight
    below = [w for w in weights if w < desired][::-1]
    above = [w for w in weights if w > desired]
    if desired in weights:
        weight = desired
    elif 400 <= desired <= 500:
        middle = [w for w in weights if desired < w <= 500]
        weight = (middle + below + above)[0]
    elif desired < 400:
        weight = (below + above)[0]
    else:
        weight = (above + below)[0]
    return next(f for f in faces if f.weight == weight)


@functools.lru_cache(maxsize=256)
def _installed(family: str, spec: FontSpec) -> tuple[str, str, int] | None:
    """(family name, file, index) of ``family`` in ``spec``'s style, or None when not installed.
    A generic family is fontconfig's choice for it."""
    if family.lower() in GENERIC:
        found = _fc(_escape(family))
        if not found:
            return None
        family = found[0][0][0]
    faces = tuple(f for f in _faces_of(family) if family.lower() in (n.lower() for n in f.names))
    if not faces:
        return None
    chosen = _css_match(faces, spec)
    return family, chosen.path, chosen.index


@functools.lru_cache(maxsize=128)
def open_face(path: str, index: int, family: str, variations: tuple[tuple[str, float], ...]) -> Face | None:
    """A Face, or None when the file cannot be read as a font."""
    try:
        return Face(path, index, family, variations)
    except Exception:  # an unreadable or truncated font file: its text is skipped and reported
        return None


def select(spec: FontSpec, size: float) -> tuple[Face | None, str | None]:
    """The face for ``spec`` at ``size`` px (for automatic optical size) and a note when the
    family had to be substituted or the face could not be read."""
    note = None
    chosen = next((found for found in (_installed(f, spec) for f in spec.families) if found), None)
    if chosen is None:
        chosen = _installed(DEFAULT_FAMILY, spec)
        if chosen is None:
            return None, "text (no fonts found through fontconfig)"
        note = f"font '{spec.families[0]}' not installed (text drawn in {chosen[0]})"
    face = open_face(chosen[1], chosen[2], chosen[0], _variations(spec, chosen, size))
    if face is None:
        return None, f"text in unreadable font file {chosen[1]}"
    return face, note


def _variations(spec: FontSpec, chosen: tuple[str, str, int], size: float) -> tuple[tuple[str, float], ...]:
    """Explicit settings plus wght/wdth/ital/slnt/opsz from the font properties, as browsers map them."""
    explicit = dict(spec.variations)
    mapped = {"wght": float(spec.weight)}
    if spec.stretch != 100:
        mapped["wdth"] = spec.stretch
    if spec.style == "italic":
        mapped["ital"] = 1.0
    elif spec.style == "oblique":
        mapped["slnt"] = -12.0
    mapped["opsz"] = size
    return tuple(sorted({**mapped, **explicit}.items()))


@functools.lru_cache(maxsize=1024)
def fallback(char: str, base: Face, spec: FontSpec) -> Face | None:
    """A face that has ``char``, fontconfig's choice closest to ``base``'s family, or None."""
    found = _fc(f"{_pattern(base.family, spec)}:charset={ord(char):x}")
    if not found:
        return None
    names, path, index = found[0]
    if path == base.path and index == base.index:
        return None
    face = open_face(path, index, names[0], base.variations)
    return face if face is not None and face.has(char) else None



def installed(name: str) -> str | None:
    """The file of an installed family ``"DejaVu Sans"`` or a generic one (``"sans-serif"``: fontconfig's
    choice for it); a fontconfig style may follow a colon (``"DejaVu Sans:bold"``, ``"sans-serif:bold"``).
    None when fontconfig has no such family."""
    family, _, style = name.partition(":")
    found = _fc(_escape(family.strip()) + (":" + style if style else ""))
    if found and (family.strip().lower() in GENERIC or family.strip().lower() in (n.lower() for n in found[0][0])):
        return found[0][1]
    return None
