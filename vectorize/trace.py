"""Boundary tracing at the pixel-edge level, with shared boundaries fitted once.

Every region's boundary runs along pixel edges (lattice vertices (x, y), x in [0, W], y in [0, H]),
oriented clockwise on screen (y down) with the region on the right, so outer contours and hole
contours wind oppositely and a compound path fills correctly with the nonzero rule. Boundaries are
cut into chains at junctions (lattice vertices where three or more labels meet, or a diagonal
"saddle"); each chain is fitted once and the neighbour on its other side gets the same curve
reversed, so adjacent regions share their Bézier boundary exactly: no cracks, no overlaps.
"""
from __future__ import annotations

import numpy as np

from .fit import fit_packed
from .loops import assemble_loops, count_boundary_edges, fill_boundary_edges, junctions, walk_loops
from .loops import successors as edge_successors

# Chain points fitted in one batch (the fit's temporaries: ~120 bytes a point): a 64th of the
# canvas's pixels (about 2 bytes a pixel; a batch costs ~0.1 ms more), within these bounds, so small
# pictures are not dominated by a fixed batch.
FIT_BATCH = 1 << 15
MIN_FIT_BATCH = 1 << 12


def trace_regions(labels: np.ndarray, tolerance: float) -> list[list[np.ndarray]]:
    """Trace every region of ``labels`` (H, W) int, -1 = no region, regions numbered 0..R-1.

    Returns, for each region, its closed contours (outer first, then holes) as (3 S, 2) float32
    control-point arrays (views of one packed array; the fit runs in float64): start point, then (handle, handle, end) per cubic segment with the last
    end point (= start) left out. Shared boundaries between regions are bit-identical.
    """
    return trace_levels([labels], labels, tolerance)[0]


def trace_levels(levels: list[np.ndarray], finest: np.ndarray, tolerance: float) -> list[list[list[np.ndarray]]]:
    """``trace_regions`` for several label maps at once, each (H, W) int with -1 = no path.

    Every map's boundaries must be boundaries of ``finest`` (H, W) (each map's regions are unions
    of its regions, or left out): all loops are cut at the junctions of ``finest``, so a boundary
    that several maps share is one chain, fitted once, and the same curve in each of them.
    Returns per map, per region, its contours as ``trace_regions`` does.
    """
    height, width = finest.shape
    stride = width + 1
    junction = junctions(finest).ravel()
    counts = [int(labels.max()) + 1 if labels.size else 0 for labels in levels]
    # Every map's edges in one packed set, each map's block written in place (no per-map copies).
    level_first = np.cumsum([0] + [count_boundary_edges(labels) for labels in levels])  # each map's first edge
    start, owner, successor = (np.empty(level_first[-1], np.int32) for _ in range(3))
    for labels, lo, hi in zip(levels, level_first[:-1].tolist(), level_first[1:].tolist()):
        direction = np.empty(hi - lo, np.int8)
        fill_boundary_edges(labels, start[lo:hi], direction, owner[lo:hi])
        successor[lo:hi] = edge_successors(start[lo:hi], direction, owner[lo:hi], stride, (height + 1) * stride)
        successor[lo:hi] += lo
        del direction
    (loop_edge, area2, part_offsets, part_chain, part_forward, vertices, chain_offsets,
     chain_closed) = walk_loops(successor, start, junction, stride)
    loop_owner = owner[loop_edge].tolist()
    loop_level = (np.searchsorted(level_first, loop_edge, side="right") - 1).tolist()
    del successor, start, owner, junction  # the per-edge arrays: free before fitting
    batch = min(FIT_BATCH, max(MIN_FIT_BATCH, height * width // 64))
    control, curve_offsets = _fit_chains(vertices, chain_offsets, chain_closed, stride, tolerance, batch)
    # Outer contour (clockwise on screen: positive area with y down) first, holes after it.
    order = np.argsort(-area2, kind="stable")
    packed, bounds = assemble_loops(control, curve_offsets, part_offsets, part_chain, part_forward, order)
    result: list[list[list[np.ndarray]]] = [[[] for _ in range(count)] for count in counts]
    for loop, lo, hi in zip(order.tolist(), bounds[:-1].tolist(), bounds[1:].tolist()):
        result[loop_level[loop]][loop_owner[loop]].append(packed[lo:hi])
    return result


def _fit_chains(vertices: np.ndarray, offsets: np.ndarray, closed: np.ndarray, stride: int,
                tolerance: float, batch: int = FIT_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """``fit_packed`` of the packed lattice chains (vertex ids), ``batch`` points at a time at
    most (chains are fitted independently: batches bound the memory, not the result). Returns the
    packed curves: control points (N', 2) and offsets (C+1,)."""
    controls, bounds = [], [np.zeros(1, np.int64)]
    first = 0
    while first < len(closed):
        last = max(int(np.searchsorted(offsets, offsets[first] + batch, side="right")) - 1, first + 1)
        ids = vertices[offsets[first]:offsets[last]]
        points = np.stack([ids % stride, ids // stride], axis=1).astype(np.float64)
        control, bound = fit_packed(points, offsets[first:last + 1] - offsets[first], closed[first:last], tolerance)
        bounds.append(bound[1:] + bounds[-1][-1])
        controls.append(control)
        first = last
    return (np.concatenate(controls) if controls else np.empty((0, 2))), np.concatenate(bounds)
