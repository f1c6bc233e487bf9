"""Vectorizing to a path budget: over-segment, merge the least costly regions, stack the levels.

1. Over-segmentation: Felzenszwalb's graph segmentation (fine scale, a few pixels per region at
   the least) gives many small regions that follow the picture's edges; its scale is chosen so
   there are several times more regions than the budget.
2. Merging (``merge``): adjacent regions merge greedily by the least added squared colour error,
   each region's colour modelled as a gradient fill, down to the budget; then further down to the
   coarser levels (``rounds`` sets their relative sizes), so each level is a union of the regions
   of the level above it: a hierarchy.
3. Fills (``fills``): each finest region gets a flat colour or a linear/radial gradient.
4. Stacking: every level is a layer (coarse at the bottom) and covers the canvas, like the
   multi-round trace; a region's largest child on the next level is not drawn again: the parent's
   path takes that child's paint and shows through. So the path count is the finest level's
   region count whatever the number of levels, the coarse layers hide cracks when paths move, and
   an edge between a drawn child and its parent's area anti-aliases against the right colour.
   Translucent regions are drawn on the finest level only, over nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from clipvg.scene import Paint

from .felzenszwalb import segment
from .heap import release_free_heap
from .fills import region_paints
from .merge import Layout, MergeOrder, merge_order, pixel_ridge
from .pixel_sums import region_sums, relabel
from .trace import trace_levels

OPAQUE = 254.5 / 255.0
# Felzenszwalb's scale, and how many times more initial regions than the budget it must give (else
# it is rerun finer). 16 gives half the regions of 8 (the merge takes half the time) at -0.05 dB
# on average over the quick RD benchmark's 32 comparisons (8 was best of 5, 8, 20 on astronaut).
BASE_SCALE = 16.0
MIN_OVERSEGMENTATION = 6
SMOOTHING = 0.5
MIN_KNEE = 16  # the knee is sought from this many regions up


@dataclass
class Level:
    """One stacked layer: ``labels`` (H, W) int with -1 where it draws nothing, and per label the
    contours and paint of its path."""

    labels: np.ndarray
    paints: list[Paint]
    contours: list[list[np.ndarray]]


STEPS = ("segment", "merge", "fill", "trace")  # reported to ``step`` as each begins


def budget_levels(rgba: np.ndarray, mask: np.ndarray, counts: list[int], tolerance: float, gradients: str,
                  min_size: int = 3, step: Callable[[str], None] = lambda name: None,
                  knee: bool = False) -> list[Level]:
    """Vectorize the pixels of ``rgba`` (H, W, 4) under ``mask`` (H, W) bool into stacked levels
    with ``counts`` regions each (ascending; the last is the path budget and the total path count,
    or less when the picture has fewer regions). ``knee``: ``counts[-1]`` is only the most paths,
    the budget is the knee of the picture's rate-distortion curve up to it (``knee_count``) and
    every count is scaled alike. Returns the levels bottom to top. ``step`` is called with each
    name of STEPS as that step begins (progress)."""
    height, width = mask.shape
    if not mask.any():
        return [Level(np.full(mask.shape, -1), [], []) for _ in counts]
    opaque_image = not (mask & (rgba[..., 3] < OPAQUE)).any()  # bytes a pixel (no float copy of the masked alpha)
    colours = _colours(rgba, opaque_image)
    step("segment")
    initial = oversegment(colours, mask, counts[-1], min_size)
    count = int(initial.max()) + 1
    initial = initial.astype(_label_type(count), copy=False)  # int16 when the regions fit: 2 bytes a pixel less
    merge_features = 0 if gradients == "none" else 2
    layout = Layout(colours.shape[-1], merge_features)
    ridge = pixel_ridge(height, width)
    stats = region_sums(initial, count, colours, merge_features)
    step("merge")
    release_free_heap()  # the segmentation's buffers, before the merge's arrays
    most = counts[-1]
    order = merge_order(initial, stats, layout, ridge, min(counts) if not knee else
                        max(1, min(counts[0], MIN_KNEE * counts[0] // most)))
    del stats
    release_free_heap()  # the merge's heap and pair lists
    if knee:
        # squared error floor: 60 dB PSNR over the masked pixels' channels
        best = knee_count(order, MIN_KNEE, most, 1e-6 * float(mask.sum()) * colours.shape[-1])
        counts = [max(1, round(c * best / most)) for c in counts]
    maps = [order.partition(target) for target in counts]  # coarse to fine
    del order
    initial, maps = _drop_to_budget(initial, colours, maps, counts[-1])
    finest = _apply(maps[-1], initial)
    step("fill")
    top_count = int(maps[-1].max()) + 1
    # The fills see x² + y² too when radial gradients are allowed (the merging does not need it).
    fill_layout = Layout(colours.shape[-1], 3 if gradients == "radial" else merge_features)
    top_stats = region_sums(finest, top_count, colours, fill_layout.features)
    del colours  # 12 bytes per pixel, not needed from here on
    n = top_stats[:, 0]
    alpha = np.ones(top_count) if opaque_image else top_stats[:, 4] / np.maximum(n, 1e-12)
    solid = alpha >= OPAQUE
    paints = region_paints(top_stats, fill_layout, ridge, finest, solid, gradients)
    drawn, paint_of = _stacking(maps, n, solid)
    del top_stats, n, alpha, solid  # the merge order, statistics and maps: freed before the tracing
    level_labels = []
    for level_map, draw in zip(maps, drawn):
        keep = np.full(len(draw), -1)
        keep[draw] = np.arange(int(draw.sum()))
        level_labels.append(_apply(keep[level_map], initial))
    del initial, maps
    release_free_heap()  # the merge order, statistics and fill temporaries, before the tracing's arrays
    step("trace")
    traced = trace_levels(level_labels, finest, tolerance)
    release_free_heap()  # the tracing's edge lists and fit temporaries, before the paths are built
    levels = []
    for draw, leaf, contours, labels in zip(drawn, paint_of, traced, level_labels):
        levels.append(Level(labels, [paints[leaf[r]] for r in np.nonzero(draw)[0]], contours))
    return levels


def knee_count(order: MergeOrder, low: int, high: int, floor: float = 0.0) -> int:
    """The knee of the rate-distortion curve of ``order`` between ``low`` and ``high`` regions: the
    count K where PSNR(K) (from the merge model's squared error, at least ``floor``: an error the
    eye cannot tell from none) rises farthest above the straight line from (low, PSNR(low)) to
    (high, PSNR(high)), both axes linear (Kneedle); past it each added path buys less than the
    average over the range. All that is left when the merges stopped above ``low``."""
    errors = order.errors()
    counts = order.count - np.arange(len(errors))
    inside = (counts >= low) & (counts <= high)
    if counts[-1] > low or not inside.any():
        return min(high, int(counts[-1]))
    k, psnr = counts[inside], -10.0 * np.log10(np.maximum(errors[inside], max(floor, 1e-300)))
    x = (k - k.min()) / max(k.max() - k.min(), 1)
    y = (psnr - psnr[k.argmin()]) / max(psnr[k.argmax()] - psnr[k.argmin()], 1e-12)
    return int(k[np.argmax(y - x)])


def oversegment(colours: np.ndarray, mask: np.ndarray, budget: int, min_size: int = 3) -> np.ndarray:
    """(H, W) int32 4-connected initial regions of ``colours`` (H, W, C) inside ``mask``, -1 outside:
    Felzenszwalb at a scale that gives at least MIN_OVERSEGMENTATION x ``budget`` regions (when
    the picture has that many pixels)."""
    scale = BASE_SCALE
    want = min(MIN_OVERSEGMENTATION * budget, int(mask.sum()) // 4)
    while True:
        labels = segment(colours, mask, scale, SMOOTHING, min_size)
        if int(labels.max()) + 1 >= want or scale <= 1.0:
            return labels
        scale = max(1.0, scale / 3.0)


def _colours(rgba: np.ndarray, opaque: bool) -> np.ndarray:
    """What the merge error is measured on: RGB for an opaque picture (a view of ``rgba``: no
    copy), else premultiplied RGBA."""
    if opaque:
        return rgba[..., :3]
    return np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1).astype(np.float32)


def _apply(mapping: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """(H, W) labels: ``mapping`` (R,) of each pixel's initial region in ``initial`` (H, W), -1
    kept; int16 when the labels fit (a result keeps its maps), else int32."""
    mapping = np.asarray(mapping)
    dtype = _label_type(int(mapping.max()) + 1 if len(mapping) else 0)
    out = np.empty(initial.shape, dtype)
    relabel(initial, mapping.astype(dtype), out)
    return out


def _label_type(count: int) -> type:
    """The label type of a map of ``count`` regions (and -1): int16 when they fit, else int32."""
    return np.int16 if count <= np.iinfo(np.int16).max else np.int32


def _drop_to_budget(initial, colours, maps, budget):
    """When merging stopped above the budget (regions that touch no other, e.g. islands in a
    transparent picture), leave out the regions that cost least to leave out (their squared
    colour, premultiplied: summed over their pixels of ``colours`` (H, W, C)) until the budget
    holds. Returns (initial, maps) without them."""
    count = int(maps[-1].max()) + 1 if len(maps[-1]) else 0
    if count <= budget:
        return initial, maps
    square = region_sums(initial, len(maps[-1]), colours, 0)[:, 1 + colours.shape[-1]]  # per initial region
    square = np.bincount(maps[-1], square, minlength=count)
    dropped = np.zeros(count, bool)
    dropped[np.argsort(square, kind="stable")[:count - budget]] = True
    keep = ~dropped[maps[-1]]  # initial regions that stay
    lookup = np.full(len(keep), -1)
    lookup[keep] = np.arange(int(keep.sum()))
    initial = _apply(lookup, initial)
    maps = [np.unique(m[keep], return_inverse=True)[1].reshape(-1) for m in maps]
    return initial, maps


def _stacking(maps: list[np.ndarray], leaf_area: np.ndarray, solid: np.ndarray):
    """Which regions of each level are drawn ((R_k,) bool per level), and which finest region's
    paint each takes ((R_k,) int per level).

    A free region (on level 0, a child of an undrawn region, or a child other than the largest of
    a drawn or represented one) is drawn when all its finest regions are solid (opaque), else its
    children are free; on the finest level free regions are always drawn. The largest child of a
    drawn or represented region is represented: not drawn, but shown by the ancestor's path, which
    takes the paint of the finest region at the end of that chain of largest children. Every finest
    region is so drawn exactly once, by itself or by an ancestor: the path count is their number.
    """
    depth = len(maps)
    counts = [int(m.max()) + 1 for m in maps]
    leaves = counts[-1]
    up = []  # up[k]: level-k region of each finest region
    for k in range(depth):
        table = np.zeros(leaves, np.int64)
        table[maps[-1]] = maps[k]
        up.append(table)
    area = [np.bincount(up[k], leaf_area, minlength=counts[k]) for k in range(depth)]
    all_solid = [np.bincount(up[k], ~solid, minlength=counts[k]) == 0 for k in range(depth)]
    largest = []  # largest[k]: the largest level k+1 child of each level k region
    for k in range(depth - 1):
        parent = np.zeros(counts[k + 1], np.int64)
        parent[maps[k + 1]] = maps[k]
        order = np.lexsort((-area[k + 1], parent))
        first = np.r_[True, parent[order][1:] != parent[order][:-1]]
        best = np.zeros(counts[k], np.int64)
        best[parent[order][first]] = order[first]
        largest.append(best)
    drawn = []
    represented = np.zeros(counts[0], bool)
    for k in range(depth):
        draw = ~represented & (all_solid[k] | (k == depth - 1))
        drawn.append(draw)
        if k + 1 < depth:
            heirs = np.zeros(counts[k + 1], bool)
            heirs[largest[k][draw | represented]] = True
            represented = heirs
    paint_of = [np.arange(leaves)]
    for k in range(depth - 2, -1, -1):
        paint_of.insert(0, paint_of[0][largest[k]])
    return drawn, paint_of
