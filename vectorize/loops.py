"""Compiled walks over directed boundary edges (numba): loops, and their cut into shared chains.

The kernel behind ``trace.trace_levels``. Boundary edges come packed from any number of label maps
(each edge's successor is an edge of the same map and region), so one call walks every map.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# A pixel's sides in walking order (top, right, bottom, left): the neighbour across each side, and
# the corner where the side starts when walked clockwise (east, south, west, north).
_NY, _NX = (-1, 0, 1, 0), (0, 1, 0, -1)
_CY, _CX = (0, 0, 1, 1), (0, 1, 1, 0)


@njit(cache=True, nogil=True, inline="always")
def _label(labels, y, x):
    """``labels[y, x]``, -1 outside the map."""
    height, width = labels.shape
    return labels[y, x] if 0 <= y < height and 0 <= x < width else -1


def boundary_edges(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed boundary edges of the regions of ``labels`` (H, W) int (-1: none): start vertex id
    (E,) int32 (vertex (x, y) = y * (W + 1) + x), direction (E,) int8 and owning label (E,) int32,
    in blocks of one direction (0..3 = the top, right, bottom and left sides of a pixel, walked
    clockwise: east, south, west, north), each in increasing start order (as ``successors`` needs).
    A side is a boundary edge where the pixel has a label and its neighbour across it another."""
    count = count_boundary_edges(labels)
    start, direction, owner = np.empty(count, np.int32), np.empty(count, np.int8), np.empty(count, np.int32)
    fill_boundary_edges(labels, start, direction, owner)
    return start, direction, owner


@njit(cache=True, nogil=True)
def _direction_counts(labels: np.ndarray) -> np.ndarray:
    """(4,) int64 boundary edges of ``labels`` (H, W) per direction (see ``boundary_edges``)."""
    height, width = labels.shape
    counts = np.zeros(4, np.int64)
    for y in range(height):  # one pass, the four sides of each pixel at once
        for x in range(width):
            own = labels[y, x]
            if own >= 0:
                for d in range(4):
                    counts[d] += _label(labels, y + _NY[d], x + _NX[d]) != own
    return counts


@njit(cache=True, nogil=True)
def count_boundary_edges(labels: np.ndarray) -> int:
    """How many boundary edges ``labels`` (H, W) has (see ``boundary_edges``)."""
    return _direction_counts(labels).sum()


@njit(cache=True, nogil=True)
def fill_boundary_edges(labels: np.ndarray, start: np.ndarray, direction: np.ndarray, owner: np.ndarray) -> None:
    """Write the boundary edges of ``labels`` (H, W) into ``start``, ``direction``, ``owner`` (E,),
    E = ``count_boundary_edges(labels)`` (see ``boundary_edges``), in one pass: each direction's
    block has its own cursor."""
    height, width = labels.shape
    stride = width + 1
    at = np.zeros(4, np.int64)  # each direction's block starts after the ones before it
    at[1:] = np.cumsum(_direction_counts(labels))[:3]
    for y in range(height):
        for x in range(width):
            own = labels[y, x]
            if own < 0:
                continue
            for d in range(4):
                if _label(labels, y + _NY[d], x + _NX[d]) != own:
                    # the side facing neighbour d starts at corner (x + _CX[d], y + _CY[d])
                    k = at[d]
                    start[k] = (y + _CY[d]) * stride + x + _CX[d]
                    direction[k] = d
                    owner[k] = own
                    at[d] = k + 1


@njit(cache=True, nogil=True)
def junctions(labels: np.ndarray) -> np.ndarray:
    """(H+1, W+1) bool: lattice vertices of ``labels`` (H, W) where 3+ labels meet (-1, also outside
    the map, counts as one) or the labels form a saddle (diagonal pixels equal, the others not)."""
    height, width = labels.shape
    out = np.empty((height + 1, width + 1), np.bool_)
    for y in range(height + 1):
        for x in range(width + 1):
            tl, tr = _label(labels, y - 1, x - 1), _label(labels, y - 1, x)
            bl, br = _label(labels, y, x - 1), _label(labels, y, x)
            distinct = 1 + (tr != tl) + (bl != tl and bl != tr) + (br != tl and br != tr and br != bl)
            out[y, x] = distinct >= 3 or (distinct == 2 and tl == br and tr == bl and tl != tr)
    return out


@njit(cache=True, nogil=True)
def _register(ring, lo, hi, closed, vertex_count, index, chain_vertices, chain_offsets, chain_closed, counts):
    """Find or add the chain ``ring[lo:hi]`` in canonical direction; returns (chain, forward).

    An open chain runs forward when (first, second) <= (last, second last) vertex ids; a closed one
    is rotated to start at its smallest vertex id and runs towards the smaller of that vertex's two
    neighbours, as its neighbour's copy (walked the other way) will be.
    """
    length = hi - lo
    if closed:
        low = lo
        for i in range(lo, hi):
            if ring[i] < ring[low]:
                low = i
        after = ring[lo + (low - lo + 1) % length]
        before = ring[lo + (low - lo - 1) % length]
        forward = after < before
        key0, key1 = ring[low], after if forward else before
    else:
        a0, a1, z0, z1 = ring[lo], ring[lo + 1], ring[hi - 1], ring[hi - 2]
        forward = a0 < z0 or (a0 == z0 and a1 <= z1)
        key0, key1 = (a0, a1) if forward else (z0, z1)
    key = np.int64(key0) * vertex_count + key1
    found = index.get(key, -1)
    if found >= 0:
        return found, forward
    chain, at = counts[0], counts[1]
    for k in range(length):
        if closed:
            step = k if forward else -k
            chain_vertices[at + k] = ring[lo + (low - lo + step) % length]
        else:
            chain_vertices[at + k] = ring[lo + k] if forward else ring[hi - 1 - k]
    chain_closed[chain] = closed
    chain_offsets[chain + 1] = at + length
    counts[0], counts[1] = chain + 1, at + length
    index[key] = chain
    return chain, forward


# Directions east, south, west, north in pixel coordinates (y down); turning right is d -> d + 1.
_DX = (1, 0, -1, 0)
_DY = (0, 1, 0, -1)


@njit(cache=True, nogil=True)
def successors(start: np.ndarray, direction: np.ndarray, owner: np.ndarray, stride: int, vertex_count: int):
    """(E,) int32 index of the next edge of the same region after each directed boundary edge (start
    vertex id ``start`` (E,), ``direction`` (E,) 0..3 = east, south, west, north, ``owner`` (E,)
    label), or -1; at a saddle the walk turns right, which keeps diagonal pixels apart
    (4-connectivity, matching the region labelling). The edges come in blocks of one direction,
    0 to 3, each in increasing start order (as ``trace`` makes them; else ValueError): an edge's
    candidates in each direction are found by one merge walk along that block (no per-vertex
    table). ``vertex_count``: the lattice's vertices (start ids are below it)."""
    edges = len(start)
    bounds = np.zeros(5, np.int64)  # block of direction d: bounds[d]:bounds[d + 1]
    for i in range(edges):
        if direction[i] < 0 or direction[i] > 3 or start[i] < 0 or start[i] >= vertex_count or (
                i > 0 and (direction[i] < direction[i - 1] or (direction[i] == direction[i - 1]
                                                             and start[i] <= start[i - 1]))):
            raise ValueError("boundary edges must come in direction blocks 0..3, each in increasing start order")
        bounds[direction[i] + 1] = i + 1
    for d in range(4):
        bounds[d + 1] = max(bounds[d + 1], bounds[d])
    out = np.full(edges, -1, np.int32)
    for turn in (1, 0, 3):  # right, straight, left: the first that continues the region wins
        for d in range(4):
            target = (d + turn) % 4
            shift = _DX[d] + _DY[d] * stride
            j, stop = bounds[target], bounds[target + 1]
            for i in range(bounds[d], bounds[d + 1]):  # the ends of block d increase like its starts
                if out[i] >= 0:
                    continue
                end = np.int64(start[i]) + shift
                while j < stop and start[j] < end:
                    j += 1
                if j < stop and start[j] == end and owner[j] == owner[i]:
                    out[i] = j
    return out


@njit(cache=True, nogil=True)
def _room(array: np.ndarray, used: int, need: int) -> np.ndarray:
    """``array`` (its first ``used`` items kept) with room for ``need`` more: itself, or a copy grown
    by half (at least to ``used`` + ``need``)."""
    if used + need <= len(array):
        return array
    grown = np.empty(max(len(array) * 3 // 2, used + need), array.dtype)
    grown[:used] = array[:used]
    return grown


@njit(cache=True, nogil=True)
def walk_loops(successor: np.ndarray, start: np.ndarray, junction: np.ndarray, stride: int):
    """Decompose the permutation ``successor`` (E,) of directed edges (starting at lattice vertex
    ids ``start`` (E,), vertex = y * ``stride`` + x) into closed loops, cut each at its vertices
    where ``junction`` (V,) bool holds, and register each piece once as a chain.

    Returns (loop_edge (L,) first edge of each loop, loop_area2 (L,) twice its signed area
    (positive: clockwise on screen), part_offsets (L+1,), part_chain (P,), part_forward (P,) bool,
    chain_vertices (M,), chain_offsets (C+1,), chain_closed (C,) bool): loop l is the chains
    part_chain[part_offsets[l]:part_offsets[l+1]] in order, each walked forward or backwards;
    chain c is vertices chain_vertices[chain_offsets[c]:chain_offsets[c+1]] (a closed chain does
    not repeat its first vertex).
    """
    edges = len(successor)
    vertex_count = len(junction)
    # int32 ids (vertex ids, edges and chain vertices stay below 2**31: canvases up to 46 000 px a side)
    seen = np.zeros(edges, np.bool_)
    ring = np.empty(1024, np.int32)  # the loop being walked; grows with the longest loop
    # The outputs grow as needed (a loop, piece or chain has many edges: worst-case sizes are 5-30x
    # what photos use); chains share their vertices between the two sides, about half the edges.
    loop_edge = np.empty(1024, np.int32)
    loop_area2 = np.empty(1024, np.int64)
    part_offsets = np.zeros(1024, np.int32)
    part_chain = np.empty(1024, np.int32)
    part_forward = np.empty(1024, np.bool_)
    chain_vertices = np.empty(edges // 2 + 16, np.int32)
    chain_offsets = np.zeros(1024, np.int32)
    chain_closed = np.empty(1024, np.bool_)
    counts = np.zeros(2, np.int64)  # chains, chain vertices so far
    index = dict()
    index[np.int64(-1)] = np.int64(-1)
    loops = 0
    parts = 0
    for first in range(edges):
        if seen[first]:
            continue
        # Walk the loop, starting at its first junction vertex when it has one.
        length = 0
        cut = -1
        edge = first
        area2 = 0
        v = np.int64(start[edge])
        x, y = v % stride, v // stride  # then followed along the unit steps: no division per edge
        while not seen[edge]:
            if length + 2 > len(ring):  # (a call returning the array each edge costs its reference count)
                ring = _room(ring, length, 2)
            seen[edge] = True
            if cut < 0 and junction[v]:
                cut = length
            ring[length] = v
            w = np.int64(start[successor[edge]])
            # the shoelace term x_v y_w - x_w y_v of a unit step east, west, south or north
            step = w - v
            if step == 1:
                area2 -= y
                x += 1
            elif step == -1:
                area2 += y
                x -= 1
            elif step > 0:
                area2 += x
                y += 1
            else:
                area2 -= x
                y -= 1
            v = w
            length += 1
            edge = successor[edge]
        # room for this loop: at most ``length`` pieces and chains, with ``length`` + pieces vertices
        loop_edge, loop_area2 = _room(loop_edge, loops, 1), _room(loop_area2, loops, 1)
        part_offsets = _room(part_offsets, loops + 1, 1)
        part_chain, part_forward = _room(part_chain, parts, length), _room(part_forward, parts, length)
        chain_closed, chain_offsets = _room(chain_closed, counts[0], length), _room(chain_offsets, counts[0] + 1, length)
        chain_vertices = _room(chain_vertices, counts[1], 2 * length + 1)
        loop_edge[loops] = first
        loop_area2[loops] = area2
        if cut < 0:
            chain, forward = _register(ring, 0, length, True, vertex_count, index, chain_vertices,
                                       chain_offsets, chain_closed, counts)
            part_chain[parts], part_forward[parts] = chain, forward
            parts += 1
        else:
            rotated = np.empty(length + 1, np.int32)
            for k in range(length + 1):
                rotated[k] = ring[(cut + k) % length]
            lo = 0
            for k in range(1, length + 1):
                if k == length or junction[rotated[k]]:
                    chain, forward = _register(rotated, lo, k + 1, False, vertex_count, index, chain_vertices,
                                               chain_offsets, chain_closed, counts)
                    part_chain[parts], part_forward[parts] = chain, forward
                    parts += 1
                    lo = k
        loops += 1
        part_offsets[loops] = parts
    chains, used = counts[0], counts[1]
    # copies, so the buffers' spare room is freed
    return (loop_edge[:loops].copy(), loop_area2[:loops].copy(), part_offsets[:loops + 1].copy(),
            part_chain[:parts].copy(), part_forward[:parts].copy(), chain_vertices[:used].copy(),
            chain_offsets[:chains + 1].copy(), chain_closed[:chains].copy())


@njit(cache=True, nogil=True)
def assemble_loops(control: np.ndarray, curve_offsets: np.ndarray, part_offsets: np.ndarray, part_chain: np.ndarray,
                   part_forward: np.ndarray, order: np.ndarray):
    """Each loop of ``order`` (L,) as one closed control-point array: its chains' fitted curves
    (chain c: ``control[curve_offsets[c]:curve_offsets[c+1]]``, (3 S + 1, 2)) joined in the loop's
    order (``walk_loops``'s parts), each walked forward or backwards, the end point shared by two
    curves once and the loop's last end point (= its start) left out. Returns the loops packed in
    the order of ``order``: points (N, 2) float32 (what a Subpath keeps) and offsets (L+1,); loop k
    is (3 S, 2)."""
    bounds = np.zeros(len(order) + 1, np.int64)
    for k in range(len(order)):
        total = 0
        for part in range(part_offsets[order[k]], part_offsets[order[k] + 1]):
            c = part_chain[part]
            total += curve_offsets[c + 1] - curve_offsets[c] - 1
        bounds[k + 1] = bounds[k] + total
    out = np.empty((bounds[-1], 2), np.float32)
    for k in range(len(order)):
        at = bounds[k]
        for part in range(part_offsets[order[k]], part_offsets[order[k] + 1]):
            c = part_chain[part]
            lo, hi = curve_offsets[c], curve_offsets[c + 1]
            for i in range(hi - lo - 1):
                j = lo + i if part_forward[part] else hi - 1 - i
                out[at, 0], out[at, 1] = control[j, 0], control[j, 1]
                at += 1
    return out, bounds
