"""UniTune (Valevski et al., 2022): fine-tune the model on the photo captioned with a rare token,
then sample "[token] edit prompt" starting from the noised photo, with prompt guidance."""
from __future__ import annotations

from typing import Any

import torch

from .base import Refiner, check_inputs, paste, removal_prompt
from .diffusion import Components

DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"


class UniTuneRefiner(Refiner):
    """UniTune on a Stable Diffusion model (hub id, local diffusers folder or a loaded pipeline).

    The UNet is fine-tuned ``finetune_steps`` Adam steps (lr ``lr``) to reconstruct the photo from
    the caption ``token``. Sampling ("``token`` prompt", ``steps`` DDIM steps) starts from the photo
    noised to ``strength``; the noise prediction is classifier-free guidance ``guidance`` on the
    full caption plus prompt guidance ``prompt_guidance`` toward the edit alone, away from the token
    alone: eps_u + g (eps_{token+edit} - eps_u) + p (eps_{edit} - eps_{token}).
    """

    name = "unitune"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, token: str = "sks",
                 finetune_steps: int = 128, lr: float = 1e-5, steps: int = 50, guidance: float = 7.5,
                 prompt_guidance: float = 3.0, strength: float = 0.8, max_side: int = 512) -> None:
        self.model = Components.load(model, device)
        self.token, self.finetune_steps, self.lr = token, finetune_steps, lr
        self.steps, self.guidance, self.prompt_guidance = steps, guidance, prompt_guidance
        self.strength, self.max_side = strength, max_side

    def finetune(self, image: torch.Tensor, seed: int = 0) -> tuple[Any, torch.Tensor]:
        """(fine-tuned UNet copy, the photo's latents)."""
        model = self.model
        latents = model.encode_image(image, model.size_for(image, self.max_side))
        unet = model.finetune(latents, model.encode_prompt(self.token), self.finetune_steps, self.lr,
                              torch.Generator().manual_seed(seed))
        return unet, latents

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        check_inputs(image, mask, prompt)
        model = self.model
        unet, latents = self.finetune(image, seed)
        edit = removal_prompt(prompt) if remove else prompt
        texts = ["", f"{self.token} {edit}", edit, self.token]
        embeddings = torch.cat([model.encode_prompt(text) for text in texts])
        g, p = self.guidance, self.prompt_guidance

        def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            eps_u, eps_full, eps_edit, eps_token = unet(x.expand(4, -1, -1, -1), t,
                                                        encoder_hidden_states=embeddings).sample.chunk(4)
            return eps_u + g * (eps_full - eps_u) + p * (eps_edit - eps_token)

        out = model.sample(predict, tuple(latents.shape), self.steps, torch.Generator().manual_seed(seed),
                           init=latents, strength=self.strength)
        return paste(image, model.decode(out), mask)
