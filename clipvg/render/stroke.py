"""Stroke outlines as unions of consistently oriented polygons (filled later with nonzero).

Each flattened edge becomes a quad of the stroke's width; each vertex gets a join polygon (bevel on
smooth vertices inside a Bézier segment; the path's miter/round/bevel at segment junctions) and the
ends of open subpaths get caps. All polygons share one orientation, so their union is the stroke.
"""
from __future__ import annotations

import math

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
    with torch.no_grad():
        index = torch.arange(len(sp), device=sp.device)
        is_last = torch.ones(len(sp), dtype=torch.bool, device=sp.device)
        is_last[:-1] = sp[1:] != sp[:-1]
        is_first = torch.ones(len(sp), dtype=torch.bool, device=sp.device)
        is_first[1:] = sp[1:] != sp[:-1]
        first_of = torch.zeros(len(half_width), dtype=torch.long, device=sp.device)
        first_of[sp[is_first]] = index[is_first]
        successor = torch.where(is_last, first_of[sp], index + 1)
        has_join = ~is_last | closed[sp]
    i, j = index[has_join], successor[has_join]
    vertex, join_hw, join_sp = b[i], hw[i], sp[i]
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
        inner_left = trimmed & (side[:, 0] < 0)
        inner_right = trimmed & (side[:, 0] > 0)
    offset = bisector * join_hw
    inner = vertex - side * offset
    left_start, right_start, left_end, right_end = a + n * hw, a - n * hw, b + n * hw, b - n * hw
    for chosen, left, right in ((shared, vertex + offset, vertex - offset), (inner_left, inner, None),
                                (inner_right, None, inner)):
        if left is not None:
            left_end = left_end.index_put((i[chosen],), left[chosen])
            left_start = left_start.index_put((j[chosen],), left[chosen])
        if right is not None:
            right_end = right_end.index_put((i[chosen],), right[chosen])
            right_start = right_start.index_put((j[chosen],), right[chosen])
    quad_edges, quad = _polygons(torch.stack([left_start, left_end, right_end, right_start], 1))
    parts, owners = [quad_edges], [sp[quad]]

    keep = ~shared
    apex = torch.where(trimmed[:, None], inner, vertex)[keep]
    vertex, join_hw, join_sp, side, cos_half = vertex[keep], join_hw[keep], join_sp[keep], side[keep], cos_half[keep]
    i, di, dj, ni, nj, cross = i[keep], di[keep], dj[keep], ni[keep], nj[keep], cross[keep]
    outer_i, outer_j = vertex + side * ni * join_hw, vertex + side * nj * join_hw
    kind = torch.where(lines.corner[i], join[join_sp], torch.full_like(join_sp, BEVEL))
    use_miter = (kind == MITER) & (1 / cos_half.detach() <= miter_limit[join_sp])
    tip = torch.where(use_miter[:, None], vertex + side * bisector[keep] * join_hw, (outer_i + outer_j) / 2)
    angular = kind == ROUND
    join_edges, join_poly = _polygons(torch.stack([apex, outer_i, tip, outer_j], 1)[~angular])
    parts.append(join_edges)
    owners.append(join_sp[~angular][join_poly])
    turn = torch.atan2(cross, (di * dj).sum(1))[angular]
    fan_edges, fan = _fans(vertex[angular], (side * ni)[angular], turn, join_hw[angular, 0], apex[angular])
    parts.append(fan_edges)
    owners.append(join_sp[angular][fan])

    cap_point = torch.cat([a[is_first & ~closed[sp]], b[is_last & ~closed[sp]]])
    cap_dir = torch.cat([-d[is_first & ~closed[sp]], d[is_last & ~closed[sp]]])
    cap_sp = torch.cat([sp[is_first & ~closed[sp]], sp[is_last & ~closed[sp]]])
    cap_hw = half_width[cap_sp]
    square = cap[cap_sp] == SQUARE
    cn, cd, cp, chw = _normal(cap_dir[square]), cap_dir[square], cap_point[square], cap_hw[square, None]
    square_edges, square_poly = _polygons(torch.stack([cp + cn * chw, cp + cn * chw + cd * chw,
                                                       cp - cn * chw + cd * chw, cp - cn * chw], 1))
    parts.append(square_edges)
    owners.append(cap_sp[square][square_poly])
    rounded = cap[cap_sp] == ROUND_CAP
    half_turn = torch.full((int(rounded.sum()),), math.pi, dtype=a.dtype, device=a.device)
    cap_edges, cap_fan = _fans(cap_point[rounded], -_normal(cap_dir[rounded]), half_turn, cap_hw[rounded])
    parts.append(cap_edges)
    owners.append(cap_sp[rounded][cap_fan])
    return torch.cat(parts), torch.cat(owners)
