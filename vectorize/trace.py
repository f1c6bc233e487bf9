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

from .fit import fit_polylines

# Directions east, south, west, north in pixel coordinates (y down); turning right is d -> d + 1.
_DX = np.array([1, 0, -1, 0])
_DY = np.array([0, 1, 0, -1])


def trace_regions(labels: np.ndarray, tolerance: float) -> list[list[np.ndarray]]:
    """Trace every region of ``labels`` (H, W) int, -1 = no region, regions numbered 0..R-1.

    Returns, for each region, its closed contours (outer first, then holes) as (3 S, 2) float64
    control-point arrays: start point, then (handle, handle, end) per cubic segment with the last
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
    junction = _junctions(np.pad(finest, 1, constant_values=-1)).ravel()
    chains = _ChainSet(stride)
    traced = []
    for labels in levels:
        count = int(labels.max()) + 1 if labels.size else 0
        padded = np.pad(labels, 1, constant_values=-1)
        start, direction, owner = _boundary_edges(padded, stride)
        successor = _successors(start, direction, owner, stride, (height + 1) * stride)
        loops = []
        for loop in _cycles(successor):
            vertices = start[loop]
            parts = _loop_chains(vertices, junction[vertices], chains)
            loops.append((int(owner[loop[0]]), _signed_area(vertices, stride), parts))
        traced.append((count, loops))
    curves = chains.fit(tolerance)
    result = []
    for count, loops in traced:
        contours: list[list[np.ndarray]] = [[] for _ in range(count)]
        # Outer contour (clockwise on screen: positive area with y down) first, holes after it.
        for region, _, parts in sorted(loops, key=lambda item: -item[1]):
            contours[region].append(_assemble(parts, curves))
        result.append(contours)
    return result


def _boundary_edges(padded: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed boundary edges: start vertex id (E,), direction (E,) and owning label (E,)."""
    inner = padded[1:-1, 1:-1]
    ys, xs = np.mgrid[0:inner.shape[0], 0:inner.shape[1]]
    neighbours = (padded[:-2, 1:-1], padded[1:-1, 2:], padded[2:, 1:-1], padded[1:-1, :-2])
    # Side of pixel (x, y) facing each neighbour, walked clockwise: top goes east from (x, y), right
    # goes south from (x+1, y), bottom goes west from (x+1, y+1), left goes north from (x, y+1).
    corners = ((0, 0), (1, 0), (1, 1), (0, 1))
    starts, directions, owners = [], [], []
    for d, (neighbour, (cx, cy)) in enumerate(zip(neighbours, corners)):
        edge = (inner >= 0) & (neighbour != inner)
        starts.append(((ys[edge] + cy) * stride + xs[edge] + cx).astype(np.int64))
        directions.append(np.full(int(edge.sum()), d, np.int64))
        owners.append(inner[edge])
    return np.concatenate(starts), np.concatenate(directions), np.concatenate(owners)


def _successors(start: np.ndarray, direction: np.ndarray, owner: np.ndarray, stride: int,
                vertex_count: int) -> np.ndarray:
    """(E,) index of the next edge of the same region; at a saddle the walk turns right, which
    keeps diagonal pixels apart (4-connectivity, matching the region labelling)."""
    edge_at = np.full((vertex_count, 4), -1, np.int64)
    edge_at[start, direction] = np.arange(len(start))
    end = start + _DX[direction] + _DY[direction] * stride
    successor = np.full(len(start), -1, np.int64)
    for turn in (1, 0, 3):  # right, straight, left
        candidate = edge_at[end, (direction + turn) % 4]
        ok = (successor < 0) & (candidate >= 0)
        ok[ok] &= owner[candidate[ok]] == owner[ok]
        successor[ok] = candidate[ok]
    return successor


def _junctions(padded: np.ndarray) -> np.ndarray:
    """(H+1, W+1) bool: lattice vertices where 3+ labels meet (-1 counts) or labels form a saddle."""
    tl, tr, bl, br = padded[:-1, :-1], padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]
    distinct = 1 + (tr != tl) + ((bl != tl) & (bl != tr)) + ((br != tl) & (br != tr) & (br != bl))
    saddle = (distinct == 2) & (tl == br) & (tr == bl) & (tl != tr)
    return (distinct >= 3) | saddle


def _cycles(successor: np.ndarray) -> list[np.ndarray]:
    """Decompose the permutation ``successor`` into cycles, each an (L,) array of edge indices."""
    nxt = successor.tolist()
    seen = bytearray(len(nxt))
    cycles = []
    for first in range(len(nxt)):
        if seen[first]:
            continue
        cycle = []
        edge = first
        while not seen[edge]:
            seen[edge] = 1
            cycle.append(edge)
            edge = nxt[edge]
        cycles.append(np.array(cycle, np.int64))
    return cycles


class _ChainSet:
    """Unique boundary chains in canonical direction, so each shared boundary is fitted once."""

    def __init__(self, stride: int) -> None:
        self.stride = stride
        self.index: dict[tuple[int, int], int] = {}
        self.chains: list[np.ndarray] = []
        self.closed: list[bool] = []

    def add(self, chain: np.ndarray, closed: bool) -> tuple[int, bool]:
        """Register ``chain`` (L,) vertex ids; returns (chain index, whether ``chain`` runs forward).
        A closed chain is rotated to start at its smallest vertex id, as its neighbour's will be."""
        if closed:
            chain = np.roll(chain, -int(chain.argmin()))
            forward = bool(chain[1] < chain[-1])
            canonical = chain if forward else np.roll(chain[::-1], 1)
        else:
            forward = (chain[0], chain[1]) <= (chain[-1], chain[-2])
            canonical = chain if forward else chain[::-1]
        key = (int(canonical[0]), int(canonical[1]))
        if key not in self.index:
            self.index[key] = len(self.chains)
            self.chains.append(canonical)
            self.closed.append(closed)
        return self.index[key], forward

    def fit(self, tolerance: float) -> list[np.ndarray]:
        """Fit every chain at once -> list of (3 S + 1, 2) control points (closed: last == first)."""
        if not self.chains:
            return []
        ids = np.concatenate(self.chains)
        points = np.stack([ids % self.stride, ids // self.stride], axis=1).astype(np.float64)
        offsets = np.r_[0, np.cumsum([len(c) for c in self.chains])]
        return fit_polylines(points, offsets, np.array(self.closed), tolerance)


def _loop_chains(vertices: np.ndarray, is_junction: np.ndarray, chains: _ChainSet) -> list[tuple[int, bool]]:
    """Cut one closed lattice loop ``vertices`` (L,) at its junctions; register and return its chains
    in order as (chain index, forward)."""
    cuts = np.nonzero(is_junction)[0]
    if len(cuts) == 0:
        return [chains.add(vertices, closed=True)]
    ring = np.roll(vertices, -cuts[0])
    ring = np.r_[ring, ring[:1]]
    bounds = np.r_[cuts - cuts[0], len(vertices)]
    return [chains.add(ring[lo:hi + 1], closed=False) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _assemble(parts: list[tuple[int, bool]], curves: list[np.ndarray]) -> np.ndarray:
    """Join a loop's fitted chains into one closed control-point array (3 S, 2), last end dropped."""
    oriented = [curves[i] if forward else curves[i][::-1] for i, forward in parts]
    return np.concatenate([oriented[0]] + [curve[1:] for curve in oriented[1:]])[:-1]


def _signed_area(vertices: np.ndarray, stride: int) -> float:
    """Shoelace area of a lattice loop; positive for clockwise-on-screen (y down) loops."""
    x, y = (vertices % stride).astype(np.float64), (vertices // stride).astype(np.float64)
    return 0.5 * float((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())
