"""Tiny Stable Diffusion components built from configs (random weights, no downloads), the way
diffusers tests its own pipelines; saved as real diffusers folders for ``from_pretrained``."""
from __future__ import annotations

import json
from pathlib import Path

import torch

CHARS = [chr(c) for c in range(33, 127)]


def tiny_tokenizer(directory: Path):
    """A character-level CLIP BPE tokenizer (vocab: printable ASCII, with and without "</w>"; no merges)."""
    from transformers import CLIPTokenizer

    vocab = {c: i for i, c in enumerate(CHARS)}
    vocab.update({c + "</w>": len(CHARS) + i for i, c in enumerate(CHARS)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=16)


def build_tiny_sd(directory: Path, inpaint: bool = False, vae_levels: int = 2) -> Path:
    """Save a tiny StableDiffusionPipeline (``inpaint``: StableDiffusionInpaintPipeline, 9-channel
    UNet) to ``directory``: 32-channel UNet, 2-level VAE (latents at 1/2 size; ``vae_levels`` 4: an
    8-channel VAE with latents at 1/8 size, as SD's), 2-layer text encoder."""
    from diffusers import (AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(directory / "_tokenizer_src")
    unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=16,
                                in_channels=9 if inpaint else 4, out_channels=4, cross_attention_dim=16,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=4,
                                norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(8, 16) if vae_levels == 2 else (8,) * vae_levels, in_channels=3,
                        out_channels=3, latent_channels=4, down_block_types=("DownEncoderBlock2D",) * vae_levels,
                        up_block_types=("UpDecoderBlock2D",) * vae_levels, norm_num_groups=8 if vae_levels == 2 else 4,
                        sample_size=32)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                                        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=16,
                                        bos_token_id=len(tokenizer) - 2, eos_token_id=len(tokenizer) - 1,
                                        pad_token_id=len(tokenizer) - 1))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    cls = StableDiffusionInpaintPipeline if inpaint else StableDiffusionPipeline
    pipe = cls(vae=vae, unet=unet, text_encoder=text, tokenizer=tokenizer, scheduler=scheduler,
               safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(directory)
    return directory


def tiny_clip_text(tokenizer, hidden: int = 16, projection: bool = False):
    """A 2-layer CLIP text encoder over ``tokenizer`` (``projection``: CLIPTextModelWithProjection)."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                            num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=16,
                            bos_token_id=len(tokenizer) - 2, eos_token_id=len(tokenizer) - 1,
                            pad_token_id=len(tokenizer) - 1, projection_dim=hidden)
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


def build_tiny_sdxl(directory: Path) -> Path:
    """Save a tiny StableDiffusionXLPipeline: two text encoders (16 + 16 = 32-dim cross-attention),
    a "text_time" UNet, and an 8x VAE (4 levels, 8 channels) so 64 px pictures have 8 x 8 latents."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(directory / "_tokenizer_src")
    unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=4,
                                cross_attention_dim=32, addition_embed_type="text_time", addition_time_embed_dim=4,
                                projection_class_embeddings_input_dim=16 + 6 * 4, norm_num_groups=8,
                                use_linear_projection=True)
    vae = AutoencoderKL(block_out_channels=(8, 8, 8, 8), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        norm_num_groups=4, sample_size=64)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       steps_offset=1, timestep_spacing="leading")
    pipe = StableDiffusionXLPipeline(vae=vae, unet=unet, text_encoder=tiny_clip_text(tokenizer),
                                     text_encoder_2=tiny_clip_text(tokenizer, projection=True), tokenizer=tokenizer,
                                     tokenizer_2=tokenizer, scheduler=scheduler)
    pipe.save_pretrained(directory)
    return directory


# 4 levels (the latent still joins after 3 downsamplings, as in the published 7-level decoder), one
# attention level, one resnet a level
TINY_DECODER = dict(block_out_channels=(8,) * 4, down_block_types=("DownBlock2D",) * 3 + ("AttnDownBlock2D",),
                    up_block_types=("AttnUpBlock2D",) + ("UpBlock2D",) * 3, layers_per_block=1, attention_head_dim=4,
                    norm_num_groups=4)


def build_tiny_layer_model(directory: Path, sdxl: Path) -> Path:
    """LayerDiffusion weights in the published file layout for the tiny SDXL of ``sdxl``: attention
    offsets (every attn1/attn2 projection weight, keyed by diffusers UNet names) and a transparent
    decoder of configuration TINY_DECODER (written beside it as DECODER_CONFIG)."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    from clipvg.refiners.layerdiffusion import ATTN_FILE, DECODER_CONFIG, DECODER_FILE, decoder_class

    torch.manual_seed(1)
    unet = UNet2DConditionModel.from_pretrained(sdxl, subfolder="unet")
    offsets = {k: 0.01 * torch.randn_like(v) for k, v in unet.state_dict().items()
               if (".attn1." in k or ".attn2." in k) and k.endswith("weight") and ".to_" in k}
    directory.mkdir(parents=True, exist_ok=True)
    save_file(offsets, directory / ATTN_FILE)
    decoder = decoder_class()(**TINY_DECODER)
    save_file({k: v.contiguous() for k, v in decoder.state_dict().items()}, directory / DECODER_FILE)
    (directory / DECODER_CONFIG).write_text(json.dumps(TINY_DECODER))
    return directory


def build_tiny_upscaler(directory: Path) -> Path:
    """Save a tiny StableDiffusionUpscalePipeline (x4: a 3-level VAE; a 7-channel UNet taking the
    low-resolution picture, noise level as class label)."""
    from diffusers import (AutoencoderKL, DDIMScheduler, DDPMScheduler, StableDiffusionUpscalePipeline,
                           UNet2DConditionModel)

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(directory / "_tokenizer_src")
    unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=7,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=4,
                                cross_attention_dim=16, norm_num_groups=8, num_class_embeds=100)
    vae = AutoencoderKL(block_out_channels=(8, 8, 8), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                        norm_num_groups=4, sample_size=64, scaling_factor=0.08333)
    pipe = StableDiffusionUpscalePipeline(vae=vae, unet=unet, text_encoder=tiny_clip_text(tokenizer), tokenizer=tokenizer,
                                          low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(prediction_type="v_prediction"),
                                          max_noise_level=350)
    pipe.save_pretrained(directory)
    return directory


def public_sharing_state(unet, frames: int, control: bool, scale: float = 0.01, seed: int = 2) -> dict:
    """A random state dict in the public SD 1.5 attention-sharing layout (github
    lllyasviel/sd-forge-layerdiffuse, lib_layerdiffusion/attention_sharing.py) for ``unet``: per layer
    ``hookers.layers.<i>`` (the i-th attention: down blocks' attn1/attn2, up blocks', middle's),
    rank-256 LoRA pairs per frame on q/k/v/out, the temporal projections and LayerNorm, with ``control``
    the per-frame control convs and the ``kwargs_encoder`` (3 -> 256 channels in four stages)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}

    def put(key, *shape):
        state[key] = scale * torch.randn(*shape, generator=generator)

    attentions = [m for block in (*unet.down_blocks, *unet.up_blocks, unet.mid_block)
                  for a in getattr(block, "attentions", ()) for m in (a.transformer_blocks[0].attn1,
                                                                        a.transformer_blocks[0].attn2)]
    for i, attn in enumerate(attentions):
        prefix, hidden = f"hookers.layers.{i}.", attn.to_k.out_features
        for name, linear in (("to_q", attn.to_q), ("to_k", attn.to_k), ("to_v", attn.to_v), ("to_out", attn.to_out[0])):
            for f in range(frames):
                put(f"{prefix}{name}_lora.{f}.down.weight", 256, linear.in_features)
                put(f"{prefix}{name}_lora.{f}.up.weight", linear.out_features, 256)
        for name in "iqkvo":
            put(f"{prefix}temporal_{name}.weight", hidden, hidden)
            put(f"{prefix}temporal_{name}.bias", hidden)
        state[f"{prefix}temporal_n.weight"] = 1 + scale * torch.randn(hidden, generator=generator)
        put(f"{prefix}temporal_n.bias", hidden)
        for f in range(frames if control else 0):
            put(f"{prefix}control_convs.{f}.0.weight", 256, 256, 3, 3)
            put(f"{prefix}control_convs.{f}.0.bias", 256)
            put(f"{prefix}control_convs.{f}.2.weight", hidden, 256, 1, 1)
            put(f"{prefix}control_convs.{f}.2.bias", hidden)
    if control:
        widths = {0: [3, 32, 32, 64, 64, 128, 128, 256, 256], 1: [256] * 3, 2: [256] * 3, 3: [256] * 3}
        for block, chain in widths.items():
            for layer, (i, o) in enumerate(zip(chain, chain[1:])):
                put(f"kwargs_encoder.blocks_{block}.{2 * layer}.weight", o, i, 3, 3)
                put(f"kwargs_encoder.blocks_{block}.{2 * layer}.bias", o)
    return state


def build_tiny_sd15_layer_model(directory: Path, sd: Path) -> Path:
    """The public SD 1.5 LayerDiffusion files for the tiny SD of ``sd`` (``build_tiny_sd(vae_levels=4)``):
    the four attention-sharing models and a transparent decoder of configuration TINY_DECODER."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    from clipvg.refiners.layerdiffusion import DECODER_CONFIG, decoder_class
    from clipvg.refiners.layerdiffusion_sd15 import DECODER_FILE, MODES

    unet = UNet2DConditionModel.from_pretrained(sd, subfolder="unet")
    directory.mkdir(parents=True, exist_ok=True)
    for seed, mode in enumerate(MODES.values()):
        save_file(public_sharing_state(unet, len(mode.frames), mode.control is not None, seed=seed),
                  directory / mode.files[0])
    torch.manual_seed(3)
    decoder = decoder_class()(**TINY_DECODER)
    save_file({k: v.contiguous() for k, v in decoder.state_dict().items()}, directory / DECODER_FILE)
    (directory / DECODER_CONFIG).write_text(json.dumps(TINY_DECODER))
    return directory


# the tiny SDXL's attention blocks by their ldm names (1 layer a block: input block 3 is level 1's,
# output blocks 0 and 1 are level 0's of the up path), all 32 wide with 32-dim cross-attention
TINY_SDXL_LDM_ATTENTIONS = ("input_blocks.3.1", "output_blocks.0.1", "output_blocks.1.1", "middle_block.1")


def build_tiny_xl_cond_layer_model(directory: Path) -> Path:
    """The public SDXL conditional LayerDiffusion files for ``build_tiny_sdxl``, in the frozen-patch
    layout (``diffusion_model.<ldm name>::lora|diff::<index>``): rank-4 LoRA on every attention
    projection and a dense ``conv_in`` offset with 4 (``*2ble``) or 8 (``*ble2*``) more input channels;
    and a transparent decoder of configuration TINY_DECODER."""
    from safetensors.torch import save_file

    from clipvg.refiners.layerdiffusion import DECODER_CONFIG, decoder_class
    from clipvg.refiners.layerdiffusion_xl import DECODER_FILE, XL_MODES

    directory.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(5)
    for mode in XL_MODES.values():
        for extra, name in zip((4, 8), mode.files):
            state = {}
            for block in TINY_SDXL_LDM_ATTENTIONS:
                for attn in ("attn1", "attn2"):
                    for proj in ("to_q", "to_k", "to_v", "to_out.0"):
                        key = f"diffusion_model.{block}.transformer_blocks.0.{attn}.{proj}.weight"
                        state[f"{key}::lora::0"] = 0.05 * torch.randn(32, 4, generator=generator)
                        state[f"{key}::lora::1"] = 0.05 * torch.randn(4, 32, generator=generator)
            state["diffusion_model.input_blocks.0.0.weight::diff::0"] = 0.05 * torch.randn(16, 4 + extra, 3, 3,
                                                                                           generator=generator)
            save_file(state, directory / name)
    torch.manual_seed(6)
    decoder = decoder_class()(**TINY_DECODER)
    save_file({k: v.contiguous() for k, v in decoder.state_dict().items()}, directory / DECODER_FILE)
    (directory / DECODER_CONFIG).write_text(json.dumps(TINY_DECODER))
    return directory
