"""Exact-area coverage of polygons by signed-area accumulation, differentiable in the vertices.

Every edge is cut at pixel grid lines into pieces that each lie in one pixel. A piece with vertical
extent ``dy`` and mean x offset ``fx`` inside its pixel adds ``dy * (1 - fx)`` to that pixel and
``dy * fx`` to the next one; a prefix sum along each row then gives, per pixel, the signed area of
the polygon inside it (the winding-weighted box-filtered coverage). Each draw item accumulates into
its own buffer over its bounding box only, so the cost grows with the pixels an item covers.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..ragged import expand, group_min_max


@dataclass
class Fragments:
    """Pixels touched by draw items: ``pixel`` (F,) row-major index into the H x W canvas, ``item``
    (F,) draw-item index, ``coverage`` (F,) in (0, 1]. Ordered by item, then pixel."""

    pixel: torch.Tensor
    item: torch.Tensor
    coverage: torch.Tensor


def _grid_crossings(lo: torch.Tensor, hi: torch.Tensor, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer grid lines strictly inside (lo, hi) and within [0, limit]: (first line (E,), count (E,))."""
    first = torch.clamp(torch.floor(lo) + 1, min=0)
    last = torch.clamp(torch.ceil(hi) - 1, max=limit)
    count = (last - first + 1).clamp(min=0).long()
    return first, count


def split_at_grid(edges: torch.Tensor, edge_item: torch.Tensor, width: int, height: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cut edges (E, 2, 2) at the grid lines x = 0..W and y = 0..H and clamp them to the canvas.

    Returns pieces (M, 2, 2) each inside one pixel column/row band, their items (M,), and their
    cells (M, 2) as integer (col, row) with col in [0, W] (W: right of the canvas).
    """
    a, b = edges[:, 0], edges[:, 1]
    with torch.no_grad():
        lo, hi = torch.minimum(a, b), torch.maximum(a, b)
        first_x, count_x = _grid_crossings(lo[:, 0], hi[:, 0], width)
        first_y, count_y = _grid_crossings(lo[:, 1], hi[:, 1], height)
        breaks = count_x + count_y + 2
        edge_of_break, k = expand(breaks)
        # k == 0: t = 0; 1..count_x: x crossings; then y crossings; last: t = 1
        kx = k - 1
        ky = k - 1 - count_x[edge_of_break]
        is_x = (kx >= 0) & (kx < count_x[edge_of_break])
        is_y = (ky >= 0) & (ky < count_y[edge_of_break])
        is_end = k == breaks[edge_of_break] - 1
        line_x = first_x[edge_of_break] + kx
        line_y = first_y[edge_of_break] + ky
    ae, be = a[edge_of_break], b[edge_of_break]
    delta = be - ae
    safe_dx = torch.where(delta[:, 0] == 0, torch.ones_like(delta[:, 0]), delta[:, 0])
    safe_dy = torch.where(delta[:, 1] == 0, torch.ones_like(delta[:, 1]), delta[:, 1])
    t = torch.where(is_x, (line_x - ae[:, 0]) / safe_dx,
                    torch.where(is_y, (line_y - ae[:, 1]) / safe_dy, is_end.to(ae.dtype)))
    with torch.no_grad():
        order = torch.argsort(edge_of_break.double() * 2 + t.detach().clamp(0, 1).double())
    t, edge_of_break = t[order], edge_of_break[order]
    point = ae[order] + t[:, None] * delta[order]
    with torch.no_grad():
        raw_y = point[:, 1].detach()
        same_edge = edge_of_break[1:] == edge_of_break[:-1]
        # pieces wholly above or below the canvas add nothing, not even gradient (y is clamped)
        outside = ((raw_y[1:] <= 0) & (raw_y[:-1] <= 0)) | ((raw_y[1:] >= height) & (raw_y[:-1] >= height))
        keep = (same_edge & ~outside)[same_edge]
    point = torch.stack([point[:, 0].clamp(0, width), point[:, 1].clamp(0, height)], 1)
    start, end = point[:-1][same_edge], point[1:][same_edge]
    pieces = torch.stack([start, end], 1)
    item = edge_item[edge_of_break[:-1][same_edge]]
    with torch.no_grad():
        mid = (start + end).detach() / 2
        cell = torch.stack([mid[:, 0].floor().clamp(0, width), mid[:, 1].floor().clamp(0, height - 1)], 1).long()
    return pieces[keep], item[keep], cell[keep]


def rasterize(edges: torch.Tensor, edge_item: torch.Tensor, evenodd: torch.Tensor, width: int, height: int
              ) -> Fragments:
    """Coverage fragments of draw items given as closed edge soups.

    ``edges`` (E, 2, 2) pixels; ``edge_item`` (E,) item index per edge (every item's edges form closed
    loops); ``evenodd`` (I,) bool fill rule per item (nonzero otherwise). Differentiable in ``edges``.
    """
    device = edges.device
    pieces, item, cell = split_at_grid(edges, edge_item, width, height)
    if len(pieces) == 0:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return Fragments(empty, empty, edges.new_zeros(0))
    num_items = len(evenodd)
    with torch.no_grad():
        col, row = cell[:, 0], cell[:, 1]
        x0, x1 = group_min_max(col, item, num_items)
        y0, y1 = group_min_max(row, item, num_items)
        present = x1 >= x0
        x0, y0 = torch.where(present, x0, 0), torch.where(present, y0, 0)
        box_w = torch.where(present, x1 + 2 - x0, 0)  # one spill column on the right
        box_h = torch.where(present, y1 + 1 - y0, 0)
        sizes = box_w * box_h
        offsets = torch.cumsum(sizes, 0) - sizes
        base = offsets[item] + (row - y0[item]) * box_w[item] + (col - x0[item])
    dy = pieces[:, 1, 1] - pieces[:, 0, 1]
    fx = (pieces[:, 0, 0] + pieces[:, 1, 0]) / 2 - col.to(pieces.dtype)
    total = int(sizes.sum())
    accumulator = pieces.new_zeros(total)
    accumulator = accumulator.index_add(0, base, dy * (1 - fx)).index_add(0, base + 1, dy * fx)
    # Every closed loop adds zero per row, so one global prefix sum is a per-row prefix sum.
    winding = torch.cumsum(accumulator.double(), 0).to(pieces.dtype)
    with torch.no_grad():
        # Cells a piece touched stay fragments even at winding 0: an edge lying exactly on a pixel
        # boundary has its gradient there.
        touched = torch.zeros(total + 1, dtype=torch.bool, device=device)
        touched[base] = True
        touched[base + 1] = True
        index = torch.nonzero((winding.detach().abs() > 1e-6) | touched[:total]).flatten()
        frag_item = torch.searchsorted(offsets, index, right=True) - 1
        local = index - offsets[frag_item]
        frag_col = x0[frag_item] + local % box_w[frag_item]
        frag_row = y0[frag_item] + local // box_w[frag_item]
        inside = frag_col < width
        index, frag_item, frag_col, frag_row = index[inside], frag_item[inside], frag_col[inside], frag_row[inside]
    value = winding[index]
    with torch.no_grad():
        # |value| with a useful gradient at 0: the sign of the item's covered area (its orientation)
        orientation = torch.zeros(num_items, dtype=value.dtype, device=device).index_add(0, frag_item, value.detach())
        sign = torch.where(value.detach() != 0, torch.sign(value.detach()), torch.sign(orientation)[frag_item])
    magnitude = value * sign
    # not clamp(): its gradient is 0 at exactly 1, which would freeze edges lying on pixel boundaries
    coverage = torch.where(magnitude > 1, torch.ones_like(magnitude), magnitude)
    if bool(evenodd.any()):
        evenodd_coverage = 1 - (torch.remainder(magnitude, 2.0) - 1).abs()
        coverage = torch.where(evenodd[frag_item], evenodd_coverage, coverage)
    return Fragments(frag_row * width + frag_col, frag_item, coverage)
