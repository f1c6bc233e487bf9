"""Source-over compositing of coverage fragments, in item order, per pixel."""
from __future__ import annotations

import torch

_MAX_ALPHA = 1 - 1e-6  # keeps log(1 - alpha) finite; lets 1e-6 of what is below through


def composite(pixel: torch.Tensor, alpha: torch.Tensor, rgb: torch.Tensor, num_pixels: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite fragments bottom to top.

    ``pixel`` (F,) pixel indices in ascending order, the fragments of a pixel in draw order (bottom
    first); ``alpha`` (F,) in [0, 1]; ``rgb`` (F, 3) straight colour. Returns premultiplied colour
    (num_pixels, 3) and alpha (num_pixels,), both differentiable.
    """
    # Straight-through clamp: the value stays finite at alpha = 1 while the gradient of an opaque
    # fragment's alpha still sees what it hides (d out / d alpha = own colour - colour below).
    clamped = alpha - (alpha - alpha.clamp(max=_MAX_ALPHA)).detach()
    log_clear = torch.log1p(-clamped)
    running = torch.cumsum(log_clear.double(), 0)  # not dtype=: its backward would sum in float32
    with torch.no_grad():
        group_end = torch.cumsum(torch.bincount(pixel, minlength=num_pixels), 0).index_select(0, pixel) - 1
    above = (running.index_select(0, group_end) - running).to(alpha.dtype)  # log transmittance of fragments above
    weight = alpha * torch.exp(above)
    premultiplied = rgb.new_zeros(num_pixels, 3).index_add(0, pixel, weight[:, None] * rgb)
    total_log = alpha.new_zeros(num_pixels).index_add(0, pixel, log_clear)
    return premultiplied, 1 - torch.exp(total_log)
