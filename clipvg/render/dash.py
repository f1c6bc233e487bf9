"""Stroke dashing (SVG ``stroke-dasharray``/``stroke-dashoffset``) as a transform of flattened
polylines before stroking: each dash becomes an open polyline of its own, so caps and joins follow.

Arc length is measured along the flattened edges; a piece's end points move with the control points
and with the dash offset, so both get gradients. As in browsers (Skia) and resvg, on a closed
subpath a dash running through the start point is one dash (joined there, no caps).
"""
from __future__ import annotations

import warnings

import torch

from ..ragged import expand, owners
from ..scene import Scene
from .geometry import Polylines

MAX_DASH_PIECES = 1 << 21  # more pieces than this (a tiny pattern on a long path) draws the stroke solid


def dash_polylines(scene: Scene, lines: Polylines, subpath_path: torch.Tensor, length_scale: torch.Tensor
                   ) -> tuple[Polylines, torch.Tensor, torch.Tensor]:
    """Cut the edges of dashed paths' subpaths into dashes.

    ``lines``: stroked edges in output pixels (subpath ids into the Scene's subpaths, Q of them);
    ``subpath_path`` (Q,) each subpath's path; ``length_scale`` output px per canvas px. Returns new
    polylines whose subpath ids index a new list: ids < Q are the Scene's subpaths (undashed ones keep
    their edges), ids >= Q are dashes; ``owner`` (Q',) the Scene subpath of each new id; ``closed`` (Q',).
    """
    num_subpaths = len(subpath_path)
    device = lines.edges.device
    counts = scene.path_dash_offsets.diff()
    dashed_path = counts > 0
    edge_dashed = dashed_path[subpath_path[lines.subpath]]
    identity = torch.arange(num_subpaths, device=device)
    if not bool(edge_dashed.any()):
        return lines, identity, scene.subpath_closed
    keep = Polylines(lines.edges[~edge_dashed], lines.subpath[~edge_dashed], lines.corner[~edge_dashed])
    edges, sub, corner = lines.edges[edge_dashed], lines.subpath[edge_dashed], lines.corner[edge_dashed]
    path = subpath_path[sub]
    dtype = edges.dtype

    # pattern per path: boundaries c_0 = 0 < ... < c_m = period, in output px
    most = int(counts.max())
    begin = scene.path_dash_offsets[:-1]
    slot = torch.minimum(begin[:, None] + torch.arange(most, device=device), scene.path_dash_offsets[1:, None] - 1)
    values = scene.dash_array.to(dtype)[slot.clamp(min=0)] * length_scale  # (N, most)
    valid = torch.arange(most, device=device)[None, :] < counts[:, None]
    values = torch.where(valid, values, torch.zeros_like(values))
    bounds = torch.cat([values.new_zeros(len(values), 1), torch.cumsum(values, 1)], 1)  # (N, most + 1)
    period = bounds[torch.arange(len(bounds), device=device), counts]  # (N,)

    # arc length of each edge's ends along its subpath, phase-shifted by the offset
    length = (edges[:, 1] - edges[:, 0]).norm(dim=1)
    total = torch.cumsum(length, 0)
    before = total - length
    with torch.no_grad():
        first = torch.ones_like(sub, dtype=torch.bool)
        first[1:] = sub[1:] != sub[:-1]
        run = torch.cumsum(first.long(), 0) - 1
        run_start = torch.nonzero(first).flatten()
    s0 = before - before[run_start][run]
    s1 = s0 + length
    p_period = period[path]
    offset = scene.dash_offset.to(dtype)[path] * length_scale
    offset = offset - (torch.floor(offset / p_period) * p_period).detach()  # in [0, period)
    u0, u1 = s0 + offset, s1 + offset
    m = counts[path]
    valid_bounds = torch.cat([torch.ones_like(valid[:, :1]), valid], 1)

    def interval(u: torch.Tensor) -> torch.Tensor:
        """Index n of the pattern interval holding phase u: (u // period) * m + j (a zero-length dash
        exactly at u counts as holding it)."""
        cycle = torch.floor(u / p_period)
        within = (u - cycle * p_period)[:, None]
        j = ((bounds.detach()[path] < within) & valid_bounds[path]).sum(1) - 1
        return cycle.long() * m + j.clamp(min=0)

    with torch.no_grad():
        n0, n1 = interval(u0.detach()), interval(u1.detach())
        count = (n1 - n0 + 1).clamp(min=1)
        if int(count.sum()) > MAX_DASH_PIECES:
            warnings.warn(f"a dash pattern would cut strokes into {int(count.sum())} pieces (more than "
                          f"{MAX_DASH_PIECES}); those strokes are drawn solid", RuntimeWarning, stacklevel=4)
            return lines, identity, scene.subpath_closed
        edge, k = expand(count)
        n = n0[edge] + k
        j = torch.remainder(n, m[edge])
        on = j % 2 == 0
    edge, n, j = edge[on], n[on], j[on]
    cycle_start = torch.div(n, m[edge], rounding_mode="floor").to(dtype) * p_period[edge]
    start = cycle_start + bounds[path[edge], j]
    end = cycle_start + bounds[path[edge], j + 1]
    a_u, b_u = torch.maximum(u0[edge], start), torch.minimum(u1[edge], end)
    with torch.no_grad():
        zero_dash = (end - start).detach() <= 0
        present = ((b_u - a_u).detach() > 1e-9) | (zero_dash & (start >= u0[edge]) & (start < u1[edge]))
        # the very end of an open subpath: a zero-length dash exactly there still draws its caps
    edge, n, a_u, b_u = edge[present], n[present], a_u[present], b_u[present]
    span = length[edge].clamp(min=1e-12)
    ta, tb = ((a_u - u0[edge]) / span)[:, None], ((b_u - u0[edge]) / span)[:, None]
    p, q = edges[edge, 0], edges[edge, 1]
    pieces = torch.stack([p + ta * (q - p), p + tb * (q - p)], 1)
    with torch.no_grad():
        ends_edge = (b_u - u1[edge]).abs() <= 1e-9
        piece_corner = corner[edge] & ends_edge
        piece_sub = sub[edge]
        # join the first and last dash of a closed subpath when the pattern is on at its start and end
        run_of_piece = run[edge]
        last_run_edge = torch.cat([run_start[1:] - 1, run_start.new_tensor([len(sub) - 1])])
        n_first = n0[run_start]
        n_last = n1[last_run_edge]
        on_start = torch.remainder(n_first, m[run_start]) % 2 == 0
        on_end = torch.remainder(n_last, m[run_start]) % 2 == 0
        joined = scene.subpath_closed[sub[run_start]] & on_start & on_end & (n_first != n_last)
        relabel = joined[run_of_piece] & (n == n_first[run_of_piece])
        n = torch.where(relabel, n_last[run_of_piece], n)
        # pieces in edge order (a joined dash's first part after its last), then grouped by dash
        by_edge = torch.argsort(edge + relabel.long() * len(sub), stable=True)
        dash_key = (run_of_piece * (2 ** 22) + (n - n0[run_start][run_of_piece]))[by_edge]
        order = by_edge[torch.argsort(dash_key, stable=True)]
        key_dash = dash_key[torch.argsort(dash_key, stable=True)]
        new_dash = torch.ones_like(key_dash, dtype=torch.bool)
        new_dash[1:] = key_dash[1:] != key_dash[:-1]
        dash_id = torch.cumsum(new_dash.long(), 0) - 1
        num_dashes = int(new_dash.sum())
        dash_owner = torch.zeros(num_dashes, dtype=torch.long, device=device)
        dash_owner[dash_id] = piece_sub[order]
        # a joined dash closes nothing: it is open, its pieces now run across the start point
        last_of_dash = torch.ones_like(new_dash)
        last_of_dash[:-1] = new_dash[1:]
    pieces, piece_corner = pieces[order], piece_corner[order] & ~last_of_dash
    result = Polylines(torch.cat([keep.edges, pieces]), torch.cat([keep.subpath, num_subpaths + dash_id]),
                       torch.cat([keep.corner, piece_corner]))
    owner = torch.cat([identity, dash_owner])
    closed = torch.cat([scene.subpath_closed, torch.zeros(num_dashes, dtype=torch.bool, device=device)])
    return result, owner, closed


__all__ = ["MAX_DASH_PIECES", "dash_polylines", "owners"]
