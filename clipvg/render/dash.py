"""Stroke dashing (SVG ``stroke-dasharray``/``stroke-dashoffset``) as a transform of flattened
polylines before stroking: each dash becomes an open polyline of its own, so caps and joins follow.

Arc length is measured along the flattened edges; a piece's end points move with the control points
and with the dash offset, so both get gradients. As in browsers (Skia) and resvg, on a closed
subpath a dash running through the start point is one dash (joined there, no caps).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

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
    identity = torch.arange(num_subpaths, device=lines.edges.device)
    edge_dashed = (scene.path_dash_offsets.diff() > 0)[subpath_path[lines.subpath]]
    if not bool(edge_dashed.any()):
        return lines, identity, scene.subpath_closed
    keep, dashed = lines.subset(~edge_dashed), lines.subset(edge_dashed)
    pattern = _Pattern.of(scene, length_scale, dashed.edges.dtype)
    phases = _Phases.of(scene, dashed, subpath_path[dashed.subpath], pattern, length_scale)
    on = _on_intervals(phases)
    if on is None:
        return lines, identity, scene.subpath_closed
    edge, n, at_edge_end, pieces = _dash_pieces(dashed.edges, phases, pattern, *on)
    dashes = _Dashes.of(scene, dashed, phases, edge, n, at_edge_end)
    result = Polylines(torch.cat([keep.edges, pieces[dashes.order]]),
                       torch.cat([keep.subpath, num_subpaths + dashes.dash_id]),
                       torch.cat([keep.corner, dashes.corner]),
                       None if lines.segment_tangents is None
                       else torch.cat([keep.segment_tangents, dashed.segment_tangents[edge[dashes.order]]]))
    closed = torch.cat([scene.subpath_closed, torch.zeros(len(dashes.owner), dtype=torch.bool, device=identity.device)])
    return result, torch.cat([identity, dashes.owner]), closed


@dataclass
class _Pattern:
    """The dash pattern of every path (N): ``bounds`` (N, B + 1) output px, the boundaries c_0 = 0 <
    ... < c_m = period of its m = ``counts`` (N,) on/off intervals (B the longest pattern; entries
    past ``counts`` are padding, ``valid_bounds`` (N, B + 1) False there), ``period`` (N,) px."""

    counts: torch.Tensor
    bounds: torch.Tensor
    valid_bounds: torch.Tensor
    period: torch.Tensor

    @classmethod
    def of(cls, scene: Scene, length_scale: torch.Tensor, dtype: torch.dtype) -> "_Pattern":
        """The Scene's dash arrays scaled by ``length_scale`` (output px per canvas px), in ``dtype``."""
        counts = scene.path_dash_offsets.diff()
        device = counts.device
        most = int(counts.max())
        begin = scene.path_dash_offsets[:-1]
        slot = torch.minimum(begin[:, None] + torch.arange(most, device=device), scene.path_dash_offsets[1:, None] - 1)
        values = scene.dash_array.to(dtype)[slot.clamp(min=0)] * length_scale  # (N, most)
        valid = torch.arange(most, device=device)[None, :] < counts[:, None]
        values = torch.where(valid, values, torch.zeros_like(values))
        bounds = torch.cat([values.new_zeros(len(values), 1), torch.cumsum(values, 1)], 1)  # (N, most + 1)
        period = bounds[torch.arange(len(bounds), device=device), counts]  # (N,)
        return cls(counts, bounds, torch.cat([torch.ones_like(valid[:, :1]), valid], 1), period)


@dataclass
class _Phases:
    """Where the dashed edges (E,) lie in their path's pattern: ``u0``/``u1`` (E,) the pattern phase
    (arc length px, shifted by the dash offset) of each edge's ends, ``length`` (E,) px, ``path``
    (E,), the per-edge pattern ``period`` and interval count ``m`` (E,), the pattern intervals
    ``n0``/``n1`` (E,) holding u0 and u1 (see ``_interval``); ``run`` (E,) each edge's subpath run
    (consecutive edges of one subpath) and ``run_start`` (R,) the first edge of each run."""

    u0: torch.Tensor
    u1: torch.Tensor
    length: torch.Tensor
    path: torch.Tensor
    period: torch.Tensor
    m: torch.Tensor
    n0: torch.Tensor
    n1: torch.Tensor
    run: torch.Tensor
    run_start: torch.Tensor

    @classmethod
    def of(cls, scene: Scene, dashed: Polylines, path: torch.Tensor, pattern: _Pattern, length_scale: torch.Tensor
           ) -> "_Phases":
        """For the ``dashed`` edges of paths ``path`` (E,) with the paths' ``pattern``."""
        edges, sub = dashed.edges, dashed.subpath
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
        p_period = pattern.period[path]
        offset = scene.dash_offset.to(edges.dtype)[path] * length_scale
        offset = offset - (torch.floor(offset / p_period) * p_period).detach()  # in [0, period)
        u0, u1, m = s0 + offset, s1 + offset, pattern.counts[path]
        n0, n1 = (_interval(u.detach(), path, p_period, m, pattern) for u in (u0, u1))
        return cls(u0, u1, length, path, p_period, m, n0, n1, run, run_start)


@torch.no_grad()
def _interval(u: torch.Tensor, path: torch.Tensor, period: torch.Tensor, m: torch.Tensor, pattern: _Pattern
              ) -> torch.Tensor:
    """Index n (E,) of the pattern interval holding phase u (E,) px on path ``path`` (E,) with
    ``period`` (E,) and ``m`` (E,) intervals: (u // period) * m + j (a zero-length dash exactly at u
    counts as holding it)."""
    cycle = torch.floor(u / period)
    within = (u - cycle * period)[:, None]
    j = ((pattern.bounds.detach()[path] < within) & pattern.valid_bounds[path]).sum(1) - 1
    return cycle.long() * m + j.clamp(min=0)


@torch.no_grad()
def _on_intervals(phases: _Phases) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """The "on" intervals that each edge overlaps: their edge (K,), interval index n (K,) and index j
    (K,) inside the pattern; None (with a warning) when there would be more than MAX_DASH_PIECES."""
    count = (phases.n1 - phases.n0 + 1).clamp(min=1)
    if int(count.sum()) > MAX_DASH_PIECES:
        warnings.warn(f"a dash pattern would cut strokes into {int(count.sum())} pieces (more than "
                      f"{MAX_DASH_PIECES}); those strokes are drawn solid", RuntimeWarning, stacklevel=4)
        return None
    edge, k = expand(count)
    n = phases.n0[edge] + k
    j = torch.remainder(n, phases.m[edge])
    on = j % 2 == 0
    return edge[on], n[on], j[on]


def _dash_pieces(edges: torch.Tensor, phases: _Phases, pattern: _Pattern, edge: torch.Tensor, n: torch.Tensor,
                 j: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The parts of ``edges`` (E, 2, 2) inside the "on" intervals (edge, n, j) (K,) that draw
    something: their edge (K',), interval n (K',), whether they reach their edge's end (K',) and
    their points (K', 2, 2) px, which move with the edges and the dash offset (differentiable)."""
    cycle_start = torch.div(n, phases.m[edge], rounding_mode="floor").to(edges.dtype) * phases.period[edge]
    start = cycle_start + pattern.bounds[phases.path[edge], j]
    end = cycle_start + pattern.bounds[phases.path[edge], j + 1]
    u0, u1 = phases.u0[edge], phases.u1[edge]
    a_u, b_u = torch.maximum(u0, start), torch.minimum(u1, end)
    with torch.no_grad():
        zero_dash = (end - start).detach() <= 0
        present = ((b_u - a_u).detach() > 1e-9) | (zero_dash & (start >= u0) & (start < u1))
        # the very end of an open subpath: a zero-length dash exactly there still draws its caps
    edge, n, a_u, b_u = edge[present], n[present], a_u[present], b_u[present]
    span = phases.length[edge].clamp(min=1e-12)
    ta, tb = ((a_u - phases.u0[edge]) / span)[:, None], ((b_u - phases.u0[edge]) / span)[:, None]
    p, q = edges[edge, 0], edges[edge, 1]
    with torch.no_grad():
        at_edge_end = (b_u - phases.u1[edge]).abs() <= 1e-9
    return edge, n, at_edge_end, torch.stack([p + ta * (q - p), p + tb * (q - p)], 1)


@dataclass
class _Dashes:
    """The dash pieces (K,) grouped into dashes (D): ``order`` (K,) puts the pieces in dash order
    (each dash's pieces in path order), ``dash_id`` (K,) and ``corner`` (K,) (a segment junction
    inside the dash) in that order, ``owner`` (D,) each dash's Scene subpath."""

    order: torch.Tensor
    dash_id: torch.Tensor
    corner: torch.Tensor
    owner: torch.Tensor

    @classmethod
    @torch.no_grad()
    def of(cls, scene: Scene, dashed: Polylines, phases: _Phases, edge: torch.Tensor, n: torch.Tensor,
           at_edge_end: torch.Tensor) -> "_Dashes":
        """From the pieces' ``edge`` (K,) among the ``dashed`` polylines, their pattern interval ``n``
        (K,) and whether they reach their edge's end (K,). On a closed subpath the first and last
        dash are one (joined across the start point, open) when the pattern is on at both."""
        sub, run_start = dashed.subpath, phases.run_start
        run_of_piece = phases.run[edge]
        last_run_edge = torch.cat([run_start[1:] - 1, run_start.new_tensor([len(sub) - 1])])
        n_first = phases.n0[run_start]
        n_last = phases.n1[last_run_edge]
        on_start = torch.remainder(n_first, phases.m[run_start]) % 2 == 0
        on_end = torch.remainder(n_last, phases.m[run_start]) % 2 == 0
        joined = scene.subpath_closed[sub[run_start]] & on_start & on_end & (n_first != n_last)
        relabel = joined[run_of_piece] & (n == n_first[run_of_piece])
        n = torch.where(relabel, n_last[run_of_piece], n)
        # pieces in edge order (a joined dash's first part after its last), then grouped by dash
        by_edge = torch.argsort(edge + relabel.long() * len(sub), stable=True)
        dash_key = (run_of_piece * (2 ** 22) + (n - n_first[run_of_piece]))[by_edge]
        order = by_edge[torch.argsort(dash_key, stable=True)]
        key_dash = dash_key[torch.argsort(dash_key, stable=True)]
        new_dash = torch.ones_like(key_dash, dtype=torch.bool)
        new_dash[1:] = key_dash[1:] != key_dash[:-1]
        dash_id = torch.cumsum(new_dash.long(), 0) - 1
        owner = torch.zeros(int(new_dash.sum()), dtype=torch.long, device=sub.device)
        owner[dash_id] = sub[edge][order]
        # a joined dash closes nothing: it is open, its pieces now run across the start point
        last_of_dash = torch.ones_like(new_dash)
        last_of_dash[:-1] = new_dash[1:]
        corner = (dashed.corner[edge] & at_edge_end)[order] & ~last_of_dash
        return cls(order, dash_id, corner, owner)


__all__ = ["MAX_DASH_PIECES", "dash_polylines", "owners"]
