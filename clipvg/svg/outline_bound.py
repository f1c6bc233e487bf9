"""An upper bound on the points of a stroke's outline, computed while reading (numpy only, no torch).

``clipvg.render.outline.stroke_outline`` fills the stroke of a path with polygons it walks out of the edges
``clipvg.render.stroke.stroke_edges`` builds, so a polygon point is one of those edges (pairs of edges that
cancel are taken out, loops under 3 points dropped: the points are at most the edges). The edges are counted
here as the stroker builds them: the path flattened into ``pieces`` per segment (``clipvg.render.geometry``'s
rule), a quad of 4 edges per flattened edge, a piece at each joint between edges (none where the quads meet
on the bisector inside a Bézier; a wedge of 4 edges; a fan of its arc's pieces + 2 edges, round joins and
turns of a curve too sharp for a bevel; twice that where a curve folds; 4 more fans at a corner whose curve
hooks), caps (a round cap's arc pieces + 1, a square's 4), and dashes (each an open piece of its own, placed
along the path as the renderer places them: the joint next to where a dash is cut costs what a cut piece as
short as that allows, a joint within the margin of a dash's end the most a joint of its kind can).

The flattened points are evaluated in float64 where the renderer works in float32: every decision the count
depends on (a segment's pieces, an edge kept or dropped, a joint shared, curved, folded or hooked, an arc's
pieces) is taken the costly way whenever the renderer's rounding could take it the other, and a joint next to
an edge too short to have a reliable direction costs the most a joint of its kind can. A path flattened into
more than ``MAX_EVALUATED_EDGES`` edges is bounded without evaluating its points (every joint at its most).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..limits import MAX_COORDINATE
from ..scene import Stroke, Subpath

# the renderer's constants (clipvg.render.geometry, .stroke, .dash; tests check they agree), kept here because
# importing those modules loads torch
FLATTEN_TOLERANCE = 0.05  # px
MAX_PIECES_PER_SEGMENT = 256
MAX_FAN_PIECES = 128
MIN_LENGTH = 1e-6  # px: shorter flattened edges are dropped
SAME_POINT = 1 / 4096  # px: a Bézier end's direction is towards the nearest control point further than this
MAX_DASH_PIECES = 1 << 21

MAX_EVALUATED_EDGES = 1 << 20  # flattened edges (or dashes) of one path evaluated at most
_ROUNDING = 2e-6  # relative to a segment's largest coordinate: the error of a flattened point in float32
_UNIT_EPS = 1e-6  # px: the stroker's unit vectors divide by sqrt(|v|^2 + 1e-12), which bends a short one's turns
_ANGLE_NOISE = 2e-3  # radians: what float32's cos / acos of a turn near 0 can be off by
_MARGIN = 1e-5  # relative margin on every threshold compared
_PIECES_MARGIN = 1e-6  # relative: the renderer's float32 pieces before rounding up (measured: within 1.7e-7)


def outline_point_bound(subpaths: list[Subpath], stroke: Stroke) -> int:
    """At most how many points the outline of ``subpaths`` stroked with ``stroke`` has (``stroke_outline``,
    flattened at scale 1: the subpaths' own px). 0 for a stroke that draws nothing (no width, a coordinate past
    ``MAX_COORDINATE`` or not a number)."""
    stroke = replace(stroke)  # the dash pattern as the outliner's Stroke normalises it (odd counts doubled)
    half_width = float(np.float32(stroke.width)) / 2
    if not subpaths or not half_width > 0 or not all((np.abs(s.points) <= MAX_COORDINATE).all() for s in subpaths):
        return 0
    segments = _Segments.of(subpaths)
    costs = _JointCosts(half_width, stroke.join)
    cap = {"round": costs.fan(math.pi) - 1, "square": 4}.get(stroke.cap, 0)  # a cap's arc has no apex
    lines = _Flattened.of(segments) if int(segments.pieces.sum()) <= MAX_EVALUATED_EDGES else None
    solid = _solid_bound(segments, lines, costs, cap)
    if not stroke.dashes:
        return int(solid)
    dashed, drawn = _dashed_bound(segments, lines, costs, cap, stroke.dashes, float(np.float32(stroke.dash_offset)))
    return int({True: dashed, False: solid}.get(drawn, max(dashed, solid)))


@dataclass
class _Segments:
    """Every segment (S,) of the subpaths (Q,) as a cubic: ``controls`` (S, 4, 2) float64 (elevated in float32
    as the renderer elevates them), ``subpath`` (S,), ``closed`` (Q,), ``pieces`` (S,) at least the renderer's
    flattening pieces, ``borderline`` (S,) where it may flatten into one fewer, ``rounding`` (S,) px the
    error of a flattened point, ``tangents`` (S, 2, 2) the curve's directions at t = 0 and t = 1 (zero where no
    control point is further than ``SAME_POINT``; the in-line rule that zeroes more is left out: a direction
    known here and not to the renderer only adds to the bound), ``unsure_tangent`` (S,) where a control point
    lies within the margin of ``SAME_POINT``."""

    controls: np.ndarray
    subpath: np.ndarray
    closed: np.ndarray
    pieces: np.ndarray
    borderline: np.ndarray
    rounding: np.ndarray
    tangents: np.ndarray
    unsure_tangent: np.ndarray

    @classmethod
    def of(cls, subpaths: list[Subpath]) -> "_Segments":
        counts = np.array([len(s.degrees) for s in subpaths])
        degrees = np.concatenate([s.degrees for s in subpaths])
        subpath = np.repeat(np.arange(len(subpaths)), counts)
        points = np.concatenate([s.points for s in subpaths]).astype(np.float32)
        point_offsets = np.concatenate([[0], np.cumsum([len(s.points) for s in subpaths])])
        before = np.cumsum(degrees) - degrees
        first_segment = np.concatenate([[0], np.cumsum(counts)[:-1]])
        start = point_offsets[:-1][subpath] + before - before[first_segment][subpath]

        def at(k: np.ndarray) -> np.ndarray:
            index = start + k
            return points[np.where(index >= point_offsets[1:][subpath], point_offsets[:-1][subpath], index)]

        p0, p1, p2, p3 = at(0), at(1), at(2), at(degrees)
        d = degrees[:, None, None]
        line = np.stack([p0, p0 + (p1 - p0) / 3, p0 + 2 * (p1 - p0) / 3, p1], 1)
        quad = np.stack([p0, p0 + 2 * (p1 - p0) / 3, p2 + 2 * (p1 - p2) / 3, p2], 1)
        c32 = np.where(d == 1, line, np.where(d == 2, quad, np.stack([p0, p1, p2, p3], 1)))
        second = np.maximum(np.linalg.norm((c32[:, 0] - 2 * c32[:, 1] + c32[:, 2]).astype(np.float64), axis=1),
                            np.linalg.norm((c32[:, 1] - 2 * c32[:, 2] + c32[:, 3]).astype(np.float64), axis=1))
        exact = np.sqrt(0.75 * second / FLATTEN_TOLERANCE)
        low, high = (np.clip(np.ceil(exact * f), 1, MAX_PIECES_PER_SEGMENT)
                     for f in (1 - _PIECES_MARGIN, 1 + _PIECES_MARGIN))
        controls = c32.astype(np.float64)
        rounding = _ROUNDING * np.abs(controls).reshape(len(controls), -1).max(1) + 1e-30
        tangents, unsure = _end_tangents(controls)
        closed = np.array([s.closed for s in subpaths])
        return cls(controls, subpath, closed, high.astype(np.int64), low != high, rounding, tangents, unsure)


def _end_tangents(controls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, 2, 2) directions of cubics ``controls`` (S, 4, 2) at t = 0 and t = 1, towards the nearest control
    point more than ``SAME_POINT`` px from the end (as ``clipvg.render.geometry``), and (S,) whether a control
    point's distance is too near ``SAME_POINT`` to tell."""
    found, unsure = [], np.zeros(len(controls), bool)
    for points in (controls, controls[:, ::-1]):
        direction = np.zeros_like(points[:, 0])
        for k in (3, 2, 1):
            step = points[:, k] - points[:, 0]
            spread = np.abs(step).max(1)
            direction = np.where((spread > SAME_POINT)[:, None], step, direction)
            unsure |= np.abs(spread - SAME_POINT) <= _MARGIN * SAME_POINT
        found.append(direction)
    return np.stack([found[0], -found[1]], 1), unsure


@dataclass
class _Flattened:
    """The flattened edges (E,) the stroker keeps, in subpath order: ``direction`` (E, 2) unit, ``length`` (E,)
    px (``low`` (E,): at least what the renderer measures), ``turn_noise`` (E,) radians its direction may be off,
    ``short`` (E,) whether the renderer may drop it or see no reliable direction, ``corner`` (E,) ends a segment,
    ``segment`` (E,), ``subpath`` (E,); ``all_edges`` (Q,) each subpath's edges before any is dropped, ``length_sum``
    and ``low_sum`` (Q,) px each subpath's length, at least and at most the renderer's."""

    direction: np.ndarray
    length: np.ndarray
    low: np.ndarray
    turn_noise: np.ndarray
    short: np.ndarray
    corner: np.ndarray
    segment: np.ndarray
    subpath: np.ndarray
    all_edges: np.ndarray
    length_sum: np.ndarray
    low_sum: np.ndarray

    @classmethod
    def of(cls, segments: _Segments, fewer: bool = False) -> "_Flattened":
        """The edges of ``segments`` flattened into their ``pieces``, or (``fewer``) one fewer where borderline."""
        pieces = segments.pieces - (segments.borderline if fewer else 0)
        segment = np.repeat(np.arange(len(pieces)), pieces)
        local = np.arange(len(segment)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        n = pieces[segment].astype(np.float64)
        controls = segments.controls[segment]
        start, end = _evaluate(controls, local / n), _evaluate(controls, (local + 1) / n)
        delta = end - start
        length = np.hypot(delta[:, 0], delta[:, 1])
        error = 2 * segments.rounding[segment]
        subpath = segments.subpath[segment]
        length_sum = np.bincount(subpath, length + error, len(segments.closed))
        low_sum = np.bincount(subpath, np.maximum(length - error, 0.0), len(segments.closed))
        all_edges = np.bincount(subpath, minlength=len(segments.closed))
        keep = length + error >= MIN_LENGTH * (1 - _MARGIN)
        first = np.ones(len(segment), bool)
        first[1:] = subpath[1:] != subpath[:-1]
        kept_any = np.bincount(subpath, keep, len(segments.closed)) > 0
        keep |= first & ~kept_any[subpath]
        low = np.maximum(length - error, 0.0)
        short = low <= MIN_LENGTH * (1 + _MARGIN)
        noise = _direction_noise(length, error)
        corner = local == pieces[segment] - 1
        direction = delta / np.maximum(length, 1e-300)[:, None]
        return cls(direction[keep], length[keep], low[keep], noise[keep], short[keep], corner[keep], segment[keep],
                   subpath[keep], all_edges, length_sum, low_sum)


def _evaluate(controls: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points (M, 2) on cubics ``controls`` (M, 4, 2) at ``t`` (M,)."""
    s = 1 - t
    weights = np.stack([s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t], 1)
    return np.einsum("mk,mkd->md", weights, controls)


class _JointCosts:
    """Edges the stroker builds at a joint of a stroke ``half_width`` px wide with ``join``."""

    def __init__(self, half_width: float, join: str) -> None:
        self.half_width, self.round = half_width, join == "round"
        self.step = math.sqrt(8 * FLATTEN_TOLERANCE / max(half_width, FLATTEN_TOLERANCE))
        # the most a joint can cost: inside a Bézier a folded turn (two fans, or two wedges); at a corner the
        # join and, where the curve hooks, four fans
        self.worst_inner = 2 * max(self.fan(math.pi), 4)
        self.worst_corner = (self.fan(math.pi) if self.round else 4) + 4 * self.fan(math.pi)
        self.worst = max(self.worst_inner, self.worst_corner)

    def fan(self, sweep: float | np.ndarray) -> np.ndarray:
        """Edges of a fan turning by ``sweep`` radians (at least): its apex and arc pieces + 1 points."""
        pieces = np.ceil(np.asarray(sweep, np.float64) / self.step * (1 + _MARGIN))
        return np.clip(np.nan_to_num(pieces, nan=MAX_FAN_PIECES), 1, MAX_FAN_PIECES).astype(np.int64) + 2

    def bends(self, turn: np.ndarray) -> np.ndarray:
        """Whether a bevel across ``turn`` radians may fall more than the tolerance short of the arc."""
        return self.half_width * (1 - np.cos(np.minimum(turn, math.pi) / 2)) > FLATTEN_TOLERANCE * (1 - _MARGIN)


def _solid_bound(segments: _Segments, lines: _Flattened | None, costs: _JointCosts, cap: int) -> int:
    """The bound for the stroke drawn solid: quads, joints and the caps of open subpaths."""
    caps = 2 * cap * int((~segments.closed).sum())
    if lines is None:
        edges = int(segments.pieces.sum())
        return 4 * edges + edges * costs.worst + caps
    joints = _Joints.of(segments, lines)
    cost, worst = _joint_costs(segments, lines, joints, costs, joints.mean)
    if not segments.borderline.any():
        return 4 * len(lines.length) + int(cost.sum()) + caps
    # a segment the renderer may flatten into one piece fewer: its edges and its own joints count the more of the
    # two flattenings, the joints at its ends (whose edges differ) the most a joint of their kind can
    fewer = _Flattened.of(segments, fewer=True)
    fewer_joints = _Joints.of(segments, fewer)
    fewer_cost = _joint_costs(segments, fewer, fewer_joints, costs, fewer_joints.mean)[0]
    inner, fewer_inner = _inner_of_borderline(segments, lines, joints), _inner_of_borderline(segments, fewer,
                                                                                            fewer_joints)
    count = len(segments.pieces)
    edges = np.maximum(np.bincount(lines.segment, minlength=count), np.bincount(fewer.segment, minlength=count))
    own = np.maximum(np.bincount(lines.segment[joints.i][inner], cost[inner], count),
                     np.bincount(fewer.segment[fewer_joints.i][fewer_inner], fewer_cost[fewer_inner], count))
    rest = np.where(_near_borderline(segments, lines, joints), worst, cost)[~inner]
    return 4 * int(edges.sum()) + int(own.sum() + rest.sum()) + caps


def _inner_of_borderline(segments: _Segments, lines: _Flattened, joints: _Joints) -> np.ndarray:
    """(J,) the joints inside one borderline segment (between two of its edges, at no corner)."""
    seg_i = lines.segment[joints.i]
    return ~joints.corner & (seg_i == lines.segment[joints.j]) & segments.borderline[seg_i]


def _near_borderline(segments: _Segments, lines: _Flattened, joints: _Joints) -> np.ndarray:
    """(J,) the joints with an edge of a borderline segment."""
    return segments.borderline[lines.segment[joints.i]] | segments.borderline[lines.segment[joints.j]]


def _dashed_bound(segments: _Segments, lines: _Flattened | None, costs: _JointCosts, cap: int,
                  dashes: tuple[float, ...], dash_offset: float) -> tuple[int, bool | None]:
    """The bound for the stroke cut into dashes of ``dashes`` (even count) shifted by ``dash_offset`` px, and
    whether the renderer dashes it: True surely, False surely not (past ``MAX_DASH_PIECES`` pieces of edges it
    draws it solid), None either. Dashes D, each open with two caps, hold at most D plus the flattened edges in
    pieces; a dash's joints are the path's joints inside it, between whole edges at their cost as the stroke's,
    and at its two ends next to a cut piece, whose direction is less sure the shorter it is (``_Placed``; where
    the dashes are too many to place, at the most a joint of its kind costs)."""
    period = float(np.sum(np.asarray(dashes, np.float32), dtype=np.float32))
    all_edges = np.bincount(segments.subpath, segments.pieces, len(segments.closed)) if lines is None \
        else lines.all_edges
    dash_count, drawn = MAX_DASH_PIECES, None
    if lines is not None and period > 0:
        slack = 1e-6 * all_edges + _MARGIN  # the renderer's float32 running sum of lengths
        with np.errstate(all="ignore"):
            cycles = np.floor(lines.length_sum * (1 + slack) / period) + 1  # periods a subpath's dashes touch
            fewest = np.maximum(np.floor(lines.low_sum * (1 - slack) / period) - 1, 0)
        intervals = len(dashes) * cycles + 2 + 2 * all_edges  # the renderer's pieces before the on ones are kept
        if np.isfinite(intervals).all():
            drawn = True if intervals.sum() <= MAX_DASH_PIECES else None
            dash_count = int(min((len(dashes) // 2 * cycles + 3).sum(), MAX_DASH_PIECES))
        if (len(dashes) * fewest).sum() > MAX_DASH_PIECES and not segments.borderline.any():
            drawn = False  # (a segment flattened into fewer pieces would make the path shorter)
    pieces = min(dash_count + int(all_edges.sum()), MAX_DASH_PIECES)
    if lines is None:
        joints_cost = (int(all_edges.sum()) + 2 * dash_count) * costs.worst
    else:
        joints = _Joints.of(segments, lines)
        whole, worst = _joint_costs(segments, lines, joints, costs, (lines.low[joints.i] + lines.low[joints.j]) / 2)
        near = _near_borderline(segments, lines, joints)  # the flattening there is in doubt
        whole = np.where(near, worst, whole)
        if dash_count > MAX_EVALUATED_EDGES or near.any():  # too many to place, or places in doubt: a joint ends
            # at most one dash, so the 2 D joints that can cost the most more than whole do
            joints_cost = int(whole.sum() + np.sort(worst - whole)[::-1][:2 * dash_count].sum())
        else:
            placed = _Placed.of(segments, lines, joints, dashes, dash_offset, period)
            low_i = np.minimum(lines.low[joints.i], placed.cut_i)
            low_j = np.minimum(lines.low[joints.j], placed.cut_j)
            ending, _ = _joint_costs(segments, lines, joints, costs, np.maximum(low_i, low_j) / 2, placed.cut_i,
                                     placed.cut_j)
            ending = np.where(near, worst, ending)
            ends = np.isfinite(placed.cut_i) | np.isfinite(placed.cut_j)
            joints_cost = int(np.where(placed.covered, np.where(ends, np.maximum(whole, ending), whole), 0).sum())
            pieces, dash_count = min(pieces, placed.pieces), min(dash_count, placed.dashes)
    return 4 * pieces + joints_cost + 2 * dash_count * cap, drawn


@dataclass
class _Placed:
    """The dashes placed along each subpath as the renderer places them (``clipvg.render.dash``), with a margin
    for its float32 running sums: ``dashes`` that may draw, at most ``pieces`` of edges in them, ``covered`` (J,)
    the joints that may lie inside one; ``cut_i``, ``cut_j`` (J,) px at least the length of the cut piece before
    and after each joint that may be a dash's first or last (inf for the others). Where a dash may begin (end)
    within the margin of a joint, that joint is taken with a piece of no length, and the next (previous) one with
    the piece up to it."""

    dashes: int
    pieces: int
    covered: np.ndarray
    cut_i: np.ndarray
    cut_j: np.ndarray

    @classmethod
    def of(cls, segments: _Segments, lines: _Flattened, joints: _Joints, dashes: tuple[float, ...],
           dash_offset: float, period: float) -> "_Placed":
        """For ``joints`` of ``lines`` and the pattern ``dashes`` (period ``period`` px) shifted by ``dash_offset``."""
        bounds = np.concatenate([[0.0], np.cumsum(np.asarray(dashes, np.float64))])
        sub, quantity, length = lines.subpath, len(segments.closed), lines.length_sum
        rounding = np.zeros(quantity)
        np.maximum.at(rounding, segments.subpath, segments.rounding)
        offset = dash_offset - math.floor(dash_offset / period) * period
        # how far a joint's place (a running sum of float32 lengths, each off by its ends' rounding, with edges
        # too short to keep) and a dash's end (float32 phases) may be from the renderer's
        margin = lines.all_edges * (2 * rounding + 2e-6 + 1.2e-7 * length) \
            + 2.4e-7 * (length + 2 * period + abs(dash_offset))
        # each subpath's dashes: cycles k and on-intervals h, at [k P + c_2h, k P + c_2h+1] - offset along it
        on = len(dashes) // 2
        count = (np.floor((length + margin + offset) / period).astype(np.int64) + 1) * on
        owner = np.repeat(np.arange(quantity), count)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
        k, h = within // on, within % on
        begin, end = k * period + bounds[2 * h] - offset, k * period + bounds[2 * h + 1] - offset
        drawn = (end > -margin[owner]) & (begin < length[owner] + margin[owner])
        owner, begin, end = owner[drawn], begin[drawn], end[drawn]
        # the joints' places on one line for all subpaths (each subpath from ``base``, well apart)
        base = np.concatenate([[0.0], np.cumsum(length + 2 * margin + period + 1)[:-1]])
        start_of = np.zeros(quantity, np.int64)
        first = np.ones(len(sub), bool)
        first[1:] = sub[1:] != sub[:-1]
        start_of[sub[first]] = np.flatnonzero(first)
        along = np.cumsum(lines.length) - (np.cumsum(lines.length) - lines.length)[start_of[sub]]
        place = base[sub[joints.i]] + along[joints.i]
        far = margin[owner]
        begin, end = base[owner] + np.clip(begin, 0, None) - far, base[owner] + np.minimum(end, length[owner]) + far
        low, high = np.searchsorted(place, begin, "right"), np.searchsorted(place, end, "left")  # joints inside
        inside = np.zeros(len(place) + 1, np.int64)
        np.add.at(inside, low, 1)
        np.add.at(inside, high, -1)
        cut_i, cut_j = np.full(len(place), np.inf), np.full(len(place), np.inf)
        for step in (0, 1):  # the first joint that may be past the dash's beginning, and the next
            at = low + step
            ok = at < high
            np.minimum.at(cut_i, at[ok], np.maximum(place[at[ok]] - begin[ok] - 2 * far[ok], 0.0))
        for step in (0, 1):  # the last joint that may be before the dash's end, and the one before
            at = high - 1 - step
            ok = at >= low
            np.minimum.at(cut_j, at[ok], np.maximum(end[ok] - place[at[ok]] - 2 * far[ok], 0.0))
        return cls(len(owner), int((high - low + 1).sum()), np.cumsum(inside)[:-1] > 0, cut_i, cut_j)


@dataclass
class _Joints:
    """The joints (J,) between a kept edge ``i`` (J,) and the next ``j`` (J,) of its subpath (from the last to the
    first on closed subpaths): ``corner`` (J,) at a segment's end, ``mean`` (J,) px the two edges' mean length
    as the stroker takes it for a fold (a subpath's end edge counts as long as its neighbour)."""

    i: np.ndarray
    j: np.ndarray
    corner: np.ndarray
    mean: np.ndarray

    @classmethod
    def of(cls, segments: _Segments, lines: _Flattened) -> "_Joints":
        sub = lines.subpath
        index = np.arange(len(sub))
        is_last = np.ones(len(sub), bool)
        is_last[:-1] = sub[1:] != sub[:-1]
        is_first = np.roll(is_last, 1)
        first_of = np.zeros(len(segments.closed), np.int64)
        first_of[sub[is_first]] = index[is_first]
        has_join = ~is_last | segments.closed[sub]
        i = index[has_join]
        j = np.where(is_last, first_of[sub], index + 1)[has_join]
        longer = np.maximum(lines.low[i], lines.low[j])
        mean = (np.where(is_first[i], longer, lines.low[i]) + np.where(is_last[j], longer, lines.low[j])) / 2
        return cls(i, j, lines.corner[i], mean)


def _joint_costs(segments: _Segments, lines: _Flattened, joints: _Joints, costs: _JointCosts, mean: np.ndarray,
                 cut_i: np.ndarray | None = None, cut_j: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(J,) edges built at each of ``joints`` whose edges' mean length (for a fold) is ``mean`` (J,) px, and (J,)
    the most a joint of its kind (inside a Bézier, or a corner) can cost. ``cut_i``, ``cut_j`` (J,) px: the
    lengths of the pieces of the edges before and after that a dash keeps (at least; inf: whole), whose
    directions are the edges' less sure the shorter they are."""
    i, j = joints.i, joints.j
    seg_i, seg_j = lines.segment[i], lines.segment[j]
    low_i, low_j, noise_i, noise_j = lines.low[i], lines.low[j], lines.turn_noise[i], lines.turn_noise[j]
    if cut_i is not None:
        low_i, low_j = np.minimum(low_i, cut_i), np.minimum(low_j, cut_j)
        noise_i = np.maximum(noise_i, _direction_noise(cut_i, 2 * segments.rounding[seg_i]))
        noise_j = np.maximum(noise_j, _direction_noise(cut_j, 2 * segments.rounding[seg_j]))
    di, dj = lines.direction[i], lines.direction[j]
    turn = _angle(di, dj)
    noise = noise_i + noise_j + _ANGLE_NOISE
    unsure = lines.short[i] | lines.short[j]
    bent = np.minimum(turn + noise, math.pi)

    # inside a Bézier: nothing where the quads meet on the bisector, else a fan or a wedge, doubled where it folds
    half = costs.half_width
    with np.errstate(all="ignore"):
        fits = (half * np.tan(bent / 2) <= 0.5 * np.minimum(low_i, low_j) * (1 - _MARGIN)) & (bent < math.pi)
    folds = half * bent > mean * (1 - _MARGIN)
    piece = np.where(costs.bends(bent), np.maximum(costs.fan(bent), 4), 4)
    inner = np.where(fits, 0, piece * np.where(folds, 2, 1))

    # at a corner: the join, and where the curve's own directions may differ from the edges' by more than a bevel's
    # tolerance (a hook), the join between those and four fans
    ci, cj = segments.tangents[seg_i, 1], segments.tangents[seg_j, 0]
    known = (np.abs(ci).max(1) > 0) & (np.abs(cj).max(1) > 0)
    error_i = (segments.rounding[seg_i] * 4 + _UNIT_EPS) / np.maximum(np.hypot(*ci.T), 1e-300)
    error_j = (segments.rounding[seg_j] * 4 + _UNIT_EPS) / np.maximum(np.hypot(*cj.T), 1e-300)
    hook_i = np.minimum(_angle(di, ci) + noise + error_i, math.pi)
    hook_j = np.minimum(_angle(cj, dj) + noise + error_j, math.pi)
    hooks = known & (costs.bends(hook_i) | costs.bends(hook_j))
    own_turn = np.minimum(_angle(ci, cj) + noise + error_i + error_j, math.pi)
    joined = np.where(hooks, np.maximum(bent, own_turn), bent)
    join = costs.fan(joined) if costs.round else np.full(len(i), 4)
    hooked = np.where(hooks, 2 * costs.fan(hook_i) + 2 * costs.fan(hook_j), 0)
    unsure_corner = unsure | segments.unsure_tangent[seg_i] | segments.unsure_tangent[seg_j]
    at_corner = np.where(unsure_corner, costs.worst_corner, join + hooked)
    worst = np.where(joints.corner, costs.worst_corner, costs.worst_inner)
    return np.where(joints.corner, at_corner, np.where(unsure, costs.worst_inner, inner)), worst


def _direction_noise(length: np.ndarray, error: np.ndarray) -> np.ndarray:
    """(K,) radians the direction of an edge ``length`` (K,) px long may be off when its ends are ``error`` (K,)
    px off each (pi where it may have none)."""
    with np.errstate(all="ignore"):
        x = (error + _UNIT_EPS) / length
    return np.where(x < 0.5, 2 * x, math.pi)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K,) radians in [0, pi] between directions ``a`` and ``b`` (K, 2) (0 where either is zero)."""
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return np.abs(np.arctan2(cross, (a * b).sum(1)))


__all__ = ["MAX_EVALUATED_EDGES", "outline_point_bound"]
