"""``clipvg edit IN -o OUT.svg --prompt TEXT [...]``: text-guided editing of a photo or an SVG.

``add_run_options`` and ``run_session`` are shared by every command that runs the editing loop
(``clipvg font`` and the inpaint/outpaint commands).
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Callable

from ..atomic import ensure_not_input
from ..edit.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from ..edit.editor import Editor
from ..edit.options import EditOptions
from ..edit.outputs import FrameRecorder, check_targets, export_layers, write_scene
from ..errors import ClipvgError, InvalidInputError


def parse_roi(text: str) -> tuple[tuple[int, int, int, int], str]:
    """``"X,Y,W,H=TEXT"`` (whole pixels) -> ((x, y, w, h), text); raises InvalidInputError when malformed."""
    box_text, sep, prompt = text.partition("=")
    try:
        box = tuple(int(v) for v in box_text.split(","))
    except ValueError:
        box = ()
    if not sep or len(box) != 4 or not prompt.strip():
        raise InvalidInputError(f"malformed ROI {text!r}; write X,Y,W,H=TEXT, e.g. --roi 10,20,100,80='a cat'")
    if box[2] <= 0 or box[3] <= 0:
        raise InvalidInputError(f"ROI {text!r} has a zero or negative size; width and height must be positive")
    return box, prompt.strip()


def clip_weights(text: str) -> str | None:
    """``--clip-weights``: a tag or checkpoint path; ``none`` means random weights."""
    return None if text.lower() == "none" else text


def add_clip_options(parser: argparse.ArgumentParser) -> None:
    """``--clip-model`` and ``--clip-weights``: every command that loads CLIP takes them alike."""
    parser.add_argument("--clip-model", default="ViT-B-32",
                        help="open_clip architecture name or model-config JSON (default ViT-B-32)")
    parser.add_argument("--clip-weights", type=clip_weights, default="openai",
                        help="pretrained tag (downloaded on first use), local checkpoint path, or 'none' "
                             "for random weights (default openai)")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that runs the editing loop: outputs, prompt, model, loop, resume."""
    parser.add_argument("-o", "--output", action="append", required=True, metavar="OUT",
                        help="file to write: .svg (layers kept), .png or .pdf; repeat for several")
    parser.add_argument("--prompt", required=True, help="text describing the result, e.g. 'a green circle'")
    parser.add_argument("--iterations", type=int, default=150, help="optimisation steps (default 150)")
    parser.add_argument("--patches", type=int, default=64, help="random patches per ROI and step (default 64)")
    add_clip_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same SVG")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--deterministic", action="store_true", default=None,
                        help="bit-identical results for a seed on CUDA too (slower there; always on for the CPU)")
    parser.add_argument("--backend", choices=("torch", "diffvg"), default="torch",
                        help="renderer the edit differentiates: torch (default) or diffvg (pydiffvg, if "
                             "installed, as CLIPVG; see README)")
    parser.add_argument("--save-every", type=int, metavar="N",
                        help="every N steps save a frame (OUT_frames/), a checkpoint, and at the end OUT.gif")
    parser.add_argument("--resume", metavar="DIR",
                        help="checkpoint directory: continue from its checkpoint if there is one, keep it updated")
    parser.add_argument("--export-layers", action="store_true",
                        help="also write one transparent PNG and one SVG per layer into OUT_layers/")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("edit", help="edit a photo or SVG toward a text prompt (CLIPVG)")
    parser.add_argument("input", help="PNG/JPEG photo (vectorized first) or SVG file; never modified")
    add_run_options(parser)
    parser.add_argument("--roi", action="append", default=[], metavar="X,Y,W,H=TEXT",
                        help="a region (pixels of the vectorized canvas) with its own prompt; repeatable")
    subset = parser.add_mutually_exclusive_group()
    subset.add_argument("--colors-only", action="store_true", help="change colours only (points stay put)")
    subset.add_argument("--shapes-only", action="store_true", help="change shapes only (colours stay put)")
    parser.add_argument("--region-only", action="store_true",
                        help="only paths touching the ROI boxes (or --mask) change; the rest stays identical")
    parser.add_argument("--mask", help="region mask image (white = inside); implies --region-only")
    parser.add_argument("--max-size", type=int, default=512,
                        help="long side in pixels a photo is resized to before vectorizing (default 512)")
    from ..refiners.cli import add_refiner_options
    add_refiner_options(parser)
    return parser


def file_digest(path: str | Path) -> str:
    """Short SHA-256 of a file's bytes (ties a checkpoint to its input)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _check_count(name: str, value: int | None, minimum: int) -> None:
    if value is not None and value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")


def run_options(args: argparse.Namespace, params: str | list[str], **extra) -> EditOptions:
    """EditOptions from the shared options; ``extra`` adds fields (rois, region_mask, ...)."""
    _check_count("--iterations", args.iterations, 0)
    _check_count("--save-every", args.save_every, 1)
    _check_count("--patches", args.patches, 0)
    return EditOptions(args.prompt, params=params, iterations=args.iterations, seed=args.seed, device=args.device,
                       deterministic=args.deterministic,
                       clip_model=args.clip_model, clip_weights=args.clip_weights, num_patches=args.patches,
                       backend=args.backend, **extra)


def run_session(args: argparse.Namespace, options: EditOptions, new_editor: Callable[[EditOptions], Editor],
                inputs: tuple[str, ...], meta: dict) -> None:
    """Run an edit from the shared options: resume from ``--resume DIR`` or start with
    ``new_editor(options)``, frames and checkpoints every ``--save-every`` steps, write the outputs
    (also on Ctrl-C, then raise KeyboardInterrupt, and when a step fails, then re-raise its error)."""
    check_targets(args.output)
    for target in args.output:
        ensure_not_input(target, inputs)
    stem = Path(args.output[0]).with_suffix("")
    checkpoints = Path(args.resume) if args.resume else stem.with_name(stem.name + ".checkpoint")
    start = time.perf_counter()
    if args.resume and has_checkpoint(args.resume):
        editor = load_checkpoint(args.resume, options, meta=meta)
    else:
        editor = new_editor(options)
    frames = FrameRecorder(stem.with_name(stem.name + "_frames")) if args.save_every else None
    if frames and editor.step_count == 0:
        frames.add(editor.scene, 0)

    def every_n(step: int, loss: float, editor: Editor) -> None:
        if frames and step % args.save_every == 0:
            frames.add(editor.scene, step)
            save_checkpoint(editor, checkpoints, meta)

    failure = None
    try:
        interrupted, mid_step = editor.run(callback=every_n, progress=not args.quiet), False
    except KeyboardInterrupt:  # a second Ctrl-C: the scene may be mid-step, so no checkpoint
        interrupted, mid_step = True, True
    except ClipvgError as error:  # e.g. a non-finite gradient: keep the last good state
        interrupted, mid_step, failure = False, False, error
    for target in args.output:
        write_scene(editor.scene, target, inputs)
    if args.export_layers:
        export_layers(editor.scene, stem.with_name(stem.name + "_layers"), inputs)
    if frames:
        frames.add(editor.scene, editor.step_count)
        frames.write_gif(stem.with_suffix(".gif"))
    if (interrupted or args.resume) and not mid_step:
        save_checkpoint(editor, checkpoints, meta)
    loss = f"{editor.losses[-1]:.4f}" if editor.losses else "n/a"
    print(f"wrote {', '.join(args.output)} ({editor.scene.num_paths} paths, step {editor.step_count}/"
          f"{options.iterations}, loss {loss}, {time.perf_counter() - start:.1f} s)")
    if failure is not None:
        raise failure
    if interrupted:
        hint = "" if mid_step else f"; continue with --resume {checkpoints}"
        print(f"interrupted at step {editor.step_count}{hint}", file=sys.stderr)
        raise KeyboardInterrupt


def run(args: argparse.Namespace) -> None:
    from ..edit.api import load_source
    from ..refiners import refine_scene
    from ..refiners.cli import refiner_from_args, refiner_meta

    for path in filter(None, (args.input, args.mask)):
        if not Path(path).is_file():
            raise InvalidInputError(f"input file not found: {path}")
    params = ["colors_only" if args.colors_only else "shapes_only" if args.shapes_only else "all"]
    region_only = args.region_only or args.mask is not None
    rois = [parse_roi(text) for text in args.roi]
    options = run_options(args, params + ["region_only"] * region_only, rois=rois, region_mask=args.mask)
    refiner = refiner_from_args(args)

    def new_editor(edit_options: EditOptions) -> Editor:
        scene = load_source(args.input, args.max_size)
        if refiner is not None:
            scene = refine_scene(scene, refiner, args.prompt, seed=args.seed, iterations=args.refit_iterations)
        return Editor(scene, edit_options)

    run_session(args, options, new_editor, (args.input,),
                {"input": file_digest(args.input), "max_size": args.max_size, **refiner_meta(args)})
