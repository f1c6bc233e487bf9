"""Gaussian blur of an off-screen group (SVG ``feGaussianBlur``), separable and differentiable."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_RADIUS = 512  # px: kernels wider than this are cut (a blur that wide is a flat haze anyway)


def _kernel(std: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor | None:
    if std <= 0.05:
        return None
    radius = min(int(math.ceil(3 * std)), MAX_RADIUS)
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    kernel = torch.exp(-0.5 * (x / std) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(image: torch.Tensor, std_x: float, std_y: float) -> torch.Tensor:
    """``image`` (C, H, W) premultiplied, blurred with standard deviations in pixels (zero outside
    the image, as SVG's default edge mode)."""
    channels = image.shape[0]
    out = image[:, None]  # (C, 1, H, W)
    for std, dim in ((std_x, 3), (std_y, 2)):
        kernel = _kernel(float(std), image.dtype, image.device)
        if kernel is None:
            continue
        radius = (len(kernel) - 1) // 2
        if dim == 3:
            out = F.conv2d(out, kernel.reshape(1, 1, 1, -1), padding=(0, radius))
        else:
            out = F.conv2d(out, kernel.reshape(1, 1, -1, 1), padding=(radius, 0))
    return out.reshape(channels, *image.shape[1:])
