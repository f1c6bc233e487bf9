"""Benchmark the ROI CLIP loss: seconds per loss + backward, batched vs the official-style per-patch loop.

    python benchmarks/losses.py [--devices cpu cuda] [--repeats N] [--canvas 512]

ViT-B-32 architecture with random weights (same cost as trained ones); 1 ROI x 64 patches and
3 ROIs x 64 patches. The loop renders each patch separately and runs one CLIP per ROI (a copy of the
model per ROI, as the official code loads one per ROI). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

# This script shares its name with the losses package: keep its own folder off the import path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import losses  # noqa: E402
from losses.reference import reference_loss  # noqa: E402

BOXES = [None, (40, 60, 200, 160), (300, 250, 180, 220)]  # in a 512 x 512 canvas


def seconds_per_step(step, repeats: int, device: torch.device) -> float:
    """Median wall seconds of `step()` (loss + backward) over `repeats` runs, after one warm-up."""
    step()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def bench(device: torch.device, num_rois: int, repeats: int, canvas: int, precision: str | None) -> dict:
    """Time both implementations on the same views of a random canvas."""
    clip = losses.load_clip("ViT-B-32", pretrained=None, device=device, precision=precision)
    scale = canvas / 512
    rois = [losses.ROI(f"prompt {i}", None if box is None else tuple(int(v * scale) for v in box))
            for i, box in enumerate(BOXES[:num_rois])]
    generator = torch.Generator().manual_seed(0)
    source = torch.rand(canvas, canvas, 3, generator=generator, device="cpu").to(device)
    loss_fn = losses.ROIClipLoss(clip, rois, source, generator=generator)
    views = loss_fn.sample_views()
    image = (source * 0.9).requires_grad_()
    clips = [copy.deepcopy(clip) for _ in rois]

    def batched() -> None:
        loss_fn.loss_from_views(image, views).backward()

    def loop() -> None:
        reference_loss(loss_fn, image, views, clips).backward()

    batched_s = seconds_per_step(batched, repeats, device)
    loop_s = seconds_per_step(loop, repeats, device)
    return {"rois": num_rois, "patches_per_roi": 64, "views": len(views), "batched_s": round(batched_s, 4),
            "loop_s": round(loop_s, 4), "speedup": round(loop_s / batched_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    available = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    parser.add_argument("--devices", nargs="+", default=available, choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default: 1 on CPU, 10 on CUDA)")
    parser.add_argument("--canvas", type=int, default=512, help="square canvas side in pixels")
    parser.add_argument("--precision", default=None, choices=["fp32", "fp16", "bf16"], help="CUDA autocast")
    args = parser.parse_args()
    report = {"model": "ViT-B-32 (random weights)", "canvas": args.canvas, "torch": torch.__version__,
              "cpu_threads": torch.get_num_threads(), "results": {}}
    for name in args.devices:
        device = torch.device(name)
        repeats = args.repeats or (10 if device.type == "cuda" else 1)
        report["results"][name] = [bench(device, n, repeats, args.canvas, args.precision) for n in (1, 3)]
        if device.type == "cuda":
            report["gpu"] = torch.cuda.get_device_name(device)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
