"""Train a mask ControlNet for ``--refiner controlnet-inpaint`` on a frozen text-to-image model.

    python -m clipvg.refiners.train_mask_controlnet --base stable-diffusion-v1-5/stable-diffusion-v1-5 \\
        --data photos/ --output my-mask-controlnet --steps 20000 --batch-size 8 --resolution 512
    clipvg inpaint in.png --box ... --refiner controlnet-inpaint --controlnet-model my-mask-controlnet

The base model (UNet, VAE, text encoder) stays frozen; only the ControlNet learns (initialised from
the base UNet, or from ``--controlnet``, e.g. lllyasviel/control_v11p_sd15_inpaint, to fine-tune; or
``--compress RATIO``: MiracleVision's compressed ControlNet, ``compressed_controlnet.py``).
Its condition is the v1.1 inpaint image (picture in [0, 1], -1 where masked; ``inpaint_condition``),
so the checkpoint drops into the refiner like the published one. The three data strategies of the
MiracleVision report:

1. a background trigger keyword (``BACKGROUND_TRIGGER``, the removal prompt's) is appended to the
   caption whenever the sample's mask falls on plain background (``masks.on_background``);
2. a fixed share (``--background-share``) of every batch is background-only samples, whose mask is
   drawn on background (``masks.background_mask``);
3. masks are randomly generated free-form shapes: strokes, blobs, boxes and outpaint borders
   (``masks.random_mask``).

``--data DIR``: images (png/jpg/webp), each with an optional caption ``NAME.txt`` and an optional
object mask ``NAME.mask.png`` (white = object; without it "background" means a flat region).
``--synthetic N``: N generated pictures of coloured shapes on plain backgrounds, with captions and
object masks (for tests and smoke runs). Writes the ControlNet with ``save_pretrained`` into
``--output`` (and ``training.json`` with the settings), every ``--save-every`` steps and at the end.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from ..errors import ClipvgError, InvalidInputError
from .base import removal_prompt
from .controlnet_inpaint import inpaint_condition
from .masks import background_mask, on_background, random_mask

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
COLOURS = {"red": (0.85, 0.1, 0.1), "green": (0.1, 0.65, 0.2), "blue": (0.1, 0.25, 0.85), "yellow": (0.95, 0.85, 0.1),
           "purple": (0.55, 0.2, 0.7), "orange": (0.95, 0.55, 0.1), "black": (0.05, 0.05, 0.05)}
BACKGROUNDS = {"white": (1.0, 1.0, 1.0), "grey": (0.6, 0.6, 0.6), "beige": (0.93, 0.88, 0.76),
               "light blue": (0.75, 0.85, 0.97)}


@dataclass
class Sample:
    """A training picture (H, W, 3) float in [0, 1], its caption, and its object mask (H, W) bool or None."""

    image: np.ndarray
    caption: str
    objects: np.ndarray | None = None


def synthetic_sample(size: int, rng: np.random.Generator) -> Sample:
    """Coloured shapes (circle, square, triangle) on a plain background, captioned after the first."""
    background = list(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))]
    canvas = Image.new("RGB", (size, size), tuple(int(255 * c) for c in BACKGROUNDS[background]))
    objects = Image.new("L", (size, size), 0)
    draw, mark = ImageDraw.Draw(canvas), ImageDraw.Draw(objects)
    caption = ""
    for index in range(int(rng.integers(1, 3))):
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        shape = ("circle", "square", "triangle")[int(rng.integers(3))]
        radius = rng.uniform(0.12, 0.25) * size
        cx, cy = rng.uniform(radius, size - radius), rng.uniform(radius, size - radius)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        fill = tuple(int(255 * c) for c in COLOURS[colour])
        for target, value in ((draw, fill), (mark, 255)):
            if shape == "circle":
                target.ellipse(box, fill=value)
            elif shape == "square":
                target.rectangle(box, fill=value)
            else:
                target.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=value)
        if index == 0:
            caption = f"a {colour} {shape} on a {background} background"
    return Sample(np.asarray(canvas, dtype=np.float32) / 255.0, caption, np.asarray(objects) > 127)


def load_folder(directory: Path, size: int) -> list[Sample]:
    """The pictures of ``directory`` resized to ``size`` x ``size`` (centre crop), with captions and
    object masks where present."""
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.endswith(".mask.png"))
    if not files:
        raise InvalidInputError(f"no training images (png/jpg/webp) in {directory}")
    samples = []
    for path in files:
        caption_file = path.with_suffix(".txt")
        caption = caption_file.read_text().strip() if caption_file.is_file() else path.stem.replace("_", " ")
        mask_file = path.with_name(path.stem + ".mask.png")
        objects = None
        if mask_file.is_file():
            objects = np.asarray(square(Image.open(mask_file).convert("L"), size)) > 127
        samples.append(Sample(np.asarray(square(Image.open(path).convert("RGB"), size), dtype=np.float32) / 255.0,
                              caption or "a picture", objects))
    return samples


def square(image: Image.Image, size: int) -> Image.Image:
    """Centre-cropped to a square and resized to ``size``."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)


def make_batch(samples: Sequence[Sample], batch_size: int, background_share: float, rng: np.random.Generator):
    """(pictures (B, 3, H, W) in [-1, 1], conditions (B, 3, H, W), captions, background flags): random
    samples with random free-form masks; the first round(``background_share`` x B) masks are drawn on
    background, and every mask that falls on background gets the trigger in its caption."""
    background_count = int(round(background_share * batch_size))
    pictures, conditions, captions, flags = [], [], [], []
    for index in range(batch_size):
        sample = samples[int(rng.integers(len(samples)))]
        height, width = sample.image.shape[:2]
        if index < background_count:
            mask = background_mask(height, width, rng, sample.image, sample.objects)
        else:
            mask = random_mask(height, width, rng)
        plain = on_background(mask, sample.image, sample.objects)
        image = torch.from_numpy(sample.image)
        pictures.append(image.permute(2, 0, 1) * 2 - 1)
        conditions.append(inpaint_condition(image, torch.from_numpy(mask))[0])
        captions.append(removal_prompt(sample.caption) if plain else sample.caption)
        flags.append(plain)
    return torch.stack(pictures), torch.stack(conditions), captions, flags


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clipvg.refiners.train_mask_controlnet",
                                     description="Train a mask ControlNet (inpainting on a frozen base model).")
    parser.add_argument("--base", required=True, metavar="ID|DIR", help="frozen text-to-image model (diffusers)")
    parser.add_argument("--controlnet", metavar="ID|DIR", help="ControlNet to start from (default: a copy of the base UNet's encoder)")
    parser.add_argument("--compress", type=float, metavar="RATIO",
                        help="train a compressed ControlNet, its blocks RATIO times as wide as the UNet's (e.g. 0.25; "
                             "random start) instead of a full copy of the UNet's encoder")
    parser.add_argument("--output", required=True, help="folder the ControlNet is saved into (save_pretrained)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="folder of training images (+ NAME.txt captions, NAME.mask.png object masks)")
    source.add_argument("--synthetic", type=int, metavar="N", help="N generated shape pictures instead of --data")
    parser.add_argument("--resolution", type=int, default=512, help="training size in pixels (default 512)")
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps (default 1000)")
    parser.add_argument("--batch-size", type=int, default=4, help="samples a step (default 4)")
    parser.add_argument("--background-share", type=float, default=0.25,
                        help="share of every batch whose mask is drawn on background (default 0.25)")
    parser.add_argument("--lr", type=float, default=1e-5, help="AdamW learning rate (default 1e-5)")
    parser.add_argument("--save-every", type=int, default=0, help="also save every N steps (default: only at the end)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.resolution < 8:
        raise InvalidInputError("--steps and --batch-size must be >= 1, --resolution >= 8")
    if not 0.0 <= args.background_share <= 1.0:
        raise InvalidInputError("--background-share must be in [0, 1]")
    if args.compress is not None and not 0.0 < args.compress <= 1.0:
        raise InvalidInputError("--compress must be in (0, 1]")
    if args.synthetic is not None and args.synthetic < 1:
        raise InvalidInputError("--synthetic must be >= 1")
    return args


def train(args: argparse.Namespace) -> tuple[Path, list[float]]:
    """Run the training ``args`` describe; returns (output folder, loss per step)."""
    from .compressed_controlnet import compressed_from_unet
    from .loading import load_model, load_pipeline, require_diffusers, resolve_device

    require_diffusers()
    from diffusers import ControlNetModel, DDPMScheduler, StableDiffusionPipeline

    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    samples = ([synthetic_sample(args.resolution, rng) for _ in range(args.synthetic)] if args.synthetic
               else load_folder(Path(args.data), args.resolution))
    base = load_pipeline(StableDiffusionPipeline, args.base, device, "fp32")
    for module in (base.vae, base.unet, base.text_encoder):
        module.requires_grad_(False).eval()
    if args.controlnet:
        from .controlnet_inpaint import CONTROLNET_LAYOUT
        from .compressed_controlnet import controlnet_class

        controlnet = load_model(controlnet_class(args.controlnet), args.controlnet, torch.float32, "--controlnet",
                                CONTROLNET_LAYOUT)
    else:
        # the condition embedding downsamples the picture to the latent size: SD's (16, 32, 96, 256) for
        # 8x VAEs, its first log2(scale) + 1 entries for others
        embedding = (16, 32, 96, 256)[:int(round(math.log2(base.vae_scale_factor))) + 1]
        if args.compress:
            controlnet = compressed_from_unet(base.unet, args.compress, embedding)
        else:
            controlnet = ControlNetModel.from_unet(base.unet, conditioning_channels=3,
                                                   conditioning_embedding_out_channels=embedding)
    controlnet.to(device).train().requires_grad_(True)
    noise_scheduler = DDPMScheduler.from_config(base.scheduler.config)
    optimizer = torch.optim.AdamW(controlnet.parameters(), lr=args.lr)
    output = Path(args.output)
    generator = torch.Generator().manual_seed(args.seed)
    losses = []
    for step in range(1, args.steps + 1):
        pictures, conditions, captions, _ = make_batch(samples, args.batch_size, args.background_share, rng)
        with torch.no_grad():
            latents = base.vae.encode(pictures.to(device)).latent_dist.sample(generator=None)
            latents = latents * base.vae.config.scaling_factor
            ids = base.tokenizer(captions, padding="max_length", max_length=base.tokenizer.model_max_length,
                                 truncation=True, return_tensors="pt").input_ids.to(device)
            text = base.text_encoder(ids)[0]
        noise = torch.randn(latents.shape, generator=generator).to(device)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), generator=generator).to(device)
        noisy = noise_scheduler.add_noise(latents, noise, t)
        down, mid = controlnet(noisy, t, encoder_hidden_states=text, controlnet_cond=conditions.to(device),
                               return_dict=False)
        prediction = base.unet(noisy, t, encoder_hidden_states=text, down_block_additional_residuals=down,
                               mid_block_additional_residual=mid).sample
        target = noise
        if noise_scheduler.config.get("prediction_type", "epsilon") == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise, t)
        loss = F.mse_loss(prediction.float(), target.float())
        if not math.isfinite(loss.detach().item()):
            raise ClipvgError(f"the training loss is not finite at step {step}; lower --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
        if args.save_every and step % args.save_every == 0 and step < args.steps:
            save(controlnet, output, args, step, losses)
    save(controlnet, output, args, args.steps, losses)
    return output, losses


def save(controlnet, output: Path, args: argparse.Namespace, step: int, losses: list[float]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    controlnet.save_pretrained(os.fspath(output))
    settings = {k: v for k, v in vars(args).items()}
    (output / "training.json").write_text(json.dumps({"step": step, "loss": losses[-1], "settings": settings}, indent=1))


def main(argv: Sequence[str] | None = None) -> int:
    start = time.perf_counter()
    try:
        args = parse_args(argv)
        output, losses = train(args)
    except ClipvgError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({len(losses)} steps, last loss {losses[-1]:.4f}, {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
