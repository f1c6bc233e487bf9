"""Imagic (Kawar, Zada, Lang, Tov, Chang, Dekel, Mosseri, Irani: "Imagic: Text-Based Real Image Editing
with Diffusion Models", CVPR 2023, arXiv 2210.09276) on Stable Diffusion.

The paper's three stages, each exposed with its settings:

A. text-embedding optimisation: e_tgt = the target text's embedding; e_opt, starting at e_tgt, is
   optimised with Adam (lr ``embed_lr``, 1e-3) for ``embed_steps`` to make the frozen model
   reconstruct the picture;
B. model fine-tuning: with e_opt frozen, the UNet is fine-tuned (Adam, lr ``finetune_lr`` 1e-6, as
   issue 22 gives the paper's value) for ``finetune_steps`` on the same loss;
C. interpolation: sample from e = eta e_tgt + (1 - eta) e_opt with the fine-tuned model, eta around
   0.7 (the paper's, as issue 22 gives it); several samples, the best kept (``samples``, ``scorer``,
   a CLIP score of the target text: ``select.ClipScorer``).

Step counts 1000 (A) and 1500 (B) are Imagic's as FastEdit (arXiv 2408.03355, abstract) describes
it: "fine-tuning the target text embedding for over 1K iterations and the generative model for
another 1.5K iterations". The paper's number of samples per edit is not in the sources read here;
``samples`` defaults to 1 (a CLI run has no CLIP scorer) and is the knob for best-of-k.
Imagen's super-resolution stages, which the paper fine-tunes with e_tgt, have no counterpart in
Stable Diffusion (its latents are decoded by the VAE). Both stages run correctly at every precision
(``finetune.py``: float32 embedding and master weights, autocast, loss scaling for fp16).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import InvalidInputError
from .base import Refiner, check_inputs, paste, removal_prompt
from .diffusion import Components, guided
from .finetune import TuneSettings, Tuned, train
from .select import Scorer, best

DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"


@dataclass
class ImagicState:
    """What Imagic learns from one picture: the target embedding ``e_tgt``, the optimised embedding
    ``e_opt`` (both (1, L, D) in the model's dtype), the fine-tuned ``unet``, and the picture's
    ``latents`` (1, 4, h, w)."""

    e_tgt: torch.Tensor
    e_opt: torch.Tensor
    unet: Tuned
    latents: torch.Tensor


class ImagicRefiner(Refiner):
    """Imagic on a Stable Diffusion model (hub id, local diffusers folder, or a loaded pipeline):
    stages A, B, C of the module docstring, sampling with ``steps`` DDIM steps and classifier-free
    guidance ``guidance`` at most ``max_side`` px; ``samples`` seeds (seed, seed + 1, ...) are drawn
    and the one ``scorer`` rates best for the prompt is kept. ``optimizer``: both stages' optimizer,
    ``adamw`` (weight decay 0: the paper's Adam) or ``adafactor``."""

    name = "imagic"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, embed_steps: int = 1000,
                 embed_lr: float = 1e-3, finetune_steps: int = 1500, finetune_lr: float = 1e-6, eta: float = 0.7,
                 samples: int = 1, scorer: Scorer | None = None, steps: int = 50, guidance: float = 3.0,
                 max_side: int = 512, precision: Any = None, optimizer: str = "adamw") -> None:
        if samples < 1 or (samples > 1 and scorer is None):
            raise InvalidInputError(f"imagic: samples must be >= 1, and more than one needs scorer= (e.g. "
                                    f"clipvg.refiners.select.ClipScorer(losses.load_clip(...))); got {samples}")
        self.embedding = TuneSettings(embed_steps, embed_lr, optimizer)
        self.tuning = TuneSettings(finetune_steps, finetune_lr, optimizer)
        self.model = Components.load(model, device, precision)
        self.eta, self.samples, self.scorer = eta, samples, scorer
        self.steps, self.guidance, self.max_side = steps, guidance, max_side

    def fit(self, image: torch.Tensor, prompt: str, seed: int = 0) -> ImagicState:
        """Stages A and B on ``image`` (H, W, 3) in [0, 1] for the target ``prompt``."""
        model = self.model
        generator = torch.Generator().manual_seed(seed)
        latents = model.encode_image(image, model.size_for(image, self.max_side))
        e_tgt = model.encode_prompt(prompt)
        e_opt = e_tgt.float().clone().requires_grad_(True)
        train([e_opt], lambda batch: model.denoising_loss(model.unet, latents, e_opt, generator, batch),
              self.embedding, model.device, model.dtype)
        e_opt = e_opt.detach().to(model.dtype)
        unet = model.finetune(latents, e_opt, self.tuning, generator)
        return ImagicState(e_tgt, e_opt, unet, latents)

    @staticmethod
    def interpolate(state: ImagicState, eta: float) -> torch.Tensor:
        """Stage C's embedding eta e_tgt + (1 - eta) e_opt: eta 0 is the reconstruction, 1 the target text."""
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
        text = removal_prompt(prompt) if remove else prompt
        state = self.fit(image, text, seed)
        embedding = self.interpolate(state, self.eta if eta is None else eta)
        candidates = [self.sample(state, embedding, seed + k)[1] for k in range(self.samples)]
        return paste(image, best(candidates, text, self.scorer), mask)
