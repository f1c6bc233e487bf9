"""Shared pieces of the example scripts: the command line (``--quick`` and friends), CLIP settings,
the bundled photo, and writing the results."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import clipvg.edit
from clipvg.edit.outputs import write_scene
from clipvg.edit.presets import quick_options

DATA = Path(__file__).with_name("data")
ASTRONAUT = DATA / "astronaut.png"  # 256 x 256 crop of skimage.data.astronaut() (NASA, public domain)
FULL = dict(iterations=150, num_patches=64)
QUICK_SIZE = 64  # --quick vectorizes the photo at 64 px: the examples' smoke runs stay small


def parser(description: str, prompt: str) -> argparse.ArgumentParser:
    """The options every example takes; ``prompt`` is the default of --prompt."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--prompt", default=prompt, help=f"what the result shows (default: {prompt!r})")
    result.add_argument("--quick", action="store_true",
                        help="small canvas, few iterations, the project's small shapes CLIP (no download)")
    result.add_argument("--out", default="examples/output", help="directory for the SVG and PNG results")
    result.add_argument("--iterations", type=int, help="optimisation steps (default 150, 3 with --quick)")
    result.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    result.add_argument("--seed", type=int, default=0)
    return result


def max_size(args: argparse.Namespace) -> int:
    """Long side in pixels photos are vectorized at: 64 with --quick, else 512."""
    return QUICK_SIZE if args.quick else 512


def settings(args: argparse.Namespace) -> dict:
    """Keyword arguments for ``clipvg.edit``: iterations, patches, CLIP model and weights, device, seed."""
    if args.quick:
        quick = quick_options()
        chosen = dict(iterations=quick["iterations"], num_patches=quick["patches"], clip_model=quick["clip_model"],
                      clip_weights=quick["clip_weights"])
    else:  # ViT-B-32 weights downloaded by open_clip on first use
        chosen = dict(FULL, clip_model="ViT-B-32", clip_weights="openai")
    if args.iterations is not None:
        chosen["iterations"] = args.iterations
    return dict(chosen, device=args.device, seed=args.seed)


def scaled_box(box: tuple[float, float, float, float], size: float) -> tuple[float, float, float, float]:
    """A box given in fractions of the canvas (x, y, w, h in [0, 1]) in pixels of a ``size`` canvas."""
    return tuple(v * size for v in box)


def save(result: clipvg.edit.EditResult, out: str | Path, name: str, started: float) -> list[Path]:
    """Write ``name``.svg and ``name``.png into ``out`` and print a summary; returns the files."""
    files = [Path(out) / f"{name}.svg", Path(out) / f"{name}.png"]
    for path in files:
        write_scene(result.scene, path)
    loss = f"loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f}" if result.losses else "no steps"
    print(f"{name}: {result.scene.num_paths} paths, {len(result.losses)} steps, {loss}, "
          f"{time.perf_counter() - started:.1f} s; "
          f"wrote {', '.join(map(str, files))}")
    return files
