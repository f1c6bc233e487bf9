"""Exact-area coverage of polygons by signed-area accumulation, differentiable in the vertices.

Every edge is cut at pixel grid lines into pieces that each lie in one pixel. A piece with vertical
extent ``dy`` and mean x offset ``fx`` inside its pixel adds ``dy * (1 - fx)`` to that pixel and
``dy * fx`` to the next one; a prefix sum along each row then gives, per pixel, the signed area of
the polygon inside it (the winding-weighted box-filtered coverage). Each draw item accumulates into
its own buffer over its bounding box only, so the cost grows with the pixels an item covers.
Even-odd items instead step the coverage at every parity change of the winding along sub-scanlines
(exact in x, sampled in y), since an area-averaged winding overcounts rings thinner than a pixel.
For nonzero items the pixels where an item overlaps itself (``self_overlap``) get the exact area
where the winding is nonzero instead of the signed area.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from ..ragged import expand, group_min_max
from . import kernels
from .self_overlap import exact_cell_coverage, flag_cells


@dataclass
class Fragments:
    """Pixels touched by draw items: ``pixel`` (F,) row-major index into the H x W canvas, ``item``
    (F,) draw-item index, ``coverage`` (F,) in (0, 1]. Ordered by item, then pixel. ``floor`` (H*W,)
    bool: the pixels wholly inside the lowest item ``floor_item`` (coverage 1, no edge there), which
    ``rasterize(floor=True)`` leaves out of the fragments; None where not asked for."""

    pixel: torch.Tensor
    item: torch.Tensor
    coverage: torch.Tensor
    floor: torch.Tensor | None = None
    floor_item: int = -1


def _grid_crossings(lo: torch.Tensor, hi: torch.Tensor, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer grid lines strictly inside (lo, hi) and within [0, limit]: (first line (E,), count (E,))."""
    first = torch.clamp(torch.floor(lo) + 1, min=0)
    last = torch.clamp(torch.ceil(hi) - 1, max=limit)
    count = (last - first + 1).clamp(min=0).long()
    return first, count


def split_at_grid(edges: torch.Tensor, edge_item: torch.Tensor, width: int, height: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cut edges (E, 2, 2) at the grid lines x = 0..W and y = 0..H and clamp them to the canvas.

    Returns pieces (M, 2, 2) each inside one pixel column/row band, their items (M,), their
    cells (M, 2) as integer (col, row) with col in [0, W] (W: right of the canvas), which of
    each piece's two ends (M, 2) bool is an end point of its edge (not a grid crossing), and which
    pieces (M,) bool are the zero-length halves where an edge passes through a pixel corner
    (``_through_corners``).
    """
    a, b = edges.unbind(1)  # one backward (a stack), not two selects each zero-filling (E, 2, 2)
    if kernels.compiled(edges):
        with torch.no_grad():
            edge_of_break, line, axis, crossing, kind = kernels.grid_breaks(a, b, width, height)
            is_vertex = kind == 0
        ae, be = kernels.gather_rows(edges, edge_of_break).unbind(1)  # one gather, one backward
        t = _break_parameter(ae, be, line, axis, crossing)
    else:
        t, edge_of_break, is_vertex, kind = _ordered_breaks(a, b, width, height)
        ae, be = a.index_select(0, edge_of_break), b.index_select(0, edge_of_break)
    point = ae + t[:, None] * (be - ae)
    with torch.no_grad():
        raw_y = point[:, 1].detach()
        same_edge = edge_of_break[1:] == edge_of_break[:-1]
        # pieces wholly above or below the canvas add nothing, not even gradient (y is clamped)
        outside = ((raw_y[1:] <= 0) & (raw_y[:-1] <= 0)) | ((raw_y[1:] >= height) & (raw_y[:-1] >= height))
        first = torch.nonzero(same_edge & ~outside).flatten()  # piece j runs from break j to break j + 1
    point = torch.stack([point[:, 0].clamp(0, width), point[:, 1].clamp(0, height)], 1)
    start, end = point.index_select(0, first), point.index_select(0, first + 1)
    with torch.no_grad():
        mid = (start + end).detach() / 2
        cell = torch.stack([mid[:, 0].floor().clamp(0, width), mid[:, 1].floor().clamp(0, height - 1)], 1).long()
        vertex = torch.stack([is_vertex.index_select(0, first), is_vertex.index_select(0, first + 1)], 1)
    pieces = torch.stack([start, end], 1)
    item = edge_item.index_select(0, edge_of_break.index_select(0, first))
    return _through_corners(pieces, item, cell, vertex, edges, edge_of_break.index_select(0, first),
                            kind.index_select(0, first), kind.index_select(0, first + 1), width, height)


def _ordered_breaks(a: torch.Tensor, b: torch.Tensor, width: int, height: int
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``kernels.grid_breaks`` in torch (CUDA), with the breaks' parameters: per break (B) of edges
    ``a`` -> ``b`` (E, 2) at the grid lines, in order along each edge, its t (differentiable), edge, whether
    it is an end point of its edge, and its kind (0: end point, 1: x crossing, 2: y crossing)."""
    with torch.no_grad():
        lo, hi = torch.minimum(a, b), torch.maximum(a, b)
        first_x, count_x = _grid_crossings(lo[:, 0], hi[:, 0], width)
        first_y, count_y = _grid_crossings(lo[:, 1], hi[:, 1], height)
        breaks = count_x + count_y + 2
        edge_of_break, k = expand(breaks)
        # k == 0: t = 0; 1..count_x: x crossings; then y crossings; last: t = 1
        kx = k - 1
        count_x_of_break = count_x.index_select(0, edge_of_break)  # index_select: 10x faster than [] here
        ky = kx - count_x_of_break
        is_x = (kx >= 0) & (kx < count_x_of_break)
        is_y = (ky >= 0) & (ky < count_y.index_select(0, edge_of_break))
        is_end = k == breaks.index_select(0, edge_of_break) - 1
        is_vertex = (k == 0) | is_end
        # the grid line crossed (x or y line), or 0/1 for the end points
        line = torch.where(is_x, first_x.index_select(0, edge_of_break) + kx,
                           torch.where(is_y, first_y.index_select(0, edge_of_break) + ky, is_end.to(a.dtype)))
        axis = is_y.long()  # 0: a vertical line x = line, 1: a horizontal line y = line
    t = _break_parameter(a.index_select(0, edge_of_break), b.index_select(0, edge_of_break), line, axis, is_x | is_y)
    with torch.no_grad():
        order = _merged_order(a.detach(), b.detach(), t.detach(), edge_of_break, kx, is_x, ky, is_y, count_x,
                              first_y, count_y)
        edge_of_break = edge_of_break.index_select(0, order)
        is_vertex = is_vertex.index_select(0, order)
        kind = (is_x.long() + 2 * is_y.long()).index_select(0, order)  # 1: x crossing, 2: y crossing
    return t.index_select(0, order), edge_of_break, is_vertex, kind


def _merged_order(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, edge: torch.Tensor, kx: torch.Tensor,
                  is_x: torch.Tensor, ky: torch.Tensor, is_y: torch.Tensor, count_x: torch.Tensor,
                  first_y: torch.Tensor, count_y: torch.Tensor) -> torch.Tensor:
    """The permutation (B,) that orders each edge's breaks by t, without a sort.

    The breaks of edge ``edge`` (B,) are laid out as its start, its x crossings ``kx`` = 0..count_x - 1
    (``is_x``), its y crossings ``ky`` = 0..count_y - 1 (``is_y``), both by ascending grid line, and
    its end; ``t`` (B,) their parameters along the edges ``a`` -> ``b`` (E, 2). Both kinds of crossing
    are monotonic in t, so an x crossing's place is its rank plus the y lines the edge has crossed
    by then (read from its y; on a tie the x crossing comes first), and the y crossings fill the
    places left over, in t order.
    """
    start = torch.cumsum(count_x + count_y + 2, 0) - (count_x + count_y + 2)
    position = torch.arange(len(edge), device=edge.device)  # start and end stay where they are
    xs = torch.nonzero(is_x).flatten()
    e = edge.index_select(0, xs)
    k = kx.index_select(0, xs)
    cx, cy, fy = count_x.index_select(0, e), count_y.index_select(0, e), first_y.index_select(0, e)
    ay, by = a[:, 1].index_select(0, e), b[:, 1].index_select(0, e)
    rank = torch.where(b[:, 0].index_select(0, e) > a[:, 0].index_select(0, e), k, cx - 1 - k)
    y = ay + t.index_select(0, xs) * (by - ay)
    crossed = torch.where(by > ay, torch.ceil(y) - fy, fy + cy - 1 - torch.floor(y)).long()
    position.index_put_((xs,), start.index_select(0, e) + 1 + rank + torch.minimum(crossed.clamp(min=0), cy))
    taken = torch.zeros(len(edge), dtype=torch.bool, device=edge.device)
    taken.index_fill_(0, position.masked_select(~is_y), True)
    free = torch.nonzero(~taken).flatten()
    ys = torch.nonzero(is_y).flatten()
    e = edge.index_select(0, ys)
    k, cy = ky.index_select(0, ys), count_y.index_select(0, e)
    rank = torch.where(b[:, 1].index_select(0, e) > a[:, 1].index_select(0, e), k, cy - 1 - k)
    position.index_put_((ys,), free.index_select(0, (torch.cumsum(count_y, 0) - count_y).index_select(0, e) + rank))
    return torch.empty_like(position).index_copy_(0, position, torch.arange(len(edge), device=edge.device))


def _through_corners(pieces: torch.Tensor, item: torch.Tensor, cell: torch.Tensor, vertex: torch.Tensor,
                     edges: torch.Tensor, edge: torch.Tensor, start_kind: torch.Tensor, end_kind: torch.Tensor,
                     width: int, height: int
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Central point gradients where an edge passes exactly through a pixel corner (X, Y).

    Its x crossing P and y crossing Q there coincide in value, and the piece between them (of
    length 0 up to rounding) lies, as the edge moves to one side or the other, in the cell after
    the x line and before the y line, or the other way round. The mean of both sides is taken: the
    pieces before and after end and start at (P + Q) / 2, and the piece between is replaced by two
    halves, from (P + Q) / 2 to Q in the first of those cells and to P in the second.
    ``edge``, ``start_kind``, ``end_kind`` (M,): each piece's edge and the kind of its two ends
    (0: end point, 1: x crossing, 2: y crossing). Returns split_at_grid's five values.
    """
    with torch.no_grad():
        p = pieces.detach()
        tolerance = 16 * torch.finfo(p.dtype).eps * max(width, height, 1)
        corner = torch.round(p[:, 0])
        at = torch.nonzero((start_kind + end_kind == 3) & ((p[:, 1] - p[:, 0]).abs().amax(1) <= tolerance)
                           & (corner > 0).all(1) & (corner[:, 0] < width) & (corner[:, 1] < height)).flatten()
    corners = torch.zeros(len(pieces), dtype=torch.bool, device=pieces.device)
    if len(at) == 0:
        return pieces, item, cell, vertex, corners
    with torch.no_grad():
        # the pieces before and after on the same edge (a corner inside the canvas is never a first or last piece)
        before, after = at - 1, at + 1
        x_first = start_kind.index_select(0, at) == 1
        direction = edges[:, 1] - edges[:, 0]
        forward = (direction.detach().index_select(0, edge.index_select(0, at)) > 0).long()  # (T, 2)
        line = corner.index_select(0, at).long()
        after_x_line = torch.stack([line[:, 0] - 1 + forward[:, 0], line[:, 1] - forward[:, 1]], 1)
        after_y_line = torch.stack([line[:, 0] - forward[:, 0], line[:, 1] - 1 + forward[:, 1]], 1)
    piece = pieces.index_select(0, at)
    mean = (piece[:, 0] + piece[:, 1]) / 2
    p_x = torch.where(x_first[:, None], piece[:, 0], piece[:, 1])
    p_y = torch.where(x_first[:, None], piece[:, 1], piece[:, 0])
    pieces = pieces.index_put((before, torch.ones_like(before)), mean).index_put((after, torch.zeros_like(after)), mean)
    pieces = torch.cat([pieces.index_put((at,), torch.stack([mean, p_y], 1)), torch.stack([mean, p_x], 1)])
    cell = torch.cat([cell.index_put((at,), after_x_line), after_y_line])
    corners = torch.cat([corners.index_fill(0, at, True), torch.ones(len(at), dtype=torch.bool, device=p.device)])
    return pieces, torch.cat([item, item.index_select(0, at)]), cell, torch.cat([vertex, vertex.index_select(0, at)]), \
        corners


def _break_parameter(a: torch.Tensor, b: torch.Tensor, line: torch.Tensor, axis: torch.Tensor,
                     crossing: torch.Tensor) -> torch.Tensor:
    """Parameter t (M,) along edges from ``a`` to ``b`` (M, 2) where they meet grid line ``line`` on
    ``axis`` (0: x, 1: y) for ``crossing`` breaks; for the end points, ``line`` is t itself."""
    ae = a.gather(1, axis[:, None])[:, 0]
    delta = b.gather(1, axis[:, None])[:, 0] - ae
    safe = torch.where(delta == 0, torch.ones_like(delta), delta)
    return torch.where(crossing, (line - ae) / safe, line)


FLOOR_SPLIT = 4  # box cells a piece above which the lowest item is summed on its own (``_box_sums``)
FLOOR_ROUNDING = 1e-3  # a cell no piece touches is floor where its sum is over 1 - this (rounding, not 1 - 1 / S)
EVENODD_SUBSCANLINES = 16  # sub-scanlines per pixel row for even-odd items (exact in x, sampled in y)


def rasterize(edges: torch.Tensor, edge_item: torch.Tensor, evenodd: torch.Tensor, width: int, height: int,
              floor: bool = False) -> Fragments:
    """Coverage fragments of draw items given as closed edge soups.

    ``edges`` (E, 2, 2) pixels; ``edge_item`` (E,) item index per edge (every item's edges form closed
    loops); ``evenodd`` (I,) bool fill rule per item (nonzero otherwise). Differentiable in ``edges``.
    Nonzero items get the exact area; even-odd items the exact length of the odd-winding spans on
    ``EVENODD_SUBSCANLINES`` sub-scanlines per row (an area-averaged winding would count a ring
    thinner than a pixel several times over). With ``floor``, the pixels wholly inside the lowest
    item are returned as ``Fragments.floor`` instead of as fragments: nothing lies below them, so
    they can be drawn as one dense layer, and their coverage, exactly 1, has no point gradient (the
    area steps of the edges left of such a pixel in its row sum to its constant winding).
    """
    lowest = int(edge_item.min()) if floor and len(edge_item) else -1
    odd_edge = evenodd.index_select(0, edge_item)
    if not bool(odd_edge.any()):
        return _nonzero(edges, edge_item, len(evenodd), width, height, lowest)
    odd = _evenodd(edges[odd_edge], edge_item[odd_edge], len(evenodd), width, height, lowest)
    if bool(odd_edge.all()):
        return odd
    rest = _nonzero(edges[~odd_edge], edge_item[~odd_edge], len(evenodd), width, height, lowest)
    item = torch.cat([odd.item, rest.item])
    pixel = torch.cat([odd.pixel, rest.pixel])
    with torch.no_grad():
        order = torch.argsort(item * (width * height) + pixel)
    below = None if odd.floor is None else odd.floor | rest.floor  # one of them is all False
    return Fragments(pixel[order], item[order], torch.cat([odd.coverage, rest.coverage])[order], below, lowest)


def _empty(edges: torch.Tensor, lowest: int, width: int, height: int) -> Fragments:
    empty = torch.zeros(0, dtype=torch.long, device=edges.device)
    floor = torch.zeros(width * height, dtype=torch.bool, device=edges.device) if lowest >= 0 else None
    return Fragments(empty, empty, edges.new_zeros(0), floor, lowest)


@dataclass
class _Sums:
    """Fragments after the row prefix sums: their ``value`` (F,) (the signed area or coverage),
    ``item`` (F,) and canvas ``pixel`` (F,), ordered by item, then pixel; and ``floor`` (H*W,) bool,
    the canvas pixels wholly inside the lowest item (None where not asked for)."""

    value: torch.Tensor
    item: torch.Tensor
    pixel: torch.Tensor
    floor: torch.Tensor | None


def _box_sums(cell: torch.Tensor, item: torch.Tensor, step: torch.Tensor, fx: torch.Tensor, num_items: int,
              width: int, height: int, lowest: int, sampled: bool = False) -> _Sums:
    """Prefix-sum steps along rows: a step of ``step`` (M,) at offset ``fx`` (M,) in [0, 1] inside
    cell ``cell`` (M, 2) (col in [0, W], row) of item ``item`` (M,) adds ``step * (1 - fx)`` to that
    cell and ``step`` to every cell right of it. Every item is summed over each of its rows from its
    first piece to its last (``_row_sums``), except item ``lowest`` (-1: none), whose inside is its
    ``floor``: where its box holds more than ``FLOOR_SPLIT`` cells a piece (taking it apart from the
    other items' pieces costs a few passes over all of them), it is summed over the cells its pieces
    touch only (``_floor_sums``), unless ``sampled`` (even-odd sub-scanline steps: a cell no step touches
    may still be partly covered, so every cell of the item's rows is summed)."""
    with torch.no_grad():
        low = torch.nonzero(item == lowest).flatten()
        box = cell.index_select(0, low).amax(0) - cell.index_select(0, low).amin(0) + 1 if len(low) else None
    if box is None or sampled or int(box.prod()) <= FLOOR_SPLIT * len(cell):
        return _row_sums(cell, item, step, fx, num_items, width, height, lowest)
    with torch.no_grad():
        rest = torch.nonzero(item != lowest).flatten()
    value, pixel, floor = _floor_sums(cell.index_select(0, low), step.index_select(0, low), fx.index_select(0, low),
                                      width, height)
    sums = _row_sums(cell.index_select(0, rest), item.index_select(0, rest), step.index_select(0, rest),
                     fx.index_select(0, rest), num_items, width, height, -1)
    return _Sums(torch.cat([value, sums.value]), torch.cat([torch.full_like(pixel, lowest), sums.item]),
                 torch.cat([pixel, sums.pixel]), floor)


def _row_sums(cell: torch.Tensor, item: torch.Tensor, step: torch.Tensor, fx: torch.Tensor, num_items: int,
              width: int, height: int, lowest: int) -> _Sums:
    """``_box_sums`` with each item accumulated over the span of each of its rows from its first piece
    to its last (outside it the row's sum is 0), plus a spill cell; the cells of item ``lowest`` (-1:
    none) that no piece touches and that sum to 1 or more are its ``floor``, not fragments."""
    with torch.no_grad():
        rows = _RowTable.of(cell, item, num_items, width)
        row = rows.of_piece
        base = rows.end.index_select(0, row) - rows.cells.index_select(0, row) + (cell[:, 0] - rows.x0.index_select(0, row))
        row_last = rows.end.index_select(0, row) - 1  # the spill cell of the piece's row
    value = _prefix_sums(step, fx, base, row_last, rows.size)
    with torch.no_grad():
        # Cells a piece touched stay fragments even at value 0: an edge lying exactly on a pixel
        # boundary has its gradient there. Cells right of the canvas never are.
        touched = torch.zeros(rows.size, dtype=torch.bool, device=value.device)
        touched.index_fill_(0, base, True).index_fill_(0, base + 1, True)
        keep = (value.detach().abs() > 1e-6) | touched
        keep.index_fill_(0, rows.outside, False)
        floor = _take_floor(value.detach(), keep, touched, rows, lowest, width * height) if lowest >= 0 else None
        index = torch.nonzero(keep).flatten()
        count_dtype = torch.int32 if len(keep) < 2 ** 31 else torch.int64  # a bool cumsum to int64 is 10x slower
        per_row = torch.cumsum(keep, 0, dtype=count_dtype).index_select(0, rows.end - 1).long()
        frag_row = torch.repeat_interleave(torch.diff(per_row, prepend=per_row.new_zeros(1)), output_size=len(index))
        frag_item = rows.item.index_select(0, frag_row)
        pixel = index + rows.pixel_shift.index_select(0, frag_row)
    return _Sums(value.index_select(0, index), frag_item, pixel, floor)


def _take_floor(value: torch.Tensor, keep: torch.Tensor, touched: torch.Tensor, rows: "_RowTable", lowest: int,
                num_pixels: int) -> torch.Tensor:
    """Which canvas pixels (H*W,) bool are cells of item ``lowest`` that no piece touches and whose
    ``value`` (T,) is 1 or more up to rounding (coverage 1), taken out of ``keep`` (T,) in place;
    ``touched`` (T,) the cells holding a piece or right of one. The item's rows come first. A nonzero
    item's untouched cell holds its constant winding, an integer; an even-odd item's holds the share
    of its sub-scanlines inside, a fraction where an edge (a horizontal one, say) lies between them."""
    count = int(torch.count_nonzero(rows.item == lowest))
    limit = int(rows.end[count - 1]) if count else 0
    inside = keep[:limit] & ~touched[:limit] & (value[:limit].abs() > 1 - FLOOR_ROUNDING)
    keep[:limit] &= ~inside
    shift = torch.repeat_interleave(rows.pixel_shift[:count], rows.cells[:count], output_size=limit)
    # the other cells are written to a spare pixel past the canvas
    pixel = torch.where(inside, torch.arange(limit, device=shift.device) + shift, num_pixels)
    floor = torch.zeros(num_pixels + 1, dtype=torch.bool, device=shift.device)
    return floor.index_fill_(0, pixel, True)[:num_pixels]


def _floor_sums(cell: torch.Tensor, step: torch.Tensor, fx: torch.Tensor, width: int, height: int
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``_box_sums`` of one item's steps over only the cells they touch (each piece's cell and the one
    right of it, the last of a row being its spill cell): the values (F,) and canvas pixels (F,) of
    those inside the canvas, and the floor (H*W,) bool: the runs of untouched cells between two
    touched ones of a row whose sum is not 0 (there it is the constant winding, an integer up to
    rounding: coverage 1)."""
    with torch.no_grad():
        stride = width + 2  # columns 0..W + 1 of a row
        key = cell[:, 1] * stride + cell[:, 0]
        cells = torch.unique(torch.cat([key, key + 1]))  # sorted
        base = torch.searchsorted(cells, key)
        row, col = cells // stride, cells % stride
        row_last = torch.searchsorted(cells, (row + 1) * stride) - 1  # each cell's row's last cell
    value = _prefix_sums(step, fx, base, row_last.index_select(0, base), len(cells))
    with torch.no_grad():
        inside = torch.nonzero(col < width).flatten()
        pixel = row.index_select(0, inside) * width + col.index_select(0, inside)
        # a run from the column after cell k to the column before cell k + 1 of the same row, where
        # the sum through cell k is the winding
        start, end = col[:-1] + 1, torch.minimum(col[1:], torch.full_like(col[1:], width))
        run = torch.nonzero((row[1:] == row[:-1]) & (start < end) & (value.detach()[:-1].abs() > 0.5)).flatten()
        offset = row.index_select(0, run) * width
        edges = torch.zeros(width * height + 1, dtype=torch.int32, device=cell.device)
        edges.index_add_(0, offset + start.index_select(0, run), torch.ones_like(run, dtype=torch.int32))
        edges.index_add_(0, offset + end.index_select(0, run), torch.full_like(run, -1, dtype=torch.int32))
        floor = torch.cumsum(edges[:-1], 0, dtype=torch.int32) > 0
    return value.index_select(0, inside), pixel, floor


def _prefix_sums(step: torch.Tensor, fx: torch.Tensor, base: torch.Tensor, row_last: torch.Tensor, size: int
                 ) -> torch.Tensor:
    """``_RowPrefixSums`` (T,), compiled on the CPU (``kernels.row_prefix_sums``)."""
    if kernels.compiled(step):
        return kernels.row_prefix_sums(step, fx, base, row_last, size)
    return _RowPrefixSums.apply(step, fx, base, row_last, size)


class _RowPrefixSums(torch.autograd.Function):
    """Box cells' values (T,) in the dtype of ``step``: prefix sums along each box row of
    ``step * (1 - fx)`` added at cell ``base`` and ``step * fx`` at ``base + 1`` (M,), each row ending
    in its spill cell ``row_last`` (M,). Backward is the per-row suffix sum of the cells' gradient at
    the pieces' two cells: two float64 passes instead of autograd's flips and copies of the boxes."""

    @staticmethod
    def forward(ctx, step: torch.Tensor, fx: torch.Tensor, base: torch.Tensor, row_last: torch.Tensor,
                size: int) -> torch.Tensor:
        # in float64 from the start: float32 products leave ~1e-7 in sums that cancel exactly (abutting
        # stroke quads), and the coverage's kinks at 0 and 1 turn that noise into gradient noise
        step64, fx64 = step.double(), fx.double()
        contribution = torch.cat([step64 * (1 - fx64), step64 * fx64])
        accumulator = contribution.new_zeros(size).index_add_(0, torch.cat([base, base + 1]), contribution)
        # Every closed loop adds zero per row, so one global prefix sum is a per-row prefix sum; what
        # rounding leaves of a row's sum is taken back in its last (spill) cell, so that it never
        # leaks into the rows and items after it as faint coverage.
        accumulator.index_add_(0, torch.cat([row_last, row_last]), -contribution)
        ctx.save_for_backward(step64, fx64, base, row_last)
        ctx.dtype = step.dtype
        return torch.cumsum(accumulator, 0).to(step.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        step, fx, base, row_last = ctx.saved_tensors
        grad = grad.double()
        total = torch.cumsum(grad, 0)
        row_total = total.index_select(0, row_last)
        # gradient summed over cells c..row_last: what a step at c moves
        at_base = row_total - total.index_select(0, base) + grad.index_select(0, base)
        at_next = row_total - total.index_select(0, base + 1) + grad.index_select(0, base + 1)
        grad_step = (at_base * (1 - fx) + at_next * fx).to(ctx.dtype) if ctx.needs_input_grad[0] else None
        grad_fx = (step * (at_next - at_base)).to(ctx.dtype) if ctx.needs_input_grad[1] else None
        return grad_step, grad_fx, None, None, None


def _nonzero(edges: torch.Tensor, edge_item: torch.Tensor, num_items: int, width: int, height: int, lowest: int
             ) -> Fragments:
    """Exact-area nonzero coverage: signed area per pixel from grid-cut edge pieces; the floor of item
    ``lowest`` (-1: none) apart."""
    pieces = _Pieces.cut(edges, edge_item, width, height)
    if len(pieces.points) == 0:
        return _empty(edges, lowest, width, height)
    # the halves of a piece through a pixel corner add nothing to the exact area where the winding is
    # nonzero, in value or derivative (the cell it would enter gains a triangle quadratic in the move)
    exact = pieces if not bool(pieces.corner.any()) else pieces.subset(torch.nonzero(~pieces.corner).flatten())
    overlaps = flag_cells(exact.points, exact.item, exact.cell, width, height)
    overlap_coverage = exact_cell_coverage(exact.points, exact.cell, overlaps, width)
    overlap_key = overlaps.fragment_keys(exact.item, exact.cell, width, height)
    pieces = _ends_on_row_lines(_on_grid_line(_on_grid_line(pieces, 0), 1), height)
    points, item, cell = pieces.points, pieces.item, pieces.cell
    # dy and the mean x of each piece in one product (x0 y0 x1 y1) @ (4, 2): exact (weights 0, +-1, 1/2), and one
    # backward instead of four selects' full-size zeros
    weights = torch.tensor([[0.0, 0.5], [-1.0, 0.0], [0.0, 0.5], [1.0, 0.0]], dtype=points.dtype, device=points.device)
    dy, x_mid = (points.reshape(-1, 4) @ weights).unbind(1)
    sums = _box_sums(cell, item, dy * pieces.weight, x_mid - cell[:, 0].to(points.dtype), num_items, width, height,
                     lowest)
    with torch.no_grad():
        # an item's orientation (the sign of its covered area, -sum dy * x per piece) gives |value| a
        # useful gradient where value is 0
        area = torch.zeros(num_items, dtype=dy.dtype, device=dy.device).index_add(0, item, -dy * x_mid)
        orientation = torch.sign(area)
    value = sums.value
    if kernels.compiled(value):
        coverage = kernels.nonzero_coverage(value, sums.item, sums.pixel, orientation, width * height, overlap_key,
                                            overlap_coverage)
        return Fragments(sums.pixel, sums.item, coverage, sums.floor, lowest)
    with torch.no_grad():
        # a cell the item does not cover holds only the prefix sum's rounding (~1e-16), whose sign is noise
        sign = torch.where(value.detach().abs() > 1e-9, torch.sign(value.detach()),
                           orientation.index_select(0, sums.item))
    magnitude = value * sign
    # not clamp(): its gradient is 0 at exactly 1, which would freeze edges lying on pixel boundaries.
    # A full cell's sum is 1 up to rounding (either side); its gradient, which carries the central
    # derivative of vertices on row lines, must not depend on which side: only a sum clearly over 1
    # (a winding of 2 or more) is cut to 1 without gradient.
    over = (magnitude.detach() - 1).clamp(min=0)
    coverage = torch.where(over > 1e-9, torch.ones_like(magnitude), magnitude - over)
    # where the item overlaps itself inside a pixel the signed area counts the overlap twice (or
    # cancels opposite windings): those pixels take the exact area where the winding is nonzero
    with torch.no_grad():
        at = torch.searchsorted(sums.item * (width * height) + sums.pixel, overlap_key)
    coverage = coverage.index_put((at,), overlap_coverage.to(coverage.dtype))
    return Fragments(sums.pixel, sums.item, coverage, sums.floor, lowest)


@dataclass
class _Pieces:
    """Grid-cut edge pieces: ``points`` (M, 2, 2) px, ``item`` (M,), ``cell`` (M, 2) integer (col,
    row), ``weight`` (M,) factor on the piece's area step, ``vertex`` (M, 2) which ends are end
    points of their edge (not grid crossings), ``corner`` (M,) the halves of a piece through a pixel
    corner (not pieces on a grid line)."""

    points: torch.Tensor
    item: torch.Tensor
    cell: torch.Tensor
    weight: torch.Tensor
    vertex: torch.Tensor
    corner: torch.Tensor

    @classmethod
    def cut(cls, edges: torch.Tensor, edge_item: torch.Tensor, width: int, height: int) -> "_Pieces":
        points, item, cell, vertex, corner = split_at_grid(edges, edge_item, width, height)
        return cls(points, item, cell, torch.ones(len(points), dtype=points.dtype, device=points.device), vertex,
                   corner)

    def subset(self, index: torch.Tensor) -> "_Pieces":
        """Pieces ``index`` (T,)."""
        return _Pieces(*(values.index_select(0, index) for values in (self.points, self.item, self.cell, self.weight,
                                                                       self.vertex, self.corner)))

    def with_copies(self, index: torch.Tensor, cell: torch.Tensor, points: torch.Tensor | None = None) -> "_Pieces":
        """These pieces followed by copies of pieces ``index`` (T,) moved to ``cell`` (T, 2), with
        new ``points`` (T, 2, 2) where given."""
        def grown(values: torch.Tensor) -> torch.Tensor:
            return torch.cat([values, values.index_select(0, index)])

        return _Pieces(grown(self.points) if points is None else torch.cat([self.points, points]), grown(self.item),
                       torch.cat([self.cell, cell]), grown(self.weight), grown(self.vertex), grown(self.corner))


def _on_grid_line(pieces: _Pieces, axis: int) -> _Pieces:
    """Split the pieces that lie exactly on their cell's first grid line on ``axis`` (0: a vertical
    piece on the cell's left line, 1: a horizontal piece on its top line; not the canvas border)
    into two halves of half the weight, one on each side of the line.

    Such a piece is a butt cap or an axis-aligned side on a pixel boundary. Its half in the neighbour
    cell adds the same coverage, but a move of the piece across the line then sends half the
    gradient to each side: the central derivative, not the one-sided one towards its own cell.
    """
    with torch.no_grad():
        line = pieces.cell[:, axis].to(pieces.points.dtype)
        coordinate = pieces.points.detach()[:, :, axis]
        twin = torch.nonzero((coordinate[:, 0] == line) & (coordinate[:, 1] == line) & (line >= 1)
                             & ~pieces.corner).flatten()
        cell = pieces.cell.index_select(0, twin)
        cell[:, axis] -= 1
    return replace(pieces, weight=pieces.weight.index_fill(0, twin, 0.5)).with_copies(twin, cell)


def _ends_on_row_lines(pieces: _Pieces, height: int) -> _Pieces:
    """Central y derivatives at edge end points lying exactly on a horizontal pixel line.

    A piece in row r ending at such a point V only sees V move into row r: moved the other way, the
    edge would cross the line and go on into the neighbour row. Half of each side's derivative is
    kept: the piece's end becomes the mean of V and the edge's crossing with the line (equal to V in
    value), and a piece of zero length from the line to halfway to V is added in the neighbour row
    (not across the canvas border). Horizontal pieces are ``_on_grid_line``'s.
    """
    with torch.no_grad():
        y = pieces.points.detach()[:, :, 1]
        on_line = pieces.vertex & (y == torch.floor(y)) & (y >= 1) & (y <= height - 1) & (y[:, :1] != y[:, 1:])
        piece, end = torch.nonzero(on_line, as_tuple=True)
        line = y[piece, end]
        cell = pieces.cell.index_select(0, piece)
        cell[:, 1] = torch.where(line == cell[:, 1].to(line.dtype), line - 1, line).long()
    if len(piece) == 0:
        return pieces
    v, s = pieces.points[piece, end], pieces.points[piece, 1 - end]
    crossing_x = s[:, 0] + (v[:, 0] - s[:, 0]) * (line - s[:, 1]) / (v[:, 1] - s[:, 1])
    mean = torch.stack([(v[:, 0] + crossing_x) / 2, (v[:, 1] + line) / 2], 1)
    on_the_line = torch.stack([v[:, 0], line.expand_as(v[:, 0])], 1)
    halfway = torch.stack([v[:, 0], line + (v[:, 1] - line) / 2], 1)
    # from the line towards V where V is the piece's end, from V's side to the line where it is its start
    twin = torch.where((end == 1)[:, None, None], torch.stack([on_the_line, halfway], 1),
                       torch.stack([halfway, on_the_line], 1))
    return replace(pieces, points=pieces.points.index_put((piece, end), mean)).with_copies(piece, cell, points=twin)


def _evenodd(edges: torch.Tensor, edge_item: torch.Tensor, num_items: int, width: int, height: int, lowest: int
             ) -> Fragments:
    """Even-odd coverage from sub-scanlines: on each, the edges' crossings sorted by x give the
    winding between them, and every change of its parity steps the coverage at the crossing's x
    (exact in x, differentiable through the crossings' x; 1 / S px sampling in y); the floor of item
    ``lowest`` (-1: none) apart."""
    sub = EVENODD_SUBSCANLINES
    a, b = edges.unbind(1)  # one backward (a stack), not two selects each zero-filling (E, 2, 2)
    with torch.no_grad():
        lo = torch.minimum(a[:, 1], b[:, 1]).detach() * sub - 0.5
        hi = torch.maximum(a[:, 1], b[:, 1]).detach() * sub - 0.5
        first = torch.ceil(lo).clamp(min=0)  # sub-scanline s sits at y = (s + 0.5) / S; crossed on [lo, hi)
        count = (torch.ceil(hi).clamp(max=height * sub) - first).clamp(min=0).long()
        edge, k = expand(count)
        line = first.index_select(0, edge).long() + k
        direction = torch.sign(b[:, 1] - a[:, 1]).detach().long().index_select(0, edge)
    if len(edge) == 0:
        return _empty(edges, lowest, width, height)
    ae, be = a.index_select(0, edge), b.index_select(0, edge)
    t = ((line.to(a.dtype) + 0.5) / sub - ae[:, 1]) / (be[:, 1] - ae[:, 1])
    x = (ae[:, 0] + t * (be[:, 0] - ae[:, 0])).clamp(0, width)
    with torch.no_grad():
        key = edge_item.index_select(0, edge) * (height * sub) + line
        order = torch.argsort(x.detach(), stable=True)
        order = order.index_select(0, torch.argsort(key.index_select(0, order), stable=True))
        # every sub-scanline's windings sum to 0 (closed loops), so a global cumsum is per sub-scanline
        parity = torch.remainder(torch.cumsum(direction.index_select(0, order), 0), 2)
        step = torch.diff(parity, prepend=parity.new_zeros(1)).to(a.dtype) / sub
        item = edge_item.index_select(0, edge).index_select(0, order)
        col = x.detach().index_select(0, order).floor().clamp(max=width).long()
        cell = torch.stack([col, line.index_select(0, order) // sub], 1)
    x = x.index_select(0, order)
    sums = _box_sums(cell, item, step, x - col.to(x.dtype), num_items, width, height, lowest, sampled=True)
    return Fragments(sums.pixel, sums.item, sums.value, sums.floor, lowest)


@dataclass
class _RowTable:
    """The accumulation rows of every item, one per row of the canvas where it has pieces, laid out one
    after another (R rows, ``size`` cells): each spans the item's pieces in that row plus a spill cell.

    ``item`` (R,) owning item; ``x0`` (R,) column of the row's first cell; ``cells`` (R,) its cell
    count; ``end`` (R,) flat index one past its last cell; ``pixel_shift`` (R,) added to a cell's flat
    index gives its canvas pixel; ``outside`` flat indices of the cells right of the canvas (column >=
    W), which hold only the rows' spill; ``of_piece`` (M,) the row of each piece.
    """

    item: torch.Tensor
    x0: torch.Tensor
    cells: torch.Tensor
    end: torch.Tensor
    pixel_shift: torch.Tensor
    outside: torch.Tensor
    of_piece: torch.Tensor
    size: int

    @classmethod
    def of(cls, cell: torch.Tensor, item: torch.Tensor, num_items: int, width: int) -> "_RowTable":
        """The rows of pieces in cells ``cell`` (M, 2) (col, row) of items ``item`` (M,)."""
        col, row = cell[:, 0], cell[:, 1]
        y0, y1 = group_min_max(row, item, num_items)
        box_h = torch.where(y1 >= y0, y1 + 1 - y0, 0)
        y0 = torch.where(y1 >= y0, y0, 0)
        # the rows of each item's vertical extent, then only those holding pieces
        in_box = (torch.cumsum(box_h, 0) - box_h).index_select(0, item) + row - y0.index_select(0, item)
        x0, x1 = group_min_max(col, in_box, int(box_h.sum()))
        used = torch.nonzero(x1 >= x0).flatten()
        number = torch.cumsum(x1 >= x0, 0) - 1
        row_item, k = expand(box_h)
        row_item, row_y = row_item.index_select(0, used), (y0.index_select(0, row_item) + k).index_select(0, used)
        x0 = x0.index_select(0, used)
        cells = x1.index_select(0, used) + 2 - x0  # one spill column on the right
        end = torch.cumsum(cells, 0)
        pixel_shift = row_y * width + x0 - (end - cells)
        beyond = (x0 + cells - width).clamp(min=0)  # 0, 1 or 2 cells per row
        outside = torch.cat([end[beyond >= 1] - 1, end[beyond >= 2] - 2])
        return cls(row_item, x0, cells, end, pixel_shift, outside, number.index_select(0, in_box),
                   int(end[-1]) if len(end) else 0)
