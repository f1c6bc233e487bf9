"""Editing-loop benchmark: seconds per iteration of a CLIPVG edit, split into vectorize, render,
CLIP and optimizer time, for clipvg's batched loss and for the official code's style (one CLIP per
ROI, every patch cut out in a Python loop, ``losses.reference``). Prints one JSON object.

    python benchmarks/edit.py [--size 512] [--patches 64] [--rois 1|3] [--iterations 3] [--device cuda]
                              [--deterministic] [--no-official] [--precision auto|fp32|fp16|bf16] [--reference]
                              [--versus-fp32] [--base REV]

``--reference`` also times the loop with open_clip's own image forward (``ClipModel.lean = False``), its
steps interleaved with clipvg's (one step of each in turn), so a load change on a shared machine hits both.
``--versus-fp32`` likewise times the loop with an fp32 CLIP (the default precision, auto, is bf16 on CPUs
with native bf16). ``--base REV`` likewise times the loop with the CLIP step's own modules
(``losses/vision_tower.py``, ``losses/warp.py``) as they were at git revision REV: a before/after of a
change to them in one process, under one load.

Peak memory: the device's (torch.cuda.max_memory_allocated) on CUDA, the process's (ru_maxrss) on the CPU.

CLIP is the ViT-B-32 architecture with random weights (costs the same as the real weights).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Callable

from json_result import git_commit, print_and_save  # benchmarks/json_result.py: imported before benchmarks/ leaves sys.path

# benchmarks/losses.py and benchmarks/vectorize.py would shadow the packages of the same names
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import skimage.data  # noqa: E402
import torch  # noqa: E402

import losses  # noqa: E402
import vectorize  # noqa: E402
import losses.clip_model  # noqa: E402
import losses.roi  # noqa: E402
from clipvg.edit import EditOptions, Editor  # noqa: E402
from losses import vision_tower, warp  # noqa: E402
from losses.reference import reference_loss  # noqa: E402

PROMPT = "Self-Portrait of Vincent van Gogh"
# CLIPVG's multi-ROI setting: two more boxes with their own prompts, (x, y, w, h) as fractions of the canvas
EXTRA_ROIS = (((0.33, 0.08, 0.35, 0.39), "Joker, Heath Ledger"), ((0.0, 0.59, 0.49, 0.41), "a golden armour"))


class OfficialStyleLoss:
    """The ROI loss computed ROI by ROI, patch by patch, with one CLIP per ROI (same views, same value)."""

    def __init__(self, batched: losses.ROIClipLoss, clips: list) -> None:
        self.batched, self.clips = batched, clips

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return reference_loss(self.batched, image, self.batched.sample_views(), self.clips)


def step_modules_at(revision: str) -> tuple[types.ModuleType, types.ModuleType]:
    """``losses.vision_tower`` and ``losses.warp`` as they were at git ``revision``."""
    loaded = []
    for name in ("vision_tower", "warp"):
        path = f"losses/{name}.py"
        source = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).parent).stdout
        module = types.ModuleType(f"{name}_{revision}")
        sys.modules[module.__name__] = module  # dataclasses look their module up
        exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)
        loaded.append(module)
    return loaded[0], loaded[1]


def use_step_modules(tower: types.ModuleType, views: types.ModuleType) -> None:
    """Make CLIP's image encoding and the ROI loss's view rendering run ``tower`` and ``views``."""
    losses.clip_model.vision_tower = tower
    losses.roi.render_views = views.render_views


def time_interleaved(variants: dict[str, tuple[Editor, Callable[[], None]]], iterations: int) -> dict[str, dict]:
    """Seconds per iteration, total and per phase, of each variant (an editor and a setup called before
    each of its steps), after one warm-up step each; the variants' steps take turns."""
    wall, cpu = dict.fromkeys(variants, 0.0), dict.fromkeys(variants, 0.0)
    for editor, setup in variants.values():
        editor.profile = True
        setup()
        editor.step()
        editor.timings = dict.fromkeys(editor.timings, 0.0)
    for _ in range(iterations):
        for name, (editor, setup) in variants.items():
            setup()
            start, start_cpu = time.perf_counter(), time.process_time()
            editor.step()
            wall[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    return {name: split_timings(editor, wall[name], cpu[name], iterations) for name, (editor, _) in variants.items()}


def split_timings(editor: Editor, seconds: float, cpu_seconds: float, iterations: int) -> dict:
    """Per-iteration wall, process CPU (all threads) and phase seconds of ``editor`` (``seconds`` and
    ``cpu_seconds`` in all over ``iterations``). On a loaded shared machine the CPU seconds divided by the
    threads bound the wall time of a quiet one from below."""
    total = seconds / iterations
    split = {phase: seconds / iterations for phase, seconds in editor.timings.items()}
    return {"s_per_iteration": round(total, 4), "cpu_s_per_iteration": round(cpu_seconds / iterations, 4),
            "render_s": round(split["render"] + split["render_backward"], 4),
            "render_forward_s": round(split["render"], 4),
            "render_backward_s": round(split["render_backward"], 4),
            "clip_s": round(split["clip"], 4),
            "optimizer_s": round(split["optimizer"], 4)}


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory so far in MB: allocated on the GPU, or the process's resident peak on the CPU."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="canvas long side in pixels")
    parser.add_argument("--patches", type=int, default=64, help="patches per ROI")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per variant")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture (random weights)")
    parser.add_argument("--rois", type=int, choices=(1, 3), default=1, help="ROIs: the canvas, or the canvas and two boxes")
    parser.add_argument("--deterministic", action="store_true", help="bit-reproducible numerics (default on CPU only)")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"),
                        help="CLIP autocast (bf16 also on the CPU); auto, the editor's default: bf16 on a CPU "
                        "with native bf16, else fp32")
    parser.add_argument("--no-official", action="store_true", help="skip the official-style loop (slow on CPU)")
    parser.add_argument("--reference", action="store_true",
                        help="also time open_clip's own image forward, interleaved (before/after the lean tower)")
    parser.add_argument("--versus-fp32", action="store_true",
                        help="also time the loop with an fp32 CLIP, interleaved (what auto's bf16 gains on the CPU)")
    parser.add_argument("--base", metavar="REV", help="also time the loop with losses/vision_tower.py and "
                        "losses/warp.py at this git revision, interleaved (a before/after of the CLIP step)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, the physical cores); on a "
                        "loaded shared machine 1 thread's CPU seconds are the steadiest measure of the work")
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    scene = vectorize.vectorize(skimage.data.astronaut(), max_size=args.size)
    vectorize_s = time.perf_counter() - start
    clip = losses.load_clip(args.model, pretrained=None, device=args.device, precision=args.precision)
    rois = [([f * side for f, side in zip(box, (scene.width, scene.height) * 2)], prompt)
            for box, prompt in EXTRA_ROIS[:args.rois - 1]]
    options = EditOptions(PROMPT, rois=rois, device=args.device, clip_model=args.model, clip_weights=None,
                          num_patches=args.patches, deterministic=args.deterministic or None,
                          precision=args.precision)
    editor = Editor(scene, options, clip)
    if editor.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(editor.device)

    def lean(on: bool, model: losses.ClipModel = clip,
             modules: tuple[types.ModuleType, types.ModuleType] = (vision_tower, warp)) -> Callable[[], None]:
        return lambda: (setattr(model, "lean", on), use_step_modules(*modules))

    variants = {"clipvg": (editor, lean(True))}
    if args.base:
        variants["base"] = (Editor(scene, options, clip), lean(True, modules=step_modules_at(args.base)))
    if args.reference:
        variants["open_clip_forward"] = (Editor(scene, options, clip), lean(False))
    if args.versus_fp32:
        fp32 = losses.load_clip(args.model, pretrained=None, device=args.device, precision="fp32")
        variants["fp32"] = (Editor(scene, dataclasses.replace(options, precision="fp32"), fp32), lean(True, fp32))
    results = time_interleaved(variants, args.iterations)
    ours = results["clipvg"]
    ours["peak_memory_mb"] = peak_memory_mb(editor.device)
    for name in ("open_clip_forward", "fp32", "base"):
        if name in results:
            results[f"speedup_vs_{name}"] = round(results[name]["s_per_iteration"] / ours["s_per_iteration"], 2)
    if not args.no_official:
        official = Editor(scene, options, clip)
        official.loss_fn = OfficialStyleLoss(official.loss_fn, [clip] * len(official.rois))
        results["official_style"] = time_interleaved({"official": (official, lean(True))}, args.iterations)["official"]
        results["speedup_vs_official_style"] = round(results["official_style"]["s_per_iteration"]
                                                     / ours["s_per_iteration"], 2)
    for result in results.values():
        if isinstance(result, dict):
            result["edit_150_iterations_s"] = round(vectorize_s + 150 * result["s_per_iteration"], 1)
    report = {
        "benchmark": "edit", "commit": git_commit(mark_dirty=True), "device": str(editor.device),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "device_name": torch.cuda.get_device_name(editor.device) if editor.device.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(), "canvas": [round(scene.width), round(scene.height)],
        "paths": scene.num_paths, "rois": args.rois, "patches_per_roi": args.patches,
        "deterministic": editor.deterministic, "clip": f"{args.model} (random weights)", "precision": clip.precision,
        "precision_asked": args.precision, "timed_iterations": args.iterations, "base_revision": args.base,
        "vectorize_s": round(vectorize_s, 3), **results,
    }
    print_and_save(report, args.out)
    return report


if __name__ == "__main__":
    main()
