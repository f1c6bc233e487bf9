"""Inpainting with a mask ControlNet on a frozen text-to-image model (the MiracleVision design: the base
UNet is not modified; a ControlNet branch sees the masked image and the mask).

Published weights (download once with ``huggingface-cli download ID``):

* base model: ``stable-diffusion-v1-5/stable-diffusion-v1-5`` (any SD 1.x text-to-image diffusers
  folder: 4-channel UNet);
* mask ControlNet: ``lllyasviel/control_v11p_sd15_inpaint`` (ControlNet v1.1 inpaint, diffusers
  format), or a checkpoint written by ``python -m clipvg.refiners.train_mask_controlnet`` (full, or
  compressed with ``--compress``: ``compressed_controlnet.py``).

The ControlNet's condition is the v1.1 inpaint convention, which carries both inputs in one
3-channel image: the picture in [0, 1] with every masked pixel set to -1 (``inpaint_condition``;
the same as diffusers' documented ``make_inpaint_condition`` for that checkpoint). The sampling is
diffusers' StableDiffusionControlNetInpaintPipeline: with a 4-channel UNet it re-imposes the
unmasked latents at every step, so only the masked region is generated.
"""
from __future__ import annotations

from typing import Any

import torch

from .compressed_controlnet import controlnet_class
from .loading import load_model, load_pipeline, require_diffusers, resolve_device
from .precision import resolve_precision
from .sd_inpaint import SDInpaintRefiner
from .texture import TextureModel

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DEFAULT_CONTROLNET = "lllyasviel/control_v11p_sd15_inpaint"
CONTROLNET_LAYOUT = "a diffusers ControlNetModel folder (config.json and diffusion_pytorch_model.safetensors)"


def inpaint_condition(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) ControlNet inpaint condition from ``image`` (H, W, 3) in [0, 1] and ``mask`` (H, W)
    bool (or float, > 0.5 = masked): the image, with -1 at the masked pixels."""
    chw = image.float().permute(2, 0, 1).clone()
    chw[:, mask.cpu() > 0.5] = -1.0
    return chw[None]


class ControlNetInpaintRefiner(SDInpaintRefiner):
    """Repaint the masked region with a frozen text-to-image model guided by a mask ControlNet.

    ``model``: the base model (hub id, diffusers folder or a loaded
    StableDiffusionControlNetInpaintPipeline); ``controlnet``: the mask ControlNet (hub id, folder, or
    a ControlNetModel). ``steps`` sampling steps, guidance ``guidance``, ControlNet weight
    ``conditioning_scale``, at most ``max_side`` px. With ``prior`` the masked area's seed (an
    outpaint's mirror-padded, noised border) is the start, noised to ``prior_strength``; removal
    paints the background description plus the background trigger (``removal_prompt``) away from
    ``negative_prompt``; ``texture_model``: the texture-detail hook (see SDInpaintRefiner)."""

    name = "controlnet-inpaint"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, controlnet: Any = None,
                 steps: int = 30, guidance: float = 7.5, conditioning_scale: float = 1.0, prior_strength: float = 0.85,
                 negative_prompt: str | None = "object, person, text, watermark", max_side: int = 512,
                 precision: Any = None, texture_model: TextureModel | None = None, texture_scale: float = 1.0,
                 texture_share: float = 0.3) -> None:
        require_diffusers()
        from diffusers import DiffusionPipeline, StableDiffusionControlNetInpaintPipeline

        self.device = resolve_device(device)
        precision = resolve_precision(precision, self.device) if isinstance(precision, (str, type(None))) else precision
        extra = {}
        if not isinstance(model, DiffusionPipeline):
            controlnet = DEFAULT_CONTROLNET if controlnet is None else controlnet
            extra["controlnet"] = load_model(controlnet_class(controlnet), controlnet, precision.dtype,
                                             "--controlnet-model", CONTROLNET_LAYOUT)
        self.pipeline = load_pipeline(StableDiffusionControlNetInpaintPipeline, model, self.device, precision, **extra)
        self.steps, self.guidance, self.conditioning_scale = steps, guidance, conditioning_scale
        self.prior_strength, self.negative_prompt, self.max_side = prior_strength, negative_prompt, max_side
        self.texture = (texture_model, texture_scale, texture_share)

    def conditioning(self, image: torch.Tensor, mask: torch.Tensor) -> dict[str, Any]:
        """The ControlNet's input (the image with the masked pixels at -1) and its weight."""
        return {"control_image": inpaint_condition(image, mask),
                "controlnet_conditioning_scale": self.conditioning_scale}
