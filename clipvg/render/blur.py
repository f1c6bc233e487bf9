"""Gaussian blur (SVG ``feGaussianBlur``), separable and differentiable in the image and the std."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_RADIUS = 512  # px: kernels wider than this are cut (a blur that wide is a flat haze anyway)
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
        if kernel is None:
            continue
        radius = (len(kernel) - 1) // 2
        if dim == 3:
            out = F.conv2d(out, kernel.reshape(1, 1, 1, -1), padding=(0, radius))
        else:
            out = F.conv2d(out, kernel.reshape(1, 1, -1, 1), padding=(radius, 0))
    return out.reshape(channels, *image.shape[1:])
