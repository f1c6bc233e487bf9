"""How many pieces a scene's edges are cut into when drawn, and the memory that takes beyond the pixels.

The renderer cuts every edge at the pixel grid lines into pieces, one per pixel it passes
(``clipvg.render.coverage``); where a path folds over itself many times in one pixel, the exact coverage of
those crowded pixels (``clipvg.render.self_overlap``) costs 1-3 KB a piece. The per-pixel figures of
``clipvg.limits`` were measured on scenes of ~0.4 pieces per pixel and are taken to cover ``COVERED_PER_PIXEL``
of the render's pixels, and ``PATH_COVERED_PER_PIXEL`` of each path's own box; the pieces beyond
(``EdgeLoad.excess``) are counted by ``crowding_bytes``. A stroke of 150 000 long segments across a 200 px canvas
is cut into millions of pieces (9.6 GB drawn in one piece, 18 GB through ``clipvg render`` before this count):
it is now drawn in bands of fewer rows (``clipvg.tiling``) or refused before drawing.

The count is made from control polygons. Its grid crossings are an upper bound (a Bézier curve lies in its
control points' hull, so its |dx| and |dy| are at most its polygon's): an edge |dx| by |dy| px crosses at most
|dx| + |dy| grid lines within the render's own grid, and at most |dx| + min(|dy|, R) in a band of R rows. Each
line the renderer draws is one piece more: curves are flattened into as many lines as the renderer makes of them
(from their control points, ``clipvg.render.geometry.flatten``), a filled path's polygon is drawn once, a
stroke's outline has two sides as long, a bevel where its lines meet and a join or cap at each segment's end
(counted at the rows of that end). That per-line piece is the expected count, not the most: a short line across
a pixel's corner is cut into up to 3 pieces, one that lies inside a pixel into 1, so a path of many tiny lines
may be cut into up to 2 pieces a line more than counted (counting 3 would put a vectorized photo at 6 pieces a
pixel, five times what it is cut into). Torch-free (numpy): ``clipvg render`` checks a file before torch loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .errors import ResourceLimitError

if TYPE_CHECKING:
    from .limits import ResourceLimits
    from .tiling import Drawable

# Pieces per drawn pixel the per-pixel figures already count (their 1000-blob scene at 1024 px has 0.37)
COVERED_PER_PIXEL = 1.0
# Pieces per pixel of a path's own box it may have before its pixels are taken as crowded: the renderer works
# out a pixel's exact coverage beyond 3 pieces of one path there (clipvg.render.self_overlap.SAFE_PIECES), and
# a path of a few pixels holds several pieces in each (its corners, its curves' lines)
PATH_COVERED_PER_PIXEL = 4.0
# Peak bytes of the pieces past those (benchmarks/crossings.py: zigzags of 2000-64 000 long segments at 200 px,
# filled and stroked, drawn in one piece; benchmarks/results/crossings_*.json): each piece, and the exact coverage
# of the first crowded pixels (clipvg.render.self_overlap's budget of cut pairs), 4 KB a piece up to a cap.
# Without gradients 1.0-1.8 KB a piece past ~250 MB; with them 1.4-2.6 KB past ~450-550 MB; where the excess is small
# (8000 filled segments: 92 000 pieces past a piece a pixel) the ~200 MB base takes the per piece figure to 2.3 KB
# without gradients and 3.8 KB with them (measured within +-10 % from run to run).
CROSSING_BYTES, CROWDED_BYTES = 2300, 320 << 20
GRADIENT_CROSSING_BYTES, GRADIENT_CROWDED_BYTES = 3800, 600 << 20
CROWDED_PIECE_BYTES = 4096
# clipvg.render.geometry's FLATTEN_TOLERANCE (px), which the renderer flattens curves and arcs to, and its
# MAX_PIECES_PER_SEGMENT: a cubic c0..c3 (a quadratic raised to one) becomes ceil(sqrt(0.75 d / TOLERANCE)) lines,
# d the larger of |c0 - 2 c1 + c2| and |c1 - 2 c2 + c3| in output px, 1 to MAX_SEGMENT_LINES of them
TOLERANCE = 0.05
MAX_SEGMENT_LINES = 256
# A stroke draws at each line of its outline its two sides and, where lines meet inside a segment, a bevel
# (2 pieces: the quads' ends there cancel out, clipvg.render.stroke); at each segment's end a join or cap: a miter
# or square 4-gon reaching at most ``reach`` (its perimeter at most 4 reach, crossing at most sqrt(2) grid lines a
# px), or a fan of at most pi * sqrt(r / (8 TOLERANCE)) lines of an arc around the half width r. A segment's bevels
# turn with it, by at most 2 pi (a cubic's loop): their perimeter is at most 2 pi r.
STROKE_LINE_PIECES, STROKE_JOIN_PIECES = 2, 4
STROKE_JOIN_SPAN, STROKE_TURN_SPAN = 4 * np.sqrt(2), 2 * np.pi * np.sqrt(2)


@dataclass(frozen=True)
class EdgeLoad:
    """Per edge (E,) of every subpath's control polygon, closed (an open one too: more, never fewer): the
    columns (``across``) and rows (``down``) it crosses per output px of scale (canvas px), the second
    differences of the curve it is part of (``bend`` (E, 2, 2): |x| and |y| of both, canvas px; 0 for a line)
    and its share of that curve's lines (``share``: 1 / the curve's degree; 1 for a line), the times it is drawn
    (``times``: once filled, twice more stroked), its stroke's half width (``half_width``, canvas px; 0: not
    stroked) and how far its joins reach (``reach``, canvas px), the rows it reaches (``top``, ``bottom``: canvas
    px, as far as its stroke's joins reach); sorted by ``top`` (``by_bottom``: the order by ``bottom``). Its ends'
    joins, half at each end (2E,): the rows they reach (``corner_top``, ``corner_bottom``), sorted by
    ``corner_top`` (``corner_by_bottom``), and their edge (``corner_edge``). Its path (``path``) and per path (N,)
    the box its drawing reaches (``box`` (N, 4): x0, y0, x1, y1 canvas px)."""

    across: np.ndarray
    down: np.ndarray
    bend: np.ndarray
    share: np.ndarray
    times: np.ndarray
    half_width: np.ndarray
    reach: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    by_bottom: np.ndarray
    corner_top: np.ndarray
    corner_bottom: np.ndarray
    corner_by_bottom: np.ndarray
    corner_edge: np.ndarray
    path: np.ndarray
    box: np.ndarray
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # _scaled's, the last scale's

    @classmethod
    def of(cls, points: np.ndarray, point_counts: np.ndarray, segment_degrees: np.ndarray,
           segment_counts: np.ndarray, path_of_subpath: np.ndarray, filled: np.ndarray, stroke_width: np.ndarray,
           miter_limit: np.ndarray) -> "EdgeLoad":
        """From control ``points`` (P, 2) canvas px, subpath after subpath, with per subpath (S,) its
        ``point_counts``, ``segment_counts`` and path (``path_of_subpath``), ``segment_degrees`` (all segments,
        1 line, 2 quadratic, 3 cubic), and per path (N,) ``filled`` bool, ``stroke_width`` canvas px (0: not
        stroked) and ``miter_limit``. Points and widths are taken as float32 first, as the Scene holds them: a
        file's count before torch loads is its Scene's. A stroke's outline reaches ``reach`` = its half width
        times max(miter limit, 2) from each point (a miter's tip; caps and round joins less)."""
        points = np.asarray(points, dtype=np.float32).reshape(-1, 2).astype(np.float64)
        points = np.nan_to_num(points, posinf=0.0, neginf=0.0)
        counts = np.asarray(point_counts, dtype=np.int64)
        first = np.cumsum(counts) - counts
        owner = np.repeat(np.arange(len(counts)), counts)
        same = np.flatnonzero(owner[1:] == owner[:-1])
        has_points = counts > 0
        last = (first + counts - 1)[has_points]
        start, end = np.concatenate([same, last]), np.concatenate([same + 1, first[has_points]])  # closing edges
        bend, share = _curve_parts(points, counts, first, segment_degrees, segment_counts)
        bend, share = bend[np.concatenate([same, last])], share[np.concatenate([same, last])]
        a, b = points[start], points[end]
        path = np.asarray(path_of_subpath, dtype=np.int64)[owner[start]]
        width = np.asarray(stroke_width, dtype=np.float32).astype(np.float64)
        miter = np.asarray(miter_limit, dtype=np.float32).astype(np.float64)
        half_width = (np.where(np.isfinite(width), np.abs(width), 0.0) / 2)[path]
        reach = half_width * np.maximum(np.nan_to_num(miter), 2.0)[path]
        times = np.asarray(filled, dtype=np.float64)[path] + 2.0 * (reach > 0)
        top = np.minimum(a[:, 1], b[:, 1]) - reach
        order = np.argsort(top, kind="stable")
        bottom = (np.maximum(a[:, 1], b[:, 1]) + reach)[order]
        across, down = (np.abs(b[:, axis] - a[:, axis]) for axis in (0, 1))
        box = np.tile([np.inf, np.inf, -np.inf, -np.inf], (len(filled), 1))
        for corner, pick, ends in ((0, np.minimum, np.minimum(a, b) - reach[:, None]),
                                   (2, np.maximum, np.maximum(a, b) + reach[:, None])):
            for axis in (0, 1):
                pick.at(box[:, corner + axis], path, ends[:, axis])
        ends, corner_reach = np.concatenate([a[order, 1], b[order, 1]]), np.tile(reach[order], 2)
        corner_top = ends - corner_reach
        corner_order = np.argsort(corner_top, kind="stable")
        corner_edge = np.tile(np.arange(len(order)), 2)[corner_order]
        corner_bottom = (ends + corner_reach)[corner_order]
        return cls(across[order], down[order], bend[order], share[order], times[order], half_width[order],
                   reach[order], top[order], bottom, np.argsort(bottom, kind="stable"), corner_top[corner_order],
                   corner_bottom, np.argsort(corner_bottom, kind="stable"), corner_edge, path[order], box)

    def _pieces(self, scale: tuple[float, float], columns: float, rows: float) -> tuple[np.ndarray, np.ndarray]:
        """(E,) the pieces each edge is cut into in a tile of ``columns`` x ``rows`` output px at ``scale`` (the
        renderer cuts at the tile's grid lines alone), along it and (E,) at its segment's join: the grid lines it
        crosses (a line |dx| by |dy| px crosses at most |dx| + |dy|, and no more than the tile has), and the
        pieces ``_scaled`` adds."""
        across, down, along, joins = self._scaled(scale)
        return self.times * (np.minimum(across, columns) + np.minimum(down, rows)) + along, joins

    def _scaled(self, scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(E,) each at ``scale`` (kept for the last scale asked: a tile plan asks for many bands at one): the
        columns and rows each edge spans, the pieces along it beyond its grid crossings (one for each of the lines
        it is drawn as, ``_lines``; a stroke's bevel at each line and its segment's bevels' turn) and those at its
        segment's join (``STROKE_*``)."""
        key = (float(scale[0]), float(scale[1]))
        if key not in self._memo:
            lines, stretch = self._lines(scale), np.sqrt(scale[0] * scale[1])
            radius, reach = self.half_width * stretch, self.reach * stretch
            stroked = radius > 0
            along = (self.times * lines
                     + stroked * (STROKE_LINE_PIECES * lines + STROKE_TURN_SPAN * radius * self.share))
            joins = np.where(stroked, STROKE_JOIN_PIECES + STROKE_JOIN_SPAN * reach
                             + np.pi * np.sqrt(radius / (8 * TOLERANCE)), 0.0) * self.share
            self._memo.clear()
            self._memo[key] = (self.across * scale[0], self.down * scale[1], along, joins)
        return self._memo[key]

    def _lines(self, scale: tuple[float, float]) -> np.ndarray:
        """(E,) the lines each edge is drawn as at ``scale``: its share of its curve's flattening (1 for a line)."""
        second = np.hypot(self.bend[:, :, 0] * scale[0], self.bend[:, :, 1] * scale[1]).max(axis=1, initial=0.0)
        return self.share * np.clip(np.ceil(np.sqrt(0.75 * second / TOLERANCE)), 1, MAX_SEGMENT_LINES)

    def crossings(self, scale: tuple[float, float], size: tuple[int, int]) -> float:
        """The pieces all edges are cut into (``_pieces``) at ``scale`` (x, y) output px per canvas px in a render
        of ``size`` (width, height) output px."""
        return float(sum(part.sum() for part in self._pieces(scale, *size)))

    def most_in_bands(self, scale: tuple[float, float], size: tuple[int, int], rows: int, margin: int) -> float:
        """The pieces (``_pieces``) in the fullest band of ``rows`` output rows with ``margin`` rows above and
        below it (a tile's), the bands laid from the top of a render of ``size`` (width, height) output px."""
        return float(self._in_bands(scale, size, rows, margin).max(initial=0.0))

    def _in_bands(self, scale: tuple[float, float], size: tuple[int, int], rows: int, margin: int) -> np.ndarray:
        """Per band (``most_in_bands``), the pieces in it: its edges' along them, their joins' half at each
        end whose join reaches it."""
        along, joins = self._pieces(scale, size[0], rows + 2 * margin)
        return (_in_bands(along, self.top, self.bottom, self.by_bottom, rows, margin, size[1], scale[1])
                + _in_bands(joins[self.corner_edge] / 2, self.corner_top, self.corner_bottom, self.corner_by_bottom,
                            rows, margin, size[1], scale[1]))

    def _path_excess(self, scale: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
        """(N,) per path, its pieces beyond ``PATH_COVERED_PER_PIXEL`` per pixel of its own box: pieces crowd one
        path's pixels (a scribble in a corner of a large canvas is crowded however empty the rest)."""
        pieces = np.bincount(self.path, sum(self._pieces(scale, *size)), minlength=len(self.box))
        canvas = (size[0] / scale[0], size[1] / scale[1])
        x0, y0, x1, y1 = (np.clip(np.nan_to_num(self.box[:, k], posinf=0.0, neginf=0.0), 0, canvas[k % 2])
                          for k in range(4))  # its box on the render
        area = ((x1 - x0) * scale[0] + 1) * ((y1 - y0) * scale[1] + 1)
        return np.maximum(pieces - PATH_COVERED_PER_PIXEL * area, 0.0)

    def excess(self, scale: tuple[float, float], size: tuple[int, int]) -> float:
        """The pieces a render of ``size`` (width, height) output px at ``scale`` has beyond what the per-pixel
        figures count: over all its pixels, or over each path's own box, whichever is more."""
        over_pixels = self.crossings(scale, size) - COVERED_PER_PIXEL * size[0] * size[1]
        return max(over_pixels, float(self._path_excess(scale, size).sum()), 0.0)

    def most_excess_in_bands(self, scale: tuple[float, float], size: tuple[int, int], rows: int, margin: int,
                             pixels: float) -> float:
        """``excess`` of the largest tile of ``pixels`` drawn pixels in bands of ``rows`` output rows with
        ``margin`` rows above and below (``most_in_bands``): in each band, its pieces beyond its pixels', or its
        paths' own excess (``_path_excess``) as far as the band holds pieces (the sum over its paths of the least
        of each one's excess and its pieces there is at most the least of the two sums)."""
        pieces = self._in_bands(scale, size, rows, margin)
        by_top = np.argsort(self.box[:, 1], kind="stable")
        boxes = self.box[by_top]
        per_path = _in_bands(self._path_excess(scale, size)[by_top], boxes[:, 1], boxes[:, 3],
                             np.argsort(boxes[:, 3], kind="stable"), rows, margin, size[1], scale[1])
        excess = np.maximum(pieces - COVERED_PER_PIXEL * pixels, np.minimum(per_path, pieces))
        return float(max(excess.max(initial=0.0), 0.0))


def _in_bands(values: np.ndarray, top: np.ndarray, bottom: np.ndarray, by_bottom: np.ndarray, rows: int,
              margin: int, height: int, scale: float) -> np.ndarray:
    """Per band of ``rows`` output rows (``margin`` more above and below) of a ``height`` px render at ``scale``
    output px per canvas px, the sum of ``values`` over the items (sorted by ``top``, canvas px; ``by_bottom``:
    their order by ``bottom``) touching it, its edges included: those whose top is not below its end, less those
    ending above its start (whose tops are above its end too)."""
    starts = np.arange(0, height, max(1, rows), dtype=np.float64)
    low, high = (starts - margin) / scale, (starts + rows + margin) / scale
    reaching = np.concatenate([[0.0], np.cumsum(values)])
    above = np.concatenate([[0.0], np.cumsum(values[by_bottom])])
    return (reaching[np.searchsorted(top, high, side="right")]
            - above[np.searchsorted(bottom[by_bottom], low, side="left")])


def _curve_parts(points: np.ndarray, counts: np.ndarray, first: np.ndarray, segment_degrees: np.ndarray,
                 segment_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point (P,), of the edge from it to the next on its segment (``EdgeLoad.of``'s arguments; a closed
    subpath's last segment ends at its first point): ``bend`` (P, 2, 2), the |x| and |y| of its curve's second
    differences raised to a cubic as the renderer flattens it (0 on lines), and ``share`` (P,), 1 / the degree."""
    degrees = np.asarray(segment_degrees, dtype=np.int64)
    segments = np.asarray(segment_counts, dtype=np.int64)
    subpath = np.repeat(np.arange(len(segments)), segments)
    before = np.cumsum(degrees) - degrees  # degrees of all earlier segments
    start = first[subpath] + before - before[(np.cumsum(segments) - segments)[subpath]]
    end = first[subpath] + counts[subpath]  # past the subpath's last point
    control = [points[np.where(start + k < end, start + k, first[subpath]) if k else start] for k in range(4)]
    quad = degrees == 2
    c1 = np.where(quad[:, None], control[0] + 2 * (control[1] - control[0]) / 3, control[1])
    c2 = np.where(quad[:, None], control[2] + 2 * (control[1] - control[2]) / 3, control[2])
    c3 = np.where(quad[:, None], control[2], control[3])
    second = np.abs(np.stack([control[0] - 2 * c1 + c2, c1 - 2 * c2 + c3], 1)) * (degrees > 1)[:, None, None]
    bend, share = np.zeros((len(points), 2, 2)), np.ones(len(points))
    for step in range(3):
        pick = step < degrees
        bend[start[pick] + step] = second[pick]
        share[start[pick] + step] = 1 / degrees[pick]
    return bend, share


def crowding_bytes(excess: float, gradient: bool = False) -> float:
    """Bytes the ``excess`` pieces of a render (``EdgeLoad.excess``) take beyond the per-pixel figures
    (``gradient``: a render that records gradients)."""
    per_piece, crowded = (GRADIENT_CROSSING_BYTES, GRADIENT_CROWDED_BYTES) if gradient else (CROSSING_BYTES,
                                                                                              CROWDED_BYTES)
    return excess * per_piece + min(crowded, excess * CROWDED_PIECE_BYTES)


def check_edit(limits: ResourceLimits, drawable: "Drawable", points: int, paths: int, views: int, what: str) -> None:
    """``limits.check_job`` for an edit of ``drawable`` (a Scene, or a ReadSVG before torch loads) with ``points``,
    ``paths`` and ``views`` CLIP views, its edges' pieces beyond the pixels included (each step draws the canvas at
    its size, with gradients); a refusal says when the pieces are the cause."""
    load, width, height = drawable.edge_load(), drawable.width, drawable.height
    size = (round(width), round(height))
    crowding = crowding_bytes(load.excess((1.0, 1.0), size), gradient=True)
    try:
        limits.check_job(width, height, points, paths, views, what, crowding=crowding)
    except ResourceLimitError as refused:
        raise with_pieces(refused, load, (1.0, 1.0), size) from None


def with_pieces(refused: ResourceLimitError, load: EdgeLoad, scale: tuple[float, float], size: tuple[int, int]
                ) -> ResourceLimitError:
    """``refused`` (a memory limit) with a sentence saying why when the edges of ``load``, drawn at ``scale`` into
    ``size`` (width, height) px, are cut into more pieces than the pixels hold: the memory then comes from the
    shapes, not from the size alone."""
    if load.excess(scale, size) == 0:
        return refused
    pieces, (width, height) = load.crossings(scale, size), size
    error = ResourceLimitError(f"{refused} (its paths' edges are cut into up to {pieces:,.0f} pieces at the pixel "
                               f"grid of {width:g}x{height:g} px drawn: simplify the paths, or draw it smaller)")
    error.limit = refused.limit
    return error
