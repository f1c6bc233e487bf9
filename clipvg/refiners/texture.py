"""Texture-detail guidance (MiracleVision's "texture detail" model, as a hook for a model the user
brings): during the last steps of an inpainting run, the latents inside the mask move up the
gradient of the user's detail score of their decoded picture."""
from __future__ import annotations

from typing import Any, Callable

import torch

from .base import latent_mask

# (1, 3, h, w) picture in [0, 1] -> scalar tensor, differentiable; higher = more texture detail
TextureModel = Callable[[torch.Tensor], torch.Tensor]


def texture_step(vae: Any, latents: torch.Tensor, model: TextureModel, scale: float,
                 area: torch.Tensor) -> torch.Tensor:
    """``latents`` (1, 4, h, w) + ``scale`` x ``area`` (1, 1, h, w) x d model(decode(latents)) / d latents:
    one gradient-ascent step on the detail score, confined to ``area``."""
    wide = torch.promote_types(latents.dtype, torch.float32)  # the step in at least float32
    with torch.enable_grad():
        z = latents.detach().to(wide).requires_grad_(True)
        pixels = vae.decode((z / vae.config.scaling_factor).to(vae.dtype)).sample.to(wide)
        (grad,) = torch.autograd.grad(model(((pixels + 1) / 2).clamp(0, 1)), z)
    return (z.detach() + scale * area.to(z.device, wide) * grad).to(latents.dtype)


def texture_callback(model: TextureModel, scale: float, share: float, mask: torch.Tensor) -> dict[str, Any]:
    """diffusers pipeline keywords (``callback_on_step_end``) applying ``texture_step`` after each of
    the last ``share`` of the denoising steps, inside ``mask`` (H, W) bool."""

    def step_end(pipe: Any, step: int, timestep: Any, tensors: dict) -> dict:
        total = getattr(pipe, "num_timesteps", step + 1)
        if step < total - int(round(total * share)):
            return {}
        latents = tensors["latents"]
        return {"latents": texture_step(pipe.vae, latents, model, scale, latent_mask(mask, tuple(latents.shape)))}

    return {"callback_on_step_end": step_end, "callback_on_step_end_tensor_inputs": ["latents"]}
