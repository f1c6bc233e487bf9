"""Seed rasters for new content (MiracleVision-style): mirror the picture across its border for
outpainting, fill a hole from its surroundings for removal, plus seeded noise for material to edit."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skimage.restoration import inpaint_biharmonic

FILL_SIZE = 96  # long side (px) at which holes are solved before upsampling


def mirror_extend(image: torch.Tensor, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0) -> torch.Tensor:
    """``image`` (H, W, C) grown by the margins (px), the new area the mirror image of the picture
    across each border (repeated reflections when a margin is wider than the picture); (H', W', C)."""
    array = image.detach().cpu().numpy()
    padded = np.pad(array, ((top, bottom), (left, right), (0, 0)), mode="symmetric")
    return torch.from_numpy(np.ascontiguousarray(padded)).to(image)


def add_noise(image: torch.Tensor, mask: torch.Tensor, amount: float, seed: int) -> torch.Tensor:
    """``image`` (H, W, C) in [0, 1] with Gaussian noise of std ``amount`` added inside ``mask`` (H, W)
    bool only, clipped to [0, 1]; the noise is drawn from ``seed`` (same seed, same image)."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(image.shape, generator=generator, dtype=torch.float32).to(image)
    return torch.where(mask.to(image.device)[..., None], (image + amount * noise).clamp(0, 1), image)


def fill_from_border(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``image`` (H, W, C) in [0, 1] with the pixels of ``mask`` (H, W) bool replaced by a smooth
    biharmonic continuation of their surroundings (nothing of the old content survives).

    The hole is solved at most FILL_SIZE px on the long side and upsampled, then one harmonic
    smoothing pass at full size removes the upsampling blocks; pixels outside ``mask`` are unchanged.
    """
    height, width = mask.shape
    scale = min(1.0, FILL_SIZE / max(height, width))
    small_size = (max(1, round(height * scale)), max(1, round(width * scale)))
    chw = image.detach().float().cpu().permute(2, 0, 1)[None]
    small = F.interpolate(chw, size=small_size, mode="area")[0].permute(1, 2, 0).numpy()
    small_mask = F.interpolate(mask.float().cpu()[None, None], size=small_size, mode="area")[0, 0].numpy() > 0
    if small_mask.all():
        filled_small = np.broadcast_to(image.detach().float().cpu().numpy().reshape(-1, image.shape[-1])[
            ~mask.cpu().numpy().reshape(-1)].mean(0), small.shape).copy()
    else:
        filled_small = inpaint_biharmonic(small, small_mask, channel_axis=-1)
    up = F.interpolate(torch.from_numpy(np.ascontiguousarray(filled_small)).permute(2, 0, 1)[None].float(),
                       size=(height, width), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
    hole = mask.cpu()[..., None]
    result = torch.where(hole, up, image.detach().float().cpu())
    result = _relax(result, hole, iterations=8)
    return result.clamp(0, 1).to(image)


def _relax(image: torch.Tensor, hole: torch.Tensor, iterations: int) -> torch.Tensor:
    """A few Jacobi steps of the Laplace equation inside ``hole`` (edges replicated)."""
    for _ in range(iterations):
        padded = F.pad(image.permute(2, 0, 1)[None], (1, 1, 1, 1), mode="replicate")[0].permute(1, 2, 0)
        mean = (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]) / 4
        image = torch.where(hole, mean, image)
    return image
