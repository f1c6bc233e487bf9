"""A compressed mask ControlNet (MiracleVision's smaller ControlNet beside a frozen UNet): the
ControlNet's own blocks are ``ratio`` times as wide as the base UNet's encoder, and its zero-initialised
1x1 output convolutions widen each residual back to the UNet's channels, so it plugs into diffusers'
ControlNet pipelines like a full one.

    python -m clipvg.refiners.train_mask_controlnet --base SD15 --compress 0.25 ...   # ~1/16 of the weights

Saved with ``save_pretrained`` (``config.json`` names the class ``CompressedControlNet`` and the base
channels); ``load_controlnet`` picks the class from that file. Being narrower than the UNet, it
starts from random weights (a full ControlNet starts as a copy of the UNet's encoder) and its output
convolutions at zero, so before training it changes nothing.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ..errors import InvalidInputError

CLASS_NAME = "CompressedControlNet"


def compressed_class() -> Any:
    """``CompressedControlNet`` (a diffusers ControlNetModel subclass), defined on first use."""
    global CompressedControlNet
    if "CompressedControlNet" in globals():
        return CompressedControlNet
    from diffusers import ControlNetModel
    from diffusers.configuration_utils import register_to_config

    class CompressedControlNet(ControlNetModel):
        """A ControlNet of width ``block_out_channels`` whose residuals are widened to the base UNet's
        ``base_block_out_channels`` by zero-initialised 1x1 convolutions."""

        @register_to_config
        def __init__(self, base_block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
                     block_out_channels: tuple[int, ...] = (96, 160, 320, 320), in_channels: int = 4,
                     conditioning_channels: int = 3,
                     down_block_types: tuple[str, ...] = ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                     layers_per_block: int = 2, norm_num_groups: int = 32, cross_attention_dim: int = 768,
                     attention_head_dim: int | tuple[int, ...] = 8, use_linear_projection: bool = False,
                     upcast_attention: bool = False,
                     conditioning_embedding_out_channels: tuple[int, ...] = (16, 32, 96, 256)) -> None:
            super().__init__(in_channels=in_channels, conditioning_channels=conditioning_channels,
                             down_block_types=down_block_types, block_out_channels=block_out_channels,
                             layers_per_block=layers_per_block, norm_num_groups=norm_num_groups,
                             cross_attention_dim=cross_attention_dim, attention_head_dim=attention_head_dim,
                             use_linear_projection=use_linear_projection, upcast_attention=upcast_attention,
                             conditioning_embedding_out_channels=conditioning_embedding_out_channels)
            pairs = [(block_out_channels[0], base_block_out_channels[0])]
            for index in range(len(down_block_types)):
                last = index == len(down_block_types) - 1
                pairs += [(block_out_channels[index], base_block_out_channels[index])] * (layers_per_block + (not last))
            self.controlnet_down_blocks = nn.ModuleList(zero_conv(a, b) for a, b in pairs)
            self.controlnet_mid_block = zero_conv(block_out_channels[-1], base_block_out_channels[-1])

    return CompressedControlNet


def zero_conv(channels_in: int, channels_out: int) -> nn.Conv2d:
    """A 1x1 convolution with zero weights and bias."""
    conv = nn.Conv2d(channels_in, channels_out, kernel_size=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def compressed_from_unet(unet: Any, ratio: float, conditioning_embedding_out_channels: tuple[int, ...]) -> Any:
    """A CompressedControlNet for ``unet`` (a diffusers UNet2DConditionModel) whose blocks are ``ratio``
    (0 < ratio <= 1) times as wide, each width rounded up to a multiple of the group-norm groups
    times the attention heads (so both still divide it)."""
    if not 0.0 < ratio <= 1.0:
        raise InvalidInputError(f"--compress must be in (0, 1], got {ratio}")
    config = unet.config
    heads = config.attention_head_dim
    heads = max(heads) if isinstance(heads, (tuple, list)) else heads
    step = math.lcm(config.norm_num_groups, heads)
    widths = tuple(max(step, math.ceil(c * ratio / step) * step) for c in config.block_out_channels)
    return compressed_class()(base_block_out_channels=tuple(config.block_out_channels), block_out_channels=widths,
                              in_channels=config.in_channels, down_block_types=tuple(config.down_block_types),
                              layers_per_block=config.layers_per_block, norm_num_groups=config.norm_num_groups,
                              cross_attention_dim=config.cross_attention_dim,
                              attention_head_dim=config.attention_head_dim,
                              use_linear_projection=config.use_linear_projection,
                              upcast_attention=config.upcast_attention,
                              conditioning_embedding_out_channels=conditioning_embedding_out_channels)


def is_compressed(model: Any) -> bool:
    """Whether ``model`` is a local folder holding a CompressedControlNet (its config.json says so)."""
    if isinstance(model, torch.nn.Module):
        return False
    config = Path(model) / "config.json"
    try:
        return config.is_file() and json.loads(config.read_text()).get("_class_name") == CLASS_NAME
    except (OSError, ValueError):
        return False


def controlnet_class(model: Any) -> Any:
    """The class that loads ``model``: CompressedControlNet for a folder holding one, else diffusers'
    ControlNetModel. The compressed config also holds the ControlNetModel settings its forward reads;
    diffusers' note that they are not constructor arguments is kept off the log."""
    from diffusers import ControlNetModel

    if not is_compressed(model):
        return ControlNetModel
    logging.getLogger("diffusers.configuration_utils").setLevel(logging.ERROR)
    return compressed_class()
