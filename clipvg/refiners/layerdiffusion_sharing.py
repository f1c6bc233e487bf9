"""LayerDiffusion's SD 1.5 attention sharing: the ``layer_sd15_*`` files hold extra modules that
replace the UNet's self- and cross-attention layers (facts from github
lllyasviel/sd-forge-layerdiffuse ``lib_layerdiffusion/attention_sharing.py`` and
``scripts/forge_layerdiffusion.py``; this is our own implementation).

A batch holds ``frames`` pictures of one scene side by side (batch index = sample * frames + frame):
1 for the transparent model, 2 for the conditional ones (fg2bg: background, blend; bg2fg:
foreground, blend), 3 for the joint one (foreground, background, blend). Each attention layer gets:

* per frame, LoRA offsets (rank 256) on its q, k, v and out projections; for cross-attention the
  conditional half of the batch attends to that frame's own prompt embedding;
* with ``control`` (the conditional models), the condition picture's features added to the input:
  ``ConditionEncoder`` (convs, 3 -> 256 channels at 1/8, 1/16, 1/32, 1/64 of the picture) through a
  per-frame conv pair into the layer's width, picked by token count;
* then a "temporal" attention across the frames at each token: LayerNorm, a linear ``temporal_i``,
  q/k/v/o projections, added as a residual.

The layer's output replaces the attention's (the block adds its own residual). ``AttentionSharing``
has the files' state-dict names (``hookers.layers.<i>.*``, ``kwargs_encoder.*``): layer ``i`` is the
i-th attention in ``attention_names`` order (SD 1.5: 32 layers).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InvalidInputError

RANK = 256
CONTROL_CHANNELS = 256


def attention_names(unet: Any) -> list[str]:
    """Diffusers names of the shared attention layers, in the files' order: the first transformer
    block's attn1 then attn2 of each down-block attention, then the up blocks', then the middle's."""
    prefixes = [f"down_blocks.{b}.attentions.{a}" for b, block in enumerate(unet.down_blocks)
                for a in range(len(getattr(block, "attentions", ())))]
    prefixes += [f"up_blocks.{b}.attentions.{a}" for b, block in enumerate(unet.up_blocks)
                 for a in range(len(getattr(block, "attentions", ())))]
    prefixes += ["mid_block.attentions.0"]
    return [f"{p}.transformer_blocks.0.{kind}" for p in prefixes for kind in ("attn1", "attn2")]


def heads_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int) -> torch.Tensor:
    """Scaled dot-product attention of (B, N, C) tensors over ``heads`` heads: (B, N, C)."""
    b, n, c = q.shape
    split = [t.reshape(t.shape[0], t.shape[1], heads, -1).transpose(1, 2) for t in (q, k, v)]
    return F.scaled_dot_product_attention(*split).transpose(1, 2).reshape(b, n, c)


class LoRALinear(nn.Module):
    """A rank-``rank`` offset ``up @ down`` to a base linear layer's weight (passed at call time)."""

    def __init__(self, features_in: int, features_out: int, rank: int = RANK) -> None:
        super().__init__()
        self.down = nn.Linear(features_in, rank, bias=False)
        self.up = nn.Linear(rank, features_out, bias=False)

    def forward(self, x: torch.Tensor, base: nn.Linear) -> torch.Tensor:
        weight = base.weight.to(x.dtype) + (self.up.weight @ self.down.weight).to(x.dtype)
        return F.linear(x, weight, None if base.bias is None else base.bias.to(x.dtype))


@dataclasses.dataclass
class SharingState:
    """What one sampling run gives every layer: ``cond_mark`` (batch,) 1 on unconditional rows, 0 on
    conditional ones; ``prompts`` per frame, (1, T, D) embeddings that replace the conditional rows'
    context (None: keep); ``control`` the ``ConditionEncoder`` features by token count."""

    cond_mark: torch.Tensor | None = None
    prompts: list[torch.Tensor | None] | None = None
    control: dict[int, torch.Tensor] | None = None


class SharingLayer(nn.Module):
    """The replacement of one attention layer ``attention`` (a diffusers ``Attention``) over ``frames``."""

    def __init__(self, attention: Any, frames: int, control: bool, rank: int = RANK) -> None:
        super().__init__()
        self.frames, self.heads = frames, attention.heads
        self.base = (attention,)  # not a submodule: its weights stay the UNet's
        shapes = {name: (getattr(attention, name).in_features, getattr(attention, name).out_features)
                  for name in ("to_q", "to_k", "to_v")}
        shapes["to_out"] = (attention.to_out[0].in_features, attention.to_out[0].out_features)
        for name, (i, o) in shapes.items():
            setattr(self, f"{name}_lora", nn.ModuleList(LoRALinear(i, o, rank) for _ in range(frames)))
        hidden = attention.to_k.out_features
        for name in ("i", "q", "k", "v", "o"):
            setattr(self, f"temporal_{name}", nn.Linear(hidden, hidden))
        self.temporal_n = nn.LayerNorm(hidden, eps=1e-6)
        self.control_convs = nn.ModuleList(nn.Sequential(
            nn.Conv2d(CONTROL_CHANNELS, CONTROL_CHANNELS, 3, padding=1), nn.SiLU(),
            nn.Conv2d(CONTROL_CHANNELS, hidden, 1)) for _ in range(frames)) if control else None
        self.state = SharingState()

    def forward(self, hidden: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """(B * frames, N, C) -> the attention's output, same shape (the caller adds the residual)."""
        attention, frames = self.base[0], self.frames
        x = hidden.unflatten(0, (-1, frames)).transpose(0, 1)  # (frames, B, N, C)
        if self.control_convs is not None:
            signal = self.state.control[x.shape[2]]
            x = x + torch.stack([conv(signal.to(x.dtype)).flatten(2).transpose(1, 2) for conv in self.control_convs])
        contexts = x if context is None else context.unflatten(0, (-1, frames)).transpose(0, 1)
        mark = None if self.state.cond_mark is None else self.state.cond_mark.to(x).unflatten(0, (-1, frames)).T
        outs = []
        for f in range(frames):
            c = contexts[f]
            prompts = self.state.prompts
            if context is not None and prompts and f < len(prompts) and prompts[f] is not None and mark is not None:
                m = mark[f][:, None, None]
                c = prompts[f].to(c) * (1 - m) + c * m
            q = self.to_q_lora[f](x[f], attention.to_q)
            k, v = self.to_k_lora[f](c, attention.to_k), self.to_v_lora[f](c, attention.to_v)
            outs.append(attention.to_out[1](self.to_out_lora[f](heads_attention(q, k, v, self.heads), attention.to_out[0])))
        x = (x + torch.stack(outs)).transpose(0, 1).flatten(0, 1)  # (B * frames, N, C)
        t = self.temporal_i(self.temporal_n(x))
        tokens = t.shape[1]
        t = t.unflatten(0, (-1, frames)).permute(0, 2, 1, 3).flatten(0, 1)  # (B * N, frames, C)
        t = self.temporal_o(heads_attention(self.temporal_q(t), self.temporal_k(t), self.temporal_v(t), self.heads))
        t = t.unflatten(0, (-1, tokens)).permute(0, 2, 1, 3).flatten(0, 1)
        return x + t - hidden


class SharingProcessor:
    """A diffusers attention processor that runs ``layer`` in place of the attention."""

    def __init__(self, layer: SharingLayer) -> None:
        self.layer = layer

    def __call__(self, attn: Any, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        return self.layer(hidden_states, encoder_hidden_states)


def conv_stack(widths: list[tuple[int, int, int]]) -> nn.Sequential:
    """3x3 convs (in, out, stride), each followed by SiLU."""
    layers: list[nn.Module] = []
    for i, o, stride in widths:
        layers += [nn.Conv2d(i, o, 3, padding=1, stride=stride), nn.SiLU()]
    return nn.Sequential(*layers)


class ConditionEncoder(nn.Module):
    """The condition picture's encoder: (1, 3, H, W) in [-1, 1] -> {tokens: (1, 256, h, w)} at
    1/8, 1/16, 1/32 and 1/64 of H x W (keyed by h * w, the token count of the matching UNet level)."""

    def __init__(self) -> None:
        super().__init__()
        c = CONTROL_CHANNELS
        self.blocks_0 = conv_stack([(3, 32, 1), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2), (128, 128, 1),
                                    (128, c, 2), (c, c, 1)])
        for index in (1, 2, 3):
            setattr(self, f"blocks_{index}", conv_stack([(c, c, 2), (c, c, 1)]))

    def forward(self, picture: torch.Tensor) -> dict[int, torch.Tensor]:
        features, x = {}, picture
        for index in range(4):
            x = getattr(self, f"blocks_{index}")(x)
            features[x.shape[2] * x.shape[3]] = x
        return features


class Hookers(nn.Module):
    """Holds the layers under the files' name ``hookers.layers``."""

    def __init__(self, layers: list[SharingLayer]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class AttentionSharing(nn.Module):
    """The SD 1.5 attention-sharing modules for ``unet`` (``frames`` per scene; ``control``: the
    conditional models' condition encoder). ``install`` puts them into the UNet; ``set_state`` gives
    them a run's ``SharingState``; ``encode`` turns a condition picture into its control features."""

    def __init__(self, unet: Any, frames: int, control: bool) -> None:
        super().__init__()
        self.names = attention_names(unet)
        self.frames = frames
        self.hookers = Hookers([SharingLayer(unet.get_submodule(n), frames, control) for n in self.names])
        self.kwargs_encoder = ConditionEncoder() if control else None

    def install(self, unet: Any) -> None:
        for name, layer in zip(self.names, self.hookers.layers):
            unet.get_submodule(name).set_processor(SharingProcessor(layer))

    def set_state(self, state: SharingState) -> None:
        for layer in self.hookers.layers:
            layer.state = state

    def encode(self, picture: torch.Tensor) -> dict[int, torch.Tensor]:
        """Control features of ``picture`` (1, 3, H, W) in [0, 1]."""
        return self.kwargs_encoder(picture.to(self.kwargs_encoder.blocks_0[0].weight) * 2 - 1)


def load_sharing(unet: Any, state: Mapping[str, torch.Tensor], frames: int, control: bool, source: Any) -> AttentionSharing:
    """``AttentionSharing`` with the file ``source``'s ``state`` loaded (every key, every shape: else
    InvalidInputError naming the file and the first offending key), installed into ``unet`` in its dtype."""
    sharing = AttentionSharing(unet, frames, control)
    expected = sharing.state_dict()
    unknown = sorted(set(state) - set(expected))
    missing = sorted(set(expected) - set(state))
    wrong = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    for keys, what in ((unknown, "unknown key"), (missing, "missing key"), (wrong, "mis-shaped key")):
        if keys:
            raise InvalidInputError(f"{os.fspath(source)}: {what} {keys[0]!r} ({len(keys)} in all) for an attention-sharing "
                                    f"model of {frames} frame(s) on this UNet; is it an SD 1.5 layer_sd15_* file "
                                    "for an SD 1.5 base model?")
    sharing.load_state_dict(state, strict=True)
    sharing.to(device=unet.device, dtype=unet.dtype).eval()
    sharing.install(unet)
    return sharing
