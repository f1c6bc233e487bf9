"""Filter primitives that move pixels, on premultiplied RGBA images (4, H, W): ``feOffset``,
``feMorphology``, ``feConvolveMatrix``, ``feDisplacementMap`` and ``feTile``."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .color import unpremultiply

EDGE_MODES = {"none": "constant", "duplicate": "replicate", "wrap": "circular"}


def _shift_whole(image: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """``image`` moved by whole pixels (content moved out is lost, what comes in is transparent)."""
    _, h, w = image.shape
    out = torch.zeros_like(image)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def offset(image: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """``feOffset``: ``image`` moved by (dx, dy) px (0-dim tensors). Offsets that require grad move by
    fractions of a pixel (the two nearest whole shifts blended linearly), so the result is
    differentiable in dx and dy; others are cut to whole pixels toward zero, as resvg draws them."""
    if not (dx.requires_grad or dy.requires_grad):
        return _shift_whole(image, math.trunc(float(dx)), math.trunc(float(dy)))
    fx, fy = math.floor(float(dx.detach())), math.floor(float(dy.detach()))
    tx, ty = dx - fx, dy - fy
    rows = [_shift_whole(image, fx, fy + j) for j in (0, 1)]
    row_mix = [(1 - tx) * r + tx * _shift_whole(r, 1, 0) for r in rows]
    return (1 - ty) * row_mix[0] + ty * row_mix[1]


def morphology(image: torch.Tensor, operator: str, rx: float, ry: float) -> torch.Tensor:
    """``feMorphology`` as resvg draws it: the min ("erode") or max ("dilate") of each channel over a
    window of 2*ceil(r) px per axis (pixels outside the image ignored); a zero radius gives nothing.
    Separable (a row pass, then a column pass), so a huge radius costs O(H*W*(H+W))."""
    _, h, w = image.shape
    if not (rx > 0 and ry > 0):
        return torch.zeros_like(image)
    cols, rows = min(math.ceil(rx) * 2, w), min(math.ceil(ry) * 2, h)
    tx, ty = cols // 2, rows // 2
    sign, outside = (1.0, 0.0) if operator == "dilate" else (-1.0, -1.0)
    rows_done = F.max_pool2d(F.pad(sign * image[None], (tx, cols - 1 - tx, 0, 0), value=outside), (1, cols), stride=1)
    both = F.max_pool2d(F.pad(rows_done, (0, 0, ty, rows - 1 - ty), value=outside), (rows, 1), stride=1)
    return sign * both[0]


def convolve(image: torch.Tensor, kernel: torch.Tensor, target: tuple[int, int], divisor: torch.Tensor,
             bias: torch.Tensor, edge_mode: str, preserve_alpha: bool) -> torch.Tensor:
    """``feConvolveMatrix``: ``kernel`` (rows, cols), ``target`` (x, y) its centre cell, sums divided by
    ``divisor`` plus ``bias``, edges by ``edge_mode`` (none, duplicate, wrap); ``preserve_alpha``
    convolves straight colour and keeps alpha. Premultiplied (4, H, W) in and out."""
    rows, cols = kernel.shape
    tx, ty = target
    source = image
    if preserve_alpha:
        color, alpha = unpremultiply(image)
        source = torch.cat([color, alpha])
    pad = (tx, cols - 1 - tx, ty, rows - 1 - ty)
    mode = EDGE_MODES.get(edge_mode, "replicate")
    padded = F.pad(source[:, None], pad, mode=mode) if mode != "constant" else F.pad(source[:, None], pad)
    summed = F.conv2d(padded, kernel.flip(0, 1).to(image)[None, None])[:, 0]
    divisor, bias = divisor.to(image), bias.to(image)
    new_alpha = source[3:] if preserve_alpha else summed[3:] / divisor + bias
    bounded = new_alpha.clamp(0, 1)
    color = summed[:3] / divisor + bias * new_alpha
    color = color.clamp(0, 1) * bounded if preserve_alpha else torch.minimum(color.clamp(min=0), bounded)
    return torch.cat([color, bounded])


CHANNELS = {"R": 0, "G": 1, "B": 2, "A": 3}


def displacement_map(image: torch.Tensor, displacement: torch.Tensor, scale: tuple[torch.Tensor, torch.Tensor],
                     x_channel: str, y_channel: str) -> torch.Tensor:
    """``feDisplacementMap`` as resvg draws it: pixel (x, y) takes ``image`` at
    round(x + (map[x_channel] - 0.5) * scale_x), likewise y, transparent outside; both (4, H, W)."""
    _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=image.device), torch.arange(w, device=image.device), indexing="ij")
    ox = torch.round(xs + (displacement[CHANNELS.get(x_channel, 3)] - 0.5) * scale[0]).long()
    oy = torch.round(ys + (displacement[CHANNELS.get(y_channel, 3)] - 0.5) * scale[1]).long()
    inside = (ox >= 0) & (ox < w) & (oy >= 0) & (oy < h)
    index = (oy.clamp(0, h - 1) * w + ox.clamp(0, w - 1)).reshape(-1)
    return image.reshape(4, -1)[:, index].reshape(4, h, w) * inside


def tile(image: torch.Tensor, cell: tuple[int, int, int, int], origin: tuple[int, int] | None = None
         ) -> torch.Tensor:
    """``feTile``: the ``cell`` (x, y, width, height px in the image) of ``image`` (4, H, W) repeated
    over the whole image, a copy starting at ``origin`` (x, y px; default the cell's corner: resvg
    starts at the corner of an input subregion the image edge cut)."""
    _, h, w = image.shape
    x0, y0, cw, ch = cell
    ox, oy = origin if origin is not None else (x0, y0)
    if cw <= 0 or ch <= 0:
        return torch.zeros_like(image)
    xs = (torch.arange(w, device=image.device) - ox) % cw + x0
    ys = (torch.arange(h, device=image.device) - oy) % ch + y0
    inside_x, inside_y = (xs >= 0) & (xs < w), (ys >= 0) & (ys < h)
    out = image[:, ys.clamp(0, h - 1)][:, :, xs.clamp(0, w - 1)]
    return out * (inside_y[:, None] & inside_x[None, :])
