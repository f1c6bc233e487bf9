"""Stroke outlines as unions of consistently oriented polygons (filled later with nonzero).

Each flattened edge becomes a quad of the stroke's width; each vertex gets a join polygon (bevel on
smooth vertices inside a Bézier segment; the path's miter/round/bevel at segment junctions) and the
ends of open subpaths get caps. All polygons share one orientation, so their union is the stroke.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

from ..ragged import expand
from .geometry import FLATTEN_TOLERANCE, Polylines

_EPS = 1e-12
_MIN_LENGTH = 1e-6  # px: shorter edges have no usable direction
MITER, ROUND, BEVEL = 0, 1, 2  # indices into clipvg.scene.JOINS
ROUND_CAP, SQUARE = 1, 2  # indices into clipvg.scene.CAPS (0, butt, adds nothing)


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.sqrt((v * v).sum(-1, keepdim=True) + _EPS)


def _normal(d: torch.Tensor) -> torch.Tensor:
    return torch.stack([-d[..., 1], d[..., 0]], -1)


def _orient(edges: torch.Tensor, polygon: torch.Tensor, count: int) -> torch.Tensor:
    """Reverse the edges (M, 2, 2) of every polygon (ids (M,), ``count`` polygons) whose signed
    area is positive, so that all polygons wind the same way and their nonzero fill is a union."""
    with torch.no_grad():
        a, b = edges[:, 0].detach(), edges[:, 1].detach()
        cross = a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]
        area = torch.zeros(count, dtype=edges.dtype, device=edges.device).index_add(0, polygon, cross)
        flip = (area[polygon] > 0)[:, None, None]
    return torch.where(flip, edges.flip(1), edges)


def _polygons(vertices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed polygons (K, V, 2) to oriented edges (K * V, 2, 2) and polygon ids (K * V,)."""
    edges = torch.stack([vertices, vertices.roll(-1, 1)], 2).reshape(-1, 2, 2)
    polygon = torch.arange(len(vertices), device=vertices.device).repeat_interleave(vertices.shape[1])
    return _orient(edges, polygon, len(vertices)), polygon


def _fans(center: torch.Tensor, start: torch.Tensor, sweep: torch.Tensor, radius: torch.Tensor,
          apex: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Circular sectors: around ``center`` (K, 2), an arc of ``radius`` (K,) starting at direction
    ``start`` (K, 2, unit) and turning by ``sweep`` (K,) radians, closed through ``apex`` (K, 2;
    default the centre). Returns oriented edges (M, 2, 2) and sector ids (M,)."""
    with torch.no_grad():
        step = torch.sqrt(8 * FLATTEN_TOLERANCE / radius.detach().clamp(min=FLATTEN_TOLERANCE))
        pieces = torch.ceil(sweep.detach().abs() / step).clamp(1, 128).long()
    count = pieces + 2  # centre -> arc start, the arc pieces, arc end -> centre
    owner, k = expand(count)
    n = pieces[owner]

    def arc_point(j: torch.Tensor) -> torch.Tensor:
        angle = sweep[owner] * j.clamp(0, None).minimum(n).to(center.dtype) / n.to(center.dtype)
        u = start[owner]
        cos, sin = torch.cos(angle)[:, None], torch.sin(angle)[:, None]
        rotated = torch.stack([u[:, 0] * cos[:, 0] - u[:, 1] * sin[:, 0], u[:, 0] * sin[:, 0] + u[:, 1] * cos[:, 0]], 1)
        return center[owner] + radius[owner, None] * rotated

    c = (center if apex is None else apex)[owner]
    begin = torch.where((k == 0)[:, None], c, arc_point(k - 1))
    end = torch.where((k == n + 1)[:, None], c, arc_point(k))
    return _orient(torch.stack([begin, end], 1), owner, len(center)), owner


def _drop_degenerate(lines: Polylines) -> Polylines:
    """Remove zero-length edges (they have no direction), keeping one edge of every subpath."""
    with torch.no_grad():
        long_enough = (lines.edges[:, 1] - lines.edges[:, 0]).norm(dim=1) > _MIN_LENGTH
        first = torch.ones_like(long_enough)
        first[1:] = lines.subpath[1:] != lines.subpath[:-1]
        has_long = torch.zeros(int(lines.subpath.max()) + 1 if len(lines.subpath) else 0, dtype=torch.bool,
                               device=long_enough.device).index_put((lines.subpath,), long_enough, accumulate=True)
        keep = long_enough | (first & ~has_long[lines.subpath])
    return Polylines(lines.edges[keep], lines.subpath[keep], lines.corner[keep])


def stroke_edges(lines: Polylines, half_width: torch.Tensor, join: torch.Tensor, cap: torch.Tensor,
                 miter_limit: torch.Tensor, closed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Outline edges (M, 2, 2) of the stroke of ``lines`` and their subpath ids (M,).

    Per subpath (Q,): ``half_width`` px, ``join`` and ``cap`` indices, ``miter_limit``, ``closed``.
    Pieces only touch along shared edges where they can (quads, join wedges, cap half-discs), so the
    nonzero union is exact except where a stroke overlaps itself.
    """
    lines = _drop_degenerate(lines)
    a, b = lines.edges[:, 0], lines.edges[:, 1]
    sp = lines.subpath
    delta = b - a
    # a subpath of zero length still gets its caps (a dot or a square), facing +x as SVG says
    d = torch.where((delta.detach().norm(dim=1) > _MIN_LENGTH)[:, None], _unit(delta),
                    torch.tensor([1.0, 0.0], dtype=a.dtype, device=a.device))
    n = _normal(d)
    hw = half_width[sp][:, None]
    ends = _Ends.of(sp, closed, len(half_width))
    joints = _Joints.of(lines, d, n, hw, ends.join_from, ends.join_to)
    quad_edges, quad = _quads(lines, n, hw, joints)
    keep = ~joints.shared
    apex = torch.where(joints.trimmed[:, None], joints.inner, joints.vertex)[keep]  # the inner point where trimmed
    join_edges, join_owner = _join_pieces(joints.select(keep), apex, join, miter_limit)
    cap_edges, cap_owner = _caps(lines, d, ends, half_width, cap)
    return torch.cat([quad_edges, join_edges, cap_edges]), torch.cat([sp[quad], join_owner, cap_owner])


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
        is_first = torch.ones(len(sp), dtype=torch.bool, device=sp.device)
        is_first[1:] = sp[1:] != sp[:-1]
        first_of = torch.zeros(num_subpaths, dtype=torch.long, device=sp.device)
        first_of[sp[is_first]] = index[is_first]
        successor = torch.where(is_last, first_of[sp], index + 1)
        has_join = ~is_last | closed[sp]
        return cls(is_first, is_last, closed[sp], index[has_join], successor[has_join])


@dataclass
class _Joints:
    """The vertices (J,) where edge ``i`` (J,) meets edge ``j`` (J,): ``vertex`` (J, 2) px, ``hw`` (J, 1) half
    width, ``sp`` (J,) subpath, unit directions ``di``/``dj`` and normals ``ni``/``nj`` (J, 2),
    ``cross`` (J,) of the directions, ``side`` (J, 1) +-1 towards the outer side, ``cos_half`` (J,)
    of half the turn, ``bisector`` (J, 2) of length 1 / cos_half, ``corner`` (J,) at a segment
    junction (else inside a Bézier), ``offset`` (J, 2) bisector times half width, ``inner`` (J, 2)
    the inner sides' meeting point. Where the quads meet: ``shared`` (J,) on the bisector on both
    sides, ``trimmed`` (J,) at ``inner`` on the inner side only (``inner_left``/``inner_right`` (J,)
    which side that is)."""

    vertex: torch.Tensor
    hw: torch.Tensor
    sp: torch.Tensor
    side: torch.Tensor
    cos_half: torch.Tensor
    i: torch.Tensor
    di: torch.Tensor
    dj: torch.Tensor
    ni: torch.Tensor
    nj: torch.Tensor
    cross: torch.Tensor
    j: torch.Tensor
    bisector: torch.Tensor
    corner: torch.Tensor
    offset: torch.Tensor
    inner: torch.Tensor
    shared: torch.Tensor
    trimmed: torch.Tensor
    inner_left: torch.Tensor
    inner_right: torch.Tensor

    @classmethod
    def of(cls, lines: Polylines, d: torch.Tensor, n: torch.Tensor, hw: torch.Tensor, i: torch.Tensor, j: torch.Tensor
           ) -> "_Joints":
        """From the polylines, their edges' unit directions ``d`` and normals ``n`` (M, 2) and half
        widths ``hw`` (M, 1), for the joins from edges ``i`` (J,) to ``j`` (J,)."""
        a, b = lines.edges[:, 0], lines.edges[:, 1]
        vertex, join_hw, join_sp = b[i], hw[i], lines.subpath[i]
        di, dj, ni, nj = d[i], d[j], n[i], n[j]
        cross = di[:, 0] * dj[:, 1] - di[:, 1] * dj[:, 0]
        side = torch.where(cross.detach() > 0, -1.0, 1.0).to(a.dtype)[:, None]  # towards the outer side
        cos_half = torch.sqrt(((1 + (di * dj).sum(1)) / 2).clamp(min=_EPS))
        bisector = _unit(ni + nj) / cos_half[:, None]  # length 1 / cos(turn / 2)
        with torch.no_grad():
            # Consecutive quads meet on the angle bisector where the inner side does not fold over
            # (hw * tan(turn / 2) within half of both edges): inside a Bézier segment on both sides (no
            # overlap, no gap), at corners on the inner side only (the join fills the outer side).
            length = (b - a).detach().norm(dim=1)
            tan_half = torch.sqrt((1 - cos_half.detach() ** 2).clamp(min=0)) / cos_half.detach()
            fits = join_hw[:, 0].detach() * tan_half <= 0.5 * torch.minimum(length[i], length[j])
            shared, trimmed = fits & ~lines.corner[i], fits & lines.corner[i]
        offset = bisector * join_hw
        inner = vertex - side * offset
        return cls(vertex, join_hw, join_sp, side, cos_half, i, di, dj, ni, nj, cross, j, bisector, lines.corner[i],
                   offset, inner, shared, trimmed, trimmed & (side[:, 0] < 0), trimmed & (side[:, 0] > 0))

    def select(self, mask: torch.Tensor) -> "_Joints":
        """The joints where ``mask`` (J,) is set."""
        return _Joints(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})


def _quads(lines: Polylines, n: torch.Tensor, hw: torch.Tensor, joints: _Joints) -> tuple[torch.Tensor, torch.Tensor]:
    """One quad per edge (M,), ``hw`` (M, 1) px to each side along its normal ``n`` (M, 2), with its
    ends moved to where it meets its neighbours (see ``_Joints``): oriented edges (4M, 2, 2) and quad
    ids (4M,)."""
    a, b = lines.edges[:, 0], lines.edges[:, 1]
    offset, inner = joints.offset, joints.inner
    i, j = joints.i, joints.j
    left_start, right_start, left_end, right_end = a + n * hw, a - n * hw, b + n * hw, b - n * hw
    for chosen, left, right in ((joints.shared, joints.vertex + offset, joints.vertex - offset),
                                (joints.inner_left, inner, None), (joints.inner_right, None, inner)):
        if left is not None:
            left_end = left_end.index_put((i[chosen],), left[chosen])
            left_start = left_start.index_put((j[chosen],), left[chosen])
        if right is not None:
            right_end = right_end.index_put((i[chosen],), right[chosen])
            right_start = right_start.index_put((j[chosen],), right[chosen])
    return _polygons(torch.stack([left_start, left_end, right_end, right_start], 1))


def _join_pieces(joints: _Joints, apex: torch.Tensor, join: torch.Tensor, miter_limit: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The join polygons at ``joints`` (K,) that need one: a wedge from ``apex`` (K, 2) over the outer
    corners (to the miter tip, or cut flat for bevels, for miters over ``miter_limit`` (Q,) and inside
    Bézier segments), or a circular fan for round joins (``join`` (Q,) per subpath). Returns oriented
    edges (M, 2, 2) and their subpath ids (M,)."""
    vertex, hw, sp, side = joints.vertex, joints.hw, joints.sp, joints.side
    outer_i, outer_j = vertex + side * joints.ni * hw, vertex + side * joints.nj * hw
    kind = torch.where(joints.corner, join[sp], torch.full_like(sp, BEVEL))
    use_miter = (kind == MITER) & (1 / joints.cos_half.detach() <= miter_limit[sp])
    tip = torch.where(use_miter[:, None], vertex + side * joints.bisector * hw, (outer_i + outer_j) / 2)
    angular = kind == ROUND
    wedge_edges, wedge = _polygons(torch.stack([apex, outer_i, tip, outer_j], 1)[~angular])
    turn = torch.atan2(joints.cross, (joints.di * joints.dj).sum(1))[angular]
    fan_edges, fan = _fans(vertex[angular], (side * joints.ni)[angular], turn, hw[angular, 0], apex[angular])
    return torch.cat([wedge_edges, fan_edges]), torch.cat([sp[~angular][wedge], sp[angular][fan]])


def _caps(lines: Polylines, d: torch.Tensor, ends: _Ends, half_width: torch.Tensor, cap: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """The caps at the ends of open subpaths (butt caps add nothing): a half-square or a half-disc
    of ``half_width`` (Q,) px beyond the end, along the edges' unit directions ``d`` (M, 2), per
    ``cap`` (Q,). Returns oriented edges (M', 2, 2) and their subpath ids (M',)."""
    a, b, sp = lines.edges[:, 0], lines.edges[:, 1], lines.subpath
    closed = ends.closed_edge
    cap_point = torch.cat([a[ends.is_first & ~closed], b[ends.is_last & ~closed]])
    cap_dir = torch.cat([-d[ends.is_first & ~closed], d[ends.is_last & ~closed]])
    cap_sp = torch.cat([sp[ends.is_first & ~closed], sp[ends.is_last & ~closed]])
    cap_hw = half_width[cap_sp]
    square = cap[cap_sp] == SQUARE
    cn, cd, cp, chw = _normal(cap_dir[square]), cap_dir[square], cap_point[square], cap_hw[square, None]
    square_edges, square_poly = _polygons(torch.stack([cp + cn * chw, cp + cn * chw + cd * chw,
                                                       cp - cn * chw + cd * chw, cp - cn * chw], 1))
    rounded = cap[cap_sp] == ROUND_CAP
    half_turn = torch.full((int(rounded.sum()),), math.pi, dtype=a.dtype, device=a.device)
    cap_edges, cap_fan = _fans(cap_point[rounded], -_normal(cap_dir[rounded]), half_turn, cap_hw[rounded])
    return torch.cat([square_edges, cap_edges]), torch.cat([cap_sp[square][square_poly], cap_sp[rounded][cap_fan]])
