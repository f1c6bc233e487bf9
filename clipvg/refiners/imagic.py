"""Imagic (Kawar et al., CVPR 2023): optimise the text embedding to reconstruct the photo, fine-tune
the UNet on that embedding, then sample from eta * e_tgt + (1 - eta) * e_opt."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .base import Refiner, check_inputs, paste, removal_prompt
from .diffusion import Components, guided

DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"


@dataclass
class ImagicState:
    """What Imagic learns from one photo: the target embedding ``e_tgt``, the optimised embedding
    ``e_opt`` (both (1, L, D)), the fine-tuned ``unet``, and the photo's ``latents``."""

    e_tgt: torch.Tensor
    e_opt: torch.Tensor
    unet: Any
    latents: torch.Tensor


class ImagicRefiner(Refiner):
    """Imagic on a Stable Diffusion model (hub id, local diffusers folder, or a loaded pipeline).

    ``embed_steps`` Adam steps (lr ``embed_lr``) optimise the embedding, ``finetune_steps`` (lr
    ``finetune_lr``) fine-tune the UNet, ``eta`` interpolates toward the target text, sampling uses
    ``steps`` DDIM steps and guidance ``guidance``, at most ``max_side`` px.
    """

    name = "imagic"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, embed_steps: int = 100,
                 embed_lr: float = 1e-3, finetune_steps: int = 200, finetune_lr: float = 1e-6, eta: float = 0.7,
                 steps: int = 50, guidance: float = 3.0, max_side: int = 512, precision: Any = None) -> None:
        self.model = Components.load(model, device, precision)
        self.embed_steps, self.embed_lr = embed_steps, embed_lr
        self.finetune_steps, self.finetune_lr = finetune_steps, finetune_lr
        self.eta, self.steps, self.guidance, self.max_side = eta, steps, guidance, max_side

    def fit(self, image: torch.Tensor, prompt: str, seed: int = 0) -> ImagicState:
        """Steps A and B of Imagic on ``image`` (H, W, 3) in [0, 1] for the target ``prompt``."""
        model = self.model
        generator = torch.Generator().manual_seed(seed)
        latents = model.encode_image(image, model.size_for(image, self.max_side))
        e_tgt = model.encode_prompt(prompt)
        e_opt = e_tgt.clone().float().requires_grad_(True)
        optimizer = torch.optim.Adam([e_opt], lr=self.embed_lr)
        for _ in range(self.embed_steps):
            optimizer.zero_grad(set_to_none=True)
            model.denoising_loss(model.unet, latents, e_opt.to(model.dtype), generator).backward()
            optimizer.step()
        e_opt = e_opt.detach().to(model.dtype)
        unet = model.finetune(latents, e_opt, self.finetune_steps, self.finetune_lr, generator)
        return ImagicState(e_tgt, e_opt, unet, latents)

    @staticmethod
    def interpolate(state: ImagicState, eta: float) -> torch.Tensor:
        """eta * e_tgt + (1 - eta) * e_opt: eta 0 is the reconstruction, 1 the target text."""
        return eta * state.e_tgt + (1 - eta) * state.e_opt

    def sample(self, state: ImagicState, embedding: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(latents, image (h, w, 3)) sampled by the fine-tuned UNet conditioned on ``embedding``."""
        model = self.model
        uncond = model.encode_prompt("")
        latents = model.sample(guided(state.unet, embedding, uncond, self.guidance), tuple(state.latents.shape),
                               self.steps, torch.Generator().manual_seed(seed))
        return latents, model.decode(latents)

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False, eta: float | None = None) -> torch.Tensor:
        check_inputs(image, mask, prompt)
        state = self.fit(image, removal_prompt(prompt) if remove else prompt, seed)
        _, refined = self.sample(state, self.interpolate(state, self.eta if eta is None else eta), seed)
        return paste(image, refined, mask)
