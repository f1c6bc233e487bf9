"""The wide Gaussian blur as resvg draws it: BOX_PASSES box blurs per axis (the widths of Kuckir's
box-blur approximation), each cut to the filter region, so content the region cuts fades toward the
cut. Each box is a continuous one (whole pixels inside, the two it ends in weighted by their overlap),
so the result is differentiable in the image and in std."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...tiling import BOX_BLUR_STD, BOX_PASSES, MAX_BOX_STD
from ..blur import convolve_axis

RUNNING_SUM_WIDTH = 24  # px: wider boxes are read from running sums instead of a kernel of that many taps


def box_widths(std: float, passes: int = BOX_PASSES) -> list[int]:
    """The odd box widths (px) whose ``passes`` box blurs stand for a Gaussian of ``std`` px: the
    smaller width first, the next odd width for the rest, so that their variances add up to about std²."""
    ideal = math.sqrt(12 * std * std / passes + 1)
    low = math.floor(ideal) - (1 if math.floor(ideal) % 2 == 0 else 0)
    small = round((12 * std * std - passes * low * low - 4 * passes * low - 3 * passes) / (-4 * low - 4))
    return [low if k < small else low + 2 for k in range(passes)]


def box_pass_widths(std: torch.Tensor) -> list[torch.Tensor]:
    """The widths (px, 0-dim tensors) of the passes along one axis for a blur of ``std`` px (0-dim): resvg's
    integer widths scaled by std over their own std, so equal to them where that ratio is 1 and
    following ``std`` continuously between resvg's steps. Empty when every width is 1 (no blur)."""
    widths = box_widths(float(std.detach()))
    variance = sum((w * w - 1) / 12 for w in widths)
    if variance <= 0:
        return []
    return [std * (w / math.sqrt(variance)) for w in widths]


def box_kernel(width: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(2 reach + 1,) the weights of a box ``width`` px wide (0-dim tensor, >= 1) centred on a pixel: each
    pixel's overlap with it over the width, so an odd whole width is the plain box of that many pixels
    and the weights follow ``width`` continuously (differentiable)."""
    reach = _reach(width)
    offsets = torch.arange(-reach, reach + 1, dtype=dtype, device=width.device)
    half = width.to(dtype) / 2
    overlap = torch.minimum(offsets + 0.5, half) - torch.maximum(offsets - 0.5, -half)
    return overlap.clamp(0, 1) / width.to(dtype)


def box_pass(image: torch.Tensor, width: torch.Tensor, dim: int) -> torch.Tensor:
    """``image`` (C, H, W) averaged along ``dim`` (2: x, 1: y) over a box ``width`` px wide (0-dim tensor,
    >= 1) centred on each pixel, the image zero outside; same shape. Wide boxes, and any under autograd
    (3x faster there than conv2d), are read from a running sum, whose work per pixel does not grow with
    the width; narrow ones without gradients as a kernel of shifted sums."""
    recorded = torch.is_grad_enabled() and (image.requires_grad or width.requires_grad)
    if recorded or float(width.detach()) > RUNNING_SUM_WIDTH:
        return _running_box(image, width, dim)
    return convolve_axis(image[:, None], box_kernel(width, image.dtype), dim + 1)[:, 0]


def _running_box(image: torch.Tensor, width: torch.Tensor, dim: int) -> torch.Tensor:
    """``box_pass`` from the running sum of the pixels along ``dim`` (float64: long rows): the box's
    whole pixels are a difference of two sums, the two it ends in are added by their overlap."""
    size, reach = image.shape[dim], _reach(width) + 1
    padded = F.pad(image.double(), _pads(dim, image.dim(), reach + 1, reach))
    sums = padded.cumsum(dim)  # sums[j]: padded pixels 0 .. j (padded[0] is 0)
    half = width.to(torch.float64) / 2

    def integral(t: torch.Tensor) -> torch.Tensor:
        """Per pixel, the integral of the row up to the pixel's centre + t (0-dim)."""
        from_left = t + 0.5  # px from the pixel's left edge
        whole = int(math.floor(float(from_left.detach())))
        start = reach + 1 + whole  # padded index of the pixel that point falls in
        return sums.narrow(dim, start - 1, size) + (from_left - whole) * padded.narrow(dim, start, size)

    return ((integral(half) - integral(-half)) / width.to(torch.float64)).to(image.dtype)


def _reach(width: torch.Tensor) -> int:
    """Whole px a box ``width`` px wide reads on each side of a pixel."""
    return int(math.floor(float(width.detach()) / 2 + 0.5))


def _pads(dim: int, ndim: int, before: int, after: int) -> tuple[int, ...]:
    """F.pad's argument that pads ``dim`` (of ``ndim``) by ``before`` / ``after``."""
    pads = [0] * (2 * ndim)
    back = ndim - 1 - (dim % ndim)
    pads[2 * back], pads[2 * back + 1] = before, after
    return tuple(pads)


def box_blur(image: torch.Tensor, std_x: torch.Tensor, std_y: torch.Tensor,
             open_sides: tuple[bool, bool, bool, bool] = (False,) * 4) -> torch.Tensor:
    """``image`` (C, H, W) premultiplied, the filter region, blurred as resvg blurs a std over
    BOX_BLUR_STD px: per axis, the box passes of ``box_pass_widths``, each zero outside the image;
    on the ``open_sides`` (left, top, right, bottom) the passes run on past the image instead, so
    nothing is cut there (the image is zero past it, as missing content; the passes run on for at most
    the image's own size past it)."""
    for std, dim, before, after in ((std_x, 2, open_sides[0], open_sides[2]), (std_y, 1, open_sides[1], open_sides[3])):
        widths = box_pass_widths(std)
        reach = min(sum(_reach(width) for width in widths), image.shape[dim])
        pad = (reach if before else 0, reach if after else 0)
        padded = F.pad(image, _pads(dim, image.dim(), *pad)) if any(pad) else image
        for width in widths:
            padded = box_pass(padded, width, dim)
        image = padded.narrow(dim, pad[0], image.shape[dim]) if any(pad) else padded
    return image
