"""Make the gallery's before/after pictures (docs/gallery/*.png) with the project's offline shapes CLIP.

Each edit kind runs on a small hand-written SVG with a prompt the shapes CLIP understands ("a blue circle on a
white background", ...), so the pictures show what the edit does without downloading real CLIP weights:

    python docs/gallery.py            # a few minutes on 2 CPU cores; rewrites docs/gallery/*.png
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import clipvg
import clipvg.edit
from clipvg.inpaint import inpaint, outpaint
from losses import shapes_clip_paths

OUT = Path(__file__).with_name("gallery")
SIZE = 128


def shape_svg(*shapes: str, width: int = SIZE, height: int = SIZE) -> clipvg.Scene:
    """A Scene from SVG shape elements on a ``width`` x ``height`` canvas (edits composite it on white)."""
    return clipvg.load_svg(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
                           f'{"".join(shapes)}</svg>')


CIRCLE = '<circle cx="64" cy="64" r="34" fill="#e31a1a"/>'
SQUARE_PATH = '<path d="M34 34 C54 30 74 38 94 34 C98 54 90 74 94 94 C74 98 54 90 34 94 C30 74 38 54 34 34 Z" ' \
              'fill="#e31a1a"/>'


def picture(scene: clipvg.Scene) -> np.ndarray:
    """(H, W, 3) uint8 render of ``scene`` on white."""
    with torch.no_grad():
        image = clipvg.render(scene, background=(1, 1, 1))[..., :3]
    return (image.clamp(0, 1).cpu().numpy() * 255).round().astype(np.uint8)


def side_by_side(before: clipvg.Scene, after: clipvg.Scene, path: Path) -> None:
    """Write before | after as one PNG (8 px white gap; heights padded to the taller one)."""
    left, right = picture(before), picture(after)
    height = max(left.shape[0], right.shape[0])
    pad = lambda a: np.pad(a, ((0, height - a.shape[0]), (0, 0), (0, 0)), constant_values=255)  # noqa: E731
    gap = np.full((height, 8, 3), 255, np.uint8)
    Image.fromarray(np.concatenate([pad(left), gap, pad(right)], axis=1)).save(path)


def make_gallery(out: Path, iterations: int, seed: int) -> dict[str, float]:
    """Run every edit kind, write ``out/<kind>.png``; returns seconds per kind."""
    model, weights = shapes_clip_paths()
    common = dict(clip_model=model, clip_weights=weights, seed=seed, device="cpu", num_patches=8)
    circle = shape_svg(CIRCLE)
    two = shape_svg('<circle cx="32" cy="64" r="22" fill="#e31a1a"/>',
                    '<circle cx="96" cy="64" r="22" fill="#e31a1a"/>')
    edits = {
        "recolor": lambda: (circle, clipvg.edit.edit(
            circle, "a blue circle on a white background", params="colors_only", iterations=iterations,
            **common).scene),
        "shape": lambda: (shape_svg(SQUARE_PATH), clipvg.edit.edit(
            shape_svg(SQUARE_PATH), "a red circle on a white background", params="shapes_only",
            iterations=iterations, **common).scene),
        "regions": lambda: (two, clipvg.edit.edit(
            two, "a red circle on a white background", rois=[((0, 0, 64, 128), "a green circle on a white background"),
                                                              ((64, 0, 64, 128), "a blue circle on a white background")],
            params="colors_only", iterations=iterations, **common).scene),
        "inpaint": lambda: (circle, inpaint(circle, "a red circle on a white background", box=(40, 40, 48, 48),
                                            iterations=iterations, **common).scene),
        "outpaint": lambda: (circle, outpaint(circle, "a red circle on a white background", left=32, right=32,
                                              iterations=iterations, **common).scene),
    }
    out.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for kind, run in edits.items():
        started = time.perf_counter()
        before, after = run()
        side_by_side(before, after, out / f"{kind}.png")
        seconds[kind] = round(time.perf_counter() - started, 1)
    return seconds


def main(argv: list[str] | None = None) -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/gallery)")
    cli.add_argument("--iterations", type=int, default=150, help="steps per edit (default 150, as CLIPVG)")
    cli.add_argument("--seed", type=int, default=0)
    args = cli.parse_args(argv)
    print(make_gallery(args.out, args.iterations, args.seed))


if __name__ == "__main__":
    main()
