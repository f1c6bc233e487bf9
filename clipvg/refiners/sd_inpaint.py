"""Stable Diffusion inpainting / outpainting through diffusers' StableDiffusionInpaintPipeline, with
the border prior (start from the seeded raster) and a removal mode (background trigger prompt)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from ..image_out import to_uint8
from .base import Refiner, check_inputs, paste, removal_prompt, working_size
from .loading import load_pipeline, require_diffusers, resolve_device
from .texture import TextureModel, texture_callback

DEFAULT_MODEL = "stabilityai/stable-diffusion-2-inpainting"


class SDInpaintRefiner(Refiner):
    """Repaint the masked region with an SD inpainting model (hub id, local diffusers folder or a
    loaded StableDiffusionInpaintPipeline): ``steps`` steps, guidance ``guidance``, at most
    ``max_side`` px. With ``prior`` the masked area's seed (e.g. an outpaint's mirrored border) is
    kept as the starting point, noised to ``prior_strength``. Removal mode paints the background
    description plus the background trigger (``removal_prompt``), away from ``negative_prompt``.
    ``texture_model`` (``texture.TextureModel``, a user-given texture-detail scorer) guides the last
    ``texture_share`` of the steps up its gradient at ``texture_scale``, inside the mask."""

    name = "sd-inpaint"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, steps: int = 30,
                 guidance: float = 7.5, prior_strength: float = 0.85,
                 negative_prompt: str | None = "object, person, text, watermark", max_side: int = 512,
                 precision: Any = None, texture_model: TextureModel | None = None, texture_scale: float = 1.0,
                 texture_share: float = 0.3) -> None:
        require_diffusers()
        from diffusers import AutoPipelineForInpainting

        self.device = resolve_device(device)
        self.pipeline = load_pipeline(AutoPipelineForInpainting, model, self.device, precision)
        self.steps, self.guidance, self.prior_strength = steps, guidance, prior_strength
        self.negative_prompt, self.max_side = negative_prompt, max_side
        self.texture = (texture_model, texture_scale, texture_share)

    def prompts(self, prompt: str, remove: bool) -> tuple[str, str | None]:
        """(prompt, negative prompt) sent to the pipeline."""
        return (removal_prompt(prompt), self.negative_prompt) if remove else (prompt, None)

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        check_inputs(image, mask, prompt)
        pipe = self.pipeline
        multiple = pipe.vae_scale_factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
        height, width = working_size(image.shape[0], image.shape[1], multiple, self.max_side)
        text, negative = self.prompts(prompt, remove)
        result = pipe(prompt=text, negative_prompt=negative, image=Image.fromarray(to_uint8(image)),
                      mask_image=Image.fromarray(mask.cpu().numpy().astype(np.uint8) * 255), height=height,
                      width=width, num_inference_steps=self.steps, guidance_scale=self.guidance,
                      strength=self.prior_strength if prior else 1.0,
                      generator=torch.Generator().manual_seed(seed), output_type="np",
                      **self.conditioning(image, mask), **self.texture_guidance(mask)).images[0]
        return paste(image, torch.from_numpy(np.ascontiguousarray(result)), mask)

    def texture_guidance(self, mask: torch.Tensor) -> dict[str, Any]:
        """The pipeline keywords of the texture-detail hook (none without a texture model)."""
        model, scale, share = self.texture
        return {} if model is None else texture_callback(model, scale, share, mask)

    def conditioning(self, image: torch.Tensor, mask: torch.Tensor) -> dict[str, Any]:
        """Extra pipeline arguments for ``image`` (H, W, 3) and ``mask`` (H, W): none for plain inpainting."""
        return {}
