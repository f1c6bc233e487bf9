"""``save_paths_svg`` / ``paths_to_svg_string``: a list of per-path views (``clipvg.scene.Path``, numpy)
-> SVG (svgwrite), with no torch: the vectorizer writes its result here without building a Scene.

``PathWriter`` holds the formatting every SVG the project writes shares (numbers, path data, colours,
paints and gradients, strokes, ids, Inkscape layers); ``clipvg.svg.writer`` extends it with the group
tree, images, clips, masks and filters of a Scene. A Scene without a tree is written by this module's
``write_paths``, so both ways give the same bytes.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from functools import lru_cache
from itertools import groupby
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import svgwrite

from ..atomic import atomic_path
from ..errors import InvalidInputError
from ..scene.paint import IDENTITY, LinearGradient, Paint, Solid, Stroke
from ..scene.path import Path, Subpath

INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>\n'
# Path data is formatted this many numbers at a time (whole paths), so its temporaries stay near 1 MB.
CHUNK = 1 << 13
# The batch rounds float32 points x 10**precision in float64 as printf rounds them, exactly: a float32
# v = m 2**e (24-bit m) lies 0 or at least 2**e from a decimal half, and the product's error stays below
# that while 10**precision < 2**29 and the product < 2**52. Other chunks are formatted a number at a time.
MAX_PRECISION = 8
COPY_BLOCK = 1 << 16  # bytes a streamed save copies at a time
CHECK_PATHS = 1 << 10  # paths whose points are checked for NaN at once (a bounded temporary copy)
EXACT = 2.0 ** 52
_LETTERS = np.frombuffer(b"MLQC", np.uint8)  # 0: a subpath's start, else the command of a degree
_SPACE, _MINUS, _POINT, _ZERO, _CLOSE = (ord(c) for c in " -.0Z")
# The root element's attributes besides the size, as svgwrite writes them.
_ROOT = {"baseProfile": "full", "version": "1.1", "xmlns": "http://www.w3.org/2000/svg",
         "xmlns:ev": "http://www.w3.org/2001/xml-events", "xmlns:inkscape": INKSCAPE_NS,
         "xmlns:xlink": "http://www.w3.org/1999/xlink"}
# Formats a chunk of paths' data: (paths as subpath sequences, precision) -> one ``d`` per path.
ChunkFormatter = Callable[[Sequence[Sequence[Subpath]], int], list[str]]
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;",
                                    "\n": "&#10;", "\t": "&#09;"})


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write the SVG ``text`` (no XML declaration) to ``path`` atomically, with the declaration."""
    with atomic_path(path) as tmp:
        tmp.write_text(XML_DECLARATION + text, encoding="utf-8")


def save_paths_svg(paths: Sequence[Path], width: float, height: float, layer_names: Sequence[str],
                   path: str | os.PathLike, *, precision: int = 4, chunk: ChunkFormatter | None = None) -> None:
    """Write ``paths`` on a ``width`` x ``height`` px canvas to ``path`` atomically: the bytes of
    ``paths_to_svg_string`` with the XML declaration, streamed (the layers go to an unnamed temporary
    file as they are formatted, then the head, which needs every gradient, a piece at a time, and the
    layers' bytes are copied to ``path`` a block at a time), so the document is never held in memory."""
    writer = _writer(paths, width, height, precision)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as body:
        body.writelines(writer.layer_text(paths, layer_names, chunk))
        body.seek(0)  # flushed: its bytes are read back from the binary buffer below
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
            out.writelines([XML_DECLARATION, *writer.head_parts()])
            out.flush()
            shutil.copyfileobj(body.buffer, out.buffer, COPY_BLOCK)
            out.write("</svg>")


def paths_to_svg_string(paths: Sequence[Path], width: float, height: float, layer_names: Sequence[str], *,
                        precision: int = 4, chunk: ChunkFormatter | None = None) -> str:
    """The SVG document for ``paths`` (drawn in order) on a ``width`` x ``height`` px canvas: one
    Inkscape layer ``<g>`` per run of paths in the same layer, ``layer_names`` giving the order of
    empty layers too; coordinates with ``precision`` decimals (``chunk``: see ``path_data``). Raises
    InvalidInputError for NaN or infinite values."""
    return _writer(paths, width, height, precision).write_paths(paths, layer_names, chunk)


def _writer(paths: Sequence[Path], width: float, height: float, precision: int) -> PathWriter:
    """A PathWriter for ``paths``; raises InvalidInputError when one holds NaN or infinite points
    (CHECK_PATHS paths' points checked at once, then the first such path found for the message)."""
    for lo in range(0, len(paths), CHECK_PATHS):
        some = paths[lo:lo + CHECK_PATHS]
        points = [subpath.points for item in some for subpath in item.subpaths]
        if points and not np.isfinite(np.concatenate(points)).all():
            bad = next(item for item in some if not all(np.isfinite(s.points).all() for s in item.subpaths))
            raise InvalidInputError(f"path {bad.id or ''} holds NaN or infinite points; cannot write an SVG")
    return PathWriter(width, height, (p.id for p in paths), precision)


def markup(tag: str, attributes: dict[str, str], content: str = "") -> str:
    """``<tag ...>content</tag>`` (``<tag ... />`` when empty) with the attributes sorted by name and
    escaped, byte for byte as svgwrite (ElementTree) serialises the same element."""
    opening = _opening(tag, attributes)
    return f"<{opening}>{content}</{tag}>" if content else f"<{opening} />"


def _opening(tag: str, attributes: dict[str, str]) -> str:
    """``tag`` and its sorted, escaped attributes: the inside of ``markup``'s opening tag."""
    return " ".join([tag, *(f'{name}="{str(value).translate(_ATTRIBUTE_ESCAPES)}"'
                            for name, value in sorted(attributes.items()))])


def hex_colour(rgba: Sequence[float] | np.ndarray) -> str:
    """``#rrggbb`` of the first three values of ``rgba`` in [0, 1] (clamped, 8 bits; the clamps
    written out: twice as fast as min/max, for every stop of hundreds of gradients)."""
    r, g, b = float(rgba[0]), float(rgba[1]), float(rgba[2])
    return "#%02x%02x%02x" % (round((0.0 if r < 0.0 else 1.0 if r > 1.0 else r) * 255),
                              round((0.0 if g < 0.0 else 1.0 if g > 1.0 else g) * 255),
                              round((0.0 if b < 0.0 else 1.0 if b > 1.0 else b) * 255))


def decimal(value: float, precision: int) -> str:
    """``value`` with at most ``precision`` decimals, correctly rounded as printf's ``%.{precision}f``,
    trailing decimal zeros dropped (with the point when no decimal is left) and never ``-0``."""
    text = "%.*f" % (precision, value)
    if precision > 0 and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def path_data(paths: Sequence[Sequence[Subpath]], precision: int, chunk: ChunkFormatter | None = None
              ) -> Iterator[str]:
    """The ``d`` of each path (a sequence of subpaths), in order: per subpath ``M`` then one
    ``L``/``Q``/``C`` per segment (a closed subpath's last segment written out to the start point,
    then ``Z``), subpaths joined by a space, numbers as ``decimal`` writes them. Formatted in numpy
    CHUNK numbers at a time (made as they are consumed), byte for byte what the per-number
    ``decimal`` gives; ``chunk`` formats each chunk instead of ``_chunk_data`` (the same bytes, e.g.
    the vectorizer's compiled formatter)."""
    chunk = chunk or _chunk_data
    start = 0
    while start < len(paths):
        stop, numbers = start, 0
        while stop < len(paths) and (stop == start or numbers < CHUNK):
            numbers += sum(2 * (len(s.points) + s.closed) for s in paths[stop])
            stop += 1
        yield from chunk(paths[start:stop], precision)
        start = stop


def _chunk_data(paths: Sequence[Sequence[Subpath]], precision: int) -> list[str]:
    """``path_data`` of a few paths at once: every number becomes one row of bytes (a lead: the
    command letter, a space before it; the number; a trail: `` Z``), the rows are cut to what each
    number needs and joined, and the text is split at the paths' ends."""
    subpaths = [s for path in paths for s in path]
    if not subpaths:
        return [""] * len(paths)
    sizes = np.array([len(s.points) for s in subpaths])
    closed = np.array([s.closed for s in subpaths])
    points = np.concatenate([s.points for s in subpaths])
    batch = points.dtype == np.float32 and precision <= MAX_PRECISION
    points = points.astype(np.float64)
    first = np.cumsum(sizes) - sizes
    points = np.insert(points, (first + sizes)[closed], points[first[closed]], axis=0)  # back to the start
    rows = sizes + closed
    row_first = np.cumsum(rows) - rows
    degrees = [s.degrees for s in subpaths]
    segments = np.array([len(d) for d in degrees])
    degrees = np.concatenate(degrees)
    owner = np.repeat(np.arange(len(subpaths)), segments)
    done = np.cumsum(degrees) - degrees  # points before each segment, counted from the chunk's start
    segment_row = row_first[owner] + 1 + done - done[(np.cumsum(segments) - segments)[owner]]
    count = 2 * len(points)
    letter = np.zeros(count, np.uint8)  # the command before each number (0: none, a space only)
    letter[2 * row_first] = _LETTERS[0]
    letter[2 * segment_row] = _LETTERS[degrees]
    spaced = letter != _LETTERS[0]  # a space before each number, except before a path's first M
    per_path = np.array([len(path) for path in paths])
    later = np.ones(len(subpaths), bool)
    later[(np.cumsum(per_path) - per_path)[per_path > 0]] = False
    spaced[2 * row_first[later]] = True
    trail = np.zeros(count, bool)
    trail[2 * (row_first + rows)[closed] - 1] = True
    values = points.reshape(-1)
    bounds = np.r_[0, np.cumsum(2 * rows)][np.r_[0, np.cumsum(per_path)]]  # each path's first number
    scaled = values * 10.0 ** precision
    if not (batch and np.all(np.abs(scaled) < EXACT)):  # see MAX_PRECISION
        pieces = [(" " if gap else "") + (chr(c) if c else "") + decimal(v, precision) + (" Z" if z else "")
                  for gap, c, v, z in zip(spaced.tolist(), letter.tolist(), values.tolist(), trail.tolist())]
        return ["".join(pieces[lo:hi]) for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
    grid, keep = _number_bytes(values, scaled, precision)
    lead = np.stack([np.where(letter > 0, _SPACE, 0), np.where(letter > 0, letter, _SPACE)], axis=1)
    grid = np.concatenate([lead.astype(np.uint8), grid, np.broadcast_to(np.uint8([_SPACE, _CLOSE]), (count, 2))], axis=1)
    keep = np.concatenate([np.stack([spaced & (letter > 0), np.ones(count, bool)], axis=1), keep,
                           np.repeat(trail[:, None], 2, axis=1)], axis=1)
    text = grid[keep].tobytes().decode("ascii")
    ends = np.r_[0, np.cumsum(keep.sum(axis=1))][bounds]
    return [text[lo:hi] for lo, hi in zip(ends[:-1].tolist(), ends[1:].tolist())]


def _number_bytes(values: np.ndarray, scaled: np.ndarray, precision: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 1 + I + 1 + precision) uint8 rows (sign, I integer digits, point, decimals) of ``values``
    (N,) float32 values in float64, and which bytes of each row its text keeps (``decimal``'s text).
    ``scaled`` = ``values`` x 10**precision, below EXACT in magnitude, precision <= MAX_PRECISION."""
    whole = np.rint(scaled).astype(np.int64)  # halves to even, as printf (see MAX_PRECISION)
    magnitude = np.abs(whole)
    unit = 10 ** precision
    integer, fraction = magnitude // unit, magnitude % unit
    digits = 1 + sum(integer >= 10 ** k for k in range(1, 19))  # integer digits written
    width = int(digits.max())
    zeros = sum(fraction % 10 ** k == 0 for k in range(1, precision + 1))  # trailing decimal zeros
    decimals = precision - zeros if precision else np.zeros(len(values), np.int64)
    grid = np.empty((len(values), width + 2 + precision), np.uint8)
    keep = np.empty(grid.shape, bool)
    grid[:, 0], keep[:, 0] = _MINUS, whole < 0
    for column in range(width):
        place = width - 1 - column
        grid[:, 1 + column] = _ZERO + integer // 10 ** place % 10
        keep[:, 1 + column] = digits > place
    grid[:, 1 + width], keep[:, 1 + width] = _POINT, decimals > 0
    for column in range(precision):
        grid[:, 2 + width + column] = _ZERO + fraction // 10 ** (precision - 1 - column) % 10
        keep[:, 2 + width + column] = decimals > column
    return grid, keep


@lru_cache(maxsize=256)
def _id_base(base: str) -> str:
    """``base`` made an XML id: characters other than word ones, ``.`` and ``-`` become ``_``, and
    ``id_`` goes before one that does not start with a letter or ``_``."""
    base = re.sub(r"[^\w.-]", "_", base)
    return base if re.match(r"[A-Za-z_]", base) else f"id_{base}"


class PathWriter:
    """Builds the svgwrite Drawing of a canvas: number formatting, ids, layers and paths. A document of
    paths in layers only (``write_paths``) is written as text directly (svgwrite's bytes, without its
    element objects); the group tree's writer (``clipvg.svg.writer``) adds svgwrite elements."""

    def __init__(self, width: float, height: float, ids: Iterable[str | None], precision: int) -> None:
        self.width, self.height = float(width), float(height)
        self.precision = precision
        w, h = self.num(width), self.num(height)
        self.drawing = svgwrite.Drawing(size=(w, h), viewBox=f"0 0 {w} {h}", debug=False)
        self.drawing.attribs["xmlns:inkscape"] = INKSCAPE_NS
        self.taken = {i for i in ids if i}
        self.suffix: dict[str, int] = {}  # last number tried per id base, so ids are found in O(1)
        self.defs: list[str] | None = None  # gradients as text while ``write_paths`` writes text

    def write_paths(self, paths: Sequence[Path], layer_names: Sequence[str], chunk: ChunkFormatter | None = None
                    ) -> str:
        """The SVG text (no XML declaration) of ``paths`` in their layers, empty layers kept in the
        order of ``layer_names``; the paths' data formatted in batches (``path_data``), the
        document joined once."""
        layers = list(self.layer_text(paths, layer_names, chunk))
        return "".join([self.head(), *layers, "</svg>"])

    def layer_text(self, paths: Sequence[Path], layer_names: Sequence[str], chunk: ChunkFormatter | None = None
                   ) -> Iterator[str]:
        """The layers of ``write_paths``, a piece at a time as the paths are formatted; the gradients
        they use are collected for ``head``."""
        self.defs = []
        used = {p.layer for p in paths}
        empty = [name for name in layer_names if name not in used]
        order = list(layer_names)
        data = path_data([p.subpaths for p in paths], self.precision, chunk)  # a chunk of paths at a time
        for layer, run in groupby(zip(paths, data), key=lambda item: item[0].layer):
            while empty and order.index(empty[0]) < order.index(layer):
                yield markup("g", self.layer_attributes(empty.pop(0)))
            yield f"<{_opening('g', self.layer_attributes(layer))}>"
            yield from (self.path_markup(path, d) for path, d in run)
            yield "</g>"
        yield from (markup("g", self.layer_attributes(name)) for name in empty)

    def head(self) -> str:
        """The root element's opening tag and ``<defs>`` with the gradients ``layer_text`` met."""
        return "".join(self.head_parts())

    def head_parts(self) -> Iterator[str]:
        """``head`` a piece at a time (each gradient a piece)."""
        w, h = self.num(self.width), self.num(self.height)
        root = {**_ROOT, "width": w, "height": h, "viewBox": f"0 0 {w} {h}"}
        yield f"<{_opening('svg', root)}>"
        if self.defs:  # as ``markup("defs", {}, ...)`` writes it
            yield "<defs>"
            yield from self.defs
            yield "</defs>"
        else:
            yield "<defs />"

    def num(self, value: float) -> str:
        """``value`` (a number or a one-element tensor on any device) as written (see ``decimal``)."""
        return decimal(float(value), self.precision)

    def nums(self, values) -> str:
        """``values`` as written (see ``decimal``), space-separated."""
        return " ".join(decimal(v, self.precision) for v in np.asarray(values, dtype=np.float64).reshape(-1).tolist())

    def fresh_id(self, base: str) -> str:
        """An id not used yet in the document, made from ``base``."""
        base = _id_base(base)
        count = self.suffix.get(base, 1)
        candidate = base if count == 1 else f"{base}-{count}"
        while candidate in self.taken:
            count += 1
            candidate = f"{base}-{count}"
        self.taken.add(candidate)
        self.suffix[base] = count
        return candidate

    def layer_attributes(self, name: str) -> dict[str, str]:
        """An Inkscape layer ``<g>``'s attributes (a fresh id from ``name``)."""
        return {"id": self.fresh_id(name), "inkscape:groupmode": "layer", "inkscape:label": name}

    def layer(self, name: str) -> svgwrite.container.Group:
        group = self.drawing.g(**self.layer_attributes(name))
        self.drawing.add(group)
        return group

    def path(self, path: Path) -> svgwrite.path.Path:
        return self.drawing.path(**self.path_attributes(path))

    def path_attributes(self, path: Path, data: str | None = None) -> dict[str, str]:
        """A ``<path>``'s attributes: its data (``data`` when given, else formatted here), id, paints
        (gradients added to the definitions)."""
        attributes = {"d": self.data(path.subpaths) if data is None else data}
        if path.id:
            attributes["id"] = path.id
        # clipvg fades a path's fill and stroke each by its opacity; SVG's ``opacity`` fades them as a
        # group, the same only with one paint: with both, the opacity goes into fill- and stroke-opacity
        fold = path.opacity if path.fill is not None and path.stroke is not None else 1.0
        attributes.update(self.paint(path.fill, "fill", fold))
        if path.fill_rule == "evenodd":
            attributes["fill-rule"] = "evenodd"
        if path.opacity != 1.0 and fold == 1.0:
            attributes["opacity"] = self.num(path.opacity)
        if path.stroke is not None:
            attributes.update(self.stroke(path.stroke, fold))
        return attributes

    def path_markup(self, path: Path, data: str) -> str:
        """``markup("path", self.path_attributes(path, data))``; a path with only a fill (no stroke,
        opacity 1, nonzero rule: every path the vectorizer makes) written straight: its attributes in
        name order (d, fill, fill-opacity, id), only the id escaped (path data, colours, gradient
        references and numbers hold nothing to escape)."""
        if path.stroke is not None or path.opacity != 1.0 or path.fill_rule == "evenodd":
            return markup("path", self.path_attributes(path, data))
        fill = "".join([f' {name}="{value}"' for name, value in self.paint(path.fill, "fill").items()])
        named = f' id="{path.id.translate(_ATTRIBUTE_ESCAPES)}"' if path.id else ""
        return f'<path d="{data}"{fill}{named} />'

    def data(self, subpaths: Sequence[Subpath]) -> str:
        """The ``d`` of one path's ``subpaths`` (see ``path_data``)."""
        return next(path_data([subpaths], self.precision))

    def stroke(self, stroke: Stroke, opacity: float = 1.0) -> dict[str, str]:
        attributes = self.paint(stroke.paint, "stroke", opacity)
        attributes["stroke-width"] = self.num(stroke.width)
        if stroke.cap != "butt":
            attributes["stroke-linecap"] = stroke.cap
        if stroke.join != "miter":
            attributes["stroke-linejoin"] = stroke.join
        if stroke.miter_limit != 4.0:
            attributes["stroke-miterlimit"] = self.num(stroke.miter_limit)
        if stroke.dashes:
            attributes["stroke-dasharray"] = self.nums(stroke.dashes)
            if stroke.dash_offset:
                attributes["stroke-dashoffset"] = self.num(stroke.dash_offset)
        return attributes

    def paint(self, paint: Paint | None, prefix: str, opacity: float = 1.0) -> dict[str, str]:
        if paint is None:
            return {prefix: "none"}
        if isinstance(paint, Solid):
            attributes = {prefix: hex_colour(paint.rgba)}
            if paint.rgba[3] * opacity != 1.0:
                attributes[f"{prefix}-opacity"] = self.num(paint.rgba[3] * opacity)
            return attributes
        attributes = {prefix: f"url(#{self.gradient(paint)})"}
        if opacity != 1.0:
            attributes[f"{prefix}-opacity"] = self.num(opacity)
        return attributes

    def gradient(self, paint: Paint) -> str:
        """Add ``paint`` (a gradient) to ``<defs>``; returns its id."""
        attributes = {"id": self.fresh_id("gradient"), "gradientUnits": "userSpaceOnUse"}
        if paint.transform is not IDENTITY and tuple(paint.transform) != IDENTITY:
            attributes["gradientTransform"] = f"matrix({self.nums(paint.transform)})"
        if paint.spread != "pad":
            attributes["spreadMethod"] = paint.spread
        if isinstance(paint, LinearGradient):
            (x1, y1), (x2, y2) = paint.start, paint.end
            tag, values = "linearGradient", {"x1": x1, "y1": y1, "x2": x2, "y2": y2}
        else:
            (cx, cy), (fx, fy) = paint.center, paint.focal or paint.center
            tag, values = "radialGradient", {"cx": cx, "cy": cy, "r": paint.radius, "fx": fx, "fy": fy}
        precision = self.precision
        for name, value in values.items():
            attributes[name] = decimal(float(value), precision)
        offsets, colours = paint.stops.offsets.tolist(), paint.stops.colors.tolist()
        if self.defs is not None:  # ids, keywords, numbers and colours: nothing to escape
            stops = "".join([f'<stop offset="{decimal(offset, precision)}" stop-color="{hex_colour(colour)}" />'
                             if colour[3] == 1 else
                             f'<stop offset="{decimal(offset, precision)}" stop-color="{hex_colour(colour)}" '
                             f'stop-opacity="{decimal(colour[3], precision)}" />'
                             for offset, colour in zip(offsets, colours)])
            opening = " ".join([tag, *[f'{name}="{value}"' for name, value in sorted(attributes.items())]])
            self.defs.append(f"<{opening}>{stops}</{tag}>")
            return attributes["id"]
        stops = []
        for offset, color in zip(offsets, colours):
            stop = {"offset": self.num(offset), "stop-color": hex_colour(color)}
            if color[3] != 1:
                stop["stop-opacity"] = self.num(color[3])
            stops.append(stop)
        element = getattr(self.drawing, tag)(**attributes)
        for stop in stops:
            element.add_stop_color(stop["offset"], stop["stop-color"], stop.get("stop-opacity"))
        self.drawing.defs.add(element)
        return attributes["id"]
