"""Supersampled renders: a render drawn at ``samples`` x its size in each axis and reduced to the output
size by the mean of every ``samples`` x ``samples`` block, in premultiplied space.

clipvg's renderer gives each shape its exact-area coverage of a pixel and composites the shapes one
over another. Two shapes that abut along an edge crossing a pixel then both cover it partly, and the
background shows through the seam (conflation, as in 1-sample renderers and browsers). Drawing
smaller pixels and averaging them narrows that seam by ``samples`` in each axis. A reduced band holds
whole blocks: ``reduced_rows`` carries the rows of an unfinished block over to the next band.

Filter primitives that work on the pixel grid (feConvolveMatrix kernels and lighting normals are per
pixel; feTile, feTurbulence, feMorphology, feDisplacementMap and feImage snap to it) look different at
another resolution, and browsers draw them at the output's: a scene with one is drawn with one sample
(``clipvg.tiling.drawn_samples``). So is a scene with a texture on the pixel grid
(``clipvg.samples.textures_on_grid``): a pattern tile that is not a whole number of pixels at whole pixels
(its texture holds whole texels, as in resvg, so at another resolution tile edges move by a pixel) and an
image drawn nearest-texel; a bicubic image and a tile on the grid are drawn at ``samples``. Renders that
record gradients (optimisation) use one sample; the default of exports and the limit are in
``clipvg.samples``.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import torch

from ..tiling import drawn_samples
from .composite import unpremultiplied


def box_reduce(image: torch.Tensor, samples: int) -> torch.Tensor:
    """(h * samples, w * samples, 4) straight RGBA -> (h, w, 4) straight RGBA: the premultiplied mean of
    each samples x samples block, made straight again by ``composite.unpremultiplied`` (colour where every
    sample is transparent: 0). ``samples`` 1 returns ``image`` itself. Differentiable."""
    if samples == 1:
        return image
    height, width = image.shape[0] // samples, image.shape[1] // samples
    alpha = image[..., 3:]
    premultiplied = torch.cat([image[..., :3] * alpha, alpha], -1)
    mean = premultiplied.reshape(height, samples, width, samples, 4).mean((1, 3)).reshape(-1, 4)
    return unpremultiplied(mean[:, :3], mean[:, 3]).reshape(height, width, 4)


def reduced_rows(bands: Iterable[tuple[int, torch.Tensor]], samples: int) -> Iterator[tuple[int, torch.Tensor]]:
    """Bands (y0, (rows, W * samples, 4) straight RGBA) of a supersampled render, top to bottom and
    adjacent, as bands (y0 // samples, (rows', W, 4)) of the output: each holds the whole blocks seen so
    far; rows of an unfinished block wait for the next band."""
    carry: torch.Tensor | None = None
    row = 0  # next output row
    for _, band in bands:
        if carry is not None and len(carry):  # no copy of the band when the last one ended on a whole block
            band = torch.cat([carry, band])
        whole = len(band) - len(band) % samples
        if whole:
            yield row, box_reduce(band[:whole], samples)
            row += whole // samples
        carry = band[whole:]


__all__ = ["box_reduce", "drawn_samples", "reduced_rows"]
