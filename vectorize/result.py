"""``Vectorized``: the vectorizer's result as numpy per-path views, before any Scene (torch) is built.

It writes its SVG through ``clipvg.svg.path_writer`` (the writer a Scene without a group tree uses
too) and rasterises its own regions' fills (``fill_raster``), so ``clipvg vectorize`` needs no torch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clipvg.scene.paint import LinearGradient, Paint, RadialGradient, Solid
from clipvg.scene.path import Path

if TYPE_CHECKING:
    from clipvg.scene import Scene


@dataclass
class FillLevel:
    """One layer's regions as the vectorizer found them: ``labels`` (H, W) int (-1: nothing drawn)
    and the paint of each label (``paints[label]``), in canvas pixels. The labels are kept in the
    smallest of int16 and int32 that holds them (a result holds one map per layer)."""

    labels: np.ndarray
    paints: list[Paint]

    def __post_init__(self) -> None:
        dtype = np.int16 if len(self.paints) <= np.iinfo(np.int16).max else np.int32
        self.labels = np.asarray(self.labels, dtype)


@dataclass
class Vectorized:
    """``paths`` (drawn in order, each with its ``layer``) on a ``width`` x ``height`` px canvas, the
    layers in ``layer_names`` order, and ``levels``: the regions behind the paths, bottom layer first
    (None for the vtracer backend)."""

    paths: list[Path]
    width: int
    height: int
    layer_names: list[str]
    levels: list[FillLevel] | None = None

    @property
    def num_paths(self) -> int:
        return len(self.paths)

    def layer_paths(self, name: str) -> list[Path]:
        return [p for p in self.paths if p.layer == name]

    def scene(self) -> Scene:
        """The packed Scene (loads torch)."""
        from clipvg.scene import Scene

        return Scene.from_paths(self.paths, self.width, self.height, self.layer_names)

    def svg_string(self, *, precision: int = 4) -> str:
        """The SVG document, byte for byte what ``clipvg.svg.scene_to_svg_string(self.scene())`` gives."""
        from clipvg.svg.path_writer import paths_to_svg_string

        from .path_text import chunk_data

        return paths_to_svg_string(self.paths, self.width, self.height, self.layer_names, precision=precision,
                                   chunk=chunk_data)

    def save_svg(self, path: str | os.PathLike, *, precision: int = 4) -> None:
        """Write the SVG document to ``path`` atomically."""
        from clipvg.svg.path_writer import save_paths_svg

        from .path_text import chunk_data

        save_paths_svg(self.paths, self.width, self.height, self.layer_names, path, precision=precision,
                       chunk=chunk_data)

    def fill_raster(self) -> np.ndarray:
        """(H, W, 4) float32 straight RGBA: every level's region fills evaluated at the pixel centres and
        stacked bottom to top (the picture the paths draw, without the curve fitting's smoothing and
        anti-aliasing). Raises ValueError when there are no levels (the vtracer backend)."""
        if self.levels is None:
            raise ValueError("this result has no regions to rasterise (vtracer backend): render its scene()")
        out = np.zeros((self.height, self.width, 4), np.float32)
        for level in self.levels:
            _over(out, level_colours(level))
        return out


def level_colours(level: FillLevel) -> np.ndarray:
    """(H, W, 4) float32 straight RGBA of one level: each pixel its region's paint at the pixel
    centre, transparent where the label is -1."""
    labels = level.labels
    table = np.zeros((len(level.paints) + 1, 4), np.float32)  # the last row: label -1, transparent
    for index, paint in enumerate(level.paints):
        if isinstance(paint, Solid):
            table[index] = paint.rgba
    out = table[labels]
    graded = [i for i, paint in enumerate(level.paints) if not isinstance(paint, Solid)]
    if not graded:
        return out
    is_graded = np.zeros(len(table), bool)
    is_graded[graded] = True
    ys, xs = np.nonzero(is_graded[labels])
    owner = labels[ys, xs]
    order = np.argsort(owner, kind="stable")
    ys, xs, owner = ys[order], xs[order], owner[order]
    bounds = np.searchsorted(owner, graded + [len(level.paints)])
    for index, lo, hi in zip(graded, bounds[:-1], bounds[1:]):
        out[ys[lo:hi], xs[lo:hi]] = _gradient_colours(level.paints[index], xs[lo:hi] + 0.5, ys[lo:hi] + 0.5)
    return out


def _gradient_colours(paint: LinearGradient | RadialGradient, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(N, 4) straight RGBA of a pad-spread gradient with no transform at the points (x, y) (N,)."""
    if isinstance(paint, LinearGradient):
        (x0, y0), (x1, y1) = paint.start, paint.end
        dx, dy = x1 - x0, y1 - y0
        t = ((x - x0) * dx + (y - y0) * dy) / max(dx * dx + dy * dy, 1e-12)
    else:
        (cx, cy) = paint.center
        t = np.hypot(x - cx, y - cy) / max(paint.radius, 1e-12)
    offsets, colours = paint.stops.offsets, paint.stops.colors
    return np.stack([np.interp(t, offsets, colours[:, c]) for c in range(4)], axis=1)


def _over(below: np.ndarray, above: np.ndarray) -> None:
    """Composite straight RGBA ``above`` over ``below`` (both (H, W, 4)), in place."""
    a, b = above[..., 3:], below[..., 3:]
    alpha = a + b * (1.0 - a)
    rgb = above[..., :3] * a + below[..., :3] * b * (1.0 - a)
    below[..., :3] = np.where(alpha > 0, rgb / np.maximum(alpha, 1e-12), 0.0)
    below[..., 3:] = alpha
