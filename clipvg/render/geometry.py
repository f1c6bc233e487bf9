"""Bézier segments of a Scene as cubics, and their flattening into line edges (all vectorised).

Lines and quadratics are degree-elevated to cubics exactly, so one code path evaluates all.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..ragged import expand, owners
from ..scene import Scene

FLATTEN_TOLERANCE = 0.05  # px: maximum distance between a curve and its flattening (approximately)
MAX_PIECES_PER_SEGMENT = 256
_SAME_POINT = 1 / 4096  # px: control points closer than this give a Bézier end no direction (as Skia)


@dataclass
class Polylines:
    """Flattened contours in output pixels, edges of a subpath contiguous and in order.

    ``edges`` (E, 2, 2): start and end points; ``subpath`` (E,) owning subpath; ``corner`` (E,) bool,
    True where the edge ends a Bézier segment (a join may be sharp there; elsewhere it is smooth);
    ``segment_tangents`` (E, 2, 2) or None: the curve's direction (not normalised) at the start and at the
    end of the edge's Bézier segment, which shapes a corner's miter and decides its limit (a flattened end
    edge of a tightly bent curve can point well away from it); None: the edges' own directions.
    """

    edges: torch.Tensor
    subpath: torch.Tensor
    corner: torch.Tensor
    segment_tangents: torch.Tensor | None = None

    def subset(self, keep: torch.Tensor) -> "Polylines":
        """The edges selected by ``keep`` (a bool mask or indices)."""
        tangents = None if self.segment_tangents is None else self.segment_tangents[keep]
        return Polylines(self.edges[keep], self.subpath[keep], self.corner[keep], tangents)


def cubic_control_points(scene: Scene, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(S, 4, 2) cubic control points of every segment, from ``points`` (P, 2); and (S,) subpath ids."""
    degrees = scene.segment_degrees
    seg_offsets = scene.subpath_segment_offsets
    subpath = owners(seg_offsets)
    before = torch.cumsum(degrees, 0) - degrees  # exclusive cumsum over all segments
    first_in_subpath = before.index_select(0, seg_offsets[:-1])
    point_begin = scene.subpath_point_offsets[:-1].index_select(0, subpath)
    point_end = scene.subpath_point_offsets[1:].index_select(0, subpath)
    start = point_begin + before - first_in_subpath.index_select(0, subpath)

    def at(k: torch.Tensor) -> torch.Tensor:
        index = start + k
        return points.index_select(0, torch.where(index >= point_end, point_begin, index))

    p0 = at(torch.zeros_like(degrees))
    p1, p2, p3 = at(torch.ones_like(degrees)), at(torch.full_like(degrees, 2)), at(degrees)
    d = degrees[:, None]
    line = torch.stack([p0, p0 + (p1 - p0) / 3, p0 + 2 * (p1 - p0) / 3, p1], 1)
    quad = torch.stack([p0, p0 + 2 * (p1 - p0) / 3, p2 + 2 * (p1 - p2) / 3, p2], 1)
    cubic = torch.stack([p0, p1, p2, p3], 1)
    controls = torch.where(d[..., None] == 1, line, torch.where(d[..., None] == 2, quad, cubic))
    return controls, subpath


def _evaluate(controls: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Points (M, 2) on cubics ``controls`` (M, 4, 2) at parameters ``t`` (M,)."""
    s = 1 - t
    w = torch.stack([s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t], 1)
    return (w[..., None] * controls).sum(1)


def flatten(scene: Scene, points: torch.Tensor) -> Polylines:
    """Flatten every subpath of ``scene`` into line edges; ``points`` (P, 2) are the control points,
    already in output pixels. Open subpaths stay open (see ``closing_edges``)."""
    controls, subpath = cubic_control_points(scene, points)
    with torch.no_grad():
        c = controls.detach()
        second = torch.maximum((c[:, 0] - 2 * c[:, 1] + c[:, 2]).norm(dim=1),
                               (c[:, 1] - 2 * c[:, 2] + c[:, 3]).norm(dim=1))
        pieces = torch.ceil(torch.sqrt(0.75 * second / FLATTEN_TOLERANCE)).clamp(1, MAX_PIECES_PER_SEGMENT).long()
    # each segment's pieces + 1 break points, evaluated once: an edge ends where the next one starts
    with torch.no_grad():
        break_segment, break_local = expand(pieces + 1)
        t = break_local / pieces.index_select(0, break_segment).to(points.dtype)
        segment, local = expand(pieces)
        count = pieces.index_select(0, segment)
        first = (torch.cumsum(pieces + 1, 0) - (pieces + 1)).index_select(0, segment) + local
    at = _evaluate(controls.index_select(0, break_segment), t)
    edges = torch.stack([at.index_select(0, first), at.index_select(0, first + 1)], 1)
    return Polylines(edges, subpath.index_select(0, segment), local == count - 1,
                     _end_tangents(scene, controls, subpath).index_select(0, segment))


def _end_tangents(scene: Scene, controls: torch.Tensor, subpath: torch.Tensor) -> torch.Tensor:
    """(S, 2, 2) directions of cubics ``controls`` (S, 4, 2) px of ``subpath`` (S,) at t = 0 and t = 1: towards
    the nearest control point more than ``_SAME_POINT`` px from the end (SVG's directionality rule; zero when
    none is, and on a stroked curve whose points lie on a line, which Skia and resvg stroke as lines:
    ``_in_line``; only strokes use the directions)."""
    found = []
    for points in (controls, controls.flip(1)):
        direction = torch.zeros_like(points[:, 0])
        for k in (3, 2, 1):  # the nearest differing point wins: try the farthest first
            step = points[:, k] - points[:, 0]
            direction = torch.where(step.abs().amax(1, keepdim=True) > _SAME_POINT, step, direction)
        found.append(direction)
    with torch.no_grad():
        curved = scene.has_stroke.index_select(0, owners(scene.path_subpath_offsets)).index_select(0, subpath)
        stroked = torch.nonzero(curved & (scene.segment_degrees > 1)).flatten()  # a line keeps its direction
        lined = stroked[_in_line(controls.detach().index_select(0, stroked))]
    tangents = torch.stack([found[0], -found[1]], 1)
    return tangents.index_put((lined,), tangents.new_zeros(len(lined), 2, 2))


_FIRST, _SECOND = (0, 0, 0, 1, 1, 2), (1, 2, 3, 2, 3, 3)  # a cubic's six pairs of points


def _in_line(controls: torch.Tensor) -> torch.Tensor:
    """(S,) whether cubics ``controls`` (S, 4, 2) px lie on a line, as Skia's stroker (``cubic_in_line``)
    tells: every point within ``sqrt(1e-5)`` x the farthest pair's larger coordinate difference of the
    segment between that pair (control points 0.1 px off a 240 px straight stroke, resvg's
    painting/stroke/control-points-clamping-1: no direction of their own at the ends)."""
    first, second = list(_FIRST), list(_SECOND)
    spread, widest = (controls[:, second] - controls[:, first]).abs().amax(2).max(1)  # Chebyshev, (S,)
    pick = torch.tensor(_FIRST, device=controls.device)[widest], torch.tensor(_SECOND, device=controls.device)[widest]
    start, end = (controls.gather(1, k[:, None, None].expand(-1, 1, 2)) for k in pick)  # (S, 1, 2)
    along, offset = end - start, controls - start  # (S, 1, 2), (S, 4, 2)
    t = (offset * along).sum(2, keepdim=True) / (along * along).sum(2, keepdim=True).clamp(min=1e-30)
    hit = torch.where((t >= 0) & (t <= 1), start + t * along, start)
    return ((controls - hit) ** 2).sum(2).amax(1) <= spread ** 2 * 1e-5


def closing_edges(scene: Scene, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The implicit closing edges (K, 2, 2) of open subpaths, which SVG fills as if closed, and
    their subpath ids (K,)."""
    open_subpaths = torch.nonzero(~scene.subpath_closed).flatten()
    first_point = points[scene.subpath_point_offsets[:-1][open_subpaths]]
    last_point = points[scene.subpath_point_offsets[1:][open_subpaths] - 1]
    return torch.stack([last_point, first_point], 1), open_subpaths
