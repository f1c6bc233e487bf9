"""Connected regions of a quantized image, with speckles merged into their neighbours (no gaps)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.measure import label as label_components

MAX_MERGE_PASSES = 12


@dataclass
class Regions:
    """A partition of the traced pixels into 4-connected regions.

    ``labels`` (H, W) int32: region index per pixel, -1 for pixels that get no path.
    ``colors`` (R, 4) float32: mean straight RGBA of each region's pixels in the source image.
    ``areas`` (R,) int64 pixel counts.
    """

    labels: np.ndarray
    colors: np.ndarray
    areas: np.ndarray

    @property
    def count(self) -> int:
        return len(self.areas)


def find_regions(clusters: np.ndarray, image: np.ndarray, min_area: int) -> Regions:
    """Split ``clusters`` (H, W) int (-1 = skip) into 4-connected regions; merge every region smaller
    than ``min_area`` pixels into the neighbour it shares the longest border with (among larger
    neighbours), so merged pixels are covered by that neighbour; colour regions by their mean RGBA.
    """
    components = label_components(clusters + 1, background=0, connectivity=1) - 1
    for _ in range(MAX_MERGE_PASSES):
        components, merged = _merge_small(components, min_area)
        if not merged:
            break
    return _summarise(components, image)


def _merge_small(components: np.ndarray, min_area: int) -> tuple[np.ndarray, bool]:
    """One merge pass; returns compacted labels and whether anything merged."""
    count = int(components.max()) + 1
    if count <= 1:
        return components, False
    areas = np.bincount(components[components >= 0], minlength=count)
    pairs = _neighbour_pairs(components)
    # Rank regions by (area, index) so every merge goes strictly up the order: no cycles.
    rank = np.empty(count, np.int64)
    rank[np.lexsort((np.arange(count), areas))] = np.arange(count)
    source, target = pairs[:, 0], pairs[:, 1]
    keep = (areas[source] < min_area) & (rank[target] > rank[source])
    source, target = source[keep], target[keep]
    if len(source) == 0:
        return components, False
    # Longest shared border first: count pair occurrences, then take each source's best target.
    key = source.astype(np.int64) * count + target
    unique, border = np.unique(key, return_counts=True)
    src, tgt = unique // count, unique % count
    order = np.lexsort((-border, src))
    src, tgt = src[order], tgt[order]
    first = np.r_[True, src[1:] != src[:-1]]
    mapping = np.arange(count)
    mapping[src[first]] = tgt[first]
    for _ in range(64):  # follow chains a -> b -> c to their end
        nxt = mapping[mapping]
        if np.array_equal(nxt, mapping):
            break
        mapping = nxt
    _, compact = np.unique(mapping, return_inverse=True)
    merged = np.where(components >= 0, compact[np.maximum(components, 0)], -1).astype(np.int32)
    return merged, True


def _neighbour_pairs(labels: np.ndarray) -> np.ndarray:
    """(E, 2) int64 ordered pairs (a, b) of distinct 4-adjacent non-negative labels, both directions,
    one row per shared pixel edge."""
    pairs = []
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        differ = (a != b) & (a >= 0) & (b >= 0)
        pairs.append(np.stack([a[differ], b[differ]], axis=1))
    forward = np.concatenate(pairs).astype(np.int64)
    return np.concatenate([forward, forward[:, ::-1]])


def _summarise(components: np.ndarray, image: np.ndarray) -> Regions:
    count = int(components.max()) + 1 if components.size else 0
    inside = components >= 0
    flat = components[inside]
    areas = np.bincount(flat, minlength=count)
    pixels = image[inside].astype(np.float64)
    alpha = pixels[:, 3]
    # Average colour weighted by alpha (premultiplied mean), alpha by plain mean.
    weight = np.bincount(flat, alpha, minlength=count)
    rgb = np.stack([np.bincount(flat, pixels[:, c] * alpha, minlength=count) for c in range(3)], axis=1)
    rgb = rgb / np.maximum(weight, 1e-12)[:, None]
    mean_alpha = weight / np.maximum(areas, 1)
    colors = np.concatenate([rgb, mean_alpha[:, None]], axis=1).clip(0.0, 1.0).astype(np.float32)
    return Regions(labels=components.astype(np.int32), colors=colors, areas=areas.astype(np.int64))
