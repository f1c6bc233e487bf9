"""A leaner forward of open_clip's plain ViT image tower, for CLIP's image encoding in the loss loop.

Same parameters, same maths as ``VisionTransformer.forward`` (equal within float rounding), less work:

- the patch embedding (a convolution whose stride is its kernel) is one matrix product over the
  flattened patches, whose backward is a matrix product too (oneDNN's backward of a 32 x 32 kernel
  convolution was 10 % of a CPU step);
- attention takes one packed q/k/v projection of the contiguous (B, L, E) tokens, then
  ``scaled_dot_product_attention`` (``nn.MultiheadAttention`` on batch-first input projects through
  transposed views, which PyTorch turns into a batched product over a copied weight: a third of the
  CPU time in float32, most of it under bf16 autocast);
- the last block runs its attention query, its MLP and ``ln_post`` for the class token alone, the only
  token the embedding reads;
- in float32 on a CPU, the matrix products forward and backward go through oneDNN where it computes
  them in float32 (``cpu_matmul``): on this project's 2-core AMD machine 2x MKL's rate.

``supports(visual)`` says whether a tower is the plain kind this covers (class-token pooling, no
attentional pooler, LayerScale, custom blocks or masks); other towers keep open_clip's forward.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from losses.cpu_matmul import linear


def supports(visual: nn.Module) -> bool:
    """True when ``visual`` is an open_clip ``VisionTransformer`` this module's forward reproduces."""
    from open_clip.transformer import ResidualAttentionBlock, VisionTransformer

    if type(visual) is not VisionTransformer or visual.attn_pool is not None or visual.pool_type != "tok":
        return False
    if visual.output_tokens or visual.conv1.stride != visual.conv1.kernel_size or visual.conv1.padding != (0, 0):
        return False
    if not isinstance(visual.patch_dropout, nn.Identity) and visual.training:
        return False
    blocks = visual.transformer.resblocks
    return all(type(b) is ResidualAttentionBlock and isinstance(b.ls_1, nn.Identity) and isinstance(b.ls_2, nn.Identity)
               and not hasattr(b, "ln_1_kv") and b.attn._qkv_same_embed_dim and b.attn.in_proj_bias is not None
               for b in blocks)


def encode_image(visual: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """Image features ``(B, output_dim)`` of normalised ``pixels (B, 3, S, S)`` (S the tower's input
    size), as ``visual(pixels)`` computes them; ``supports(visual)`` must hold."""
    tokens = _embed(visual, pixels)
    *blocks, last = visual.transformer.resblocks
    for block in blocks:
        tokens = tokens + _attention(block.attn, block.ln_1(tokens))
        tokens = tokens + _mlp(block.mlp, block.ln_2(tokens))
    cls = tokens[:, :1] + _attention(last.attn, last.ln_1(tokens), queries=1)
    cls = cls + _mlp(last.mlp, last.ln_2(cls))
    return linear(visual.ln_post(cls[:, 0]), visual.proj.t())


def _embed(visual: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """Tokens ``(B, 1 + patches, width)``: class token and patch embeddings, positions added, ``ln_pre``."""
    conv = visual.conv1
    batch, channels, height, width = pixels.shape
    ph, pw = conv.kernel_size
    patches = pixels.reshape(batch, channels, height // ph, ph, width // pw, pw).permute(0, 2, 4, 1, 3, 5)
    patches = patches.reshape(batch, (height // ph) * (width // pw), channels * ph * pw)
    embedded = linear(patches, conv.weight.reshape(conv.out_channels, -1), conv.bias)
    cls = visual.class_embedding.to(embedded.dtype).expand(batch, 1, -1)
    tokens = torch.cat([cls, embedded], dim=1) + visual.positional_embedding.to(embedded.dtype)
    return visual.ln_pre(visual.patch_dropout(tokens))


def _attention(attn: nn.MultiheadAttention, x: torch.Tensor, queries: int | None = None) -> torch.Tensor:
    """Self-attention of ``x (B, L, E)`` with ``attn``'s weights -> ``(B, Q, E)`` for the first
    ``queries`` tokens (all L when None)."""
    batch, length, dim = x.shape
    heads = attn.num_heads
    if queries is None:
        qkv = linear(x, attn.in_proj_weight, attn.in_proj_bias)
        q, k, v = qkv.view(batch, length, 3, heads, dim // heads).permute(2, 0, 3, 1, 4).unbind(0)
    else:
        weight, bias = attn.in_proj_weight, attn.in_proj_bias
        q = linear(x[:, :queries], weight[:dim], bias[:dim]).view(batch, queries, heads, -1).transpose(1, 2)
        kv = linear(x, weight[dim:], bias[dim:])
        k, v = kv.view(batch, length, 2, heads, dim // heads).permute(2, 0, 3, 1, 4).unbind(0)
    if q.dtype == torch.bfloat16 and q.device.type == "cpu":  # the CPU's bf16 attention backward is 7x float32's
        with torch.autocast("cpu", enabled=False):
            out = F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)
    else:
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, Q, dim / heads)
    return linear(out.transpose(1, 2).reshape(batch, -1, dim), attn.out_proj.weight, attn.out_proj.bias)


def _mlp(mlp: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """A block's MLP (``c_fc``, activation, ``c_proj``) on ``x (..., E)``."""
    hidden = mlp.gelu(linear(x, mlp.c_fc.weight, mlp.c_fc.bias))
    return linear(hidden, mlp.c_proj.weight, mlp.c_proj.bias)
