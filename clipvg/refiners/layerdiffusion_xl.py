"""LayerDiffusion's SDXL conditional layer models: a foreground from a background and a background
from a foreground, in two stages, each a frozen patch (``layerdiffusion_weights``) whose widened
``conv_in`` reads condition latents concatenated to the sampled one (facts from github
lllyasviel/sd-forge-layerdiffuse ``scripts/forge_layerdiffusion.py``: ``extra_concat_condition``,
and huchenlei/ComfyUI-layerdiffuse ``layered_diffusion.py``: ``c_concat`` of scaled latents).

Published weights (``huggingface-cli download LayerDiffusion/layerdiffusion-v1 <files> --local-dir
DIR``, then ``--layer-model DIR``):

* ``bg2fg``: ``layer_xl_bg2ble.safetensors`` (blend given the background) then
  ``layer_xl_bgble2fg.safetensors`` (foreground given background and blend), decoded with
  ``vae_transparent_decoder.safetensors``;
* ``fg2bg``: ``layer_xl_fg2ble.safetensors`` then ``layer_xl_fgble2bg.safetensors``;

on an SDXL base model. The second stage reads the first stage's latent directly (the reference
re-encodes the decoded blend picture).
"""
from __future__ import annotations

from typing import Any

import torch

from ..errors import InvalidInputError
from .layerdiffusion import DEFAULT_MODEL, decode_transparent, load_decoder, load_state
from .layerdiffusion_sd15 import LayerFramesRefiner, Mode
from .layerdiffusion_weights import apply_patch_offsets, concat_condition, patch_offsets, restore_weights
from .loading import load_pipeline, require_diffusers

DEFAULT_LAYER_MODEL = "LayerDiffusion/layerdiffusion-v1"
DECODER_FILE = "vae_transparent_decoder.safetensors"
XL_MODES = {
    "bg2fg": Mode(("layer_xl_bg2ble.safetensors", "layer_xl_bgble2fg.safetensors"), ("foreground", "blend"),
                  control="background"),
    "fg2bg": Mode(("layer_xl_fg2ble.safetensors", "layer_xl_fgble2bg.safetensors"), ("background", "blend"),
                  control="foreground"),
}


class LayerDiffusionXLCondRefiner(LayerFramesRefiner):
    """SDXL LayerDiffusion in a conditional ``mode`` (XL_MODES) inside the mask; ``model``: SDXL base,
    ``layer_model``: a folder or hub id with the mode's files; ``strength`` scales the patches (the
    reference's weight); the rest as ``LayerDiffusionSD15Refiner``."""

    name = "layerdiffusion"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, mode: str = "bg2fg",
                 layer_model: Any = DEFAULT_LAYER_MODEL, steps: int = 25, guidance: float = 7.0, max_side: int = 1024,
                 augment: bool = True, negative_prompt: str | None = "face asymmetry, deformed, text, watermark",
                 strength: float = 1.0, fallback: bool = True, decoder_config: dict | None = None,
                 precision: Any = None) -> None:
        require_diffusers()
        from diffusers import StableDiffusionXLPipeline

        self.strength = strength
        files, precision = self.prepare(XL_MODES, mode, DECODER_FILE, model, device, layer_model, DEFAULT_LAYER_MODEL,
                                        steps=steps, guidance=guidance, max_side=max_side, augment=augment,
                                        negative_prompt=negative_prompt, precision=precision, fallback=fallback)
        if files is None:
            return
        # patched in and out per stage: no int8 on the UNet
        self.pipeline = load_pipeline(StableDiffusionXLPipeline, model, self.device, precision,
                                      quantize=("text_encoder", "text_encoder_2"))
        self.stages = [(f, load_state(f)) for f in files[:2]]
        for file, state in self.stages:  # fail now, not at the first refine
            patch_offsets(state, self.pipeline.unet, file)
        self.decoder = load_decoder(files[2], decoder_config, self.device) if self.spec.transparent else None
        if self.pipeline.vae.dtype != torch.float32:  # SDXL's VAE overflows in float16
            self.pipeline.vae.to(torch.float32)

    def encode(self, picture: torch.Tensor) -> torch.Tensor:
        """(1, 4, h/8, w/8) scaled latent of ``picture`` (h, w, 3) in [0, 1] (the VAE's mode)."""
        vae = self.pipeline.vae
        pixels = picture.permute(2, 0, 1)[None].to(self.device, torch.float32) * 2 - 1
        return vae.encode(pixels).latent_dist.mode() * vae.config.scaling_factor

    def stage(self, index: int, prompt: str, size: tuple[int, int], seed: int, condition: torch.Tensor) -> torch.Tensor:
        """The scaled latent (1, 4, h/8, w/8) that stage ``index``'s patch samples given ``condition``."""
        pipe = self.pipeline
        file, state = self.stages[index]
        backup = apply_patch_offsets(pipe.unet, patch_offsets(state, pipe.unet, file, self.strength))
        try:
            with concat_condition(pipe.unet, condition):
                return pipe(prompt=prompt, negative_prompt=self.negative_prompt, height=size[0], width=size[1],
                            num_inference_steps=self.steps, guidance_scale=self.guidance, output_type="latent",
                            generator=torch.Generator().manual_seed(seed)).images.float()
        finally:
            restore_weights(pipe.unet, backup)

    @torch.no_grad()
    def generate(self, prompt: str, size: tuple[int, int], seed: int = 0,
                 condition: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if condition is None:
            raise InvalidInputError(f"LayerDiffusion mode {self.mode} needs a {self.spec.control} picture")
        given = self.encode(condition)
        blend = self.stage(0, prompt, size, seed, given)
        other = self.stage(1, prompt, size, seed, torch.cat([given, blend], 1))
        vae = self.pipeline.vae
        latents = torch.cat([other, blend]) / vae.config.scaling_factor
        pixels = (vae.decode(latents.to(vae.dtype)).sample.float() * 0.5 + 0.5).clamp(0, 1)
        out = {"blend": pixels[1].permute(1, 2, 0).cpu()}
        if self.spec.transparent:
            out["foreground"] = decode_transparent(self.decoder, pixels[:1], latents[:1], self.augment)
        else:
            out["background"] = pixels[0].permute(1, 2, 0).cpu()
        return out

