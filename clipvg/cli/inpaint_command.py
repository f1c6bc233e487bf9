"""``clipvg inpaint IN -o OUT.svg --mask MASK.png|--box X,Y,W,H --prompt TEXT [--remove]``: repaint a
region of a photo or SVG; only the region's new layer changes.

``run_prepared`` is shared with ``clipvg outpaint``: it runs an edit on a prepared scene (fixed path
subset, area ROIs) through ``clipvg.edit.job.run_session``, so both commands get every output,
frame, checkpoint, ownership and Ctrl-C behaviour of ``clipvg edit``.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..atomic import ensure_not_input
from ..edit.spec import JobSpec
from ..errors import InvalidInputError
from ..input_check import check_raster
from ..refiners.cli import refiner_meta
from .edit_command import RUN_OPTIONS, add_run_options, job_spec, run_and_report

if TYPE_CHECKING:  # the editor's modules (torch) load only once the arguments and inputs are checked
    from ..inpaint.prepared import AreaEditOptions, Prepared

AREA_OPTIONS = RUN_OPTIONS + ("max_size",)


def area_run_options(spec: JobSpec, prepared_boxes: list) -> AreaEditOptions:
    """The job's edit options as AreaEditOptions whose loss looks at ``prepared_boxes`` only."""
    from ..edit.job import edit_options
    from ..edit.options import EditOptions
    from ..inpaint.prepared import AreaEditOptions

    base = edit_options(spec)
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(EditOptions)}
    return AreaEditOptions(**fields, area_boxes=tuple(tuple(int(v) for v in b) for b in prepared_boxes))


def run_prepared(args: argparse.Namespace, spec: JobSpec, prepare: Callable[[], Prepared],
                 resume_boxes: Callable[[], list], meta: dict) -> None:
    """Run an edit on a prepared scene (fixed path subset, area ROIs) through ``run_session``; when
    the job resumes from a checkpoint, the prepared scene comes from it (``resume_boxes()`` gives
    the same ROI boxes) instead of ``prepare()``."""
    from ..edit.checkpoint import has_checkpoint
    from ..edit.job import run_session
    from ..inpaint.prepared import make_editor

    if spec.checkpoint.resume and has_checkpoint(spec.checkpoint_dir()):
        options, new_editor = area_run_options(spec, resume_boxes()), None
    else:
        prepared = prepare()
        options = area_run_options(spec, prepared.boxes)
        new_editor = lambda options_, clip: make_editor(prepared, options_, clip)  # noqa: E731
    run_and_report(spec, lambda s, show_bar: run_session(s, options, new_editor, meta, show_bar=show_bar), args.quiet,
                   args.cpu_note)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..refiners.cli import add_refiner_options

    parser = sub.add_parser("inpaint", help="repaint or remove a masked region of a photo or SVG")
    parser.add_argument("input", help="PNG/JPEG photo (vectorized first) or SVG file; never modified")
    add_run_options(parser)
    parser.add_argument("--mask", help="mask image (white or opaque = the region), resized to the canvas")
    parser.add_argument("--box", metavar="X,Y,W,H", help="the region as a pixel box of the canvas")
    parser.add_argument("--remove", action="store_true",
                        help="remove what the region shows: reset it from its surroundings, --prompt "
                             "describes the background")
    parser.add_argument("--max-size", type=int, default=512,
                        help="long side in pixels a photo is resized to before vectorizing (default 512)")
    add_refiner_options(parser, layered=True)
    return parser


def run(args: argparse.Namespace) -> None:
    for path in filter(None, (args.input, args.mask)):
        if not Path(path).is_file():
            raise InvalidInputError(f"input file not found: {path}")
    if args.mask is None and not args.box:
        raise InvalidInputError("give the region with --mask MASK.png or --box X,Y,W,H")
    if getattr(args, "layered", False) and not args.refiner:
        raise InvalidInputError("--layered needs a --refiner")
    mask_read = None if args.mask is None else check_raster(args.mask)  # before torch loads, as the input in job_spec
    spec = job_spec(args, AREA_OPTIONS, input=args.input)  # checks the shared options and the input before torch
    for target in spec.outputs.paths:
        ensure_not_input(target, tuple(filter(None, (args.mask,))))
    from ..edit.api import load_source
    from ..edit.job import file_digest
    from ..edit.regions import canvas_shape
    from ..inpaint import load_mask, parse_box, prepare_inpaint, prepare_removal
    from ..refiners.cli import refiner_from_args

    box = parse_box(args.box) if args.box else None
    source = args.read.input or args.input  # checked, not read again; one of prepare() and resume_boxes() runs

    def prepare() -> Prepared:
        from ..refiners import LayeredRefiner, refine_layered, refine_prepared

        scene = load_source(source, args.max_size)
        mask = load_mask(canvas_shape(scene), mask_read, box)
        if args.remove:
            make = lambda image: prepare_removal(scene, mask, seed=args.seed, seed_image=image)  # noqa: E731
        else:
            make = lambda image: prepare_inpaint(scene, mask, seed=args.seed, seed_image=image)  # noqa: E731
        refiner = refiner_from_args(args)
        if refiner is None:
            return make(None)
        if args.layered or (getattr(refiner, "layered", False) and not args.remove):
            background = lambda image: prepare_removal(scene, mask, seed=args.seed, seed_image=image)  # noqa: E731
            layers = refiner if hasattr(refiner, "refine_layers") else LayeredRefiner(refiner)
            return refine_layered(background, layers, args.prompt, seed=args.seed, iterations=args.refit_iterations)
        return refine_prepared(make, refiner, args.prompt, seed=args.seed, remove=args.remove,
                               iterations=args.refit_iterations)

    def resume_boxes() -> list:  # the same ROI box from the same input and mask
        from ..inpaint.inpaint import context_box

        return [context_box(load_mask(canvas_shape(load_source(source, args.max_size)), mask_read, box))]

    meta = {"input": file_digest(args.input), "max_size": args.max_size, "box": args.box, "remove": args.remove,
            "mask": file_digest(args.mask) if args.mask else None, **refiner_meta(args)}
    run_prepared(args, spec, prepare, resume_boxes, meta)
