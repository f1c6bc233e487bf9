"""Train the shapes CLIP on synthetic captioned shapes (a few CPU minutes).

    python -m losses.shapes.train [--steps 1500] [--out losses/shapes/shapes_clip.pt]

Prints a JSON summary (seconds, held-out top-1 caption accuracy, checkpoint bytes). The checkpoint is
an fp16 open_clip state dict for `shapes_clip.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F

from losses.clip_model import ClipModel, load_clip, register_architecture
from losses.shapes import CHECKPOINT_PATH, CONFIG_PATH
from losses.shapes.data import COLOURS, SHAPES, all_captions, sample_batch
from losses.templates import IMAGENET_TEMPLATES


def caption_bank() -> tuple[list[str], torch.Tensor]:
    """Every caption variant (plain phrasings and templated ones) -> (captions, class index `(N,)`).

    Templated variants teach the text tower the 79 templates `encode_text_templates` averages over.
    """
    captions, labels = [], []
    for c_idx, colour in enumerate(COLOURS):
        for s_idx, shape in enumerate(SHAPES):
            phrases = (f"a {colour} {shape} on a white background", f"a {colour} {shape}", f"{colour} {shape}")
            texts = [*phrases, *(t.format(p) for p in phrases for t in IMAGENET_TEMPLATES)]
            captions += texts
            labels += [c_idx * len(SHAPES) + s_idx] * len(texts)
    return captions, torch.tensor(labels)


def multi_positive_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Symmetric contrastive loss where every pair with the same class is a positive.

    logits: `(B, B)` image-by-text similarities; labels: `(B,)` class of row/column i.
    """
    positives = (labels[:, None] == labels[None, :]).float()
    targets = positives / positives.sum(dim=1, keepdim=True)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


def caption_accuracy(clip: ClipModel, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ranking the canonical captions (`all_captions`) for `(B, 3, H, W)` images."""
    with torch.no_grad():
        scores = clip.encode_image(images) @ clip.encode_text(all_captions()).T
    return (scores.argmax(dim=1).cpu() == labels).float().mean().item()


def train(steps: int, batch_size: int, lr: float, seed: int) -> torch.nn.Module:
    """Train the `shapes_clip.json` architecture from scratch; returns the float32 model."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    arch = register_architecture(CONFIG_PATH)
    model = open_clip.create_model(arch, pretrained=None)
    tokenizer = open_clip.get_tokenizer(arch)
    captions, caption_labels = caption_bank()
    tokens = tokenizer(captions)
    by_class = [torch.nonzero(caption_labels == k).squeeze(1) for k in range(len(all_captions()))]
    size = model.visual.image_size[0]
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * i / steps))
    )
    model.train()
    for step in range(steps):
        images, labels = sample_batch(batch_size, size, generator)
        picks = torch.stack([
            by_class[k][torch.randint(len(by_class[k]), (1,), generator=generator)] for k in labels.tolist()
        ]).squeeze(1)
        image_features = F.normalize(model.encode_image((images - mean) / std), dim=-1)
        text_features = F.normalize(model.encode_text(tokens[picks]), dim=-1)
        logits = model.logit_scale.exp() * image_features @ text_features.T
        loss = multi_positive_loss(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step}/{steps} loss {loss.item():.4f}", file=sys.stderr, flush=True)
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    """Train, save the fp16 checkpoint and print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=CHECKPOINT_PATH)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model = train(args.steps, args.batch_size, args.lr, args.seed)
    seconds = time.perf_counter() - start
    partial = args.out.with_suffix(".tmp")
    torch.save({k: v.half() for k, v in model.state_dict().items()}, partial)
    partial.replace(args.out)
    clip = load_clip(CONFIG_PATH, args.out, device="cpu")
    images, labels = sample_batch(1000, clip.image_size, torch.Generator().manual_seed(12345))
    summary = {
        "train_seconds": round(seconds, 1),
        "steps": args.steps,
        "heldout_top1": caption_accuracy(clip, images, labels),
        "checkpoint_bytes": args.out.stat().st_size,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
