"""Per-fragment paint: solid colours and linear/radial gradients evaluated at pixel centres."""
from __future__ import annotations

import torch

from ..scene import Scene
from . import kernels

_PAD, _REFLECT, _REPEAT = 0, 1, 2  # indices into clipvg.scene.SPREADS


def _to_gradient_space(transform: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Map canvas points (F, 2) through the inverse of SVG matrices (F, 6) = a b c d e f."""
    a, b, c, d, e, f = transform.unbind(1)
    det = a * d - b * c
    x, y = xy[:, 0] - e, xy[:, 1] - f
    return torch.stack([(d * x - c * y) / det, (-b * x + a * y) / det], 1)


def _linear_t(coords: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    start, end = coords[:, 0:2], coords[:, 2:4]
    axis = end - start
    return ((p - start) * axis).sum(1) / (axis * axis).sum(1).clamp(min=1e-12)


def _radial_t(coords: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Parameter t (F,) with p on the circle centred at f + t (c - f), radius t r, and whether p is
    painted at all (F,) bool. A focal point f inside the circle (or on it: moved just inside) paints
    everywhere; one outside paints the cone of circles from f, larger t winning (SVG 2, as resvg and
    browsers), and nothing outside that cone."""
    center, radius, focal = coords[:, 0:2], coords[:, 2], coords[:, 3:5]
    offset = focal - center
    dist = offset.norm(dim=1, keepdim=True).clamp(min=1e-12)
    outside = dist[:, 0] > 1.001 * radius
    limit = 0.999 * radius[:, None]
    focal = torch.where((dist > limit) & ~outside[:, None], center + offset / dist * limit, focal)
    cd, pd = center - focal, p - focal
    a = (cd * cd).sum(1) - radius * radius  # < 0 inside, > 0 outside
    b = (pd * cd).sum(1)
    c = (pd * pd).sum(1)
    discriminant = b * b - a * c
    root = torch.sqrt(discriminant.clamp(min=1e-12))
    t = torch.where(outside, (b + root) / a.clamp(min=1e-12), (b - root) / a.clamp(max=-1e-12))
    return t, ~outside | ((discriminant >= 0) & (t >= 0))


def _spread(t: torch.Tensor, mode: torch.Tensor) -> torch.Tensor:
    repeat = t - torch.floor(t)
    reflect = 1 - (torch.remainder(t, 2.0) - 1).abs()
    return torch.where(mode == _REPEAT, repeat, torch.where(mode == _REFLECT, reflect, t.clamp(0, 1)))


def _stop_color(scene: Scene, gradient: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Interpolate straight RGBA (F, 4) from the stops of ``gradient`` (F,) at ``t`` (F,) in [0, 1]."""
    begin, end = scene.gradient_stop_offsets[:-1], scene.gradient_stop_offsets[1:]
    most = int((end - begin).max())
    slot = torch.minimum(begin[:, None] + torch.arange(most, device=t.device), end[:, None] - 1)
    offsets = torch.cummax(scene.stop_offsets[slot], 1).values  # (G, M), SVG: never decreasing
    colors = scene.stop_colors[slot]  # (G, M, 4)
    row_offsets, row_colors = offsets[gradient], colors[gradient]
    upper = torch.searchsorted(row_offsets.detach().contiguous(), t.detach()[:, None].contiguous(), right=True)
    lo = (upper - 1).clamp(0, most - 1)
    hi = upper.clamp(0, most - 1)
    o_lo, o_hi = row_offsets.gather(1, lo)[:, 0], row_offsets.gather(1, hi)[:, 0]
    span = o_hi - o_lo
    w = torch.where(span > 0, (t - o_lo) / span.clamp(min=1e-12), torch.zeros_like(t))[:, None]
    c_lo = row_colors.gather(1, lo[..., None].expand(-1, -1, 4))[:, 0]
    c_hi = row_colors.gather(1, hi[..., None].expand(-1, -1, 4))[:, 0]
    return c_lo + w * (c_hi - c_lo)


def item_paint(scene: Scene) -> tuple[torch.Tensor, torch.Tensor]:
    """Per draw item (item 2k: fill of path k, 2k + 1: its stroke): straight RGBA (2N, 4) with the
    path's opacity folded into alpha, and gradient index (2N,), -1 for solid colours."""
    colors = torch.stack([scene.fill_color, scene.stroke_color], 1).reshape(-1, 4)
    opacity = scene.opacity.repeat_interleave(2)
    colors = torch.cat([colors[:, :3], colors[:, 3:] * opacity[:, None]], 1)
    gradients = torch.stack([scene.fill_gradient, scene.stroke_gradient], 1).flatten()
    return colors, gradients


def fragment_colors(scene: Scene, item_colors: torch.Tensor, item_gradients: torch.Tensor, item: torch.Tensor,
                    pixel: torch.Tensor, width: int, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight colour (F, 3) and alpha (F,), opacity included, of fragments of draw ``item`` (F,) at
    ``pixel`` (F,), row-major indices into an output ``width`` pixels wide drawn at ``scale`` (2,)
    output pixels per canvas unit (gradients are evaluated at pixel centres); ``item_colors``/
    ``item_gradients`` from ``item_paint``. Colour and alpha come apart so that neither gradient
    passes through an (F, 4) tensor."""
    rgb = kernels.gather_rows(item_colors[:, :3], item)
    alpha = kernels.gather_rows(item_colors[:, 3], item)
    gradient = item_gradients.index_select(0, item)
    graded = torch.nonzero(gradient >= 0).flatten()
    if len(graded) == 0:
        return rgb, alpha
    g = gradient.index_select(0, graded)
    graded_pixel = pixel.index_select(0, graded)
    centre = torch.stack([graded_pixel % width, graded_pixel // width], 1).to(scale.dtype) + 0.5
    p = _to_gradient_space(scene.gradient_transform[g], centre / scale)
    coords = scene.gradient_coords[g]
    radial_t, painted = _radial_t(coords, p)
    linear = scene.gradient_kind[g] == 0
    t = _spread(torch.where(linear, _linear_t(coords, p), radial_t), scene.gradient_spread[g])
    stop_colors = _stop_color(scene, g, t).to(rgb.dtype)
    opacity = scene.opacity[item.index_select(0, graded) // 2] * (linear | painted)
    return rgb.index_put((graded,), stop_colors[:, :3]), alpha.index_put((graded,), stop_colors[:, 3] * opacity)
