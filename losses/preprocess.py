"""Differentiable CLIP image preprocessing in torch (never through PIL)."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def clip_preprocess(
    images: torch.Tensor, size: int, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """Resize `(B, 3, H, W)` images in [0, 1] to `(B, 3, size, size)` by bicubic interpolation and
    normalise them with CLIP's per-channel `mean` / `std`; differentiable w.r.t. `images`."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(images.shape)}")
    if images.shape[-2:] != (size, size):
        images = F.interpolate(images, size=(size, size), mode="bicubic", align_corners=False)
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images - mean_t) / std_t
