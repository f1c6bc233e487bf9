"""Layered (transparent) output mode, LayerDiffusion-style: a refiner's edit split into a background
plate (the region repainted as background) and a transparent foreground (what the prompt added)."""
from __future__ import annotations

import torch

from .base import Refiner


class LayeredRefiner(Refiner):
    """Wraps a Refiner. ``refine_layers`` returns (background (H, W, 3), foreground (H, W, 4)
    straight RGBA, transparent where the edit left the background as it is and everywhere outside
    the mask); ``refine`` returns their composite, so it is a Refiner like any other."""

    def __init__(self, base: Refiner, threshold: float = 0.08) -> None:
        self.base, self.threshold = base, threshold
        self.name = f"{base.name}-layered"

    def refine_layers(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0,
                      prior: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        background = self.base.refine(image, mask, prompt, seed=seed, remove=True, prior=prior)
        edited = self.base.refine(image, mask, prompt, seed=seed, prior=prior)
        difference = (edited - background).abs().amax(-1)
        alpha = ((difference - self.threshold) / self.threshold).clamp(0, 1) * mask.cpu().float()
        return background, torch.cat([edited, alpha[..., None]], -1)

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        if remove:
            return self.base.refine(image, mask, prompt, seed=seed, remove=True, prior=prior)
        background, foreground = self.refine_layers(image, mask, prompt, seed=seed, prior=prior)
        alpha = foreground[..., 3:]
        return background * (1 - alpha) + foreground[..., :3] * alpha
