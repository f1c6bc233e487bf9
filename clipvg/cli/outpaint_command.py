"""``clipvg outpaint IN -o OUT.svg --left/--right/--top/--bottom PX --prompt TEXT``: grow the canvas
and paint the new area (MiracleVision-style mirrored seed, then the ROI CLIP loss on the new strips)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from ..input_check import check_margins
from ..refiners.cli import refiner_meta
from .edit_command import add_run_options, job_spec
from .inpaint_command import AREA_OPTIONS, run_prepared

if TYPE_CHECKING:  # the editor's modules (torch) load only once the arguments and the input are checked
    from ..inpaint.prepared import Prepared

SIDES = ("left", "right", "top", "bottom")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..refiners.cli import add_refiner_options

    parser = sub.add_parser("outpaint", help="grow the canvas of a photo or SVG and paint the new area")
    parser.add_argument("input", help="PNG/JPEG photo (vectorized first) or SVG file; never modified")
    add_run_options(parser)
    for side in SIDES:
        parser.add_argument(f"--{side}", type=int, default=0, metavar="PX", help=f"pixels to add on the {side}")
    parser.add_argument("--max-size", type=int, default=512,
                        help="long side in pixels a photo is resized to before vectorizing (default 512)")
    add_refiner_options(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    if not Path(args.input).is_file():
        raise InvalidInputError(f"input file not found: {args.input}")
    margins = {side: getattr(args, side) for side in SIDES}
    if any(v < 0 for v in margins.values()) or not any(margins.values()):
        raise InvalidInputError("give at least one of --left/--right/--top/--bottom in pixels (>= 0)")
    check_margins(margins, "--")
    spec = job_spec(args, AREA_OPTIONS, input=args.input)  # checks the shared options and the input before torch
    from ..edit.api import load_source
    from ..edit.job import file_digest
    from ..edit.regions import canvas_shape
    from ..inpaint.outpaint import extend_canvas, margin_boxes, prepare_outpaint
    from ..refiners.cli import refiner_from_args

    source = args.read.input or args.input  # checked, not read again; one of prepare() and resume_boxes() runs

    def prepare() -> Prepared:
        from ..refiners import refine_prepared

        scene = load_source(source, args.max_size)
        refiner = refiner_from_args(args)
        make = lambda image: prepare_outpaint(scene, **margins, seed=args.seed, seed_image=image)  # noqa: E731
        if refiner is None:
            return make(None)
        return refine_prepared(make, refiner, args.prompt, seed=args.seed, prior=True,
                               iterations=args.refit_iterations)

    def resume_boxes() -> list:  # the same strips on the same grown canvas
        grown = extend_canvas(load_source(source, args.max_size), **margins)
        return margin_boxes(canvas_shape(grown), *margins.values())

    meta = {"input": file_digest(args.input), "max_size": args.max_size, **margins, **refiner_meta(args)}
    run_prepared(args, spec, prepare, resume_boxes, meta)
