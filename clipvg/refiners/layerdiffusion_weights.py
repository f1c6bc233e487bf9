"""LayerDiffusion's public weight files (``LayerDiffusion/layerdiffusion-v1`` on the Hugging Face hub)
onto a diffusers ``UNet2DConditionModel``.

The SDXL files (``layer_xl_transparent_attn``, ``layer_xl_fg2ble``, ``layer_xl_bg2ble``,
``layer_xl_fgble2bg``, ``layer_xl_bgble2fg`` ``.safetensors``) are "frozen patches" keyed
``"<ldm name>::<kind>::<index>"`` (the reference loaders, github lllyasviel/sd-forge-layerdiffuse
``scripts/forge_layerdiffusion.py`` ``load_frozen_patcher`` and huchenlei/ComfyUI-layerdiffuse
``lib_layerdiffusion/utils.py`` ``to_lora_patch_dict``): the ldm name is the original
Stable Diffusion UNet's (``diffusion_model.input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight``),
``kind`` is ``lora`` (index 0 the up matrix, 1 the down matrix, optional 2 the alpha: the offset is
``alpha / rank * up @ down``) or ``diff`` (index 0 a dense offset). A ``diff`` larger than its weight
widens it (the conditional models' ``conv_in`` takes 4 more input channels per condition latent;
ComfyUI-layerdiffuse ``layered_diffusion.py`` ``calculate_weight_adjust_channel``).

``ldm_names`` maps the ldm module names to diffusers' for any UNet configuration, so the same
converter serves SD 1.5 and SDXL and the tiny test UNets. The SD 1.5 files hold their own modules
instead (``layerdiffusion_sharing``).
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Mapping

import torch

from ..errors import InvalidInputError

RESNET_NAMES = {"in_layers.0.": "norm1.", "in_layers.2.": "conv1.", "emb_layers.1.": "time_emb_proj.",
                "out_layers.0.": "norm2.", "out_layers.3.": "conv2.", "skip_connection.": "conv_shortcut."}
TOP_NAMES = {"input_blocks.0.0.": "conv_in.", "time_embed.0.": "time_embedding.linear_1.",
             "time_embed.2.": "time_embedding.linear_2.", "label_emb.0.0.": "add_embedding.linear_1.",
             "label_emb.0.2.": "add_embedding.linear_2.", "out.0.": "conv_norm_out.", "out.2.": "conv_out.",
             "middle_block.1.": "mid_block.attentions.0."}


def ldm_names(config: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """ldm module prefix -> (diffusers prefix, is a resnet) for a UNet of ``config`` (its
    ``layers_per_block``, ``down_block_types``, ``up_block_types``): ldm numbers the input blocks
    1 + level * (L + 1) + j (then the level's downsampler), the output blocks level * (L + 1) + j
    with L + 1 per level, the upsampler last in the level's final output block."""
    per = config["layers_per_block"]
    per = per if isinstance(per, int) else per[0]
    names = {k: (v, False) for k, v in TOP_NAMES.items()}
    names["middle_block.0."] = ("mid_block.resnets.0.", True)
    names["middle_block.2."] = ("mid_block.resnets.1.", True)
    levels = len(config["down_block_types"])
    for level, kind in enumerate(config["down_block_types"]):
        for j in range(per):
            n = 1 + level * (per + 1) + j
            names[f"input_blocks.{n}.0."] = (f"down_blocks.{level}.resnets.{j}.", True)
            if "CrossAttn" in kind:
                names[f"input_blocks.{n}.1."] = (f"down_blocks.{level}.attentions.{j}.", False)
        if level < levels - 1:
            names[f"input_blocks.{(level + 1) * (per + 1)}.0.op."] = (f"down_blocks.{level}.downsamplers.0.conv.", False)
    for level, kind in enumerate(config["up_block_types"]):
        attention = "CrossAttn" in kind
        for j in range(per + 1):
            n = level * (per + 1) + j
            names[f"output_blocks.{n}.0."] = (f"up_blocks.{level}.resnets.{j}.", True)
            if attention:
                names[f"output_blocks.{n}.1."] = (f"up_blocks.{level}.attentions.{j}.", False)
        if level < levels - 1:
            n = level * (per + 1) + per
            names[f"output_blocks.{n}.{2 if attention else 1}.conv."] = (f"up_blocks.{level}.upsamplers.0.conv.", False)
    return names


def diffusers_name(key: str, names: Mapping[str, tuple[str, bool]]) -> str | None:
    """The diffusers state-dict name of ldm ``key`` (with or without ``diffusion_model.``), or None."""
    key = key.removeprefix("model.").removeprefix("diffusion_model.")
    for prefix in sorted((p for p in names if key.startswith(p)), key=len, reverse=True):
        target, resnet = names[prefix]
        rest = key[len(prefix):]
        if resnet:
            inner = next((p for p in RESNET_NAMES if rest.startswith(p)), None)
            if inner is None:
                return None
            rest = RESNET_NAMES[inner] + rest[len(inner):]
        return target + rest
    return None


def patch_offsets(state: Mapping[str, torch.Tensor], unet: Any, source: Any,
                  strength: float = 1.0) -> dict[str, torch.Tensor]:
    """Dense float32 offsets by diffusers state-dict name from a frozen-patch ``state`` (read from
    ``source``, named in errors). Keys not of the ``<ldm name>::<kind>::<index>`` form, names with no
    counterpart in ``unet``, unknown kinds and incomplete LoRA pairs raise InvalidInputError."""
    names = ldm_names(unet.config)
    weights = unet.state_dict()
    parts: dict[str, dict[str, dict[int, torch.Tensor]]] = {}
    for key, tensor in state.items():
        pieces = key.split("::")
        if len(pieces) != 3 or not pieces[2].isdigit():
            raise InvalidInputError(f"{os.fspath(source)}: key {key!r} is not a LayerDiffusion patch "
                                    "(<ldm name>::lora|diff::<index>); is this a layer_xl_*.safetensors file?")
        target = diffusers_name(pieces[0], names)
        if target is None or target not in weights:
            raise InvalidInputError(f"{os.fspath(source)}: key {key!r} names no weight of this UNet "
                                    f"({'no diffusers name' if target is None else target}); the file is for "
                                    "another base model")
        parts.setdefault(target, {}).setdefault(pieces[1], {})[int(pieces[2])] = tensor
    offsets = {}
    for target, kinds in parts.items():
        offset = torch.zeros_like(weights[target], dtype=torch.float32)
        for kind, items in kinds.items():
            offset = add_offset(offset, kind, items, weights[target].shape, f"{os.fspath(source)}: {target}")
        offsets[target] = strength * offset
    return offsets


def add_offset(offset: torch.Tensor, kind: str, items: Mapping[int, torch.Tensor], shape: torch.Size,
               where: str) -> torch.Tensor:
    """``offset`` plus one patch: ``lora`` ``items`` {0: up, 1: down, 2: alpha?} or ``diff`` {0: dense};
    a ``diff`` wider than ``shape`` widens the result (zero-padded)."""
    if kind == "lora":
        if 0 not in items or 1 not in items:
            raise InvalidInputError(f"{where}: a LoRA patch needs its up (::0) and down (::1) matrices")
        up, down = items[0].float().flatten(1), items[1].float().flatten(1)
        scale = float(items[2]) / down.shape[0] if 2 in items else 1.0
        product = (up @ down) * scale
        if product.numel() != offset.numel():
            raise InvalidInputError(f"{where}: LoRA up {tuple(up.shape)} @ down {tuple(down.shape)} does not fit "
                                    f"the weight {tuple(shape)}")
        return offset + product.reshape(offset.shape)
    if kind == "diff":
        dense = items[0].float()
        if dense.dim() != offset.dim() or any(d < s for d, s in zip(dense.shape, offset.shape)):
            raise InvalidInputError(f"{where}: offset {tuple(dense.shape)} does not fit the weight {tuple(shape)}")
        if dense.shape != offset.shape:
            wider = torch.zeros_like(dense)
            wider[tuple(slice(0, s) for s in offset.shape)] = offset
            offset = wider
        return offset + dense
    raise InvalidInputError(f"{where}: unknown patch kind {kind!r} (known: lora, diff)")


def apply_patch_offsets(unet: Any, offsets: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add ``offsets`` (``patch_offsets``) to ``unet``'s weights in place, widening a weight whose
    offset is wider (the base's part zero-padded: extra input channels start at the offset alone).
    Returns the original weights (``restore_weights`` puts them back)."""
    backup = {}
    with torch.no_grad():
        for name, offset in offsets.items():
            module_name, attribute = name.rsplit(".", 1)
            module = unet.get_submodule(module_name)
            weight = getattr(module, attribute)
            backup[name] = weight.detach().clone()
            merged = torch.zeros(offset.shape, dtype=torch.float32, device=weight.device)
            merged[tuple(slice(0, s) for s in weight.shape)] = weight.float()
            merged += offset.to(weight.device)
            set_weight(module, attribute, merged.to(weight.dtype))
    return backup


def restore_weights(unet: Any, backup: Mapping[str, torch.Tensor]) -> None:
    """Undo ``apply_patch_offsets`` (``backup``: its return value)."""
    with torch.no_grad():
        for name, weight in backup.items():
            module_name, attribute = name.rsplit(".", 1)
            set_weight(unet.get_submodule(module_name), attribute, weight)


def set_weight(module: torch.nn.Module, attribute: str, value: torch.Tensor) -> None:
    """Replace ``module``'s parameter ``attribute`` by ``value`` (a conv's ``in_channels`` follows)."""
    setattr(module, attribute, torch.nn.Parameter(value, requires_grad=False))
    if isinstance(module, torch.nn.Conv2d) and attribute == "weight":
        module.in_channels = value.shape[1]


@contextlib.contextmanager
def concat_condition(unet: Any, condition: torch.Tensor) -> Iterator[None]:
    """While open, ``unet``'s widened ``conv_in`` gets ``condition`` (1 or B, C, h, w: the conditional
    models' scaled condition latents, ComfyUI-layerdiffuse's ``c_concat``) appended to its input
    channels whenever its input is C channels short (the sampler still makes 4-channel latents)."""
    conv = unet.conv_in

    def hook(module: torch.nn.Module, inputs: tuple) -> tuple | None:
        sample = inputs[0]
        if sample.shape[1] + condition.shape[1] != module.in_channels:
            return None
        extra = condition.to(sample).expand(sample.shape[0], -1, -1, -1)
        return (torch.cat([sample, extra], 1),)

    handle = conv.register_forward_pre_hook(hook)
    try:
        yield
    finally:
        handle.remove()
