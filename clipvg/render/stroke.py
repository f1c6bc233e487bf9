"""Stroke outlines as unions of consistently oriented polygons (filled later with nonzero).

Each flattened edge becomes a quad of the stroke's width; each vertex gets a join polygon (bevel on
smooth vertices inside a Bézier segment; the path's miter/round/bevel at segment junctions) and the
ends of open subpaths get caps. All polygons share one orientation, so their union is the stroke.
"""
from __future__ import annotations

import math

import torch

from .geometry import FLATTEN_TOLERANCE, Polylines

_EPS = 1e-12
MITER, ROUND, BEVEL = 0, 1, 2  # indices into clipvg.scene.JOINS
BUTT, ROUND_CAP, SQUARE = 0, 1, 2  # indices into clipvg.scene.CAPS


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.sqrt((v * v).sum(-1, keepdim=True) + _EPS)


def _normal(d: torch.Tensor) -> torch.Tensor:
    return torch.stack([-d[..., 1], d[..., 0]], -1)


def _signed_area(poly: torch.Tensor) -> torch.Tensor:
    """Shoelace signed area of polygons (K, V, 2) -> (K,)."""
    nxt = poly.roll(-1, 1)
    return (poly[..., 0] * nxt[..., 1] - nxt[..., 0] * poly[..., 1]).sum(1) / 2


def _orient(poly: torch.Tensor) -> torch.Tensor:
    """Reverse polygons (K, V, 2) whose signed area is positive, so all have negative area."""
    flip = (_signed_area(poly.detach()) > 0)[:, None, None]
    return torch.where(flip, poly.flip(1), poly)


def _poly_edges(poly: torch.Tensor) -> torch.Tensor:
    """Closed polygons (K, V, 2) to edges (K * V, 2, 2)."""
    return torch.stack([poly, poly.roll(-1, 1)], 2).reshape(-1, 2, 2)


def _circles(center: torch.Tensor, radius: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Negatively oriented polygons approximating circles; (E, 2, 2) edges and (E,) circle ids."""
    with torch.no_grad():
        step = torch.sqrt(8 * FLATTEN_TOLERANCE / radius.detach().clamp(min=FLATTEN_TOLERANCE))
        count = torch.ceil(2 * math.pi / step).clamp(8, 128).long()
    owner = torch.arange(len(center), device=center.device).repeat_interleave(count)
    k = torch.arange(len(owner), device=center.device) - (torch.cumsum(count, 0) - count)[owner]
    n = count[owner].to(center.dtype)
    angle0, angle1 = -2 * math.pi * k / n, -2 * math.pi * (k + 1) / n
    c, r = center[owner], radius[owner, None]
    start = c + r * torch.stack([torch.cos(angle0), torch.sin(angle0)], 1)
    end = c + r * torch.stack([torch.cos(angle1), torch.sin(angle1)], 1)
    return torch.stack([start, end], 1), owner


def stroke_edges(lines: Polylines, half_width: torch.Tensor, join: torch.Tensor, cap: torch.Tensor,
                 miter_limit: torch.Tensor, closed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Outline edges (M, 2, 2) of the stroke of ``lines`` and their subpath ids (M,).

    Per subpath (Q,): ``half_width`` px, ``join`` and ``cap`` indices, ``miter_limit``, ``closed``.
    Only subpaths with ``half_width > 0`` should be passed in ``lines``.
    """
    a, b = lines.edges[:, 0], lines.edges[:, 1]
    sp = lines.subpath
    d = _unit(b - a)
    n = _normal(d)
    hw = half_width[sp][:, None]
    quads = _orient(torch.stack([a + n * hw, b + n * hw, b - n * hw, a - n * hw], 1))
    parts, owners = [_poly_edges(quads)], [sp.repeat_interleave(4)]

    with torch.no_grad():
        count = len(sp)
        index = torch.arange(count, device=sp.device)
        is_last = torch.ones(count, dtype=torch.bool, device=sp.device)
        is_last[:-1] = sp[1:] != sp[:-1]
        is_first = torch.ones(count, dtype=torch.bool, device=sp.device)
        is_first[1:] = sp[1:] != sp[:-1]
        first_of = torch.zeros(len(half_width), dtype=torch.long, device=sp.device)
        first_of[sp[is_first]] = index[is_first]
        successor = torch.where(is_last, first_of[sp], index + 1)
        has_join = ~is_last | closed[sp]
    i, j = index[has_join], successor[has_join]
    vertex, hw_j, sp_j = b[i], hw[i], sp[i]
    di, dj = d[i], d[j]
    ni, nj = n[i], n[j]
    cross = di[:, 0] * dj[:, 1] - di[:, 1] * dj[:, 0]
    side = torch.where(cross.detach() > 0, -1.0, 1.0).to(a.dtype)[:, None]
    outer_i, outer_j = vertex + side * ni * hw_j, vertex + side * nj * hw_j
    cos_half = torch.sqrt(((1 + (di * dj).sum(1)) / 2).clamp(min=_EPS))
    kind = torch.where(lines.corner[i], join[sp_j], torch.full_like(sp_j, BEVEL))
    use_miter = (kind == MITER) & (1 / cos_half.detach() <= miter_limit[sp_j])
    miter_point = vertex + side * _unit(ni + nj) * hw_j / cos_half[:, None]
    tip = torch.where(use_miter[:, None], miter_point, (outer_i + outer_j) / 2)
    not_round = kind != ROUND
    joins = _orient(torch.stack([vertex, outer_i, tip, outer_j], 1)[not_round])
    parts.append(_poly_edges(joins))
    owners.append(sp_j[not_round].repeat_interleave(4))
    round_centers, round_owner = [vertex[~not_round]], [sp_j[~not_round]]

    start_cap = is_first & ~closed[sp]
    end_cap = is_last & ~closed[sp]
    cap_point = torch.cat([a[start_cap], b[end_cap]])
    cap_dir = torch.cat([-d[start_cap], d[end_cap]])
    cap_sp = torch.cat([sp[start_cap], sp[end_cap]])
    cap_kind = cap[cap_sp]
    cap_hw = half_width[cap_sp][:, None]
    square = cap_kind == SQUARE
    cn, cd, cp, chw = _normal(cap_dir[square]), cap_dir[square], cap_point[square], cap_hw[square]
    squares = _orient(torch.stack([cp + cn * chw, cp + cn * chw + cd * chw, cp - cn * chw + cd * chw,
                                   cp - cn * chw], 1))
    parts.append(_poly_edges(squares))
    owners.append(cap_sp[square].repeat_interleave(4))
    rounded = cap_kind == ROUND_CAP
    round_centers.append(cap_point[rounded])
    round_owner.append(cap_sp[rounded])

    centers, circle_owner = torch.cat(round_centers), torch.cat(round_owner)
    circle_edges, which = _circles(centers, half_width[circle_owner])
    parts.append(circle_edges)
    owners.append(circle_owner[which])
    return torch.cat(parts), torch.cat(owners)
