"""High-resolution inputs: repaint at the model's size, super-resolve the new region, blend it in.

Above ``native`` pixels (the long side), running a diffusion model on the whole picture costs memory
and time that grow with the pixel count, and models trained at 512 px compose poorly far above it.
``HighResRefiner`` wraps any Refiner:

1. crop the picture around the mask (its bounding box plus ``context`` of its size on each side);
2. shrink the crop to at most ``native`` px and let the wrapped refiner repaint the shrunk mask;
3. super-resolve the repainted part back to the crop's size with diffusers' x4 upscaler
   (``stabilityai/stable-diffusion-x4-upscaler``; ``upscaler=None``: bicubic instead), on the mask's
   bounding box only;
4. blend it into the full-resolution original through the mask feathered *inward* over ``feather``
   px: alpha ramps from 0 at the mask's edge to 1 inside and is exactly 0 outside the mask, so every
   pixel outside the mask is returned bit-identical.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..image_out import to_uint8
from .base import Refiner, check_inputs, resize
from .loading import load_pipeline, require_diffusers, resolve_device
from .registry import DEFAULT_UPSCALER


def feathered(mask: torch.Tensor, feather: float) -> torch.Tensor:
    """(H, W) float alpha: min(1, d / ``feather``) with d the distance (px) from a masked pixel to the
    nearest unmasked one (1 at the edge); exactly 0 outside ``mask``."""
    from scipy.ndimage import distance_transform_edt

    inside = mask.cpu().numpy().astype(bool)
    if feather <= 0:
        return torch.from_numpy(inside.astype(np.float32))
    distance = distance_transform_edt(inside)
    return torch.from_numpy(np.clip(distance / feather, 0.0, 1.0).astype(np.float32))


def bounding_box(mask: torch.Tensor, margin: float, height: int, width: int, minimum: int = 0) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of ``mask``'s True pixels grown by ``margin`` x their size on each
    side (and to at least ``minimum`` px a side where the picture allows), clipped to the picture."""
    rows, cols = torch.nonzero(mask.cpu(), as_tuple=True)
    top, bottom, left, right = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1

    def grow(lo: int, hi: int, size: int) -> tuple[int, int]:
        pad = int(round(margin * (hi - lo)))
        lo, hi = lo - pad, hi + pad
        short = max(0, min(minimum, size) - (hi - lo))
        lo, hi = lo - short // 2, hi + short - short // 2
        shift = max(0, -lo) - max(0, hi - size)
        return max(0, lo + shift), min(size, hi + shift)

    top, bottom = grow(top, bottom, height)
    left, right = grow(left, right, width)
    return top, left, bottom, right


class HighResRefiner(Refiner):
    """``base`` (a Refiner) applied to pictures above ``native`` px as the module docstring says.
    ``upscaler``: hub id / diffusers folder / StableDiffusionUpscalePipeline of an x4 upscaler, or
    None for bicubic; ``upscale_steps`` its sampling steps and ``noise_level`` its input noise."""

    def __init__(self, base: Refiner, *, native: int = 512, upscaler: Any = None, device: str | None = None,
                 context: float = 0.25, feather: float = 8.0, upscale_steps: int = 20, noise_level: int = 20,
                 precision: Any = None) -> None:
        self.base, self.native, self.context, self.feather = base, native, context, feather
        self.upscale_steps, self.noise_level = upscale_steps, noise_level
        self.name = f"{base.name}-highres"
        self.upscaler = None
        if upscaler is not None:
            require_diffusers()
            from diffusers import StableDiffusionUpscalePipeline

            self.upscaler = load_pipeline(StableDiffusionUpscalePipeline, upscaler, resolve_device(device), precision,
                                          quantize=("unet", "text_encoder"))

    def upscale(self, image: torch.Tensor, size: tuple[int, int], prompt: str, seed: int) -> torch.Tensor:
        """``image`` (h, w, 3) brought to ``size``: the x4 upscaler's output (repeated while more than
        4x is still needed) resized to the exact size, or bicubic without an upscaler."""
        out = image.float().cpu()
        while self.upscaler is not None and size[0] > out.shape[0] * 1.01:
            result = self.upscaler(prompt=prompt, image=Image.fromarray(to_uint8(out)), num_inference_steps=self.upscale_steps,
                                   noise_level=self.noise_level, generator=torch.Generator().manual_seed(seed),
                                   output_type="np").images[0]
            out = torch.from_numpy(np.ascontiguousarray(result)).float()
        if tuple(out.shape[:2]) == tuple(size):
            return out.clamp(0, 1)
        chw = out.permute(2, 0, 1)[None]
        return F.interpolate(chw, size=size, mode="bicubic", align_corners=False, antialias=True)[0].permute(1, 2, 0).clamp(0, 1)

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        check_inputs(image, mask, prompt)
        height, width = image.shape[:2]
        mask = mask.cpu().bool()
        if max(height, width) <= self.native or not bool(mask.any()):
            return self.base.refine(image, mask, prompt, seed=seed, remove=remove, prior=prior)
        image = image.float().cpu()
        top, left, bottom, right = bounding_box(mask, self.context, height, width, minimum=self.native)
        crop, crop_mask = image[top:bottom, left:right], mask[top:bottom, left:right]
        scale = min(1.0, self.native / max(crop.shape[:2]))
        small_size = (max(8, round(crop.shape[0] * scale)), max(8, round(crop.shape[1] * scale)))
        small_mask = resize(crop_mask[..., None].float(), small_size)[..., 0] > 0.5
        if not bool(small_mask.any()):  # a mask thinner than a pixel at the small size
            small_mask = resize(crop_mask[..., None].float(), small_size)[..., 0] > 0
        small = self.base.refine(resize(crop, small_size), small_mask, prompt, seed=seed, remove=remove, prior=prior)
        # super-resolve only the repainted part: the small pixels covering the mask's bounding box
        fy, fx = crop.shape[0] / small_size[0], crop.shape[1] / small_size[1]
        c_top, c_left, c_bottom, c_right = bounding_box(crop_mask, 0.0, *crop.shape[:2])
        s_top, s_left = math.floor(c_top / fy), math.floor(c_left / fx)
        s_bottom, s_right = min(small_size[0], math.ceil(c_bottom / fy)), min(small_size[1], math.ceil(c_right / fx))
        c_top, c_left = round(s_top * fy), round(s_left * fx)  # <= the mask's box: covers it
        c_bottom, c_right = min(crop.shape[0], round(s_bottom * fy)), min(crop.shape[1], round(s_right * fx))
        patch = self.upscale(small[s_top:s_bottom, s_left:s_right], (c_bottom - c_top, c_right - c_left), prompt, seed)
        alpha = feathered(crop_mask, self.feather)[c_top:c_bottom, c_left:c_right, None]
        region = crop[c_top:c_bottom, c_left:c_right]
        blended = region * (1 - alpha) + patch * alpha
        out = image.clone()
        inside = crop_mask[c_top:c_bottom, c_left:c_right, None]
        out[top + c_top:top + c_bottom, left + c_left:left + c_right] = torch.where(inside, blended, region)
        return out
