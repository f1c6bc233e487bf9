"""Randomly generated free-form training masks for a mask ControlNet: strokes, blobs, boxes and
outpaint borders, and the test for "this mask falls on plain background"."""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

KINDS = ("stroke", "blob", "box", "border")


def random_mask(height: int, width: int, rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """(H, W) bool mask of ``kind`` (one of KINDS; None: drawn uniformly), never empty nor full:

    * stroke: a thick random polyline (2 to 5 segments, width 1/16 to 1/6 of the short side);
    * blob: the union of 1 to 4 random ellipses;
    * box: an axis-aligned rectangle, 1/8 to 1/2 of each side;
    * border: strips along 1 to 4 sides (what an outpaint repaints), 1/16 to 1/3 of the side."""
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    if kind not in KINDS:
        raise ValueError(f"unknown mask kind {kind!r}")
    short = min(height, width)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    if kind == "stroke":
        points = [(float(rng.uniform(0, width)), float(rng.uniform(0, height)))]
        for _ in range(int(rng.integers(2, 6))):
            angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(0.15, 0.5) * short
            x, y = points[-1]
            points.append((float(np.clip(x + length * math.cos(angle), 0, width - 1)),
                           float(np.clip(y + length * math.sin(angle), 0, height - 1))))
        thickness = max(1, int(rng.uniform(1 / 16, 1 / 6) * short))
        draw.line(points, fill=255, width=thickness, joint="curve")
        for x, y in points:  # round caps
            draw.ellipse((x - thickness / 2, y - thickness / 2, x + thickness / 2, y + thickness / 2), fill=255)
    elif kind == "blob":
        for _ in range(int(rng.integers(1, 5))):
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            rx, ry = rng.uniform(0.06, 0.25) * width, rng.uniform(0.06, 0.25) * height
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    elif kind == "box":
        bw, bh = int(rng.uniform(1 / 8, 1 / 2) * width) + 1, int(rng.uniform(1 / 8, 1 / 2) * height) + 1
        x0, y0 = int(rng.integers(0, width - bw + 1)), int(rng.integers(0, height - bh + 1))
        draw.rectangle((x0, y0, x0 + bw - 1, y0 + bh - 1), fill=255)
    mask = np.asarray(canvas) > 127
    if kind == "border":
        sides = rng.permutation(4)[: int(rng.integers(1, 5))]
        for side in sides:
            size = max(1, int(rng.uniform(1 / 16, 1 / 3) * (width if side < 2 else height)))
            if side == 0:
                mask[:, :size] = True
            elif side == 1:
                mask[:, width - size:] = True
            elif side == 2:
                mask[:size, :] = True
            else:
                mask[height - size:, :] = True
    if not mask.any():  # a stroke or blob drawn off the canvas: fall back to a centre dot
        mask[height // 2, width // 2] = True
    if mask.all():
        mask[0, 0] = False
    return mask


def on_background(mask: np.ndarray, image: np.ndarray, objects: np.ndarray | None = None,
                  plain_std: float = 0.04) -> bool:
    """Whether ``mask`` (H, W) bool falls on plain background of ``image`` (H, W, 3) in [0, 1]: it
    misses every pixel of ``objects`` (H, W) bool when the sample has an object mask; otherwise the
    picture under it is nearly flat (per-channel standard deviation at most ``plain_std``)."""
    if objects is not None:
        return not bool((mask & objects).any())
    return bool(image[mask].std(axis=0).max() <= plain_std)


def background_mask(height: int, width: int, rng: np.random.Generator, image: np.ndarray,
                    objects: np.ndarray | None = None, tries: int = 32) -> np.ndarray:
    """A random free-form mask on plain background (``on_background``): the first of ``tries`` random
    masks that is, or the flattest one when none is."""
    best, best_std = None, math.inf
    for _ in range(tries):
        mask = random_mask(height, width, rng)
        if on_background(mask, image, objects):
            return mask
        spread = float(image[mask].std(axis=0).max())
        if spread < best_std:
            best, best_std = mask, spread
    return best
