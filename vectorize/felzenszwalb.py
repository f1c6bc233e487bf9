"""Felzenszwalb-Huttenlocher graph segmentation on the 4-connected pixel grid, compiled (numba).

"Efficient Graph-Based Image Segmentation" (IJCV 2004): edges between 4-adjacent pixels weigh
the Euclidean distance of their (smoothed) colours; in increasing order, an edge joins its two
segments when it is lighter than both segments' internal difference (their heaviest joining edge)
plus ``scale`` / 255 / size (scikit-image's units for ``scale``); then segments under ``min_size`` pixels join their neighbour along the
lightest edges. The edges are ordered by a counting sort on a 16-bit quantised weight (the exact
weight decides each join), so the cost is linear in pixels and the memory is a few words per pixel:
the order of the 2 edges per pixel (8 bytes), parent, size and internal difference (12 bytes).
Segments are 4-connected and never cross ``mask``, as the tracing needs.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit
from scipy.ndimage import gaussian_filter

LEVELS = 65536  # quantisation of the edge weights for the sort
TILE = 256  # pixels per side of the tiles segmented independently


def segment(colours: np.ndarray, mask: np.ndarray, scale: float, sigma: float, min_size: int) -> np.ndarray:
    """(H, W) int32 segments 0..K-1 of ``colours`` (H, W, C) in [0, 1] inside ``mask`` (H, W) bool,
    -1 outside; ``sigma`` px Gaussian smoothing first (0: none).

    The picture is segmented in TILE x TILE tiles (segments end at tile edges; the merging that
    follows joins them where they match), on up to ``os.cpu_count()`` threads: the cost stays
    linear in pixels and the result does not depend on the thread count. Segments are numbered
    tile by tile (row-major), in raster order of their first pixel within a tile.
    """
    smooth = np.asarray(colours, np.float32)
    if sigma > 0:
        smooth = gaussian_filter(smooth, (sigma, sigma, 0))
    mask = np.asarray(mask, np.bool_)
    height, width = mask.shape
    tiles = [(y, x) for y in range(0, height, TILE) for x in range(0, width, TILE)]

    def run(corner: tuple[int, int]) -> np.ndarray:
        y, x = corner
        return _segment(np.ascontiguousarray(smooth[y:y + TILE, x:x + TILE]),
                        np.ascontiguousarray(mask[y:y + TILE, x:x + TILE]), float(scale) / 255.0, int(min_size))

    workers = min(len(tiles), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:  # the kernel releases the GIL
            parts = list(pool.map(run, tiles))
    else:
        parts = [run(corner) for corner in tiles]
    labels = np.empty((height, width), np.int32)
    offset = 0
    for (y, x), part in zip(tiles, parts):
        labels[y:y + TILE, x:x + TILE] = np.where(part >= 0, part + offset, -1)
        offset += int(part.max()) + 1 if part.size else 0
    return labels


# Edge k of pixel (y, x) goes to (y + DY[k], x + DX[k]): right, down, down-right, down-left.
DY = np.array([0, 1, 1, 1])
DX = np.array([1, 0, 1, -1])
DIRECTIONS = 4


@njit(cache=True, nogil=True)
def _weight(smooth, y, x, y2, x2):
    """Colour distance between pixels (y, x) and (y2, x2)."""
    total = 0.0
    for c in range(smooth.shape[2]):
        d = smooth[y, x, c] - smooth[y2, x2, c]
        total += d * d
    return np.sqrt(total)


@njit(cache=True, nogil=True)
def _find(parent, p):
    while parent[p] != p:
        parent[p] = parent[parent[p]]  # path halving
        p = parent[p]
    return p


@njit(cache=True, nogil=True)
def _sorted_edges(smooth, mask):
    """(E,) int32 edges (DIRECTIONS * pixel + direction) inside ``mask``, by increasing quantised
    weight (a counting sort, stable in edge order), and (E,) float64 their exact weights."""
    height, width, channels = smooth.shape
    top = np.sqrt(float(channels)) * 1.0000001  # colours in [0, 1]: the largest possible weight
    key = np.full(DIRECTIONS * height * width, -1, np.int32)
    counts = np.zeros(LEVELS + 1, np.int64)
    for y in range(height):
        for x in range(width):
            if not mask[y, x]:
                continue
            for k in range(DIRECTIONS):
                y2, x2 = y + DY[k], x + DX[k]
                if 0 <= x2 < width and y2 < height and mask[y2, x2]:
                    level = int(_weight(smooth, y, x, y2, x2) / top * (LEVELS - 1))
                    key[DIRECTIONS * (y * width + x) + k] = level
                    counts[level + 1] += 1
    for k in range(LEVELS):
        counts[k + 1] += counts[k]
    order = np.empty(counts[LEVELS], np.int32)
    for edge in range(len(key)):
        if key[edge] >= 0:
            order[counts[key[edge]]] = edge
            counts[key[edge]] += 1
    return order


@njit(cache=True, nogil=True)
def _segment(smooth, mask, scale, min_size):
    height, width, channels = smooth.shape
    pixels = height * width
    order = _sorted_edges(smooth, mask)
    parent = np.arange(pixels).astype(np.int32)
    size = np.ones(pixels, np.int32)
    inner = np.zeros(pixels, np.float32)
    for edge in order:
        p, k = edge // DIRECTIONS, edge % DIRECTIONS
        y, x = p // width, p % width
        q = p + DY[k] * width + DX[k]
        a, b = _find(parent, p), _find(parent, q)
        if a == b:
            continue
        weight = _weight(smooth, y, x, y + DY[k], x + DX[k])
        if weight < min(inner[a] + scale / size[a], inner[b] + scale / size[b]):
            root, child = (a, b) if a < b else (b, a)
            parent[child] = root
            size[root] += size[child]
            inner[root] = weight
    for p in range(pixels):  # flattened: the pass below finds most roots in one step
        parent[p] = _find(parent, p)
    for edge in order:  # small segments join their neighbour across the lightest edge
        p, k = edge // DIRECTIONS, edge % DIRECTIONS
        a, b = _find(parent, p), _find(parent, p + DY[k] * width + DX[k])
        if a != b and (size[a] < min_size or size[b] < min_size):
            root, child = (a, b) if a < b else (b, a)
            parent[child] = root
            size[root] += size[child]
    # Segments joined only through diagonal edges split into their 4-connected parts.
    for p in range(pixels):
        size[p] = _find(parent, p)  # size is reused: each pixel's segment
    for p in range(pixels):
        parent[p] = p
    for p in range(pixels):
        y, x = p // width, p % width
        for q in (p + 1 if x + 1 < width else -1, p + width if y + 1 < height else -1):
            if q >= 0 and size[p] == size[q]:
                a, b = _find(parent, p), _find(parent, q)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    labels = np.full((height, width), -1, np.int32)
    number = size  # reused again: the segment number of each root
    number[:] = -1
    count = 0
    for p in range(pixels):
        y, x = p // width, p % width
        if mask[y, x]:
            root = _find(parent, p)
            if number[root] < 0:
                number[root] = count
                count += 1
            labels[y, x] = number[root]
    return labels
