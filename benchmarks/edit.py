"""Editing-loop benchmark: seconds per iteration of a CLIPVG edit, split into vectorize, render,
CLIP and optimizer time, for clipvg's batched loss and for the official code's style (one CLIP per
ROI, every patch cut out in a Python loop, ``losses.reference``). Prints one JSON object.

    python benchmarks/edit.py [--size 512] [--patches 64] [--iterations 3] [--device cuda]

CLIP is the ViT-B-32 architecture with random weights (costs the same as the real weights).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# benchmarks/losses.py and benchmarks/vectorize.py would shadow the packages of the same names
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import skimage.data  # noqa: E402
import torch  # noqa: E402

import losses  # noqa: E402
import vectorize  # noqa: E402
from clipvg.edit import EditOptions, Editor  # noqa: E402
from losses.reference import reference_loss  # noqa: E402

PROMPT = "Self-Portrait of Vincent van Gogh"


class OfficialStyleLoss:
    """The ROI loss computed ROI by ROI, patch by patch, with one CLIP per ROI (same views, same value)."""

    def __init__(self, batched: losses.ROIClipLoss, clips: list) -> None:
        self.batched, self.clips = batched, clips

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return reference_loss(self.batched, image, self.batched.sample_views(), self.clips)


def time_loop(editor: Editor, iterations: int) -> dict:
    """Seconds per iteration, total and per phase, after one warm-up step."""
    editor.profile = True
    editor.step()
    editor.timings = dict.fromkeys(editor.timings, 0.0)
    start = time.perf_counter()
    for _ in range(iterations):
        editor.step()
    total = (time.perf_counter() - start) / iterations
    split = {phase: seconds / iterations for phase, seconds in editor.timings.items()}
    return {"s_per_iteration": round(total, 4),
            "render_s": round(split["render"] + split["render_backward"], 4),
            "render_forward_s": round(split["render"], 4),
            "render_backward_s": round(split["render_backward"], 4),
            "clip_s": round(split["clip"], 4),
            "optimizer_s": round(split["optimizer"], 4)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="canvas long side in pixels")
    parser.add_argument("--patches", type=int, default=64, help="patches per ROI")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per variant")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture (random weights)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    scene = vectorize.vectorize(skimage.data.astronaut(), max_size=args.size)
    vectorize_s = time.perf_counter() - start
    clip = losses.load_clip(args.model, pretrained=None, device=args.device)
    options = EditOptions(PROMPT, device=args.device, clip_model=args.model, clip_weights=None,
                          num_patches=args.patches)
    editor = Editor(scene, options, clip)
    ours = time_loop(editor, args.iterations)
    official = Editor(scene, options, clip)
    official.loss_fn = OfficialStyleLoss(official.loss_fn, [clip] * len(official.rois))
    theirs = time_loop(official, args.iterations)
    for result in (ours, theirs):
        result["edit_150_iterations_s"] = round(vectorize_s + 150 * result["s_per_iteration"], 1)
    report = {
        "benchmark": "edit", "device": str(editor.device),
        "device_name": torch.cuda.get_device_name(editor.device) if editor.device.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(), "canvas": [round(scene.width), round(scene.height)],
        "paths": scene.num_paths, "rois": 1, "patches_per_roi": args.patches,
        "clip": f"{args.model} (random weights)", "timed_iterations": args.iterations,
        "vectorize_s": round(vectorize_s, 3), "clipvg": ours, "official_style": theirs,
        "speedup_vs_official_style": round(theirs["s_per_iteration"] / ours["s_per_iteration"], 2),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
