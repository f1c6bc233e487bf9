"""SVG path data read with numpy: long ``d`` attributes parsed in tens of milliseconds, not seconds.

svgelements makes a Python object per segment (a 150 000-segment path takes it ~1.1 s); ``parse_path_data``
tokenizes the whole string with one regex and computes every segment's points with array operations, giving
the same contours as ``geometry.to_contours`` of svgelements' segments (arcs as its cubics: ``path_arcs``).
``long_path_data_set_aside`` hides long path data from svgelements while the document tree is built (the data goes
in ``SET_ASIDE``; see ``shape_data``).
"""
from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .geometry import Contour
from .path_arcs import arc_pieces, separated_arc_flags

SET_ASIDE = "data-clipvg-path"
"""The attribute holding path data set aside from svgelements (its ``d`` is emptied meanwhile)."""
LONG_PATH_DATA = 1024
"""Characters of path data from which ``long_path_data_set_aside`` sets it aside."""

_M, _L, _H, _V, _C, _S, _Q, _T, _Z, _A = range(10)
_LETTERS = "MLHVCSQTZA"
_ARITY = np.array([2, 2, 1, 1, 6, 4, 4, 2, 0, 7])
_DEGREE = np.array([0, 1, 1, 1, 3, 3, 2, 2, 1, 3])  # a close-path's degree counts only when its line has length
_END_COLUMN = np.array([0, 0, 0, 0, 4, 2, 2, 0, 0, 5])  # where a segment's end point is in its arguments
_COMMANDS = np.array(sorted(_LETTERS + _LETTERS.lower()))
_KIND_OF = np.array([_LETTERS.index(c.upper()) for c in _COMMANDS])
_RELATIVE_OF = np.array([c.islower() for c in _COMMANDS])
_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtZzAa]|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SAME_POINT = 1e-12  # how far apart svgelements' equal points may be (a close-path of that length adds no line)


@dataclass(frozen=True)
class PathData:
    """Path data as arrays, one row per segment (a moveto, a close-path and each implicit repeat are segments; an
    arc, the cubics or the line it is drawn as): ``kind`` (S,) int (M L H V C S Q T Z = 0..8), ``starts`` and
    ``ends`` (S, 2) float64 user units, ``controls`` (S, 2, 2) the Bézier control points (a quadratic's in the
    first row; zeros for others)."""

    kind: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    controls: np.ndarray

    @functools.cached_property
    def contours(self) -> list[Contour]:
        """As ``geometry.to_contours``: a close-path with length adds a line; subpaths without segments dropped."""
        kind, count = self.kind, len(self.kind)
        closing = (kind == _Z) & (np.abs(self.starts - self.ends) > _SAME_POINT).any(1)
        degree = np.where(kind == _Z, closing, _DEGREE[kind])
        begins = (kind == _M) | np.concatenate([[False], kind[:-1] == _Z])
        slots = np.zeros((count, 4, 2))
        slots[:, 0] = np.where((kind == _M)[:, None], self.ends, self.starts)
        three = degree == 3
        slots[three, 1:3] = self.controls[three]
        slots[degree == 2, 1] = self.controls[degree == 2, 0]
        slots[np.arange(count), degree] = np.where(degree[:, None] > 0, self.ends, slots[np.arange(count), degree])
        used = np.zeros((count, 4), dtype=bool)
        used[:, 0] = begins
        used[:, 1:] = np.arange(1, 4) <= degree[:, None]
        points = slots[used]
        contour = np.cumsum(begins) - 1
        sizes = np.bincount(contour, used.sum(1), contour[-1] + 1).astype(np.int64) if count else np.zeros(0, np.int64)
        degrees = degree[degree > 0]
        degree_counts = np.bincount(contour[degree > 0], minlength=len(sizes))
        closed = np.zeros(len(sizes), dtype=bool)
        closed[contour[kind == _Z]] = True
        found = []
        point_start, degree_start = np.cumsum(sizes) - sizes, np.cumsum(degree_counts) - degree_counts
        for index in np.flatnonzero(degree_counts):
            own = points[point_start[index]:point_start[index] + sizes[index]]
            found.append(Contour(own[:-1] if closed[index] else own,
                                 degrees[degree_start[index]:degree_start[index] + degree_counts[index]].tolist(),
                                 bool(closed[index])))
        return found

    def bbox(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) user units: every segment's end (a lone moveto's point included, as svgelements
        counts it) and the curves' extremes; None for empty data."""
        if not len(self.kind):
            return None
        points = [self.ends]
        quadratic = (self.kind == _Q) | (self.kind == _T)
        if quadratic.any():
            points.append(_quadratic_extremes(self.starts[quadratic], self.controls[quadratic, 0],
                                              self.ends[quadratic]))
        cubic = (self.kind == _C) | (self.kind == _S)
        if cubic.any():
            points.append(_cubic_extremes(self.starts[cubic], self.controls[cubic], self.ends[cubic]))
        every = np.concatenate(points)
        low, high = every.min(0), every.max(0)
        return float(low[0]), float(low[1]), float(high[0]), float(high[1])


@functools.lru_cache(maxsize=4)  # a shape's contours and its bounding box are asked for in turn
def parse_path_data(data: str) -> PathData | None:
    """The segments of well-formed path data (``document.drop_bad_paths`` leaves only that), or None where commands
    and argument counts disagree (left to svgelements)."""
    tokens = np.array(_TOKEN.findall(separated_arc_flags(data)))
    if not len(tokens):
        return PathData(np.zeros(0, np.int64), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2, 2)))
    is_command = np.isin(tokens, _COMMANDS)
    at = np.flatnonzero(is_command)
    if not len(at) or at[0] != 0 or tokens[0] not in "Mm":
        return None
    letter = np.searchsorted(_COMMANDS, tokens[at])
    kind, relative = _KIND_OF[letter], _RELATIVE_OF[letter]
    values = tokens[~is_command].astype(np.float64)
    arguments = np.diff(np.append(at, len(tokens))) - 1
    arity = _ARITY[kind]
    whole = np.where(kind == _Z, arguments == 0, (arguments > 0) & (arguments % np.maximum(arity, 1) == 0))
    if not whole.all():
        return None
    repeats = np.where(kind == _Z, 1, arguments // np.maximum(arity, 1))
    group = np.repeat(np.arange(len(at)), repeats)
    within = np.arange(len(group)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    segment_kind = kind[group]
    segment_kind[(segment_kind == _M) & (within > 0)] = _L  # a moveto's further pairs are linetos
    first_value = at - np.arange(len(at))  # values before each command
    columns = np.arange(7)
    taken = first_value[group, None] + within[:, None] * arity[group, None] + columns
    arguments_of = np.where(columns < arity[group, None], values[np.minimum(taken, max(len(values) - 1, 0))]
                            if len(values) else 0.0, 0.0)
    return _segments(segment_kind, relative[group], arguments_of)


def _segments(kind: np.ndarray, relative: np.ndarray, arguments: np.ndarray) -> PathData:
    """Points of segments ``kind`` (S,), ``relative`` (S,) bool, ``arguments`` (S, 7) as written."""
    count = len(kind)
    column = _END_COLUMN[kind]
    rows = np.arange(count)
    written = np.stack([arguments[rows, column], arguments[rows, column + 1]], axis=1)
    written[kind == _V, 1] = arguments[kind == _V, 0]
    sets = np.repeat(~relative[:, None], 2, axis=1)
    sets[kind == _H, 1] = False  # H keeps y, V keeps x: a relative move by 0
    sets[kind == _V, 0] = False
    written[kind == _H, 1] = 0.0
    written[kind == _V, 0] = 0.0
    is_close = kind == _Z
    sets[is_close] = True
    ends = np.stack([_axis(written[:, axis], sets[:, axis], is_close, kind == _M) for axis in range(2)], axis=1)
    starts = np.concatenate([np.zeros((1, 2)), ends[:-1]])
    base = np.where(relative[:, None], starts, 0.0)
    controls = np.zeros((count, 2, 2))
    cubic, smooth_cubic = kind == _C, kind == _S
    controls[cubic, 0] = arguments[cubic, 0:2] + base[cubic]
    controls[cubic, 1] = arguments[cubic, 2:4] + base[cubic]
    controls[smooth_cubic, 1] = arguments[smooth_cubic, 0:2] + base[smooth_cubic]
    after_cubic = np.concatenate([[False], cubic[:-1] | smooth_cubic[:-1]])
    previous_second = np.concatenate([np.zeros((1, 2)), controls[:-1, 1]])
    controls[smooth_cubic, 0] = np.where(after_cubic[smooth_cubic, None], 2 * starts[smooth_cubic]
                                         - previous_second[smooth_cubic], starts[smooth_cubic])
    controls[:, 0] = np.where((kind == _Q)[:, None], arguments[:, 0:2] + base, controls[:, 0])
    smooth_quadratic = kind == _T
    if smooth_quadratic.any():
        controls[smooth_quadratic, 0] = _reflected_controls(kind, starts, controls[:, 0])[smooth_quadratic]
    return _arcs_drawn(PathData(kind, starts, ends, controls), arguments)


def _arcs_drawn(data: PathData, arguments: np.ndarray) -> PathData:
    """``data`` with each arc's row replaced by the segments it is drawn as (``path_arcs.arc_pieces``; none for an
    arc ending where it starts). After the smooth curves' reflections: an arc is not a curve they reflect."""
    arc = data.kind == _A
    if not arc.any():
        return data
    pieces = arc_pieces(data.starts[arc], data.ends[arc], arguments[arc], _SAME_POINT)
    repeats = np.ones(len(arc), dtype=np.int64)
    repeats[arc] = pieces.count
    rows = np.repeat(np.arange(len(arc)), repeats)
    kind, starts, ends, controls = data.kind[rows], data.starts[rows], data.ends[rows], data.controls[rows]
    drawn = np.flatnonzero(np.repeat(arc, repeats))
    kind[drawn] = np.where(np.repeat(pieces.line, pieces.count), _L, _C)
    starts[drawn], ends[drawn], controls[drawn] = pieces.starts, pieces.ends, pieces.controls
    return PathData(kind, starts, ends, controls)


def _axis(written: np.ndarray, sets: np.ndarray, is_close: np.ndarray, is_move: np.ndarray) -> np.ndarray:
    """One coordinate of every segment's end: ``written`` (S,) absolute where ``sets`` else a step from the last
    end; a close-path goes back to its subpath's moveto (which may itself be relative to an earlier close-path).

    Each end is the value set last plus the steps after it (a running sum, so absolute values stay exact); a
    close-path's value is its moveto's end, resolved along chains of close-paths by pointer jumping."""
    rows = np.arange(len(written))
    steps = np.cumsum(np.where(sets, 0.0, written))
    last_set = np.maximum.accumulate(np.where(sets, rows, -1))
    closes = np.flatnonzero(is_close)
    value = np.where(sets, written, 0.0)
    if len(closes):
        move = np.maximum.accumulate(np.where(is_move, rows, -1))[closes]
        anchor = last_set[move]
        known = steps[move] - np.where(anchor >= 0, steps[np.maximum(anchor, 0)], 0.0)
        known += np.where((anchor >= 0) & ~is_close[np.maximum(anchor, 0)], value[np.maximum(anchor, 0)], 0.0)
        close_number = np.cumsum(is_close) - 1
        pointer = np.where((anchor >= 0) & is_close[np.maximum(anchor, 0)], close_number[np.maximum(anchor, 0)], -1)
        while (pointer >= 0).any():  # each pass doubles how far along its chain every close-path has summed
            linked = pointer >= 0
            known[linked] += known[pointer[linked]]
            pointer[linked] = pointer[pointer[linked]]
        value[closes] = known
    anchored = last_set >= 0
    origin = np.maximum(last_set, 0)
    return np.where(anchored, value[origin] + steps - steps[origin], steps)


def _reflected_controls(kind: np.ndarray, starts: np.ndarray, quadratic_control: np.ndarray) -> np.ndarray:
    """The control points (S, 2) of smooth quadratics (T): the reflection of the previous quadratic's (Q or T) control
    about the start, else the start. Along a run c_k = 2 s_k - c_(k-1), so (-1)^k c_k is a running sum."""
    rows = np.arange(len(kind))
    quadratic = (kind == _Q) | (kind == _T)
    chained = (kind == _T) & np.concatenate([[False], quadratic[:-1]])
    head = quadratic & ~chained
    sign = np.where(rows % 2 == 0, 1.0, -1.0)[:, None]
    head_control = np.where((kind == _Q)[:, None], quadratic_control, starts)
    terms = np.where(head[:, None], sign * head_control, np.where(chained[:, None], sign * 2 * starts, 0.0))
    running = np.cumsum(terms, axis=0)
    last_head = np.maximum.accumulate(np.where(head, rows, -1))
    before = np.where((last_head > 0)[:, None], running[np.maximum(last_head - 1, 0)], 0.0)
    return np.where(head[:, None], head_control, sign * (running - before))


def _quadratic_extremes(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Points (N, 2) of quadratics (each (N, 2)) where a coordinate turns (each axis's extreme, or an end)."""
    denominator = p0 - 2 * p1 + p2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(denominator != 0, (p0 - p1) / denominator, 0.0)
    t = np.clip(np.nan_to_num(t), 0.0, 1.0)
    found = []
    for axis in range(2):
        s = t[:, axis:axis + 1]
        found.append((1 - s) ** 2 * p0 + 2 * (1 - s) * s * p1 + s ** 2 * p2)
    return np.concatenate(found)


def _cubic_extremes(p0: np.ndarray, controls: np.ndarray, p3: np.ndarray) -> np.ndarray:
    """Points (M, 2) of cubics (``controls`` (N, 2, 2)) where a coordinate's derivative is zero within (0, 1)."""
    p1, p2 = controls[:, 0], controls[:, 1]
    a = -p0 + 3 * p1 - 3 * p2 + p3  # the derivative / 3 is a t^2 + b t + c
    b = 2 * (p0 - 2 * p1 + p2)
    c = p1 - p0
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))
        flat = np.abs(a) <= 1e-12 * (np.abs(b) + np.abs(c) + 1e-300)
        candidates = [np.where(flat, -c / b, (-b + root) / (2 * a)), np.where(flat, -c / b, (-b - root) / (2 * a))]
    found = []
    for t in candidates:
        for axis in range(2):
            s = np.nan_to_num(t[:, axis:axis + 1], nan=0.0, posinf=0.0, neginf=0.0)
            s = np.clip(s, 0.0, 1.0)
            found.append((1 - s) ** 3 * p0 + 3 * (1 - s) ** 2 * s * p1 + 3 * (1 - s) * s ** 2 * p2 + s ** 3 * p3)
    return np.concatenate(found)


@contextmanager
def long_path_data_set_aside(root: ET.Element) -> Iterator[None]:
    """Within the block, every ``<path>`` with at least LONG_PATH_DATA characters of data has an empty
    ``d`` and the data in ``SET_ASIDE``; restored after. A ``SET_ASIDE`` attribute already in the document is
    removed for good (it would otherwise stand for path data)."""
    moved = []
    for element in root.iter():
        element.attrib.pop(SET_ASIDE, None)
        data = element.get("d")
        if data and len(data) >= LONG_PATH_DATA and element.tag.rsplit("}", 1)[-1] == "path":
            element.set(SET_ASIDE, data)
            element.set("d", "")
            moved.append(element)
    try:
        yield
    finally:
        for element in moved:
            element.set("d", element.attrib.pop(SET_ASIDE))
