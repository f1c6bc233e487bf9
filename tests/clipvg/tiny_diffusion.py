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


def build_tiny_sd(directory: Path, inpaint: bool = False) -> Path:
    """Save a tiny StableDiffusionPipeline (``inpaint``: StableDiffusionInpaintPipeline, 9-channel
    UNet) to ``directory``: 32-channel UNet, 2-level VAE (latents at 1/2 size), 2-layer text encoder."""
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
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=8, sample_size=32)
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
