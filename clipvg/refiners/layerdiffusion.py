"""LayerDiffusion's latent transparency (Zhang and Agrawala, "Transparent Image Layer Diffusion using
Latent Transparency", arXiv 2402.17113): an SDXL model whose attention weights carry the published
offset generates latents that hold a transparent layer, and a transparent-latent decoder turns them
into straight RGBA.

Published weights, the authors' diffusers release (download once with
``huggingface-cli download lllyasviel/LayerDiffuse_Diffusers``):

* ``ld_diffusers_sdxl_attn.safetensors``: weight offsets keyed by diffusers ``UNet2DConditionModel``
  state-dict names; the reference code (github lllyasviel/LayerDiffuse_DiffusersCLI,
  demo_sdxl_t2i.py) adds each to the base UNet's weight of the same name (``apply_offsets``);
* ``ld_diffusers_sdxl_vae_transparent_decoder.safetensors``: the state dict of the decoder UNet
  (the reference's ``UNet1024``; same module names here: ``TransparentDecoder``), taking the VAE's
  decoded picture in [0, 1] and the unscaled latent, returning (alpha, R, G, B) in [0, 1];

on any SDXL base model (default ``stabilityai/stable-diffusion-xl-base-1.0``). A folder holding the
two files works as well (``--layer-model DIR``).

Where the LayerDiffusion weights are absent, the refiner falls back (with a warning) to the
difference method: ``LayeredRefiner`` over an inpainting pipeline on the same base model.

The SDXL conditional layer models (``--layer-mode bg2fg|fg2bg``, public ldm-keyed files) are in
``layerdiffusion_xl``, the SD 1.5 models in ``layerdiffusion_sd15``, the converter from the public key
layouts in ``layerdiffusion_weights`` and ``layerdiffusion_sharing``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ..errors import InvalidInputError
from .base import Refiner, check_inputs, resize, working_size
from .loading import first_line, load_pipeline, require_diffusers, resolve_device
from .precision import resolve_precision

DEFAULT_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"
DEFAULT_LAYER_MODEL = "lllyasviel/LayerDiffuse_Diffusers"
ATTN_FILE = "ld_diffusers_sdxl_attn.safetensors"
DECODER_FILE = "ld_diffusers_sdxl_vae_transparent_decoder.safetensors"
DECODER_CONFIG = "transparent_decoder_config.json"  # optional, beside DECODER_FILE in a folder


def decoder_class():
    """``TransparentDecoder``, defined on first use (it subclasses diffusers' ModelMixin)."""
    global TransparentDecoder
    if "TransparentDecoder" in globals():
        return TransparentDecoder
    from diffusers.configuration_utils import ConfigMixin, register_to_config
    from diffusers.models.modeling_utils import ModelMixin
    from diffusers.models.unets.unet_2d_blocks import UNetMidBlock2D, get_down_block, get_up_block

    class TransparentDecoder(ModelMixin, ConfigMixin):
        """The transparent-latent decoder: a UNet over the decoded picture (``conv_in``, 3 channels)
        with the latent added after ``latent_block`` downsamplings (``latent_conv_in``, a 1x1 conv,
        zero-initialised in training); outputs ``out_channels`` = (alpha, R, G, B). The default
        configuration is the published one (7 levels, 32 to 512 channels, attention in the last three);
        picture sides must be multiples of 2 ** (levels - 1) = 64."""

        @register_to_config
        def __init__(self, in_channels: int = 3, out_channels: int = 4,
                     block_out_channels: tuple[int, ...] = (32, 32, 64, 128, 256, 512, 512),
                     down_block_types: tuple[str, ...] = ("DownBlock2D",) * 4 + ("AttnDownBlock2D",) * 3,
                     up_block_types: tuple[str, ...] = ("AttnUpBlock2D",) * 3 + ("UpBlock2D",) * 4,
                     layers_per_block: int = 2, latent_block: int = 3, attention_head_dim: int = 8,
                     norm_num_groups: int = 4, norm_eps: float = 1e-5) -> None:
            super().__init__()
            self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
            self.latent_conv_in = nn.Conv2d(4, block_out_channels[latent_block - 1], kernel_size=1)
            common = dict(resnet_eps=norm_eps, resnet_act_fn="silu", resnet_groups=norm_num_groups,
                          attention_head_dim=attention_head_dim, dropout=0.0, temb_channels=None)
            self.down_blocks = nn.ModuleList()
            channels = block_out_channels[0]
            for index, kind in enumerate(down_block_types):
                last = index == len(block_out_channels) - 1
                self.down_blocks.append(get_down_block(
                    kind, num_layers=layers_per_block, in_channels=channels, out_channels=block_out_channels[index],
                    add_downsample=not last, downsample_padding=1, resnet_time_scale_shift="default",
                    downsample_type="conv", **common))
                channels = block_out_channels[index]
            self.mid_block = UNetMidBlock2D(in_channels=block_out_channels[-1], temb_channels=None, dropout=0.0,
                                            resnet_eps=norm_eps, resnet_act_fn="silu", output_scale_factor=1,
                                            resnet_time_scale_shift="default", attention_head_dim=attention_head_dim,
                                            resnet_groups=norm_num_groups, attn_groups=None, add_attention=True)
            reverse = list(reversed(block_out_channels))
            self.up_blocks = nn.ModuleList()
            previous = reverse[0]
            for index, kind in enumerate(up_block_types):
                last = index == len(block_out_channels) - 1
                self.up_blocks.append(get_up_block(
                    kind, num_layers=layers_per_block + 1, in_channels=reverse[min(index + 1, len(reverse) - 1)],
                    out_channels=reverse[index], prev_output_channel=previous, add_upsample=not last,
                    resnet_time_scale_shift="default", upsample_type="conv", **common))
                previous = reverse[index]
            self.conv_norm_out = nn.GroupNorm(num_channels=block_out_channels[0], num_groups=norm_num_groups, eps=norm_eps)
            self.conv_act = nn.SiLU()
            self.conv_out = nn.Conv2d(block_out_channels[0], out_channels, kernel_size=3, padding=1)

        def forward(self, pixels: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
            """(B, 4, H, W) from ``pixels`` (B, 3, H, W) in [0, 1] and ``latent`` (B, 4, H/8, W/8) unscaled."""
            sample = self.conv_in(pixels)
            skips = (sample,)
            for index, block in enumerate(self.down_blocks):
                if index == self.config.latent_block:
                    sample = sample + self.latent_conv_in(latent)
                sample, residuals = block(hidden_states=sample, temb=None)
                skips += residuals
            sample = self.mid_block(sample, None)
            for block in self.up_blocks:
                residuals, skips = skips[-len(block.resnets):], skips[:-len(block.resnets)]
                sample = block(sample, residuals, None)
            return self.conv_out(self.conv_act(self.conv_norm_out(sample)))

    globals()["TransparentDecoder"] = TransparentDecoder
    return TransparentDecoder


def load_state(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(os.fspath(path))


def apply_offsets(unet: Any, offsets: dict[str, torch.Tensor]) -> int:
    """Add each offset to ``unet``'s weight of the same state-dict name, in place (the published
    attention "LoRA" is stored merged, as dense offsets). Every key must name a UNet weight of the same
    shape (otherwise the file is for another base model: InvalidInputError). Returns the count."""
    state = unet.state_dict()
    unknown = [k for k in offsets if k not in state]
    wrong = [k for k in offsets if k in state and tuple(state[k].shape) != tuple(offsets[k].shape)]
    if unknown or wrong:
        first = (unknown or wrong)[0]
        raise InvalidInputError(f"the LayerDiffusion attention offsets do not fit this UNet ({len(unknown)} unknown, "
                                f"{len(wrong)} mis-shaped keys, e.g. {first!r}); they are for an SDXL base model")
    with torch.no_grad():
        for key, offset in offsets.items():
            weight = state[key]
            weight.copy_((weight.float() + offset.to(weight.device).float()).to(weight.dtype))
    return len(offsets)


def find_layer_files(layer_model: Any, names: tuple[str, ...], repo: str) -> tuple[Path, ...]:
    """The files ``names`` of ``layer_model``: a folder holding them, or a hub repo id resolved
    through the local Hugging Face cache / download (``repo``: the public one, for the message).
    Missing files raise InvalidInputError saying how to get them."""
    folder = Path(os.fspath(layer_model))
    listed = " ".join(names)
    if folder.is_dir():
        files = tuple(folder / name for name in names)
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise InvalidInputError(f"{folder} lacks {', '.join(missing)}; download them once with `huggingface-cli "
                                    f"download {repo} {listed} --local-dir {folder}`")
        return files
    try:
        from huggingface_hub import hf_hub_download

        return tuple(Path(hf_hub_download(os.fspath(layer_model), name)) for name in names)
    except Exception as error:  # offline, unknown repo, ...: all mean "not here"
        raise InvalidInputError(f"cannot load LayerDiffusion weights {os.fspath(layer_model)!r} ({first_line(error)}); "
                                f"download them once with `huggingface-cli download {repo} {listed}` or pass "
                                "--layer-model DIR holding the files") from None


def layer_files(layer_model: Any) -> tuple[Path, Path]:
    """(attention offsets, decoder) files of the SDXL model ``layer_model`` (``find_layer_files``)."""
    return find_layer_files(layer_model, (ATTN_FILE, DECODER_FILE), DEFAULT_LAYER_MODEL)


def difference_fallback(error: InvalidInputError, name: str, model: Any, device: Any, steps: int, guidance: float,
                        precision: Any) -> Any:
    """The difference method (``LayeredRefiner`` over two inpainting runs on ``model``) in place of
    the refiner ``name`` whose LayerDiffusion weights are absent (``error``), with a warning."""
    from .layered import LayeredRefiner
    from .sd_inpaint import SDInpaintRefiner

    warnings.warn(f"{error}; --refiner {name} falls back to the difference method (two inpainting runs on the base "
                  "model)", RuntimeWarning, stacklevel=3)
    return LayeredRefiner(SDInpaintRefiner(model, device, steps=steps, guidance=guidance, precision=precision))


def load_decoder(decoder_file: Path, decoder_config: dict | None, device: torch.device) -> Any:
    """The transparent decoder of ``decoder_file`` (configuration: ``decoder_config``, else
    DECODER_CONFIG beside the file when present, else the published one) in float32 on ``device``."""
    config_file = decoder_file.with_name(DECODER_CONFIG)
    if decoder_config is None and config_file.is_file():  # a non-published decoder (tests, retrained)
        decoder_config = json.loads(config_file.read_text())
    decoder = decoder_class()(**(decoder_config or {}))
    try:
        decoder.load_state_dict(load_state(decoder_file), strict=True)
    except RuntimeError as error:
        raise InvalidInputError(f"{decoder_file} is not a LayerDiffusion transparent decoder for this "
                                f"configuration ({first_line(error)})") from None
    return decoder.to(device).eval()


def decode_transparent(decoder: Any, pixels: torch.Tensor, latent: torch.Tensor, augment: bool) -> torch.Tensor:
    """(h, w, 4) straight RGBA in [0, 1] on the CPU from one picture ``pixels`` (1, 3, h, w) in [0, 1]
    and its unscaled ``latent`` (1, 4, h/8, w/8); ``augment``: the 8-way median."""
    pixels, latent = pixels.float(), latent.float()
    out = median_of_flips(decoder, pixels, latent) if augment else decoder(pixels, latent).clamp(0, 1)
    return torch.cat([out[0, 1:], out[0, :1]]).permute(1, 2, 0).float().cpu()


def place_layer(layer: torch.Tensor, mask: torch.Tensor, box: tuple[int, int, int, int]) -> torch.Tensor:
    """(H, W, 4) straight RGBA: ``layer`` (h, w, 4) resized (premultiplied) into ``box`` (top, left,
    bottom, right) of ``mask`` (H, W) bool, transparent outside the mask."""
    top, left, bottom, right = box
    premultiplied = torch.cat([layer[..., :3] * layer[..., 3:], layer[..., 3:]], -1)
    premultiplied = resize(premultiplied, (bottom - top, right - left)).clamp(0, 1)
    alpha = premultiplied[..., 3:]
    rgb = torch.where(alpha > 1e-6, premultiplied[..., :3] / alpha.clamp(min=1e-6), torch.zeros_like(alpha)).clamp(0, 1)
    foreground = torch.zeros(*mask.shape, 4)
    foreground[top:bottom, left:right] = torch.cat([rgb, alpha], -1)
    foreground[..., 3] *= mask.float()
    return foreground


def median_of_flips(decoder: Any, pixels: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
    """The decoder's output, median over the 8 flips and quarter turns of its inputs (the reference
    decoder's test-time augmentation), clipped to [0, 1]."""
    outputs = []
    for flip in (False, True):
        for turns in range(4):
            p, z = (pixels.flip(3), latent.flip(3)) if flip else (pixels, latent)
            y = decoder(torch.rot90(p, turns, (2, 3)), torch.rot90(z, turns, (2, 3))).clamp(0, 1)
            y = torch.rot90(y, -turns, (2, 3))
            outputs.append(y.flip(3) if flip else y)
    return torch.stack(outputs).median(dim=0).values


class LayerDiffusionRefiner(Refiner):
    """Generates the prompt's content as a transparent layer (LayerDiffusion) inside the mask.

    ``model``: SDXL base (hub id, folder, or a loaded StableDiffusionXLPipeline); ``layer_model``: the
    LayerDiffusion weights (hub id or folder, see the module docstring); ``mode``: transparent, or
    bg2fg / fg2bg for the conditional models (``conditional``: a LayerDiffusionXLCondRefiner doing the work); ``decoder_config``: the decoder
    configuration when it is not the published one (default: DECODER_CONFIG beside the decoder file
    when present, else the published configuration). ``steps``, ``guidance``, at most
    ``max_side`` px (sides multiples of 64), ``augment``: the 8-way median decoding.
    ``refine_layers`` returns (background, foreground RGBA); ``refine`` their composite. Without the
    LayerDiffusion weights and ``fallback`` True, both go to the difference method instead."""

    name = "layerdiffusion"
    layered = True

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, layer_model: Any = None,
                 mode: str = "transparent", steps: int = 25, guidance: float = 7.0, max_side: int = 1024,
                 augment: bool = True, negative_prompt: str | None = "face asymmetry, deformed, text, watermark",
                 fallback: bool = True, decoder_config: dict | None = None, precision: Any = None) -> None:
        require_diffusers()
        from diffusers import StableDiffusionXLPipeline

        self.conditional = None
        if mode == "joint":
            raise InvalidInputError("--layer-mode joint is SD 1.5 only: use --refiner layerdiffusion-sd15")
        if mode != "transparent":  # the conditional models (layerdiffusion_xl) do the work
            from .layerdiffusion_xl import DEFAULT_LAYER_MODEL as CONDITIONAL_LAYER_MODEL, LayerDiffusionXLCondRefiner

            self.conditional = LayerDiffusionXLCondRefiner(
                model, device, mode=mode, layer_model=layer_model or CONDITIONAL_LAYER_MODEL, steps=steps,
                guidance=guidance, max_side=max_side, augment=augment, negative_prompt=negative_prompt,
                fallback=fallback, decoder_config=decoder_config, precision=precision)
            self.fallback = self.conditional.fallback
            return
        layer_model = layer_model or DEFAULT_LAYER_MODEL

        self.device = resolve_device(device)
        precision = resolve_precision(precision, self.device) if isinstance(precision, (str, type(None))) else precision
        self.steps, self.guidance, self.max_side, self.augment = steps, guidance, max_side, augment
        self.negative_prompt, self.fallback = negative_prompt, None
        try:
            attn, decoder_file = layer_files(layer_model)
        except InvalidInputError as error:
            if not fallback:
                raise
            self.fallback = difference_fallback(error, self.name, model, device, steps, guidance, precision)
            return
        # the offsets go onto full-precision weights; int8 quantization (if asked) comes after
        self.pipeline = load_pipeline(StableDiffusionXLPipeline, model, self.device,
                                      dataclasses.replace(precision, int8=None), quantize=())
        self.offsets = apply_offsets(self.pipeline.unet, load_state(attn))
        from .precision import quantize_int8

        self.pipeline.clipvg_precision = quantize_int8(
            [self.pipeline.unet, self.pipeline.text_encoder, self.pipeline.text_encoder_2], precision)
        self.decoder = load_decoder(decoder_file, decoder_config, self.device)
        # the VAE and the decoder run in float32 (SDXL's VAE overflows in float16)
        if self.pipeline.vae.dtype != torch.float32:
            self.pipeline.vae.to(torch.float32)

    @property
    def multiple(self) -> int:
        pipe = self.pipeline
        unet = pipe.vae_scale_factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
        return max(unet, 2 ** (len(self.decoder.config.block_out_channels) - 1))

    @torch.no_grad()
    def generate(self, prompt: str, size: tuple[int, int], seed: int = 0) -> torch.Tensor:
        """(h, w, 4) straight RGBA in [0, 1] for ``prompt`` at ``size`` (multiples of ``multiple``)."""
        pipe = self.pipeline
        latents = pipe(prompt=prompt, negative_prompt=self.negative_prompt, height=size[0], width=size[1],
                       num_inference_steps=self.steps, guidance_scale=self.guidance, output_type="latent",
                       generator=torch.Generator().manual_seed(seed)).images
        latent = latents.float() / pipe.vae.config.scaling_factor
        pixels = (pipe.vae.decode(latent).sample * 0.5 + 0.5).clamp(0, 1)
        return decode_transparent(self.decoder, pixels, latent, self.augment)

    def refine_layers(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0,
                      prior: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(background = ``image``, the area as it stands (the caller's removal), and the foreground
        (H, W, 4) straight RGBA: the layer generated for the mask's bounding box, transparent outside
        the mask)."""
        check_inputs(image, mask, prompt)
        inner = self.conditional or self.fallback
        if inner is not None:
            return inner.refine_layers(image, mask, prompt, seed=seed, prior=prior)
        from .highres import bounding_box

        image, mask = image.float().cpu(), mask.cpu().bool()
        height, width = image.shape[:2]
        if not bool(mask.any()):
            return image, torch.zeros(height, width, 4)
        box = bounding_box(mask, 0.0, height, width)
        size = working_size(box[2] - box[0], box[3] - box[1], self.multiple, self.max_side)
        foreground = place_layer(self.generate(prompt, size, seed), mask, box)
        return image, foreground

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        if self.conditional is not None:
            return self.conditional.refine(image, mask, prompt, seed=seed, remove=remove, prior=prior)
        if remove:
            raise InvalidInputError("--refiner layerdiffusion generates a transparent foreground; remove with "
                                    "--refiner sd-inpaint or controlnet-inpaint")
        background, foreground = self.refine_layers(image, mask, prompt, seed=seed, prior=prior)
        alpha = foreground[..., 3:]
        return background * (1 - alpha) + foreground[..., :3] * alpha
