"""Drawing a raster image (SVG ``<image>``) as a textured quad, differentiably in its texels.

The texture's premultiplied texels are sampled at each output pixel's centre mapped back into image
space: bicubic (Mitchell-Netravali B = C = 1/3, tiny-skia's "bicubic", what resvg uses for smooth
images; a texture drawn at less than half its size is first box-filtered by the whole factor, so it
does not alias), bilinear (an area average over each pixel's footprint when minified; for textures
made at about the drawn resolution, e.g. rendered SVG images) or nearest (``image-rendering:
pixelated``/``optimizeSpeed``), edge texels repeated. The quad's
edges are antialiased by each pixel's overlap with the strip between two opposite edges (exact for
axis-aligned quads). Only pixels within the quad's bounding box are computed.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

MITCHELL_B = MITCHELL_C = 1.0 / 3.0


SAMPLINGS = ("bicubic", "bilinear", "nearest")


def draw_image(texture: torch.Tensor, matrix: torch.Tensor, width: int, height: int, sampling: str = "bicubic",
               opacity: float | torch.Tensor = 1.0, view: tuple[float, float, float, float] | None = None,
               redraw: Callable | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour (H*W, 3) and alpha (H*W,) of ``texture`` (h, w, 4) straight RGBA in [0, 1]
    drawn through ``matrix`` (3, 3) float64 on the host, image px (texel corners at integers) -> output px, on a
    ``width`` x ``height`` canvas, faded by ``opacity``, sampled by ``sampling`` (one of SAMPLINGS); ``view`` (x, y, w, h image px) the part drawn
    (None: all). ``redraw`` (an SVG image's, see ``clipvg.scene.tree.Image``): when it can, it replaces the
    texture by one drawn at the output pixels (then copied texel for pixel), unless ``texture`` needs a
    gradient. Differentiable w.r.t. ``texture`` and ``opacity``; in the texture's dtype and device."""
    dtype, device = texture.dtype, texture.device
    h, w = texture.shape[:2]
    view = (0.0, 0.0, float(w), float(h)) if view is None else view
    placed = None if redraw is None or texture.requires_grad else redraw(matrix.numpy(), (w, h), view, width, height)
    if placed is not None:  # texel for pixel from (x0, y0): exact copies, its own edges already drawn
        pixels, (x0, y0) = placed
        texture = torch.from_numpy(pixels).to(device, dtype)
        matrix = torch.tensor([[1.0, 0.0, x0], [0.0, 1.0, y0], [0.0, 0.0, 1.0]], dtype=torch.float64)
        h, w = texture.shape[:2]
        view = (0.0, 0.0, float(w), float(h))
    box = _pixel_box(matrix, view, width, height) if h and w and view[2] > 0 and view[3] > 0 else None
    if box is None or abs(float(torch.linalg.det(matrix[:2, :2]))) < 1e-12:
        return scatter(texture.new_zeros(0, 4), (0, 0, 0, 0), width, height)
    premultiplied = torch.cat([texture[..., :3] * texture[..., 3:], texture[..., 3:]], -1)
    inverse = torch.linalg.inv(matrix)
    # texels per output pixel along the texture's axes (> 1: minified)
    footprint = [1.0 / max(float(torch.hypot(matrix[0, k], matrix[1, k])), 1e-12) for k in (0, 1)]
    texture_scale = _minify(footprint, sampling)
    if texture_scale > 1:
        premultiplied = _box_filter(premultiplied, texture_scale)
        inverse = torch.diag(torch.tensor([1.0 / texture_scale, 1.0 / texture_scale, 1.0],
                                          dtype=inverse.dtype, device=inverse.device)) @ inverse
        footprint = [f / texture_scale for f in footprint]
    xs, ys = pixel_centres(box, device)
    u, v = map_back(inverse, xs, ys)
    if sampling == "bilinear":
        sample = _area(premultiplied, u, v, footprint)
    else:
        sample = (_bicubic if sampling == "bicubic" else _nearest)(premultiplied, u, v)
    coverage = _quad_coverage(matrix, view, xs, ys).reshape(-1, 1).to(dtype)
    return scatter(clamp_premultiplied(sample) * coverage * opacity, box, width, height)


def pixel_centres(box: tuple[int, int, int, int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y (y1 - y0, x1 - x0) float64 of the centres of the output pixels [x0, x1) x [y0, y1) of ``box``."""
    x0, y0, x1, y1 = box
    ys, xs = torch.meshgrid(torch.arange(y0, y1, dtype=torch.float64, device=device) + 0.5,
                            torch.arange(x0, x1, dtype=torch.float64, device=device) + 0.5, indexing="ij")
    return xs, ys


def map_back(inverse: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Texture coordinates u, v (N,) of the output points ``xs``, ``ys`` through ``inverse`` (3, 3): output
    px -> texel (corners at integers)."""
    u = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    v = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    return u.reshape(-1), v.reshape(-1)


def clamp_premultiplied(sample: torch.Tensor) -> torch.Tensor:
    """(N, 4) premultiplied samples clamped to [0, 1] with colour <= alpha (a cubic filter overshoots);
    straight-through, so gradients pass unchanged."""
    clamped = torch.minimum(sample.clamp(0, 1), sample[:, 3:].clamp(0, 1))
    return sample - (sample - clamped).detach()


def scatter(sample: torch.Tensor, box: tuple[int, int, int, int], width: int, height: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour (H*W, 3) and alpha (H*W,) of a ``width`` x ``height`` canvas holding ``sample``
    ((y1 - y0) * (x1 - x0), 4) premultiplied RGBA, row-major) on the pixels of ``box`` and nothing elsewhere."""
    x0, y0, x1, y1 = box
    device = sample.device
    color = torch.zeros(height * width, 3, dtype=sample.dtype, device=device)
    alpha = torch.zeros(height * width, dtype=sample.dtype, device=device)
    index = (torch.arange(y0, y1, device=device)[:, None] * width + torch.arange(x0, x1, device=device)[None, :])
    index = index.reshape(-1)
    return color.index_copy(0, index, sample[:, :3]), alpha.index_copy(0, index, sample[:, 3])


def _pixel_box(matrix: torch.Tensor, view: tuple[float, float, float, float], width: int, height: int
               ) -> tuple[int, int, int, int] | None:
    """The output pixels [x0, x1) x [y0, y1) the image of the ``view`` rect can touch, or None."""
    corners = matrix @ _rect_corners(matrix, view)
    if not bool(torch.isfinite(corners).all()):
        return None
    x0, y0 = (max(0, math.floor(float(corners[i].min()))) for i in (0, 1))
    x1 = min(width, math.ceil(float(corners[0].max())))
    y1 = min(height, math.ceil(float(corners[1].max())))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _minify(footprint: list[float], sampling: str) -> int:
    """The whole factor to box-filter the texture by first: for bicubic, by how much it is drawn smaller
    than half its size (on its less minified axis); for bilinear, what keeps its area window within
    16 texels (a smaller summed-area table; the prefilter's blur stays under 1/8 px); 1 for nearest."""
    if sampling == "bicubic":
        return max(1, int(math.floor(min(footprint))))
    if sampling == "bilinear":
        return max(1, int(math.floor(min(footprint) / 8)))
    return 1


def _box_filter(texture: torch.Tensor, factor: int) -> torch.Tensor:
    """(h / factor, w / factor, 4) area average (a partial last cell averages what it holds)."""
    chw = texture.permute(2, 0, 1)[None]
    return F.avg_pool2d(chw, factor, factor, ceil_mode=True, count_include_pad=False)[0].permute(1, 2, 0)


def _mitchell(t: torch.Tensor) -> torch.Tensor:
    """(..., 4) Mitchell-Netravali weights of the taps at -1, 0, 1, 2 for fractional offsets ``t``."""
    b, c = MITCHELL_B, MITCHELL_C
    d = torch.stack([1 + t, t, 1 - t, 2 - t], -1).abs()
    near = ((12 - 9 * b - 6 * c) * d ** 3 + (-18 + 12 * b + 6 * c) * d ** 2 + (6 - 2 * b)) / 6
    far = ((-b - 6 * c) * d ** 3 + (6 * b + 30 * c) * d ** 2 + (-12 * b - 48 * c) * d + (8 * b + 24 * c)) / 6
    return torch.where(d < 1, near, torch.where(d < 2, far, torch.zeros_like(d)))


def _bicubic(texture: torch.Tensor, u: torch.Tensor, v: torch.Tensor, repeat: bool = False) -> torch.Tensor:
    """(N, 4) Mitchell-filtered texels of ``texture`` (h, w, 4) at image coordinates (u, v) (N,);
    ``repeat``: the texture tiles the plane (else edge texels repeat)."""
    return _separable(texture, u, v, torch.arange(-1, 3, device=texture.device), _mitchell, repeat)


def _fold(index: torch.Tensor, size: int, repeat: bool) -> torch.Tensor:
    """Texel indices folded into [0, ``size``): wrapped around (``repeat``) or clamped to the edge."""
    return index.remainder(size) if repeat else index.clamp(0, size - 1)


def _area(texture: torch.Tensor, u: torch.Tensor, v: torch.Tensor, footprint: list[float]) -> torch.Tensor:
    """(N, 4) exact average of ``texture`` (h, w, 4), as a piecewise-constant image, over a window of
    ``footprint`` (x, y) texels (at least one) centred on each (u, v) (N,), the window cut to the
    texture: bilinear interpolation when magnified, area averaging when minified. From a summed-area
    table (float64), whose bilinear interpolation is the exact integral from the origin."""
    h, w = texture.shape[:2]
    table = F.pad(texture.double().cumsum(0).cumsum(1), (0, 0, 1, 0, 1, 0))  # (h + 1, w + 1, 4)
    rx, ry = (max(f, 1.0) / 2 for f in footprint)
    x0, x1 = (u - rx).clamp(0, w), (u + rx).clamp(0, w)
    y0, y1 = (v - ry).clamp(0, h), (v + ry).clamp(0, h)
    total = (_integral(table, x1, y1) - _integral(table, x0, y1) - _integral(table, x1, y0)
             + _integral(table, x0, y0))
    area = ((x1 - x0) * (y1 - y0)).clamp(min=1e-12)
    return (total / area[:, None]).to(texture.dtype)


def _integral(table: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N, 4) the summed-area ``table`` (h + 1, w + 1, 4) bilinearly interpolated at (x, y) (N,) in
    [0, w] x [0, h]: the texture's integral over [0, x] x [0, y]."""
    h, w = table.shape[0] - 1, table.shape[1] - 1
    i0 = x.floor().clamp(0, max(w - 1, 0)).long()
    j0 = y.floor().clamp(0, max(h - 1, 0)).long()
    a, b = (x - i0)[:, None], (y - j0)[:, None]
    i1, j1 = (i0 + 1).clamp(max=w), (j0 + 1).clamp(max=h)
    return ((1 - a) * (1 - b) * table[j0, i0] + a * (1 - b) * table[j0, i1] + (1 - a) * b * table[j1, i0]
            + a * b * table[j1, i1])


def _separable(texture: torch.Tensor, u: torch.Tensor, v: torch.Tensor, taps: torch.Tensor, weights,
               repeat: bool = False) -> torch.Tensor:
    """(N, 4) sum of the texels around (u, v) (N,) at offsets ``taps`` (T,) from the texel left of/above
    the point, weighted per axis by ``weights(fraction) -> (N, T)``; edge texels repeated (or, with
    ``repeat``, the texture tiling the plane)."""
    h, w = texture.shape[:2]
    x, y = u - 0.5, v - 0.5
    ix, iy = torch.floor(x), torch.floor(y)
    wx, wy = weights(x - ix).to(texture.dtype), weights(y - iy).to(texture.dtype)
    cols = _fold(ix.long()[:, None] + taps, w, repeat)  # (N, T)
    rows = _fold(iy.long()[:, None] + taps, h, repeat)
    return _gather(texture, rows, cols, wy, wx)


def _gather(texture: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, wy: torch.Tensor, wx: torch.Tensor
            ) -> torch.Tensor:
    """(N, 4) sum over r, c of texture[rows[n, r], cols[n, c]] * wy[n, r] * wx[n, c]; rows/wy (N, R), cols/wx (N, C)."""
    w = texture.shape[1]
    gathered = texture.reshape(-1, 4)[(rows[:, :, None] * w + cols[:, None, :]).reshape(-1)]
    return torch.einsum("nrck,nr,nc->nk", gathered.reshape(len(rows), rows.shape[1], cols.shape[1], 4), wy, wx)


def _nearest(texture: torch.Tensor, u: torch.Tensor, v: torch.Tensor, repeat: bool = False) -> torch.Tensor:
    """(N, 4) the texel under each (u, v) (N,), edge texels repeated (or the texture tiling the plane)."""
    h, w = texture.shape[:2]
    cols = _fold(torch.floor(u).long(), w, repeat)
    rows = _fold(torch.floor(v).long(), h, repeat)
    return texture.reshape(-1, 4)[rows * w + cols]


def _rect_corners(like: torch.Tensor, rect: tuple[float, float, float, float]) -> torch.Tensor:
    """(3, 4) homogeneous corners of ``rect`` (x, y, w, h): origin, +w, +h, opposite."""
    x, y, w, h = rect
    return like.new_tensor([[x, x + w, x, x + w], [y, y, y + h, y + h], [1.0, 1.0, 1.0, 1.0]])


def _quad_coverage(matrix: torch.Tensor, view: tuple[float, float, float, float], xs: torch.Tensor,
                   ys: torch.Tensor) -> torch.Tensor:
    """Share of each pixel (centres xs, ys) inside the image of the ``view`` rect under ``matrix``: per
    pair of opposite edges, the pixel's exact area between them (a unit square cut by two parallel
    lines), multiplied over the two pairs (exact for axis-aligned quads, and along every edge of a
    rotated or skewed one; an approximation only in pixels holding a corner)."""
    corners = matrix @ _rect_corners(matrix, view)
    origin = corners[:2, 0]
    coverage = torch.ones_like(xs)
    for edge_end, other in ((corners[:2, 1], corners[:2, 2]), (corners[:2, 2], corners[:2, 1])):
        direction = edge_end - origin  # one side of the quad; the strip spans ``other - origin`` across it
        normal = torch.stack([-direction[1], direction[0]])
        normal = normal / normal.norm().clamp(min=1e-12)
        width = float((other - origin) @ normal)
        if width < 0:
            normal, width = -normal, -width
        distance = (xs - origin[0]) * normal[0] + (ys - origin[1]) * normal[1]
        a, b = sorted((float(normal[0].abs()), float(normal[1].abs())), reverse=True)
        inside = _half_plane_area(distance, a, b) + _half_plane_area(width - distance, a, b) - 1
        coverage = coverage * inside.clamp(0, 1)
    return coverage


def _half_plane_area(t: torch.Tensor, a: float, b: float) -> torch.Tensor:
    """Area of a unit pixel on the inner side of a line at signed distance ``t`` (N,) from its centre
    (positive: the centre inside), for a unit normal with components ``a`` >= ``b`` >= 0 (absolute
    values): linear where the line crosses two opposite sides, quadratic where it cuts a corner."""
    half, flat = (a + b) / 2, (a - b) / 2
    linear = 0.5 + t / a
    if b < 1e-9:
        return linear.clamp(0, 1)
    low = (half + t).clamp(min=0) ** 2 / (2 * a * b)
    high = 1 - (half - t).clamp(min=0) ** 2 / (2 * a * b)
    return torch.where(t > flat, high, torch.where(t < -flat, low, linear)).clamp(0, 1)
