"""Samples per pixel of exported renders (``clipvg.render.supersample``): the default, the limit and the
check, torch-free so that the CLI checks ``--samples`` before torch loads."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .errors import InvalidInputError

if TYPE_CHECKING:
    from .scene.tree import Group

MAX_SAMPLES = 8  # samples per axis: 64 per pixel; the work grows with the square
# samples per axis of ``clipvg render``, ``render_rgba8`` and the PNG exports of edits: 2 x 2 take papirus and
# tango icons from 87 / 78 % to 100 % of files >= 40 dB from a 4x-supersampled resvg, openclipart 75 -> 92 % (the
# 4x reference itself is >= 40 dB from 16x on 93 %), at 1.4-1.8x the render time; 4 x 4 add one openclipart file
# for 2.5-3.3x the 2 x 2 time
# (benchmarks/results/svg_corpus_cba2d24_2cpu_load3-5_papirus_tango_openclipart_samples.json)
EXPORT_SAMPLES = 2
# output pixels up to which exports take EXPORT_SAMPLES by default (2048 x 2048): above it they take one sample,
# as the work grows with the drawn pixels (an 8192 x 8192 tree of groups and filters took 859 s at 2 x 2 against
# 134 s at one sample; benchmarks/results/render_memory_02f257d_2cpu_load4.json); an explicit count is kept
EXPORT_MAX_PIXELS = 2048 * 2048
MAX_TILE_TEXELS = 1 << 24  # a pattern tile's texture larger than this is drawn at a lower resolution (clipvg.render.pattern)


def export_samples(width: int, height: int, samples: int | None = None) -> int:
    """The samples per axis an export of width x height px is drawn with: ``samples`` when given (checked),
    else EXPORT_SAMPLES up to EXPORT_MAX_PIXELS output pixels and 1 above."""
    if samples is not None:
        return check_samples(samples)
    return EXPORT_SAMPLES if width * height <= EXPORT_MAX_PIXELS else 1


def check_samples(samples: int) -> int:
    """``samples`` (per axis) as an int in [1, MAX_SAMPLES]; InvalidInputError otherwise."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise InvalidInputError(f"samples must be a whole number of samples per axis from 1 (one exact-area sample) "
                                f"to {MAX_SAMPLES}, got {samples!r}")
    return samples


def textures_on_grid(tree: Group, scale: float, samples: int) -> bool:
    """Whether ``tree`` draws a texture that looks right only at ``scale`` output px per canvas px, so that a
    render at ``samples`` x the scale reduced by ``samples`` would move its texels (the render then takes one
    sample, ``clipvg.tiling.drawn_samples``):

    - an image sampled nearest-texel (``image-rendering: pixelated``) or from a texture made at the output's
      resolution (an SVG image); an image resampled bicubically draws the same at any resolution, only finer
      (openclipart's xylophone_ganson, with photos: 37.7 -> 43.4 dB from resvg at 16 x 16 samples at 2 x 2);
    - a pattern inside another pattern's tile;
    - a pattern whose tile (``clipvg.render.pattern.tile_layout``, round(size x scale) texels) is not a whole
      number of output px placed at whole px by a translation: its texture holds a whole number of texels, as
      in resvg, so at another resolution tile edges move by a pixel (12 of resvg's pattern and context files
      failed at 2 x 2). A tile on the pixel grid only draws finer (pattern-diamond-cubes-2, one tile over the
      canvas: 34.4 -> 41.0 dB); where shapes share edges it loses their 1-sample seam, as any 2 x 2 export
      does (resvg's painting/context/with-pattern-in-use: 0.5 -> 1.4 % of pixels off its 1-sample picture)."""
    if any(image.sampling != "bicubic" for image in tree.images()):
        return True
    for pattern in tree.patterns():
        if next(pattern.content.patterns(), None) is not None:
            return True
        a, b, c, d, e, f = (float(v) * scale for v in pattern.transform)
        width, height = (float(v) for v in pattern.size)
        texels = width * a * height * d * samples * samples
        if b or c or a <= 0 or d <= 0 or texels > MAX_TILE_TEXELS or not all(
                _whole(v) for v in (width * a, height * d, e, f)):
            return True
    return False


def _whole(value: float) -> bool:
    """``value`` within 1e-6 of a whole number (px)."""
    return math.isfinite(value) and abs(value - round(value)) <= 1e-6
