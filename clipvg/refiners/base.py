"""The Refiner interface: a raster edit (e.g. a diffusion model) whose result is fitted back into paths."""
from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F

from ..errors import InvalidInputError

BACKGROUND_TRIGGER = "empty background, seamless, nothing there, clean plate"


def removal_prompt(prompt: str) -> str:
    """The prompt of removal mode: the background description plus the background trigger."""
    return f"{prompt.strip()}, {BACKGROUND_TRIGGER}"


class Refiner(ABC):
    """``refine(image, mask, prompt, *, seed, remove, prior) -> image``: repaint the masked part of
    ``image`` (H, W, 3) float in [0, 1] toward ``prompt``; pixels outside ``mask`` (H, W) bool are
    returned unchanged. ``remove``: paint the region as background (``prompt`` describes the background;
    ``removal_prompt`` adds the background trigger); ``prior``: the masked area already holds a seed to start from (e.g. the mirrored border
    of an outpaint). The same ``seed`` gives the same result."""

    name = "refiner"

    @abstractmethod
    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0,
               remove: bool = False, prior: bool = False) -> torch.Tensor:
        """(H, W, 3) float in [0, 1] on the CPU."""


def check_inputs(image: torch.Tensor, mask: torch.Tensor, prompt: str) -> None:
    """Raise InvalidInputError unless ``image`` is (H, W, 3), ``mask`` (H, W) and ``prompt`` non-empty."""
    if image.dim() != 3 or image.shape[-1] != 3:
        raise InvalidInputError(f"a refiner takes an (H, W, 3) image, got shape {tuple(image.shape)}")
    if tuple(mask.shape) != tuple(image.shape[:2]):
        raise InvalidInputError(f"the mask {tuple(mask.shape)} does not match the image {tuple(image.shape[:2])}")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInputError("the refiner's prompt is empty")


def working_size(height: int, width: int, multiple: int, max_side: int) -> tuple[int, int]:
    """(h, w): the size a model works at, the long side at most ``max_side`` and both sides multiples
    of ``multiple`` (the aspect ratio kept as well as that allows)."""
    scale = min(1.0, max_side / max(height, width))
    return (max(multiple, round(height * scale / multiple) * multiple),
            max(multiple, round(width * scale / multiple) * multiple))


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(H, W, C) -> (h, w, C), bilinear (antialiased when shrinking)."""
    if tuple(image.shape[:2]) == tuple(size):
        return image
    chw = image.permute(2, 0, 1)[None].float()
    return F.interpolate(chw, size=size, mode="bilinear", align_corners=False, antialias=True)[0].permute(1, 2, 0)


def latent_mask(mask: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """(1, 1, h, w) float on the CPU, for latents of ``shape`` (..., h, w): 1 on each latent any of
    whose pixels lies in ``mask`` (H, W) bool (the mask dilated to whole latents), 0 elsewhere."""
    return F.adaptive_max_pool2d(mask.float().cpu()[None, None], tuple(shape[-2:]))


def paste(image: torch.Tensor, refined: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``refined`` (h, w, 3) resized to ``image`` (H, W, 3) inside ``mask`` (H, W), ``image`` outside."""
    refined = resize(refined.float().cpu(), tuple(image.shape[:2])).clamp(0, 1)
    return torch.where(mask.cpu()[..., None], refined, image.float().cpu())
