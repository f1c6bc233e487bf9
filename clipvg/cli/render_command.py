"""``clipvg render IN.svg -o OUT.png``: rasterize an SVG with clipvg's renderer.

The SVG is read by the reader's torch-free reading phase; the Scene and the renderer (torch) load only after the
arguments and the file are checked, so bad ones are refused at once."""
from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ..errors import InvalidInputError
from ..input_check import check_svg
from ..limits import resource_limits
from ..samples import EXPORT_MAX_PIXELS, EXPORT_SAMPLES, MAX_SAMPLES, check_samples
from ..tiling import render_plan, working_bytes

BACKGROUNDS = {"white": (1.0, 1.0, 1.0), "none": None}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("render", help="render an SVG to PNG with clipvg's differentiable renderer")
    parser.add_argument("input", help="SVG file to render")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("--width", type=int, help="output width in pixels (default: the SVG's)")
    parser.add_argument("--height", type=int, help="output height in pixels (default: the SVG's)")
    parser.add_argument("--background", choices=sorted(BACKGROUNDS), default="white")
    parser.add_argument("--backend", default="auto", help="auto (torch), torch or diffvg (clipvg.render.api.BACKENDS)")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--samples", type=int,
                        help=f"samples per pixel along each axis, 1 to {MAX_SAMPLES} (default {EXPORT_SAMPLES} up to "
                        f"{EXPORT_MAX_PIXELS / 1e6:.1f} megapixels, 1 above): more smooth the seams between abutting "
                        "shapes; 1 draws each shape's exact-area coverage")
    return parser


def run(args: argparse.Namespace) -> None:
    if Path(args.output).suffix.lower() != ".png":
        raise InvalidInputError(f"output must be a .png file, got {args.output}")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InvalidInputError(f"--{name} must be at least 1 pixel, got {value}")
    if args.samples is not None:
        check_samples(args.samples)
    resource_limits().check("render_side", max(args.width or 0, args.height or 0), "--width/--height in pixels")
    read = check_svg(args.input)  # what the reader refuses is refused before the Scene's torch loads
    if args.width is None and args.height is None:  # drawn at its canvas size: the render's size limits, and its
        width, height = round(read.width), round(read.height)  # memory without the drawing's own
        resource_limits().check_job(width, height, 0, 0, 0, f"{args.input}, rendered at its canvas size", working=0)
    points = read.num_points
    load = functools.cache(read.edge_load)
    plan = render_plan(read, args.width, args.height, args.samples, True, points,  # the renderer's own check,
                       lambda w, h, beside: working_bytes(read, w, h, args.backend != "diffvg", beside, load()),
                       load=load)  # filters included
    from ..image_out import save_png
    from ..render.api import render_rgba8

    scene = read.to_scene(args.device)
    same = len(scene.points) == points  # else a stroke outlined in to_scene added points: the renderer plans again
    image = render_rgba8(scene, args.width, args.height, BACKGROUNDS[args.background], backend=args.backend,
                         samples=args.samples, plan=plan if same else None)
    save_png(image, args.output, inputs=(args.input,))
    print(f"wrote {args.output} ({image.shape[1]}x{image.shape[0]}, {scene.num_paths} paths)")
