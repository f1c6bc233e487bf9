"""Drawing a pattern fill (``clipvg.scene.tree.Pattern``) as resvg and Skia do: the tile's content is
drawn once into a texture at the output's resolution, and that texture repeats across the shape like
an image shader with repeat tiling, so tiles meet without seams.

The texture holds round(tile size x scale) texels per axis, where the scale is the length of each
tile axis on the output (the tile's content is drawn at that scale, so texel edges need not land on
the tile's far edge: the texture repeats every whole number of texels, as in resvg). It is sampled
at each pixel's centre: by the texel under it when the tile maps to the output by a translation only
(as tiny-skia; unless the Pattern asks for filtering), else with tiny-skia's bicubic (Mitchell) filter,
the texture wrapping around at its edges.
Differentiable in the texels (hence in the tile's content) and in the fill's coverage.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..samples import MAX_TILE_TEXELS
from .image import _bicubic, _nearest, clamp_premultiplied, map_back, pixel_centres, scatter


@dataclass
class TileLayout:
    """A tile texture of ``width`` x ``height`` texels holding ``scale`` (x, y) texels per tile px along
    the tile's axes; ``matrix`` (3, 3) float64 on the host maps texels (corners at integers) to output px."""

    width: int
    height: int
    scale: tuple[float, float]
    matrix: torch.Tensor


def _round(value: float) -> int:
    """Round half away from zero (Rust's ``f32::round``, which resvg sizes its tile pixmap with)."""
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def tile_layout(size: tuple[float, float], transform: tuple[float, ...], output_scale: tuple[float, float]
                ) -> TileLayout | None:
    """The texture for a tile of ``size`` (w, h) tile px placed by ``transform`` (a..f, tile px -> canvas
    px) on an output of ``output_scale`` (x, y) output px per canvas px; None when the texture would
    have no texel (resvg then draws nothing) or the placement is degenerate."""
    a, b, c, d, e, f = transform
    sx, sy = output_scale
    matrix = np.array([[a * sx, c * sx, e * sx], [b * sy, d * sy, f * sy], [0.0, 0.0, 1.0]])
    kx, ky = float(np.hypot(matrix[0, 0], matrix[1, 0])), float(np.hypot(matrix[0, 1], matrix[1, 1]))
    if not (np.isfinite(matrix).all() and kx > 0 and ky > 0) or abs(np.linalg.det(matrix[:2, :2])) < 1e-12:
        return None
    width, height = _round(size[0] * kx), _round(size[1] * ky)
    if width * height > MAX_TILE_TEXELS:
        shrink = math.sqrt(MAX_TILE_TEXELS / (width * height))
        kx, ky = kx * shrink, ky * shrink
        width, height = max(_round(size[0] * kx), 1), max(_round(size[1] * ky), 1)
    if width < 1 or height < 1:
        return None
    texels = torch.tensor(matrix @ np.diag([1.0 / kx, 1.0 / ky, 1.0]), dtype=torch.float64)
    return TileLayout(width, height, (kx, ky), texels)


def draw_repeated(texture: torch.Tensor, matrix: torch.Tensor, coverage: torch.Tensor,
                  box: tuple[int, int, int, int], width: int, height: int, opacity: float = 1.0,
                  sampling: str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour (H*W, 3) and alpha (H*W,) of ``texture`` (h, w, 4) premultiplied RGBA,
    repeated across the plane through ``matrix`` (3, 3) float64 on the host, texels -> output px, on a
    ``width`` x ``height`` output, times ``coverage`` (H*W,) (the share of each pixel inside the filled
    shape) and ``opacity``; only the pixels [x0, x1) x [y0, y1) of ``box`` are computed. ``sampling``:
    "auto" (nearest texel for a translation, else bicubic) or "bicubic". Differentiable in ``texture``
    and ``coverage``."""
    xs, ys = pixel_centres(box, texture.device)
    u, v = map_back(torch.linalg.inv(matrix), xs, ys)  # host scalars: no device sync
    translation = sampling == "auto" and bool(torch.allclose(matrix[:2, :2], torch.eye(2, dtype=matrix.dtype),
                                                             rtol=0, atol=1e-9))
    sample = (_nearest if translation else _bicubic)(texture, u, v, repeat=True)
    x0, y0, x1, y1 = box
    inside = coverage.reshape(height, width)[y0:y1, x0:x1].reshape(-1, 1)
    return scatter(clamp_premultiplied(sample) * inside * opacity, box, width, height)
