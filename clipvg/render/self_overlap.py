"""Exact nonzero coverage in the pixels where a path overlaps itself.

The signed-area accumulation of ``coverage._nonzero`` integrates the winding number w over each
pixel; nonzero coverage is the area where w != 0. The two agree wherever w takes only the values
{0, s} (|s| = 1) or never 0 inside the pixel. Inside one pixel (cell) of one draw item, w is
constant off the item's edge pieces there, so the cell is certainly exact when its pieces form one
simple chain (a single edge, a vertex, two vertices: two regions whose windings differ by one) or
two disjoint opposite chords sharing a height (a sliver or a gap: w, w +- 1, w). Every other cell
(overlapping rings, a crossing, four or more pieces) is flagged, and its coverage is recomputed
exactly: its height is cut into bands at the pieces' end points and crossings, inside which the
length where w != 0 is linear in y, so the band's midpoint gives its area exactly (cells crowded
with more than ``EXACT_PIECES`` pieces: at fixed bands instead of crossings; the most crowded, past a
budget of work, at the middles of fixed bands alone). w on the cell's
left side comes from the pieces left of it in its row at one reference height, plus the edges
crossing the cell's left side. The result is differentiable in the pieces' points.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..ragged import expand
from . import kernels

SAFE_PIECES = 3  # cells with more pieces than this are always recomputed
# Cells with more pieces than this (their crossings alone would make the work grow as pieces^3) are cut
# at their end points and at SAMPLED_BANDS equal bands instead of at their crossings: exact in x, the
# midpoint rule in y (error below the band height times the pixel's boundary length).
EXACT_PIECES = 48
SAMPLED_BANDS = 16
# Cutting at end points costs about pieces^2 (piece, band) pairs a cell (~100 bytes each): the most crowded
# cells beyond this many pairs in one render are drawn by the midpoint rule on SAMPLED_BANDS bands alone.
CUT_PAIRS = 2 ** 21
REFERENCE_HEIGHT = 0.4637  # where in its row a cell's entering winding is summed (a height no vertex favours)


@dataclass
class Cells:
    """Pieces grouped by cell: ``order`` (M,) piece indices sorted by (item, row, col), ``key`` (M,)
    their sorted cell keys, and the flagged cells: ``first`` (F,) position in ``order`` of each one's
    first piece, ``count`` (F,) its pieces, ``entering`` (F,) long winding on its left side at the
    row's reference height."""

    order: torch.Tensor
    key: torch.Tensor
    first: torch.Tensor
    count: torch.Tensor
    entering: torch.Tensor

    def fragment_keys(self, item: torch.Tensor, cell: torch.Tensor, width: int, height: int) -> torch.Tensor:
        """(F,) item * H * W + canvas pixel of the flagged cells, for pieces of items ``item`` (M,) in
        cells ``cell`` (M, 2): the order of ``Fragments``."""
        piece = self.order.index_select(0, self.first)
        col, row = cell.index_select(0, piece).unbind(1)
        return (item.index_select(0, piece) * height + row) * width + col


def _cell_key(item: torch.Tensor, cell: torch.Tensor, width: int, height: int) -> torch.Tensor:
    return (item * height + cell[:, 1]) * (width + 1) + cell[:, 0]


def flag_cells(points: torch.Tensor, item: torch.Tensor, cell: torch.Tensor, width: int, height: int) -> Cells:
    """The cells whose signed area may differ from their nonzero coverage, for grid-cut pieces
    ``points`` (M, 2, 2) px of items ``item`` (M,) in cells ``cell`` (M, 2) (col, row)."""
    with torch.no_grad():
        p = points.detach()
        key = _cell_key(item, cell, width, height)
        if (int(item.max()) + 1 if len(item) else 0) * height * (width + 1) < 2 ** 31:
            key = key.to(torch.int32)  # sorts in about half the time
        key, order = torch.sort(key)
        _, count = torch.unique_consecutive(key, return_counts=True)
        first = torch.cumsum(count, 0) - count
        several = torch.nonzero(count >= 2).flatten()  # a cell of one piece is exact
        first, count = first.index_select(0, several), count.index_select(0, several)
        inside = cell[order.index_select(0, first), 0] < width
        flagged = inside & (count > SAFE_PIECES)
        tolerance = 16 * torch.finfo(p.dtype).eps * max(width, height, 1)
        two = torch.nonzero(inside & (count == 2)).flatten()
        flagged.index_put_((two,), ~_two_simple(p, order, first.index_select(0, two), tolerance))
        for m in range(3, SAFE_PIECES + 1):
            checked = torch.nonzero(inside & (count == m)).flatten()
            flagged.index_put_((checked,), ~_chain(p, order, first.index_select(0, checked), m, tolerance))
        flagged = torch.nonzero(flagged).flatten()
        first, count = first.index_select(0, flagged), count.index_select(0, flagged)
        entering = _entering_winding(p, cell, order, key, first) if len(first) else first
    return Cells(order, key, first, count, entering)


def _pairs(first: torch.Tensor, count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ordered pairs (i, j), i != j, of positions inside each group: (group, i position, j position) (Q,)."""
    group, k = expand(count * count)
    m = count.index_select(0, group)
    i, j = k // m, k % m
    keep = i != j
    group, i, j = group[keep], i[keep], j[keep]
    base = first.index_select(0, group)
    return group, base + i, base + j


def _two_simple(p: torch.Tensor, order: torch.Tensor, first: torch.Tensor, tolerance: float) -> torch.Tensor:
    """(G,) bool: the two pieces of each cell (sorted positions ``first``, ``first + 1`` (G,)) are
    linked end to start (so they cannot cross), or are disjoint opposite chords with a common height."""
    a = p.index_select(0, order.index_select(0, first))
    b = p.index_select(0, order.index_select(0, first + 1))
    safe = ((a[:, 1] - b[:, 0]).abs().amax(1) <= tolerance) | ((b[:, 1] - a[:, 0]).abs().amax(1) <= tolerance)
    apart = torch.nonzero(~safe).flatten()
    a, b = a.index_select(0, apart), b.index_select(0, apart)
    y_a, y_b = a[:, :, 1], b[:, :, 1]
    common = torch.minimum(y_a.amax(1), y_b.amax(1)) > torch.maximum(y_a.amin(1), y_b.amin(1))
    opposite = (y_a[:, 1] - y_a[:, 0]) * (y_b[:, 1] - y_b[:, 0]) < 0
    return safe.index_put_((apart,), ~_proper_crossing(a, b) & opposite & common)


def _chain(p: torch.Tensor, order: torch.Tensor, first: torch.Tensor, m: int, tolerance: float) -> torch.Tensor:
    """(G,) bool: the ``m`` pieces of each cell (sorted positions from ``first`` (G,)) are linked end to
    start into one chain (or closed loop; m <= 3, so no loop and chain can share the cell) without crossings."""
    i, j = (torch.tensor(v, device=p.device) for v in zip(*[(u, v) for u in range(m) for v in range(m) if u != v]))

    def pieces(k: torch.Tensor) -> torch.Tensor:
        return p.index_select(0, order.index_select(0, (first[:, None] + k).flatten())).view(len(first), len(k), 2, 2)

    a, b = pieces(i), pieces(j)  # (G, Q, 2, 2)
    link = (a[:, :, 1] - b[:, :, 0]).abs().amax(-1) <= tolerance  # i's end is j's start
    crossing = _proper_crossing(a.flatten(0, 1), b.flatten(0, 1)).view(link.shape).any(1)
    out_links = link.new_zeros(len(first), m, dtype=torch.long).index_add_(1, i, link.long())
    in_links = link.new_zeros(len(first), m, dtype=torch.long).index_add_(1, j, link.long())
    return ~crossing & (link.sum(1) >= m - 1) & (out_links.amax(1) <= 1) & (in_links.amax(1) <= 1)


def _cross(o: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """z of (a - o) x (b - o) for points (Q, 2)."""
    return (a[:, 0] - o[:, 0]) * (b[:, 1] - o[:, 1]) - (a[:, 1] - o[:, 1]) * (b[:, 0] - o[:, 0])


def _proper_crossing(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(Q,) bool: segments a and b (Q, 2, 2) cross at a point inside both (touching does not count)."""
    return ((_cross(a[:, 0], a[:, 1], b[:, 0]) * _cross(a[:, 0], a[:, 1], b[:, 1]) < 0)
            & (_cross(b[:, 0], b[:, 1], a[:, 0]) * _cross(b[:, 0], b[:, 1], a[:, 1]) < 0))


def _entering_winding(p: torch.Tensor, cell: torch.Tensor, order: torch.Tensor, key: torch.Tensor, first: torch.Tensor
                      ) -> torch.Tensor:
    """(F,) long winding just left of each flagged cell at its row's reference height: the signed
    count of the row's pieces in cells left of it (sorted positions row start .. ``first``) that
    span that height. Summed over those ranges, or over all pieces once where that is less work."""
    first_piece = order.index_select(0, first)
    row_start = torch.searchsorted(key, (key.index_select(0, first) - cell[first_piece, 0]).to(key.dtype))
    lengths = first - row_start
    if int(lengths.sum()) <= len(p):
        owner, k = expand(lengths)
        piece = order.index_select(0, row_start.index_select(0, owner) + k)
        return torch.zeros_like(first).index_add_(0, owner, _spanning_step(p.index_select(0, piece),
                                                                           cell[:, 1].index_select(0, piece)))
    before = torch.cumsum(_spanning_step(p, cell[:, 1]).index_select(0, order), 0)
    before = torch.cat([before.new_zeros(1), before])  # exclusive
    return before.index_select(0, first) - before.index_select(0, row_start)


def _spanning_step(p: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
    """(M,) long: each piece's direction (sign of dy) where it spans its row's reference height, else 0."""
    y0, y1 = p[:, 0, 1], p[:, 1, 1]
    reference = row.to(p.dtype) + REFERENCE_HEIGHT
    spans = (torch.minimum(y0, y1) <= reference) & (reference < torch.maximum(y0, y1))
    return torch.where(spans, torch.sign(y1 - y0), 0).long()


def exact_cell_coverage(points: torch.Tensor, cell: torch.Tensor, cells: Cells, width: int) -> torch.Tensor:
    """(F,) float64 nonzero coverage of the flagged ``cells`` of pieces ``points`` (M, 2, 2) px in
    cells ``cell`` (M, 2), differentiable in ``points``: cut into bands (``_cut_coverage``), the most
    crowded cells beyond ``CUT_PAIRS`` by the midpoint rule (``_banded_coverage``)."""
    coverage = torch.zeros(len(cells.count), dtype=torch.float64, device=points.device)
    tolerance = 16 * torch.finfo(points.dtype).eps * max(width, 1)
    corner = cell.index_select(0, cells.order.index_select(0, cells.first)).double()  # (F, 2) (col, row)
    pairs = cells.count.double() ** 2
    if float(pairs.sum()) <= CUT_PAIRS:
        parts = [(None, _cut_coverage)]
    else:
        by_count = torch.argsort(cells.count, stable=True)
        within = torch.cumsum(pairs.index_select(0, by_count), 0) <= CUT_PAIRS
        parts = [(by_count[within], _cut_coverage), (by_count[~within], _banded_coverage)]
    for chosen, method in parts:
        count, first, entering, chosen_corner = ((cells.count, cells.first, cells.entering, corner) if chosen is None
                                                 else (t.index_select(0, chosen) for t in
                                                       (cells.count, cells.first, cells.entering, corner)))
        if len(count):
            owner, k = expand(count)
            seg = points.index_select(0, cells.order.index_select(0, first.index_select(0, owner) + k)).double()
            part = method(seg, owner, count, chosen_corner, entering, tolerance)
            coverage = part if chosen is None else coverage.index_add(0, chosen, part)
    return coverage


def _side_changes(seg: torch.Tensor, owner: torch.Tensor, corner: torch.Tensor, entering: torch.Tensor,
                  tolerance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Where pieces ``seg`` (P, 2, 2) of cells ``owner`` (P,) at ``corner`` (F, 2) cross their cell's
    left side: the winding change there at each piece's start then end point (2P,) long (an edge
    entering a cell through its left side at height y takes 1 off the winding on that side from y down,
    one leaving adds 1; pieces span [y_min, y_max)), and each cell's winding on that side above all
    its changes (F,) long, from ``entering`` (F,), the winding there at the reference height."""
    with torch.no_grad():
        on_side = (seg[:, :, 0].detach() - corner[:, 0].index_select(0, owner)[:, None]).abs() <= tolerance
        change = torch.cat([-on_side[:, 0].long(), on_side[:, 1].long()])
        height = seg[:, :, 1].detach().T.flatten() - corner[:, 1].index_select(0, owner).repeat(2)
        above = (height <= REFERENCE_HEIGHT).long() * change
        return change, entering - torch.zeros_like(entering).index_add_(0, owner.repeat(2), above)


def _cut_coverage(seg: torch.Tensor, owner: torch.Tensor, count: torch.Tensor, corner: torch.Tensor,
                  entering: torch.Tensor, tolerance: float) -> torch.Tensor:
    """(F,) nonzero coverage of cells ``corner`` (F, 2) (col, row) of ``count`` (F,) pieces ``seg``
    (P, 2, 2) float64 (cells ``owner`` (P,)), whose left sides have the winding ``entering`` (F,) at
    the reference height, from bands between their cuts (``_Cuts``)."""
    cuts = _Cuts.of(seg, owner, count, corner, *_side_changes(seg, owner, corner, entering, tolerance))
    y = cuts.y
    height = torch.where(cuts.owner[1:] == cuts.owner[:-1], y[1:] - y[:-1], torch.zeros_like(y[1:]))
    length = _covered_length(seg, corner[:, 0].index_select(0, cuts.owner[:-1]), cuts.pair_band, cuts.pair_piece,
                             (y[1:] + y[:-1]) / 2, cuts.winding[:-1])
    return torch.zeros(len(count), dtype=torch.float64, device=seg.device).index_add(0, cuts.owner[:-1],
                                                                                      height * length)


def _banded_coverage(seg: torch.Tensor, owner: torch.Tensor, count: torch.Tensor, corner: torch.Tensor,
                     entering: torch.Tensor, tolerance: float) -> torch.Tensor:
    """(F,) nonzero coverage of crowded cells (as ``_cut_coverage``) by the midpoint rule on
    ``SAMPLED_BANDS`` equal bands: exact in x, error below the band height times the pixel's boundary
    length; work linear in the pieces (cutting at their end points grows as pieces^2)."""
    bands, cells = SAMPLED_BANDS, len(count)
    top = corner[:, 1]
    band_cell = torch.arange(cells, device=seg.device).repeat_interleave(bands)
    middle = (torch.arange(bands, dtype=seg.dtype, device=seg.device) + 0.5).repeat(cells) / bands
    with torch.no_grad():
        change, at_top = _side_changes(seg, owner, corner, entering, tolerance)
        y = seg[:, :, 1].detach() - top.index_select(0, owner)[:, None]  # (P, 2) in the cell
        # a change at height h applies to the bands whose middle is at or below it: from ceil(16 h - 1/2)
        first_band = torch.ceil(y.T.flatten() * bands - 0.5).clamp(0, bands).long()
        steps = torch.zeros(cells * (bands + 1), dtype=torch.long, device=seg.device).index_add_(
            0, owner.repeat(2) * (bands + 1) + first_band, change)
        winding = (at_top[:, None] + torch.cumsum(steps.view(cells, bands + 1), 1)[:, :bands]).flatten()
        # each piece crosses the bands whose middle lies in its [y_min, y_max)
        low = torch.ceil(y.amin(1) * bands - 0.5).clamp(0, bands).long()
        high = torch.ceil(y.amax(1) * bands - 0.5).clamp(0, bands).long()
        pair_piece, k = expand((high - low).clamp(min=0))
        pair_band = owner.index_select(0, pair_piece) * bands + low.index_select(0, pair_piece) + k
    length = _covered_length(seg, corner[:, 0].index_select(0, band_cell), pair_band, pair_piece,
                             top.index_select(0, band_cell) + middle, winding)
    return torch.zeros(cells, dtype=torch.float64, device=seg.device).index_add(0, band_cell, length) / bands


@dataclass
class _Cuts:
    """The heights where the flagged cells are cut into bands, sorted by (cell, y): ``y`` (B,) (end
    points keep their gradient), ``owner`` (B,) cell; band k lies between cuts k and k + 1 (of one
    cell), with ``winding`` (B,) long on the cell's left side; ``pair_band``, ``pair_piece`` (Q,)
    every band each non-horizontal piece spans."""

    y: torch.Tensor
    owner: torch.Tensor
    winding: torch.Tensor
    pair_band: torch.Tensor
    pair_piece: torch.Tensor

    @classmethod
    def of(cls, seg: torch.Tensor, owner: torch.Tensor, count: torch.Tensor, corner: torch.Tensor,
           side_change: torch.Tensor, winding_at_top: torch.Tensor) -> "_Cuts":
        """Cuts at the pieces ``seg`` (P, 2, 2) float64 of cells ``owner`` (P,) (cells' (col, row)
        ``corner`` (F, 2), ``count`` (F,) pieces each): their end points, their crossings (cells of
        more than EXACT_PIECES pieces: SAMPLED_BANDS equal bands instead), and each cell's top and
        bottom; the windings from ``_side_changes``."""
        row = corner[:, 1]
        pieces = len(seg)
        exact = count <= EXACT_PIECES
        crossing_y, crossing_owner = _crossings(seg, torch.cumsum(count, 0) - count, torch.where(exact, count, 0))
        every = torch.arange(len(count), device=seg.device)
        crowded = torch.nonzero(~exact).flatten()
        sampled = (row.index_select(0, crowded)[:, None]
                   + torch.arange(1, SAMPLED_BANDS, dtype=row.dtype, device=row.device) / SAMPLED_BANDS).flatten()
        # each cell's top first and its bottom last, so that the stable sort below keeps them outermost
        # among equal heights: an end point on the cell's top or bottom (an edge through a pixel corner)
        # then bounds a band of height 0 inside the cell, not the cell itself
        flagged = len(count)
        y_owner = torch.cat([every, owner, owner, crossing_owner, crowded.repeat_interleave(SAMPLED_BANDS - 1), every])
        top = row.index_select(0, y_owner)
        y = torch.cat([row, seg[:, 0, 1], seg[:, 1, 1], crossing_y, sampled, row + 1])
        y = torch.minimum(torch.maximum(y, top), top + 1)
        with torch.no_grad():
            # the winding at each cut counts the side's changes up to it in this order, so that a band of
            # height 0 between tied cuts has the winding its gradient needs
            change = torch.cat([torch.zeros(flagged, dtype=torch.long, device=seg.device), side_change,
                                torch.zeros(len(y) - 2 * pieces - flagged, dtype=torch.long, device=seg.device)])
            order = torch.argsort(y_owner.double() * 2 + (y.detach() - top), stable=True)
            y_owner, change = y_owner.index_select(0, order), change.index_select(0, order)
            reached = torch.cumsum(change, 0)
            cell_start = torch.searchsorted(y_owner, every)
            winding = (winding_at_top.index_select(0, y_owner) + reached
                       - (reached - change).index_select(0, cell_start).index_select(0, y_owner))
            position = torch.empty_like(order).index_copy_(0, order, torch.arange(len(order), device=seg.device))
            start, end = position[flagged:flagged + pieces], position[flagged + pieces:flagged + 2 * pieces]
            dy = (seg[:, 1, 1] - seg[:, 0, 1]).detach()
            low, high = torch.where(dy > 0, start, end), torch.where(dy > 0, end, start)
            # (end points tied in the sort, a piece clamped flat onto the row's edge, can come out reversed)
            pair_piece, k = expand(torch.where(dy != 0, high - low, torch.zeros_like(low)).clamp(min=0))
            pair_band = low.index_select(0, pair_piece) + k
        return cls(y.index_select(0, order), y_owner, winding, pair_band, pair_piece)


def _crossings(seg: torch.Tensor, start: torch.Tensor, count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heights (C,) where two pieces of one cell cross inside both, and their cells (C,). The heights
    keep their gradient: one on a horizontal piece must move with it (the covered length jumps there)."""
    with torch.no_grad():
        group, i, j = _pairs(start, count)
        ordered = i < j
        group, i, j = group[ordered], i[ordered], j[ordered]
    a, b = seg.index_select(0, i), seg.index_select(0, j)
    da, db = a[:, 1] - a[:, 0], b[:, 1] - b[:, 0]
    denominator = da[:, 0] * db[:, 1] - da[:, 1] * db[:, 0]
    offset = b[:, 0] - a[:, 0]
    with torch.no_grad():
        safe = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        t = (offset[:, 0] * db[:, 1] - offset[:, 1] * db[:, 0]) / safe
        u = (offset[:, 0] * da[:, 1] - offset[:, 1] * da[:, 0]) / safe
        meet = torch.nonzero((denominator != 0) & (t > 0) & (t < 1) & (u > 0) & (u < 1)).flatten()
    a, da, db, offset = a[meet], da[meet], db[meet], offset[meet]
    t = (offset[:, 0] * db[:, 1] - offset[:, 1] * db[:, 0]) / (da[:, 0] * db[:, 1] - da[:, 1] * db[:, 0])
    return a[:, 0, 1] + t * da[:, 1], group.index_select(0, meet)


def _covered_length(seg: torch.Tensor, col: torch.Tensor, pair_band: torch.Tensor, pair_piece: torch.Tensor,
                    mid: torch.Tensor, entering: torch.Tensor) -> torch.Tensor:
    """(B,) length of each band's cell row at height ``mid`` (B,) where the winding is nonzero,
    given the pieces crossing it (``pair_band``, ``pair_piece`` (Q,)) and the winding ``entering``
    (B,) long on the cell's left side at x = ``col`` (B,)."""
    a, b = seg.index_select(0, pair_piece).unbind(1)
    x = a[:, 0] + (mid.index_select(0, pair_band) - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    with torch.no_grad():
        direction = torch.sign(b[:, 1] - a[:, 1]).long()
        sweep = kernels.covered_steps if kernels.compiled(x) else _covered_steps
        step, total = sweep(x.detach(), col, pair_band, direction, entering)
        inside_left, inside_right = (entering != 0).to(seg.dtype), ((entering + total) != 0).to(seg.dtype)
    spans = torch.zeros(len(mid), dtype=seg.dtype, device=seg.device).index_add(0, pair_band, x * step)
    return spans + (col + 1) * inside_right - col * inside_left


def _covered_steps(x: torch.Tensor, col: torch.Tensor, pair_band: torch.Tensor, direction: torch.Tensor,
                   entering: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each crossing (Q,) at ``x`` of band ``pair_band`` going ``direction`` (+-1, down or up) starts (-1)
    or ends (+1) the band's nonzero winding, swept left to right from ``entering`` (B,) at its cell's left side
    ``col`` (B,); and each band's winding change across its cell (B,). (``kernels.covered_steps`` on the CPU.)"""
    order = torch.argsort(pair_band.double() * 2 + (x - col.index_select(0, pair_band)).clamp(0, 1))
    band, change = pair_band.index_select(0, order), direction.index_select(0, order)
    total = torch.zeros(len(entering), dtype=torch.long, device=x.device).index_add_(0, band, change)
    before_band = torch.cumsum(total, 0) - total
    after = entering.index_select(0, band) + torch.cumsum(change, 0) - before_band.index_select(0, band)
    sorted_step = ((after - change) != 0).to(x.dtype) - (after != 0).to(x.dtype)
    return torch.empty_like(sorted_step).index_copy_(0, order, sorted_step), total
