"""Stable Diffusion building blocks shared by Imagic and UniTune: prompt and image encoding, the
denoising loss used for embedding optimisation and fine-tuning, and a guided DDIM sampler."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .base import latent_mask, resize, working_size
from .finetune import TuneSettings, Tuned, finetune
from .loading import load_pipeline, require_diffusers, resolve_device

Predict = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Components:
    """A text-to-image latent diffusion model: ``vae``, ``unet``, ``text_encoder``, ``tokenizer``,
    ``scheduler`` (its config is reused for DDIM), on ``device``."""

    vae: Any
    unet: Any
    text_encoder: Any
    tokenizer: Any
    scheduler: Any
    device: torch.device

    @classmethod
    def load(cls, model: Any, device: str | torch.device | None = None, precision: Any = None) -> "Components":
        """From a model id / local diffusers folder (``from_pretrained``) or a loaded pipeline, at
        ``precision`` (see ``precision.py``; int8 quantizes the text encoder only: the UNet is
        fine-tuned or back-propagated through, which int8 weights do not allow)."""
        require_diffusers()
        from diffusers import StableDiffusionPipeline

        device = resolve_device(device)
        pipe = load_pipeline(StableDiffusionPipeline, model, device, precision, quantize=("text_encoder",))
        for module in (pipe.vae, pipe.unet, pipe.text_encoder):
            module.requires_grad_(False)
        return cls(pipe.vae, pipe.unet, pipe.text_encoder, pipe.tokenizer, pipe.scheduler, device)

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    @property
    def multiple(self) -> int:
        """Image sides must be multiples of this (VAE and UNet downsampling)."""
        vae_scale = 2 ** (len(self.vae.config.block_out_channels) - 1)
        return vae_scale * 2 ** (len(self.unet.config.block_out_channels) - 1)

    def size_for(self, image: torch.Tensor, max_side: int) -> tuple[int, int]:
        return working_size(image.shape[0], image.shape[1], self.multiple, max_side)

    def ddim(self, steps: int):
        """A fresh DDIM scheduler from the model's scheduler config, set to ``steps`` steps."""
        from diffusers import DDIMScheduler

        scheduler = DDIMScheduler.from_config(self.scheduler.config)
        scheduler.set_timesteps(steps, device=self.device)
        return scheduler

    @torch.no_grad()
    def encode_prompt(self, prompt: str) -> torch.Tensor:
        """(1, L, D) text embedding of ``prompt``."""
        ids = self.tokenizer([prompt], padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids.to(self.device)
        return self.text_encoder(ids)[0].to(self.dtype)

    @torch.no_grad()
    def encode_image(self, image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """(1, 4, h, w) latents (posterior mean, scaled) of ``image`` (H, W, 3) in [0, 1] at ``size``."""
        pixels = resize(image.float().cpu(), size).permute(2, 0, 1)[None] * 2 - 1
        latents = self.vae.encode(pixels.to(self.device, self.vae.dtype)).latent_dist.mean
        return latents * self.vae.config.scaling_factor

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(h, w, 3) float in [0, 1] on the CPU from (1, 4, h', w') latents."""
        image = self.vae.decode((latents / self.vae.config.scaling_factor).to(self.vae.dtype)).sample
        return ((image[0].float().cpu() + 1) / 2).clamp(0, 1).permute(1, 2, 0)

    def randn(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Gaussian noise drawn on the CPU from ``generator`` (same numbers on every device)."""
        return torch.randn(shape, generator=generator).to(self.device, self.dtype)

    def denoising_loss(self, unet: Any, latents: torch.Tensor, embedding: torch.Tensor,
                       generator: torch.Generator, batch: int = 1) -> torch.Tensor:
        """The diffusion training loss: MSE between the UNet's prediction and its target (the noise,
        or the velocity for v-prediction models), over ``batch`` copies of ``latents`` (1, C, h, w)
        each at its own random timestep and noise."""
        steps = self.scheduler.config.num_train_timesteps
        t = torch.randint(0, steps, (batch,), generator=generator).to(self.device)
        latents = latents.expand(batch, -1, -1, -1)
        embedding = embedding.expand(batch, -1, -1)
        noise = self.randn(tuple(latents.shape), generator)
        noisy = self.scheduler.add_noise(latents, noise, t)
        target = noise
        if self.scheduler.config.get("prediction_type", "epsilon") == "v_prediction":
            target = self.scheduler.get_velocity(latents, noise, t)
        prediction = unet(noisy, t, encoder_hidden_states=embedding).sample
        return F.mse_loss(prediction.float(), target.float())

    def finetune(self, latents: torch.Tensor, embedding: torch.Tensor, settings: TuneSettings,
                 generator: torch.Generator) -> Tuned:
        """A float32 copy of the UNet fine-tuned by ``settings`` to denoise ``latents`` (1, C, h, w)
        given ``embedding`` (1, L, D), under autocast at the model's dtype (``finetune.py``: correct
        in fp32, fp16 and bf16); the loaded UNet is left as it was."""

        def loss(unet: Any, batch: int) -> torch.Tensor:
            return self.denoising_loss(unet, latents, embedding, generator, batch)

        return finetune(self.unet, loss, settings, self.device, self.dtype)

    def timesteps(self, steps: int, strength: float = 1.0) -> torch.Tensor:
        """The DDIM timesteps a ``steps``-step sample runs, descending: all of them, or (``strength``
        < 1, SDEdit) the last ``strength`` share of them (rounded, at least one)."""
        timesteps = self.ddim(steps).timesteps
        if strength >= 1.0:
            return timesteps
        return timesteps[min(len(timesteps) - 1, int(round(len(timesteps) * (1.0 - strength)))):]

    def latent_keep(self, mask: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor | None:
        """(1, 1, h, w) float: 1 on the latents whose pixels all lie outside ``mask`` (H, W) bool (the
        edit region, dilated to whole latents), for latents of ``shape`` (1, C, h, w); None when
        the mask covers every latent (nothing to keep)."""
        keep = (1.0 - latent_mask(mask, shape)).to(self.device, self.dtype)
        return keep if bool(keep.any()) else None

    @torch.no_grad()
    def sample(self, predict: Predict, shape: tuple[int, ...], steps: int, generator: torch.Generator,
               init: torch.Tensor | None = None, strength: float = 1.0,
               keep: torch.Tensor | None = None) -> torch.Tensor:
        """Latents from DDIM with ``steps`` steps and noise predictions ``predict(latents, t)``; from
        pure noise, or (``init`` latents, ``strength`` < 1) from ``init`` noised to that level (SDEdit).
        ``keep`` (1, 1, h, w) with ``init``: where it is 1 the latents are ``init`` noised to each
        step's level (the same noise), and ``init`` itself at the end: only the rest is generated."""
        scheduler = self.ddim(steps)
        timesteps = self.timesteps(steps, 1.0 if init is None else strength)
        noise = self.randn(shape, generator)
        if init is None or strength >= 1.0:
            latents = noise * scheduler.init_noise_sigma
        else:
            latents = scheduler.add_noise(init, noise, timesteps[:1])
        for t in timesteps:
            if keep is not None and init is not None:
                latents = torch.lerp(latents, scheduler.add_noise(init, noise, t[None]), keep)
            latents = scheduler.step(predict(scheduler.scale_model_input(latents, t), t), t, latents).prev_sample
        if keep is not None and init is not None:
            latents = torch.lerp(latents, init.to(latents.dtype), keep)
        return latents


def guided(unet: Any, cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> Predict:
    """Classifier-free guidance: eps_u + ``scale`` (eps_c - eps_u), one batched UNet call per step."""

    def predict(latents: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if scale == 1.0:
            return unet(latents, t, encoder_hidden_states=cond).sample
        both = unet(torch.cat([latents, latents]), t, encoder_hidden_states=torch.cat([uncond, cond])).sample
        eps_u, eps_c = both.chunk(2)
        return eps_u + scale * (eps_c - eps_u)

    return predict
