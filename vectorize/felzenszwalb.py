"""Felzenszwalb-Huttenlocher graph segmentation on the 4-connected pixel grid, compiled (numba).

"Efficient Graph-Based Image Segmentation" (IJCV 2004): edges between 8-adjacent pixels weigh
the Euclidean distance of their (smoothed) colours; in increasing order, an edge joins its two
segments when it is lighter than both segments' internal difference (their heaviest joining edge)
plus ``scale`` / 255 / size (scikit-image's units for ``scale``); then segments under ``min_size``
pixels join their neighbour along the lightest edges. The edges are ordered by a counting sort on a
16-bit quantised weight (the exact weight decides each join), so the cost is linear in pixels and
the memory is a few words per pixel of a tile (per worker thread): the 4 sorted edges of a pixel,
9 bytes (each its pixel, uint16, and direction, 2 bits), and parent, size and internal
difference, 12 bytes (the edges' quantised weights, uint16, and the sort's counts live in their
memory while the edges are sorted). Segments are then split into 4-connected parts and never
cross ``mask``, as the tracing needs.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

LEVELS = 65536  # quantisation of the edge weights for the sort
TILE = 256  # pixels per side of the tiles segmented independently (at most 2**16 pixels: uint16 edge pixels)


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
        smooth = gaussian_blur(smooth, sigma)
    mask = np.asarray(mask, np.bool_)
    height, width = mask.shape
    tiles = [(y, x) for y in range(0, height, TILE) for x in range(0, width, TILE)]
    workers = min(len(tiles), os.cpu_count() or 1)
    # Every array the kernel uses is made here, on the calling thread: allocations on the worker
    # threads would grow a malloc arena per thread (at 512 px, 40 bytes a pixel of resident memory).
    # The kernel leaves a tile's segments (numbered from 0 within it) in its buffers, copied into the
    # tile's window of ``labels``; a picture of one tile is copied out once the other buffers and
    # the smoothed colours are freed (4 bytes a pixel less at its peak).
    labels = np.empty((height, width), np.int32) if len(tiles) != 1 else None
    most = min(TILE, height) * min(TILE, width)  # pixels in the largest tile
    buffers = [_buffers(most) for _ in range(workers)]
    counts = np.zeros(len(tiles), np.int64)

    def run(worker: int) -> None:  # tiles worker, worker + workers, ... in turn, on that worker's buffers
        for index in range(worker, len(tiles), workers):
            y, x = tiles[index]
            window = (slice(y, y + TILE), slice(x, x + TILE))
            counts[index] = _segment(smooth[window], mask[window], float(scale) / 255.0, int(min_size),
                                     *buffers[worker])
            if labels is not None:
                labels[window] = _tile_labels(buffers[worker][4], smooth[window].shape[:2])

    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:  # the kernel releases the GIL
            list(pool.map(run, range(workers)))
    elif tiles:
        run(0)
    if labels is None:  # one tile: its labels are copied out of its buffers once the rest is freed
        parent = buffers[0][4]
        del smooth, buffers, run  # the edge order (9 bytes a pixel) and the smoothed colours (12)
        return _tile_labels(parent, (height, width)).copy()  # numbered already
    _offset_tiles(labels, np.concatenate([[0], np.cumsum(counts)[:-1]]), TILE)  # numbered tile by tile
    return labels


def _tile_labels(parent: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) int32 view of the labels ``_segment`` left in its ``parent`` buffer for a tile of ``shape``."""
    return parent[:shape[0] * shape[1]].reshape(shape)


@njit(cache=True, nogil=True)
def _offset_tiles(labels: np.ndarray, offsets: np.ndarray, tile: int) -> None:
    """Add ``offsets[t]`` (T,) to the labels (>= 0) of tile t (row-major ``tile`` x ``tile``
    tiles) of ``labels`` (H, W), in place."""
    height, width = labels.shape
    across = (width + tile - 1) // tile
    for y in range(height):
        for x in range(width):
            if labels[y, x] >= 0:
                labels[y, x] += offsets[(y // tile) * across + x // tile]


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) float32 ``image`` blurred by a Gaussian of ``sigma`` px over y and x: bit for bit
    what ``scipy.ndimage.gaussian_filter(image, (sigma, sigma, 0))`` gives (its kernel of radius
    int(4 sigma + 0.5), mirrored edges, float64 sums in its order, float32 between the passes),
    without the import and at about half its time."""
    radius = int(4.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / (sigma * sigma) * x ** 2)
    out = np.empty(image.shape, np.float32)
    _blur(image, weights / weights.sum(), out)
    return out


@njit(cache=True, nogil=True)
def _mirror(i: int, n: int) -> int:
    """Index ``i`` into 0..n-1, the line mirrored at its ends (d c b a | a b c d | d c b a)."""
    j = i % (2 * n)
    return 2 * n - 1 - j if j >= n else j


@njit(cache=True, nogil=True)
def _blur(image, weights, out):
    """``gaussian_blur`` with symmetric ``weights`` (2 r + 1,) into ``out`` (the image's shape):
    columns into ``out``, then its rows in place through a mirrored line buffer."""
    height, width, channels = image.shape
    r = (len(weights) - 1) // 2
    total = np.empty((width, channels))
    for y in range(height):
        for x in range(width):
            for c in range(channels):
                total[x, c] = np.float64(image[y, x, c]) * weights[r]
        for j in range(r, 0, -1):  # the outermost pair first
            above, below, w = _mirror(y - j, height), _mirror(y + j, height), weights[r - j]
            for x in range(width):
                for c in range(channels):
                    total[x, c] += (np.float64(image[above, x, c]) + np.float64(image[below, x, c])) * w
        for x in range(width):
            for c in range(channels):
                out[y, x, c] = total[x, c]
    column = np.empty(width + 2 * r, np.int64)
    for k in range(width + 2 * r):
        column[k] = _mirror(k - r, width)
    line = np.empty((width + 2 * r, channels))
    for y in range(height):
        for k in range(width + 2 * r):
            for c in range(channels):
                line[k, c] = out[y, column[k], c]
        for x in range(width):
            for c in range(channels):
                value = line[x + r, c] * weights[r]
                for j in range(r, 0, -1):
                    value += (line[x + r - j, c] + line[x + r + j, c]) * weights[r - j]
                out[y, x, c] = value


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

@njit(cache=True, nogil=True, inline="always")
def _join_lower(parent, p, q):
    """Join the sets of ``p`` and ``q`` under the lower of their two roots."""
    a, b = _find(parent, p), _find(parent, q)
    if a != b:
        parent[max(a, b)] = min(a, b)


def _buffers(pixels: int) -> tuple[np.ndarray, ...]:
    """The kernel's working arrays for tiles of up to ``pixels`` (<= 2**16) pixels: edge keys
    (quantised weight + 1, 0: no edge), the counting sort's counts, the sorted edges' pixels (uint16)
    and directions (2 bits each, four to a byte), and per pixel parent, size and internal
    difference. The keys and counts are only used while the edges are sorted, before parent, size
    and internal difference are: they share those arrays' memory. 21 bytes a pixel in all (and
    the counts' 256 kB where a tile has fewer pixels than LEVELS)."""
    work = np.empty(max(3 * pixels, 2 * pixels + LEVELS + 1), np.int32)  # parent, size, internal difference
    return (work[:2 * pixels].view(np.uint16), work[2 * pixels:2 * pixels + LEVELS + 1],
            np.empty(DIRECTIONS * pixels, np.uint16), np.empty(pixels, np.uint8), work[:pixels],
            work[pixels:2 * pixels], work[2 * pixels:3 * pixels].view(np.float32))


@njit(cache=True, nogil=True, inline="always")
def _direction(directions, i):
    """The direction of sorted edge ``i``: 2 bits of ``directions`` (four edges a byte)."""
    return (directions[i >> 2] >> (2 * (i & 3))) & 3


@njit(cache=True, nogil=True)
def _sorted_edges(smooth, mask, key, counts, order, directions):
    """The E edges inside ``mask`` by increasing quantised weight (a counting sort, stable in edge
    order: pixel, then direction), edge i from pixel order[i] in direction ``_direction(directions,
    i)``; returns E. ``key`` and ``counts`` are working space (see ``_buffers``)."""
    height, width, channels = smooth.shape
    top = np.sqrt(float(channels)) * 1.0000001  # colours in [0, 1]: the largest possible weight
    key = key[:DIRECTIONS * height * width]
    key[:] = 0
    counts[:] = 0
    for y in range(height):
        for x in range(width):
            if not mask[y, x]:
                continue
            for k in range(DIRECTIONS):
                y2, x2 = y + DY[k], x + DX[k]
                if 0 <= x2 < width and y2 < height and mask[y2, x2]:
                    level = int(_weight(smooth, y, x, y2, x2) / top * (LEVELS - 1))  # < LEVELS - 1
                    key[DIRECTIONS * (y * width + x) + k] = level + 1
                    counts[level + 1] += 1
    for k in range(LEVELS):
        counts[k + 1] += counts[k]
    edges = counts[LEVELS]
    directions[:(edges + 3) // 4] = 0
    for edge in range(len(key)):
        if key[edge] > 0:
            level = np.int64(key[edge]) - 1
            i = counts[level]
            order[i] = edge // DIRECTIONS
            directions[i >> 2] |= (edge % DIRECTIONS) << (2 * (i & 3))
            counts[level] += 1
    return edges


# One compiled form for every tile: the windows of a larger picture are strided ("A" layout), and a
# picture of one tile passes contiguous arrays, which this signature takes too.
@njit("int64(float32[:, :, :], boolean[:, :], float64, int64, uint16[::1], int32[::1], uint16[::1], uint8[::1], "
      "int32[::1], int32[::1], float32[::1])", cache=True, nogil=True)
def _segment(smooth, mask, scale, min_size, key, counts, order, directions, parent, size, inner):
    """Segment one tile on the working arrays of ``_buffers``; allocates nothing. Leaves the tile's
    labels (-1 outside ``mask``, else 0..K-1, row-major) in ``parent`` and returns K."""
    height, width, channels = smooth.shape
    pixels = height * width
    edges = _sorted_edges(smooth, mask, key, counts, order, directions)
    parent, size, inner = parent[:pixels], size[:pixels], inner[:pixels]
    for p in range(pixels):
        parent[p], size[p], inner[p] = p, 1, 0.0
    for i in range(edges):
        p, k = np.int64(order[i]), _direction(directions, i)
        q = p + DY[k] * width + DX[k]
        if parent[p] == parent[q]:  # most edges: one segment (the sets do not depend on skipped halvings)
            continue
        a, b = _find(parent, p), _find(parent, q)
        if a == b:  # the pixel's position (a division) is worked out only past here
            continue
        y, x = p // width, p % width
        weight = _weight(smooth, y, x, y + DY[k], x + DX[k])
        if weight < min(inner[a] + scale / size[a], inner[b] + scale / size[b]):
            root, child = (a, b) if a < b else (b, a)
            parent[child] = root
            size[root] += size[child]
            inner[root] = weight
    for p in range(pixels):  # flattened: the pass below finds most roots in one step
        parent[p] = _find(parent, p)
    for i in range(edges):  # small segments join their neighbour across the lightest edge
        p, k = np.int64(order[i]), _direction(directions, i)
        q = p + DY[k] * width + DX[k]
        if parent[p] == parent[q]:
            continue
        a, b = _find(parent, p), _find(parent, q)
        if a != b and (size[a] < min_size or size[b] < min_size):
            root, child = (a, b) if a < b else (b, a)
            parent[child] = root
            size[root] += size[child]
    # Segments joined only through diagonal edges split into their 4-connected parts.
    for p in range(pixels):
        size[p] = _find(parent, p)  # size is reused: each pixel's segment
    for p in range(pixels):
        parent[p] = p
    for y in range(height):
        for x in range(width):
            p = y * width + x
            if x + 1 < width and size[p] == size[p + 1]:
                _join_lower(parent, p, p + 1)
            if y + 1 < height and size[p] == size[p + width]:
                _join_lower(parent, p, p + width)
    for p in range(pixels):  # flattened: each pixel's root is its parent, read below before it is overwritten
        parent[p] = _find(parent, p)
    number = size  # reused again: the segment number of each root
    number[:] = -1
    count = 0
    for y in range(height):
        for x in range(width):
            p = y * width + x
            if mask[y, x]:
                root = parent[p]
                if number[root] < 0:
                    number[root] = count
                    count += 1
                parent[p] = number[root]
            else:
                parent[p] = -1
    return count

