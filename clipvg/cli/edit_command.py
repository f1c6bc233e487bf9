"""``clipvg edit IN -o OUT.svg --prompt TEXT [...]``: text-guided editing of a photo or an SVG.

The command builds a ``JobSpec`` from its arguments and runs ``clipvg.edit.run_job``; it prints the
result. ``add_run_options``, ``job_spec`` and ``run_and_report`` are shared by every command that runs
the editing loop (``clipvg font`` and the inpaint/outpaint commands).
"""
from __future__ import annotations

import argparse
import functools
import sys
from typing import TYPE_CHECKING, Callable

from ..edit.flat import add_arguments, spec_from_options
from ..edit.presets import CPU, cpu_seconds
from ..edit.spec import JobSpec
from ..input_check import check_job_inputs

if TYPE_CHECKING:  # the job's modules load the editor: only when a command runs one
    from ..edit.job import JobResult

# the options every editing command takes (clipvg edit adds the ROI, subset and refiner ones)
RUN_OPTIONS = ("output", "prompt", "quick", "iterations", "patches", "clip_model", "clip_weights", "precision", "seed",
               "device", "deterministic", "backend", "save_every", "checkpoint_every", "checkpoint_seconds",
               "max_seconds", "export_layers")
EDIT_OPTIONS = ("roi", "region_only", "mask", "max_size")


def add_clip_options(parser: argparse.ArgumentParser) -> None:
    """``--clip-model`` and ``--clip-weights``: every command that loads CLIP takes them alike."""
    add_arguments(parser, ("clip_model", "clip_weights"))


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that runs the editing loop: outputs, prompt, model, loop, resume."""
    add_arguments(parser, RUN_OPTIONS)
    parser.add_argument("--resume", metavar="DIR",
                        help="checkpoint directory: continue from its checkpoint if there is one, keep it updated")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("edit", help="edit a photo or SVG toward a text prompt (CLIPVG)")
    parser.add_argument("input", help="PNG/JPEG photo (vectorized first) or SVG file; never modified")
    add_run_options(parser)
    subset = parser.add_mutually_exclusive_group()
    add_arguments(subset, ("colors_only", "shapes_only"))
    add_arguments(parser, EDIT_OPTIONS)
    from ..refiners.cli import add_refiner_options
    add_refiner_options(parser)
    return parser


def job_spec(args: argparse.Namespace, names: tuple[str, ...],
             check_inputs: Callable[[JobSpec], object] | None = check_job_inputs, **values) -> JobSpec:
    """The JobSpec of the parsed options ``names`` (plus ``values``, e.g. the input), with the
    command line's checkpoint rules: ``--resume DIR`` continues from DIR and keeps it updated;
    without it a new edit starts, and its checkpoint is kept when ``--save-every`` asks for one. On the
    CPU, unset steps and patches take the CPU preset; ``args.cpu_note`` is then the start line that
    announces it (``cpu_preset_note``), else "". ``check_inputs(spec)`` checks the input files after the
    prompt and options and before torch loads: by default ``clipvg.input_check.check_job_inputs`` (the input
    SVG or raster and the mask); None checks none. ``args.read`` is what it returns: for
    ``check_job_inputs`` what was read (``JobReads``: the input, an SVG read or a photo decoded, and the mask
    decoded; the job builds its Scene and region from them, ``run_job``'s ``read``, ``load_source`` of its input),
    else None."""
    options = {name: getattr(args, name) for name in names if hasattr(args, name)}
    spec = spec_from_options({**options, **values})  # refuse a bad prompt or option before cpu_preset loads torch
    args.read = check_inputs(spec) if check_inputs else None  # and a broken or oversized input file
    args.cpu_note = cpu_preset_note(spec) if cpu_preset(spec, options) else ""
    spec.checkpoint.directory = args.resume
    spec.checkpoint.resume = args.resume is not None
    spec.checkpoint.keep = args.resume is not None or args.save_every is not None
    return spec


def cpu_preset(spec: JobSpec, options: dict) -> bool:
    """Put ``presets.CPU``'s steps and patches into ``spec`` where the user set neither flag nor ``--quick``,
    when the edit runs on the CPU (``--device cpu``, or no GPU); True when it changed something."""
    import torch

    device = options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    if options.get("quick") or not str(device).startswith("cpu"):
        return False
    preset = {name: value for name, value in CPU.items() if name not in options}
    spec.steps = preset.get("iterations", spec.steps)
    spec.clip.patches = preset.get("patches", spec.clip.patches)
    return bool(preset)


def cpu_preset_note(spec: JobSpec) -> str:
    """One line: CLIP's precision (what ``--precision auto`` chose and why), the CPU preset's steps and
    patches, the expected time, how to restore the paper's setting."""
    from losses.precision import resolve_precision

    precision = resolve_precision(spec.clip.precision, "cpu")
    why = {"auto": " (native bf16 on this CPU; --precision fp32 for float32)" if precision == "bf16"
           else " (this CPU has no native bf16)"}.get(spec.clip.precision, "")
    views = len(spec.regions) + bool(spec.prompt.strip())
    expected = (f"about {cpu_seconds(spec.steps, spec.clip.patches, views, precision) / 60:.0f} min on 2 cores"
                if spec.clip.model == "ViT-B-32" else "time depends on the CLIP model")
    return (f"clipvg: no GPU: CLIP in {precision}{why}; {spec.steps} steps of {spec.clip.patches} patches, "
            f"{expected} (--patches 64 --iterations 150 for the paper's setting)")


def run_and_report(spec: JobSpec, run: Callable[..., JobResult], quiet: bool, note: str = "") -> None:
    """Print ``note`` (if any) to stderr, ``run(spec, show_bar=...)``, then print its summary; Ctrl-C
    prints how to continue and raises KeyboardInterrupt."""
    if note:
        print(note, file=sys.stderr)
    result = run(spec, show_bar=not quiet)
    print(result.message)
    if result.status != "finished":
        hint = f"; continue with --resume {result.checkpoint}" if result.checkpoint else ""
        print(f"interrupted at step {result.steps}{hint}", file=sys.stderr)
        raise KeyboardInterrupt


def run(args: argparse.Namespace) -> None:
    from ..edit.flat import refiner_options

    names = RUN_OPTIONS + EDIT_OPTIONS + ("colors_only", "shapes_only", *refiner_options())
    spec = job_spec(args, names, input=args.input)  # checked before the editor's modules (torch) load
    from ..edit.job import run_job

    run_and_report(spec, functools.partial(run_job, read=args.read), args.quiet, args.cpu_note)
