"""Gaussian blur (SVG ``feGaussianBlur``), separable and differentiable in the image and the std."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..tiling import MAX_BLUR_RADIUS as MAX_RADIUS
MIN_STD = 0.05  # px: a smaller std leaves that axis unblurred (as resvg)


def _kernel(std: float | torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor | None:
    if float(std.detach() if isinstance(std, torch.Tensor) else std) <= MIN_STD:
        return None
    radius = min(int(math.ceil(3 * float(std.detach() if isinstance(std, torch.Tensor) else std))), MAX_RADIUS)
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    std = std.to(dtype=dtype, device=device) if isinstance(std, torch.Tensor) else std
    kernel = torch.exp(-0.5 * (x / std) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(image: torch.Tensor, std_x: float | torch.Tensor, std_y: float | torch.Tensor) -> torch.Tensor:
    """``image`` (C, H, W) premultiplied, blurred with standard deviations in pixels (floats or 0-dim
    tensors, differentiable); zero outside the image, as SVG's default edge mode."""
    channels = image.shape[0]
    out = image[:, None]  # (C, 1, H, W)
    for std, dim in ((std_x, 3), (std_y, 2)):
        kernel = _kernel(std, image.dtype, image.device)
        if kernel is not None:
            out = convolve_axis(out, kernel, dim)
    return out.reshape(channels, *image.shape[1:])


def convolve_axis(image: torch.Tensor, kernel: torch.Tensor, dim: int) -> torch.Tensor:
    """``image`` (C, 1, H, W) convolved along ``dim`` (3: x, 2: y) with the odd-length, centred ``kernel``
    (taps,), zero outside the image, same shape; differentiable in both (conv2d) when autograd needs it."""
    radius = (len(kernel) - 1) // 2
    if torch.is_grad_enabled() and (image.requires_grad or kernel.requires_grad):
        shape, padding = ((1, 1, 1, -1), (0, radius)) if dim == 3 else ((1, 1, -1, 1), (radius, 0))
        return F.conv2d(image, kernel.reshape(shape), padding=padding)
    return _shifted_sum(image, kernel.tolist(), dim)


def _shifted_sum(image: torch.Tensor, weights: list[float], dim: int) -> torch.Tensor:
    """``image`` (C, 1, H, W) convolved along ``dim`` with the odd-length ``weights``, zero outside, as a
    sum of shifted copies: without gradients this takes two images of memory where conv2d's unfolding
    takes one per kernel tap (1 GB for a 51-tap kernel over 1.2 MP) and runs several times faster."""
    radius = (len(weights) - 1) // 2
    size = image.shape[dim]
    padded = F.pad(image, (radius, radius) if dim == 3 else (0, 0, radius, radius))
    out = torch.zeros_like(image)
    for tap, weight in enumerate(weights):
        out.add_(padded.narrow(dim, tap, size), alpha=weight)
    return out
