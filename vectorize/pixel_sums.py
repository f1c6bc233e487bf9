"""Per-pixel passes over a label map, compiled (numba), with no per-pixel temporaries: per-region
sums and extremes (a pixel's coordinate features are computed where they are used), relabelling,
the pairs of adjacent regions.

Coordinate features of the pixel centre (x + 0.5, y + 0.5), scaled so the long side spans [-1, 1]
around the canvas centre: (x, y), and x² + y² as the third feature (see ``merge.pixel_features``).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def region_sums(labels: np.ndarray, count: int, colours: np.ndarray, features: int) -> np.ndarray:
    """(count, width) statistics of each region of ``labels`` (H, W) int (-1: none) from pixel
    ``colours`` (H, W, C): count, colour sums (C), squared colour sum, feature sums (F), feature
    products (F x F, row-major) and feature-colour products (F x C, row-major), F = ``features``
    (0, 2 or 3); the column layout of ``merge.Layout``."""
    height, width, channels = colours.shape
    f = features
    out = np.zeros((count, 2 + channels + f + f * f + f * channels))
    scale = 2.0 / max(height, width)
    feature = np.zeros(3)
    for y in range(height):
        for x in range(width):
            r = labels[y, x]
            if r < 0:
                continue
            row = out[r]
            row[0] += 1.0
            square = 0.0
            for c in range(channels):
                v = np.float64(colours[y, x, c])  # squares in double precision, also for float32 input
                row[1 + c] += v
                square += v * v
            row[1 + channels] += square
            if f == 0:
                continue
            feature[0] = (x + 0.5) * scale - width * scale / 2
            feature[1] = (y + 0.5) * scale - height * scale / 2
            feature[2] = feature[0] * feature[0] + feature[1] * feature[1]
            at = 2 + channels
            for i in range(f):
                row[at + i] += feature[i]
                for j in range(f):
                    row[at + f + i * f + j] += feature[i] * feature[j]
                for c in range(channels):
                    row[at + f + f * f + i * channels + c] += feature[i] * np.float64(colours[y, x, c])
    return out


@njit(cache=True, nogil=True)
def region_counts(labels: np.ndarray, count: int) -> np.ndarray:
    """(count,) int64 pixels of each region 0..``count``-1 of ``labels`` (H, W) (-1: none): what
    ``np.bincount(labels[labels >= 0])`` gives, without its per-pixel temporaries (a mask, the
    selected labels and their int64 copy: 11 bytes a pixel for int16 labels)."""
    out = np.zeros(count, np.int64)
    height, width = labels.shape
    for y in range(height):
        for x in range(width):
            r = labels[y, x]
            if r >= 0:
                out[r] += 1
    return out


@njit(cache=True, nogil=True)
def region_extremes(labels: np.ndarray, origin: np.ndarray, direction: np.ndarray, radial: bool):
    """Per region r of ``labels`` (H, W) (-1: none), the least and greatest value over its pixels of
    (f - origin[r]) . direction[r] (``radial`` False) or |f - origin[r]| (True), f = (x, y) features;
    ``origin``, ``direction`` (R, 2). Returns (low (R,), high (R,)); +inf/-inf for empty regions."""
    height, width = labels.shape
    count = len(origin)
    low = np.full(count, np.inf)
    high = np.full(count, -np.inf)
    scale = 2.0 / max(height, width)
    for y in range(height):
        fy = (y + 0.5) * scale - height * scale / 2
        for x in range(width):
            r = labels[y, x]
            if r < 0:
                continue
            dx = (x + 0.5) * scale - width * scale / 2 - origin[r, 0]
            dy = fy - origin[r, 1]
            value = np.sqrt(dx * dx + dy * dy) if radial else dx * direction[r, 0] + dy * direction[r, 1]
            low[r] = min(low[r], value)
            high[r] = max(high[r], value)
    return low, high


@njit(cache=True, nogil=True)
def relabel(labels: np.ndarray, mapping: np.ndarray, out: np.ndarray) -> None:
    """``out`` (H, W) = ``mapping[labels]`` (mapping (R,)) where ``labels`` (H, W) >= 0, else -1."""
    height, width = labels.shape
    for y in range(height):
        for x in range(width):
            r = labels[y, x]
            out[y, x] = mapping[r] if r >= 0 else -1



@njit(cache=True, nogil=True)
def adjacent_pairs(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (a < b) pairs of 4-adjacent regions of ``labels`` (H, W) int (-1: none, else
    0..``count``-1), sorted by (a, b): (first (E,), second (E,)) int32. Each region's higher
    neighbours are gathered in a bucket per region (4 bytes a boundary pixel edge), then made
    unique and sorted bucket by bucket."""
    start = np.zeros(count + 1, np.int64)
    _gather(labels, start, np.empty(0, np.int32), False)  # counted per region
    for r in range(count):
        start[r + 1] += start[r]
    bucket = np.empty(start[count], np.int32)
    _gather(labels, start[:count].copy(), bucket, True)  # placed in the buckets
    seen = np.full(count, -1, np.int32)
    kept = 0
    for low in range(count):  # unique and sorted in place, moved down to the bucket's new start
        first = kept
        for i in range(start[low], start[low + 1]):
            high = bucket[i]
            if seen[high] != low:
                seen[high] = low
                j = kept
                while j > first and bucket[j - 1] > high:  # insertion sort: a bucket holds a few
                    bucket[j] = bucket[j - 1]
                    j -= 1
                bucket[j] = high
                kept += 1
        start[low] = first
    start[count] = kept
    first = np.empty(kept, np.int32)
    for low in range(count):
        first[start[low]:start[low + 1]] = low
    return first, bucket[:kept].copy()


@njit(cache=True, nogil=True)
def _gather(labels, fill, bucket, place):
    """Each 4-adjacent pair of different regions a < b of ``labels``, once per shared pixel edge:
    counted in ``fill[a + 1]``, or with ``place`` b written to ``bucket[fill[a]]`` and ``fill[a]``
    advanced."""
    height, width = labels.shape
    for y in range(height):
        for x in range(width):
            a = labels[y, x]
            if a < 0:
                continue
            for b in (labels[y, x + 1] if x + 1 < width else -1, labels[y + 1, x] if y + 1 < height else -1):
                if b >= 0 and b != a:
                    low, high = (a, b) if a < b else (b, a)
                    if place:
                        bucket[fill[low]] = high
                        fill[low] += 1
                    else:
                        fill[low + 1] += 1
