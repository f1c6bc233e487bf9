"""Stroke outlines as unions of consistently oriented polygons (filled later with nonzero).

Each flattened edge becomes a quad of the stroke's width; each vertex gets a join polygon (bevel on
smooth vertices inside a Bézier segment; the path's miter/round/bevel at segment junctions) and the
ends of open subpaths get caps. All polygons share one orientation, so their union is the stroke.
The orientation of every piece is known from how it is built (a quad runs along its edge, a join
turns with the path, a fan with its sweep), so no areas are summed to find it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..ragged import expand
from .geometry import FLATTEN_TOLERANCE, Polylines

_EPS = 1e-12
_MIN_LENGTH = 1e-6  # px: shorter edges have no usable direction
MITER, ROUND, BEVEL = 0, 1, 2  # indices into clipvg.scene.JOINS
ROUND_CAP, SQUARE = 1, 2  # indices into clipvg.scene.CAPS (0, butt, adds nothing)
_REVERSED = [0, 3, 2, 1]  # a four-gon's vertices in the other direction


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.sqrt((v * v).sum(-1, keepdim=True) + _EPS)


def _normal(d: torch.Tensor) -> torch.Tensor:
    return torch.stack([-d[..., 1], d[..., 0]], -1)


def _four_gon_edges(vertices: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Closed four-gons (K, 4, 2), reversed where ``flip`` (K,), to their edges (4K, 2, 2)."""
    vertices = torch.where(flip[:, None, None], vertices[:, _REVERSED], vertices)
    return torch.stack([vertices, vertices.roll(-1, 1)], 2).reshape(-1, 2, 2)


class _Fans(NamedTuple):
    """Circular sectors (K,): around ``center`` (K, 2), an arc of ``radius`` (K,) px from direction
    ``start`` to direction ``end`` (K, 2, unit), turning by ``sweep`` (K,) radians, closed through
    ``apex`` (K, 2: the centre, or a point on the far side of it), or where ``chord`` (K,) straight from
    the arc's end to its start (a half-disc); ``sp`` (K,) their subpath; ``taken`` (K,) oriented against
    the stroke's other pieces (their area is taken away)."""

    center: torch.Tensor
    start: torch.Tensor
    end: torch.Tensor
    sweep: torch.Tensor
    radius: torch.Tensor
    apex: torch.Tensor
    chord: torch.Tensor
    sp: torch.Tensor
    taken: torch.Tensor

    @staticmethod
    def cat(*fans: "_Fans | None") -> "_Fans":
        """The sectors of all ``fans`` (None: none), in order."""
        given = [f for f in fans if f is not None]
        return given[0] if len(given) == 1 else _Fans(*(torch.cat(parts) for parts in zip(*given)))

    def edges(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Oriented edges (M, 2, 2) of the flattened sectors and their subpath ids (M,): the apex (unless
        closed by the chord), the arc's pieces + 1 points (the first and last exactly at ``start`` and
        ``end``, where the quads' corners are), back to the first. A sector turning by a positive sweep
        (the shoelace area of every four-gon built by ``stroke_edges`` before it is flipped is negative;
        this one's is positive) is reversed, unless it is ``taken``."""
        with torch.no_grad():
            step = torch.sqrt(8 * FLATTEN_TOLERANCE / self.radius.detach().clamp(min=FLATTEN_TOLERANCE))
            pieces = torch.ceil(self.sweep.detach().abs() / step).clamp(1, 128).long()
            has_apex = (~self.chord).long()
            count = pieces + 1 + has_apex  # vertices: the apex, then the arc's pieces + 1 points
            owner, k = expand(count)
            arc_index = k - has_apex[owner]
            n = pieces[owner]
            index = torch.arange(len(owner), device=owner.device)
            following = torch.where(k == count[owner] - 1, index - k, index + 1)  # the next vertex, wrapping
            flip = ((self.sweep.detach() > 0) ^ self.taken)[owner]
        angle = self.sweep[owner] * (arc_index.clamp(min=0).to(self.center.dtype) / n.to(self.center.dtype))
        cos, sin = torch.cos(angle), torch.sin(angle)
        u = self.start[owner]
        rotated = torch.stack([u[:, 0] * cos - u[:, 1] * sin, u[:, 0] * sin + u[:, 1] * cos], 1)
        rotated = torch.where((arc_index == n)[:, None], self.end[owner], rotated)
        vertex = torch.where((arc_index >= 0)[:, None], self.center[owner] + self.radius[owner, None] * rotated,
                             self.apex[owner])
        begin, end = vertex, vertex.index_select(0, following)
        edges = torch.stack([torch.where(flip[:, None], end, begin), torch.where(flip[:, None], begin, end)], 1)
        return edges, self.sp[owner]


def _drop_degenerate(lines: Polylines) -> Polylines:
    """Remove zero-length edges (they have no direction), keeping one edge of every subpath."""
    with torch.no_grad():
        long_enough = (lines.edges[:, 1] - lines.edges[:, 0]).norm(dim=1) > _MIN_LENGTH
        if bool(long_enough.all()):
            return lines
        first = torch.ones_like(long_enough)
        first[1:] = lines.subpath[1:] != lines.subpath[:-1]
        has_long = torch.zeros(int(lines.subpath.max()) + 1 if len(lines.subpath) else 0, dtype=torch.bool,
                               device=long_enough.device).index_put((lines.subpath,), long_enough, accumulate=True)
        keep = long_enough | (first & ~has_long[lines.subpath])
    return lines.subset(keep)


def stroke_edges(lines: Polylines, half_width: torch.Tensor, join: torch.Tensor, cap: torch.Tensor,
                 miter_limit: torch.Tensor, closed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Outline edges (M, 2, 2) of the stroke of ``lines`` and their subpath ids (M,).

    Per subpath (Q,): ``half_width`` px (> 0), ``join`` and ``cap`` indices, ``miter_limit``, ``closed``.
    Pieces only touch along shared edges where they can (quads, join wedges, cap half-discs), so the
    nonzero union is exact except where a stroke overlaps itself.
    """
    lines = _drop_degenerate(lines)
    a, b = lines.edges[:, 0], lines.edges[:, 1]
    sp = lines.subpath
    delta = b - a
    with torch.no_grad():
        length = delta.detach().norm(dim=1)
    # a subpath of zero length still gets its caps (a dot or a square), facing +x as SVG says
    d = torch.where((length > _MIN_LENGTH)[:, None], _unit(delta),
                    torch.tensor([1.0, 0.0], dtype=a.dtype, device=a.device))
    n = _normal(d)
    hw = half_width[sp][:, None]
    ends = _Ends.of(sp, closed, len(half_width))
    joints = _Joints.of(lines, length, d, hw, ends)
    quads = _quads(lines, n * hw, joints)
    wedges, wedge_sp, wedge_flip, join_fans = _join_pieces(joints, join, miter_limit)
    squares, square_sp, cap_fans = _caps(lines, d, ends, half_width, cap)
    fan_edges, fan_sp = _Fans.cat(join_fans, _hook_fans(joints, d), cap_fans).edges()
    four_gons = torch.cat([quads, wedges, squares])
    # quads and square caps run clockwise in the shoelace sense (negative area) as built; a wedge
    # does where the path turns the other way (cross <= 0)
    flip = torch.cat([torch.zeros(len(quads), dtype=torch.bool, device=a.device), wedge_flip,
                      torch.zeros(len(squares), dtype=torch.bool, device=a.device)])
    four_sp = torch.cat([sp, wedge_sp, square_sp]).repeat_interleave(4)
    return _drop_cancelling(torch.cat([_four_gon_edges(four_gons, flip), fan_edges]), torch.cat([four_sp, fan_sp]))


def _drop_cancelling(edges: torch.Tensor, owner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``edges`` (M, 2, 2) and their ``owner`` (M,) less the pairs of one owner that run along the same
    segment in opposite directions (where two pieces meet: a quad and the next inside a Bézier, a quad
    and its join or square cap). Such a pair adds and takes away the same area, so the fill and its
    gradient stay the same, but each of the two would be cut at every grid line it crosses. What is
    left still forms closed loops (every point is left as often as it is reached)."""
    with torch.no_grad():
        flat = edges.detach().reshape(-1, 4)
        backward = (flat[:, 0] > flat[:, 2]) | ((flat[:, 0] == flat[:, 2]) & (flat[:, 1] > flat[:, 3]))
        segment = torch.cat([torch.where(backward[:, None], flat[:, [2, 3, 0, 1]], flat),
                             owner[:, None].to(flat.dtype)], 1)
        # sort by a hash of the segment's bits, then its direction; equal neighbours form the groups (a hash
        # collision can only split a group: a pair left in, never one taken out wrongly)
        bits = segment.double().view(torch.int64)
        digest = bits[:, 0]
        for column in range(1, 5):
            digest = digest * 1000003 + bits[:, column]  # wraps around: only a hash
        order = torch.argsort(digest * 2 + backward.long())
        ordered = segment.index_select(0, order)
        new_group = torch.ones(len(order), dtype=torch.bool, device=flat.device)
        new_group[1:] = (ordered[1:] != ordered[:-1]).any(1)
        group = torch.cumsum(new_group.long(), 0) - 1
        is_backward = backward.index_select(0, order).long()
        size = torch.zeros(len(order) and int(group[-1]) + 1, dtype=torch.long, device=flat.device)
        backwards = size.index_add(0, group, is_backward)
        forwards = size.index_add(0, group, 1 - is_backward)
        first = torch.nonzero(new_group).flatten().index_select(0, group)
        rank = torch.arange(len(order), device=flat.device) - first - is_backward * forwards.index_select(0, group)
        cancelled = rank < torch.minimum(forwards, backwards).index_select(0, group)
        keep = order[~cancelled].sort().values
    if len(keep) == len(edges):
        return edges, owner
    return edges.index_select(0, keep), owner.index_select(0, keep)


@dataclass
class _Ends:
    """Where a subpath's edges (M,) start and end: ``is_first``/``is_last`` (M,) bool, ``closed_edge``
    (M,) on a closed subpath, and the
    joins (J,) between edge ``join_from`` and the edge ``join_to`` that follows it (wrapping round
    on closed subpaths)."""

    is_first: torch.Tensor
    is_last: torch.Tensor
    closed_edge: torch.Tensor
    join_from: torch.Tensor
    join_to: torch.Tensor

    @classmethod
    @torch.no_grad()
    def of(cls, sp: torch.Tensor, closed: torch.Tensor, num_subpaths: int) -> "_Ends":
        """From the edges' subpath ids ``sp`` (M,) and ``closed`` (Q,) per subpath."""
        index = torch.arange(len(sp), device=sp.device)
        is_last = torch.ones(len(sp), dtype=torch.bool, device=sp.device)
        is_last[:-1] = sp[1:] != sp[:-1]
        is_first = is_last.roll(1)
        first_of = torch.zeros(num_subpaths, dtype=torch.long, device=sp.device)
        first_of[sp[is_first]] = index[is_first]
        successor = torch.where(is_last, first_of[sp], index + 1)
        closed_edge = closed[sp]
        has_join = torch.nonzero(~is_last | closed_edge).flatten()
        return cls(is_first, is_last, closed_edge, has_join, successor[has_join])


@dataclass
class _Joints:
    """The vertices (J,) where edge ``i`` (J,) meets edge ``j`` (J,): ``vertex`` (J, 2) px, ``hw`` (J, 1) half
    width, ``sp`` (J,) subpath, the join's unit directions ``ti``/``tj`` (J, 2) before and after it and
    their normals ``ni``/``nj`` (J, 2): the two edges', or at a ``hooked`` (J,) joint the curve's own,
    ``cross`` and ``dot`` (J,) of the directions, ``side`` (J, 1) +-1 towards the outer side, ``cos_half``
    (J,) of half the turn, ``corner`` (J,) at a segment junction (else inside a Bézier), ``offset`` (J, 2)
    along the bisector, of length half width / cos_half, ``inner`` (J, 2) the inner sides' meeting
    point; ``miter_cos_half`` (J,) and ``miter_offset`` (J, 2) the same as ``cos_half`` and ``offset``
    for the turn between the curve's own directions where they are known (``Polylines.segment_tangents``):
    the miter limit is checked against it, and a miter's tip lies there. Where the quads meet:
    ``shared`` (J,) on the bisector on both sides, ``trimmed`` (J,) at ``inner`` on the inner side only.
    ``folded`` (J,): inside a Bézier, where the curve bends tighter than the half width (the edges'
    mean length over the turn, its radius, is under it), so that its inner offset runs back
    (``_join_pieces``); an end edge counts at least as long as its neighbour, so the short edge where a
    dash ends inside a gentle curve does not fold it.

    A corner is ``hooked`` where the curve turns by more than the flattening shows between its last
    (first) edge and its end (start): a Bézier whose control point nearly meets its end point turns
    back in a hook shorter than an edge. Its joint then joins the curve's own directions, and the turns
    from and to the edges' directions are drawn as turns inside a Bézier (``_hook_fans``)."""

    i: torch.Tensor
    j: torch.Tensor
    vertex: torch.Tensor
    hw: torch.Tensor
    sp: torch.Tensor
    ti: torch.Tensor
    tj: torch.Tensor
    ni: torch.Tensor
    nj: torch.Tensor
    cross: torch.Tensor
    dot: torch.Tensor
    side: torch.Tensor
    cos_half: torch.Tensor
    corner: torch.Tensor
    hooked: torch.Tensor
    folded: torch.Tensor
    offset: torch.Tensor
    inner: torch.Tensor
    shared: torch.Tensor
    trimmed: torch.Tensor
    miter_cos_half: torch.Tensor
    miter_offset: torch.Tensor

    @classmethod
    def of(cls, lines: Polylines, length: torch.Tensor, d: torch.Tensor, hw: torch.Tensor, ends: _Ends
           ) -> "_Joints":
        """From the polylines, their edges' ``length`` (M,) px, unit directions ``d`` (M, 2) and half
        widths ``hw`` (M, 1), for the joins of ``ends``."""
        i, j = ends.join_from, ends.join_to
        vertex, join_hw = lines.edges[i, 1], hw[i]
        ti, tj = d[i], d[j]
        with torch.no_grad():
            corner = lines.corner[i]
            hooked = torch.zeros_like(corner)
        known = None
        if lines.segment_tangents is not None:  # the curve's directions where both are known
            ci, cj = _unit(lines.segment_tangents[i, 1]), _unit(lines.segment_tangents[j, 0])
            with torch.no_grad():
                known = (ci.norm(dim=1) > 0.5) & (cj.norm(dim=1) > 0.5)
                hooked = corner & known & ((_bevel_depth(join_hw[:, 0], ti, ci) > FLATTEN_TOLERANCE)
                                           | (_bevel_depth(join_hw[:, 0], cj, tj) > FLATTEN_TOLERANCE))
            ti, tj = torch.where(hooked[:, None], ci, ti), torch.where(hooked[:, None], cj, tj)
        ni, nj = _normal(ti), _normal(tj)
        cross = ti[:, 0] * tj[:, 1] - ti[:, 1] * tj[:, 0]
        dot = (ti * tj).sum(1)
        cos_half = torch.sqrt(((1 + dot) / 2).clamp(min=_EPS))
        offset = _unit(ni + nj) * (join_hw / cos_half[:, None])  # along the bisector, to the left
        with torch.no_grad():
            side = torch.where(cross.detach() > 0, -1.0, 1.0).to(vertex.dtype)[:, None]  # towards the outer side
            # Consecutive quads meet on the angle bisector where the inner side does not fold over
            # (hw * tan(turn / 2) within half of both edges): inside a Bézier segment on both sides (no
            # overlap, no gap), at corners on the inner side only (the join fills the outer side).
            c = cos_half.detach()
            tan_half = torch.sqrt((1 - c ** 2).clamp(min=0)) / c
            fits = join_hw[:, 0].detach() * tan_half <= 0.5 * torch.minimum(length[i], length[j])
            longer = torch.maximum(length[i], length[j])
            mean = (torch.where(ends.is_first[i], longer, length[i])
                    + torch.where(ends.is_last[j], longer, length[j])) / 2
            folded = ~fits & ~corner & (join_hw[:, 0].detach() * 2 * torch.acos(c.clamp(max=1)) > mean)
        miter_cos_half, miter_offset = cos_half, offset
        if known is not None:
            exact_cos_half = torch.sqrt(((1 + (ci * cj).sum(1)) / 2).clamp(min=_EPS))
            exact_offset = _unit(_normal(ci) + _normal(cj)) * (join_hw / exact_cos_half[:, None])
            miter_cos_half = torch.where(known, exact_cos_half, cos_half)
            miter_offset = torch.where(known[:, None], exact_offset, offset)
        return cls(i, j, vertex, join_hw, lines.subpath[i], ti, tj, ni, nj, cross, dot, side, cos_half, corner,
                   hooked, folded, offset, vertex - side * offset, fits & ~corner, fits & corner & ~hooked,
                   miter_cos_half.detach(), miter_offset)


def _bevel_depth(hw: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(K,) px how far a bevel between unit directions ``a`` and ``b`` (K, 2) falls short of the arc of
    radius ``hw`` (K,) px around the turn: hw (1 - cos(turn / 2))."""
    return hw * (1 - torch.sqrt(((1 + (a * b).sum(1)) / 2).clamp(min=0)))


def _quads(lines: Polylines, normal: torch.Tensor, joints: _Joints) -> torch.Tensor:
    """One quad (M, 4, 2) per edge (M,): left start, left end, right end, right start, ``normal``
    (M, 2) px (half width long) to each side, with its ends moved to where it meets its neighbours
    (see ``_Joints``)."""
    a, b = lines.edges[:, 0], lines.edges[:, 1]
    quads = torch.stack([a + normal, b + normal, b - normal, a - normal], 1)
    vertex, offset, inner = joints.vertex, joints.offset, joints.inner
    with torch.no_grad():  # which sides (J, 2, 1), left and right, move at each joint
        inner_left = joints.side[:, 0] < 0
        moved = (joints.shared[:, None] | (joints.trimmed[:, None] & torch.stack([inner_left, ~inner_left], 1)))
        moved = moved[:, :, None]
        i, j = joints.i[:, None], joints.j[:, None]
        ends, starts = torch.tensor([1, 2], device=a.device), torch.tensor([0, 3], device=a.device)
    meet = torch.where(joints.shared[:, None, None], torch.stack([vertex + offset, vertex - offset], 1),
                       inner[:, None])
    quads = quads.index_put((i, ends), torch.where(moved, meet, quads[i, ends]))
    return quads.index_put((j, starts), torch.where(moved, meet, quads[j, starts]))


def _join_pieces(joints: _Joints, join: torch.Tensor, miter_limit: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, _Fans]:
    """The join polygons at ``joints`` that need one (not where the quads share both sides): a
    wedge from the apex (the inner meeting point where trimmed, else the vertex) over the outer
    corners (to the miter tip, or cut flat for bevels, for miters over ``miter_limit`` (Q,) and
    inside Bézier segments), or a circular fan for round joins (``join`` (Q,) per subpath; inside
    Bézier segments where a bevel would fall more than ``FLATTEN_TOLERANCE`` short of the arc).
    Where a Bézier segment folds (``_Joints.folded``), the inner offset curve runs back over the
    mirror image of the wedge or fan through the vertex: as in browsers, which fill the offset outline
    with nonzero, that mirror image is taken away (a tight turn of a thick stroke leaves a hole there).
    At segment junctions the inner outline runs through the vertex (as in browsers): nothing is taken.
    Returns wedges (W, 4, 2), their subpath ids (W,), which of them to reverse (W,), and the fans."""
    vertex, hw, sp, side = joints.vertex, joints.hw, joints.sp, joints.side
    with torch.no_grad():
        curved = _bevel_depth(hw[:, 0].detach(), joints.ti.detach(), joints.tj.detach()) > FLATTEN_TOLERANCE
        kind = torch.where(joints.corner, join[sp], torch.where(curved, ROUND, BEVEL))
        use_miter = (kind == MITER) & (1 / joints.miter_cos_half <= miter_limit[sp])
        needed, folded = ~joints.shared, joints.folded
        rounded = kind == ROUND
        wedge, mirror = torch.nonzero(needed & ~rounded).flatten(), torch.nonzero(folded & ~rounded).flatten()
        fan, folded_fan = torch.nonzero(needed & ~folded & rounded).flatten(), torch.nonzero(folded & rounded).flatten()
        flip = side[:, 0] < 0
    apex = torch.where(joints.trimmed[:, None], joints.inner, vertex)
    outer_i, outer_j = vertex + side * joints.ni * hw, vertex + side * joints.nj * hw
    tip = torch.where(use_miter[:, None], vertex + side * joints.miter_offset, (outer_i + outer_j) / 2)
    pieces = torch.stack([apex, outer_i, tip, outer_j], 1)
    # a mirror image keeps its orientation: reversing it takes its area away
    wedges = torch.cat([pieces[wedge], 2 * vertex[mirror, None] - pieces[mirror]])
    turn = torch.atan2(joints.cross[fan], joints.dot[fan])
    no = torch.zeros_like(fan, dtype=torch.bool)
    fans = _Fans(vertex[fan], (side * joints.ni)[fan], (side * joints.nj)[fan], turn, hw[fan, 0], apex[fan], no,
                 sp[fan], no)
    at = folded_fan
    turns = _turn_fans(vertex[at], joints.ti[at], joints.tj[at], hw[at, 0], sp[at]) if len(at) else None
    return wedges, torch.cat([sp[wedge], sp[mirror]]), torch.cat([flip[wedge], ~flip[mirror]]), _Fans.cat(fans, turns)


def _turn_fans(vertex: torch.Tensor, a: torch.Tensor, b: torch.Tensor, hw: torch.Tensor, sp: torch.Tensor) -> _Fans:
    """A turn inside a Bézier segment at ``vertex`` (K, 2) px from unit direction ``a`` to ``b`` (K, 2) of
    a stroke ``hw`` (K,) px half wide on subpaths ``sp`` (K,), drawn as the curve's offset outline draws
    it: the outer side's sector, and its mirror image on the inner side taken away (2K fans)."""
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    turn = torch.atan2(cross, (a * b).sum(1))
    with torch.no_grad():
        side = torch.where(cross.detach() > 0, -1.0, 1.0).to(vertex.dtype)[:, None]
        taken = torch.arange(2 * len(sp), device=sp.device) >= len(sp)
    start, end = side * _normal(a), side * _normal(b)
    return _Fans(vertex.repeat(2, 1), torch.cat([start, -start]), torch.cat([end, -end]), turn.repeat(2),
                 hw.repeat(2), vertex.repeat(2, 1), torch.zeros_like(taken), sp.repeat(2), taken)


def _hook_fans(joints: _Joints, d: torch.Tensor) -> _Fans | None:
    """At ``hooked`` joints, the turns from the last edge's direction to the curve's end direction and
    from the next curve's start direction to its first edge's (``d`` (M, 2) the edges' unit directions);
    None where no joint is hooked."""
    at = torch.nonzero(joints.hooked).flatten()
    if not len(at):
        return None
    vertex, hw, sp = joints.vertex[at], joints.hw[at, 0], joints.sp[at]
    return _Fans.cat(_turn_fans(vertex, d[joints.i[at]], joints.ti[at], hw, sp),
                     _turn_fans(vertex, joints.tj[at], d[joints.j[at]], hw, sp))


def _caps(lines: Polylines, d: torch.Tensor, ends: _Ends, half_width: torch.Tensor, cap: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor, _Fans]:
    """The caps at the ends of open subpaths (butt caps add nothing): a half-square or a half-disc
    of ``half_width`` (Q,) px beyond the end, along the edges' unit directions ``d`` (M, 2), per
    ``cap`` (Q,). Returns the half-squares (S, 4, 2), their subpath ids (S,), and the half-discs."""
    a, b, sp = lines.edges[:, 0], lines.edges[:, 1], lines.subpath
    with torch.no_grad():
        first = torch.nonzero(ends.is_first & ~ends.closed_edge).flatten()
        last = torch.nonzero(ends.is_last & ~ends.closed_edge).flatten()
        cap_sp = torch.cat([sp[first], sp[last]])
        kind = cap[cap_sp]
        square, rounded = torch.nonzero(kind == SQUARE).flatten(), torch.nonzero(kind == ROUND_CAP).flatten()
    point = torch.cat([a[first], b[last]])
    direction = torch.cat([-d[first], d[last]])  # unit, outwards
    cap_hw = half_width[cap_sp]
    p, forward = point[square], direction[square] * cap_hw[square, None]
    across = _normal(forward)
    squares = torch.stack([p + across, p + across + forward, p - across + forward, p - across], 1)
    half_turn = torch.full((len(rounded),), math.pi, dtype=a.dtype, device=a.device)
    start = -_normal(direction[rounded])
    fans = _Fans(point[rounded], start, -start, half_turn, cap_hw[rounded], point[rounded],
                 torch.ones_like(rounded, dtype=torch.bool), cap_sp[rounded],
                 torch.zeros_like(rounded, dtype=torch.bool))
    return squares, cap_sp[square], fans
