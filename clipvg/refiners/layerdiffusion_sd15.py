"""LayerDiffusion on Stable Diffusion 1.5 (Zhang and Agrawala, arXiv 2402.17113): the transparent,
joint and conditional layer models, which share attention across the frames of one scene
(``layerdiffusion_sharing``).

Published weights (download once with ``huggingface-cli download LayerDiffusion/layerdiffusion-v1
<files> --local-dir DIR`` and pass ``--layer-model DIR``; names as in github
lllyasviel/sd-forge-layerdiffuse ``scripts/forge_layerdiffusion.py``):

* ``layer_sd15_transparent_attn.safetensors``: 1 frame, a transparent foreground;
* ``layer_sd15_joint.safetensors``: 3 frames (foreground, background, blend) from one prompt;
* ``layer_sd15_fg2bg.safetensors``: 2 frames (background, blend) given a foreground picture;
* ``layer_sd15_bg2fg.safetensors``: 2 frames (foreground, blend) given a background picture;
* ``layer_sd15_vae_transparent_decoder.safetensors``: the transparent decoder (same network as the
  SDXL one, ``layerdiffusion.TransparentDecoder``), for every mode with a foreground frame;

on an SD 1.5 base model (default ``stable-diffusion-v1-5/stable-diffusion-v1-5``).

Modes (``--layer-mode``): ``transparent`` and ``bg2fg`` paint a transparent foreground layer in the
mask (bg2fg sees the picture around it as its background); ``fg2bg`` keeps what the mask holds as
the foreground and paints the background behind it (``refine(remove=True)``: the clean plate);
``joint`` paints both. Without the weights the refiner falls back to the difference method.
"""
from __future__ import annotations

import dataclasses
from abc import abstractmethod
from pathlib import Path
from typing import Any

import torch

from ..errors import InvalidInputError
from .base import Refiner, check_inputs, paste, resize, working_size
from .layerdiffusion import (decode_transparent, difference_fallback, find_layer_files, load_decoder, load_state,
                             place_layer)
from .layerdiffusion_sharing import SharingState, load_sharing
from .loading import load_pipeline, require_diffusers, resolve_device
from .precision import resolve_precision

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
DEFAULT_LAYER_MODEL = "LayerDiffusion/layerdiffusion-v1"
DECODER_FILE = "layer_sd15_vae_transparent_decoder.safetensors"


@dataclasses.dataclass(frozen=True)
class Mode:
    """A published layer model: its ``files`` (SDXL's conditional modes: one per stage), its
    ``frames`` in order, whether it takes a condition picture (``control``: "foreground" or "background")."""

    files: tuple[str, ...]
    frames: tuple[str, ...]
    control: str | None = None

    @property
    def transparent(self) -> bool:
        return self.frames[0] == "foreground"


MODES = {
    "transparent": Mode(("layer_sd15_transparent_attn.safetensors",), ("foreground",)),
    "joint": Mode(("layer_sd15_joint.safetensors",), ("foreground", "background", "blend")),
    "fg2bg": Mode(("layer_sd15_fg2bg.safetensors",), ("background", "blend"), control="foreground"),
    "bg2fg": Mode(("layer_sd15_bg2fg.safetensors",), ("foreground", "blend"), control="background"),
}


def frame_context(pipe: Any, prompt: str | None, device: torch.device) -> torch.Tensor | None:
    """(1, T, D) text embedding of ``prompt`` (None: None)."""
    if not prompt:
        return None
    return pipe.encode_prompt(prompt, device, 1, False)[0]


class LayerFramesRefiner(Refiner):
    """A LayerDiffusion refiner that generates named frames for the mask's bounding box (``generate``)
    in a ``mode`` of ``spec`` (a Mode) and makes layers of them; subclasses set ``pipeline``,
    ``decoder`` (None without a foreground frame), ``fallback``, ``max_side``."""

    layered = True
    mode: str
    spec: Mode

    def prepare(self, modes: dict[str, Mode], mode: str, decoder_file: str, model: Any, device: Any, layer_model: Any,
                repo: str, *, steps: int, guidance: float, max_side: int, augment: bool, negative_prompt: str | None,
                precision: Any, fallback: bool) -> tuple[tuple[Path, ...] | None, Any]:
        """Set the settings every mode shares; return the mode's files (its ``spec.files``, then
        ``decoder_file`` where it has a foreground; None after falling back) and the resolved precision."""
        if mode not in modes:
            raise InvalidInputError(f"--refiner {self.name} has no mode {mode!r}; choose one of {', '.join(modes)}")
        self.mode, self.spec = mode, modes[mode]
        self.device = resolve_device(device)
        precision = resolve_precision(precision, self.device) if isinstance(precision, (str, type(None))) else precision
        self.steps, self.guidance, self.max_side, self.augment = steps, guidance, max_side, augment
        self.negative_prompt, self.fallback = negative_prompt, None
        try:
            return find_layer_files(layer_model, self.spec.files + ((decoder_file,) if self.spec.transparent else ()),
                                    repo), precision
        except InvalidInputError as error:
            if not fallback:
                raise
            self.fallback = difference_fallback(error, self.name, model, device, steps, guidance, precision)
            return None, precision

    @property
    def multiple(self) -> int:
        pipe = self.pipeline
        unet = pipe.vae_scale_factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
        return max(unet, 2 ** (len(self.decoder.config.block_out_channels) - 1)) if self.decoder is not None else unet

    @abstractmethod
    def generate(self, prompt: str, size: tuple[int, int], seed: int = 0,
                 condition: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The mode's frames at ``size`` (multiples of ``multiple``) by name: "foreground" (h, w, 4)
        straight RGBA, "background" and "blend" (h, w, 3), all in [0, 1] on the CPU. ``condition``
        (h, w, 3) in [0, 1]: the picture a conditional mode is given."""

    def frames_for(self, image: torch.Tensor, mask: torch.Tensor, prompt: str,
                   seed: int) -> tuple[dict[str, torch.Tensor], tuple[int, int, int, int]] | None:
        """The generated frames for the mask's bounding box (and the box), None for an empty mask."""
        from .highres import bounding_box

        height, width = image.shape[:2]
        if not bool(mask.any()):
            return None
        box = bounding_box(mask, 0.0, height, width)
        top, left, bottom, right = box
        size = working_size(bottom - top, right - left, self.multiple, self.max_side)
        condition = None
        if self.spec.control == "background":
            condition = resize(image[top:bottom, left:right], size)
        elif self.spec.control == "foreground":  # the mask's content on neutral grey (the reference's premultiply)
            alpha = mask[top:bottom, left:right, None].float()
            condition = resize(0.5 + (image[top:bottom, left:right] - 0.5) * alpha, size)
        return self.generate(prompt, size, seed, condition.clamp(0, 1) if condition is not None else None), box

    def refine_layers(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0,
                      prior: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(background (H, W, 3), foreground (H, W, 4) straight RGBA, transparent outside the mask):
        modes with a background frame paint it into the mask, the others keep ``image``; modes with
        a foreground frame place it in the mask, fg2bg keeps the mask's pixels as the foreground."""
        check_inputs(image, mask, prompt)
        if self.fallback is not None:
            return self.fallback.refine_layers(image, mask, prompt, seed=seed, prior=prior)
        image, mask = image.float().cpu(), mask.cpu().bool()
        result = self.frames_for(image, mask, prompt, seed)
        if result is None:
            return image, torch.zeros(*image.shape[:2], 4)
        frames, box = result
        background = self.paste_frame(image, mask, frames["background"], box) if "background" in frames else image
        if "foreground" in frames:
            foreground = place_layer(frames["foreground"], mask, box)
        else:
            foreground = torch.cat([image, mask[..., None].float()], -1) * mask[..., None]
        return background, foreground

    @staticmethod
    def paste_frame(image: torch.Tensor, mask: torch.Tensor, frame: torch.Tensor,
                    box: tuple[int, int, int, int]) -> torch.Tensor:
        """``image`` with ``frame`` (h, w, 3) resized into ``box``, inside ``mask`` only."""
        top, left, bottom, right = box
        out = image.clone()
        out[top:bottom, left:right] = paste(image[top:bottom, left:right], frame, mask[top:bottom, left:right])
        return out

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        """fg2bg: the blend frame in the mask (``remove``: the background frame); the others: the
        composite of the layers (``remove`` only where the mode paints a background)."""
        if self.fallback is not None:
            return self.fallback.refine(image, mask, prompt, seed=seed, remove=remove, prior=prior)
        if remove and "background" not in self.spec.frames:
            raise InvalidInputError(f"--layer-mode {self.mode} generates a transparent foreground; remove with "
                                    "--layer-mode fg2bg or joint, or --refiner sd-inpaint")
        if self.mode == "fg2bg" and not remove:
            check_inputs(image, mask, prompt)
            image, mask = image.float().cpu(), mask.cpu().bool()
            result = self.frames_for(image, mask, prompt, seed)
            return image if result is None else self.paste_frame(image, mask, result[0]["blend"], result[1])
        background, foreground = self.refine_layers(image, mask, prompt, seed=seed, prior=prior)
        if remove:
            return background
        alpha = foreground[..., 3:]
        return background * (1 - alpha) + foreground[..., :3] * alpha


class LayerDiffusionSD15Refiner(LayerFramesRefiner):
    """LayerDiffusion's SD 1.5 models in ``mode`` (MODES) inside the mask.

    ``model``: an SD 1.5 base (hub id, folder, or a loaded StableDiffusionPipeline); ``layer_model``:
    a folder or hub id holding the mode's file (and the decoder where the mode has a foreground);
    ``frame_prompts``: extra text per frame name ("foreground", "background", "blend"), prefixed to
    the prompt for that frame (the reference's additional prompts). ``steps``, ``guidance``, at most
    ``max_side`` px, ``augment``: the decoder's 8-way median. ``refine_layers`` returns (background,
    foreground RGBA)."""

    name = "layerdiffusion-sd15"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, mode: str = "transparent",
                 layer_model: Any = DEFAULT_LAYER_MODEL, steps: int = 25, guidance: float = 7.0, max_side: int = 512,
                 augment: bool = True, negative_prompt: str | None = "face asymmetry, deformed, text, watermark",
                 frame_prompts: dict[str, str] | None = None, fallback: bool = True,
                 decoder_config: dict | None = None, precision: Any = None) -> None:
        require_diffusers()
        from diffusers import StableDiffusionPipeline

        self.frame_prompts = dict(frame_prompts or {})
        files, precision = self.prepare(MODES, mode, DECODER_FILE, model, device, layer_model, DEFAULT_LAYER_MODEL,
                                        steps=steps, guidance=guidance, max_side=max_side, augment=augment,
                                        negative_prompt=negative_prompt, precision=precision, fallback=fallback)
        if files is None:
            return
        # int8 would hide the attention weights the shared layers add their offsets to: text encoder only
        self.pipeline = load_pipeline(StableDiffusionPipeline, model, self.device, precision, quantize=("text_encoder",))
        unet = self.pipeline.unet
        self.sharing = load_sharing(unet, load_state(files[0]), len(self.spec.frames), self.spec.control is not None,
                                    files[0])
        self.decoder = load_decoder(files[1], decoder_config, self.device) if self.spec.transparent else None
        if self.pipeline.vae.dtype != torch.float32:  # the decoder reads the VAE's picture in float32
            self.pipeline.vae.to(torch.float32)

    @torch.no_grad()
    def generate(self, prompt: str, size: tuple[int, int], seed: int = 0,
                 condition: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        pipe, spec = self.pipeline, self.spec
        frames = len(spec.frames)
        guided = self.guidance > 1
        control = None
        if spec.control is not None:
            if condition is None:
                raise InvalidInputError(f"LayerDiffusion mode {self.mode} needs a {spec.control} picture")
            control = self.sharing.encode(condition.permute(2, 0, 1)[None].to(self.device))
        contexts = [frame_context(pipe, f"{self.frame_prompts[f]}, {prompt}" if self.frame_prompts.get(f) else None,
                                  self.device) for f in spec.frames]
        mark = torch.tensor([1.0] * frames * guided + [0.0] * frames, device=self.device)
        self.sharing.set_state(SharingState(cond_mark=mark, prompts=contexts, control=control))
        latents = pipe(prompt=prompt, negative_prompt=self.negative_prompt, height=size[0], width=size[1],
                       num_images_per_prompt=frames, num_inference_steps=self.steps, guidance_scale=self.guidance,
                       output_type="latent", generator=torch.Generator().manual_seed(seed)).images
        self.sharing.set_state(SharingState())
        latent = latents.float() / pipe.vae.config.scaling_factor
        pixels = (pipe.vae.decode(latent).sample * 0.5 + 0.5).clamp(0, 1)
        out = {}
        for index, frame in enumerate(spec.frames):
            if frame == "foreground":
                out[frame] = decode_transparent(self.decoder, pixels[index:index + 1], latent[index:index + 1],
                                                self.augment)
            else:
                out[frame] = pixels[index].permute(1, 2, 0).float().cpu()
        return out

