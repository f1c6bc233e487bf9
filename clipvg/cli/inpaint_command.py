"""``clipvg inpaint IN -o OUT.svg --mask MASK.png|--box X,Y,W,H --prompt TEXT [--remove]``: repaint a
region of a photo or SVG; only the region's new layer changes.

``run_prepared`` is shared with ``clipvg outpaint``: it starts an edit on a prepared scene (fixed
path subset, area ROIs) through ``run_session``'s resume path, so both commands get every output,
frame, checkpoint and Ctrl-C behaviour of ``clipvg edit``.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Callable

from ..edit.checkpoint import has_checkpoint
from ..edit.options import EditOptions
from ..errors import InvalidInputError
from ..inpaint.prepared import AreaEditOptions, Prepared, make_editor
from ..refiners.cli import refiner_meta
from .edit_command import add_run_options, file_digest, run_options, run_session


def area_run_options(args: argparse.Namespace, prepared_boxes: list) -> AreaEditOptions:
    """The shared run options as AreaEditOptions whose loss looks at ``prepared_boxes`` only."""
    base = run_options(args, "all")
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(EditOptions)}
    return AreaEditOptions(**fields, area_boxes=tuple(tuple(int(v) for v in b) for b in prepared_boxes))


def run_prepared(args: argparse.Namespace, prepare: Callable[[], Prepared],
                 options_for: Callable[[Prepared | None], EditOptions], inputs: tuple[str, ...], meta: dict) -> None:
    """Run an edit on a prepared scene (fixed path subset, area ROIs) through ``run_session``; with
    ``--resume DIR`` holding a checkpoint, the prepared scene comes from the checkpoint instead."""
    if args.resume and has_checkpoint(args.resume):
        options = options_for(None)
        run_session(args, options, lambda _: None, inputs, meta)  # resumes; never builds an editor
        return
    prepared = prepare()
    run_session(args, options_for(prepared), lambda options: make_editor(prepared, options), inputs, meta)


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
    from ..edit.api import load_source
    from ..edit.regions import canvas_shape
    from ..inpaint import load_mask, parse_box, prepare_inpaint, prepare_removal
    from ..refiners.cli import refiner_from_args

    for path in filter(None, (args.input, args.mask)):
        if not Path(path).is_file():
            raise InvalidInputError(f"input file not found: {path}")
    box = parse_box(args.box) if args.box else None
    if args.mask is None and box is None:
        raise InvalidInputError("give the region with --mask MASK.png or --box X,Y,W,H")
    if getattr(args, "layered", False) and not args.refiner:
        raise InvalidInputError("--layered needs a --refiner")
    run_options(args, "all")  # check the shared options before any heavy work

    def prepare() -> Prepared:
        from ..refiners import LayeredRefiner, refine_layered, refine_prepared

        scene = load_source(args.input, args.max_size)
        mask = load_mask(canvas_shape(scene), args.mask, box)
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

    def options_for(prepared: Prepared | None) -> EditOptions:
        if prepared is None:  # resuming: the same ROI box from the same input and mask
            from ..inpaint.inpaint import context_box

            return area_run_options(args, [context_box(load_mask(canvas_shape(load_source(args.input, args.max_size)),
                                                                 args.mask, box))])
        return area_run_options(args, prepared.boxes)

    meta = {"input": file_digest(args.input), "max_size": args.max_size, "box": args.box, "remove": args.remove,
            "mask": file_digest(args.mask) if args.mask else None, **refiner_meta(args)}
    run_prepared(args, prepare, options_for, (args.input,) + ((args.mask,) if args.mask else ()), meta)
