"""Edits of the web editor as ``clipvg.edit`` jobs: the page's request checked and turned into a
``JobSpec`` (``edit_spec``), and one queued edit run through ``run_job`` in a worker process
(``run_edit``), its progress and previews reported to the server, which gives them to the ``Job``
that the event streams read (``apply_report``).

A job's folder (``jobs/<id>/`` in the document) holds its record, its checkpoint and owner lock:
the job writes a checkpoint as it runs (every ``checkpoint_steps`` steps or ``checkpoint_seconds``
seconds), so an edit cut short by a crash resumes from there, and a finished one can be continued.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

from ..edit import (CheckpointPolicy, ClipSettings, JobProgress, JobSpec, Outputs, Region, Subset, inspect_checkpoint,
                    run_job)
from ..errors import ClipvgError, InvalidInputError
from ..limits import ResourceLimits, resource_limits
from ..svg import scene_to_svg_string
from .jobs import Job

CHANGES = {"all": dict(points=True, colors=True, stroke_widths=False),
           "colors_only": dict(points=False, colors=True, stroke_widths=False),
           "shapes_only": dict(points=True, colors=False, stroke_widths=True)}
RESULT = "result.svg"


def parse_int(value: Any, name: str, low: int, high: int) -> int:
    """``value`` as a whole number in [low, high], else InvalidInputError naming ``name``."""
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidInputError(f"{name} must be between {low} and {high}, got {number}")
    return number


def parse_rois(items: Any, width: float, height: float, limit: int) -> list[Region]:
    """The page's boxes ([{x, y, w, h, prompt}] in canvas px) clipped to the canvas, as job regions."""
    if not isinstance(items, list) or len(items) > limit:
        raise InvalidInputError(f"rois must be a list of at most {limit} boxes")
    regions = []
    for number, item in enumerate(items, 1):
        try:
            x, y, w, h = (float(item[k]) for k in ("x", "y", "w", "h"))
            text = str(item.get("prompt") or "").strip()[:1000]
        except (TypeError, KeyError, ValueError, AttributeError):
            raise InvalidInputError(f"ROI {number}: give x, y, w, h and a prompt") from None
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        box = (round(x0), round(y0), round(x1 - x0), round(y1 - y0))
        if box[2] < 1 or box[3] < 1:
            raise InvalidInputError(f"ROI {number} lies outside the picture or is smaller than a pixel")
        if not text:
            raise InvalidInputError(f"ROI {number} has no prompt; describe what this box should show")
        regions.append(Region(box, text))
    return regions


@dataclasses.dataclass
class EditSettings:
    """What the server puts into every edit: the CLIP model and weights, the limits on a request,
    the checkpoint policy (every ``checkpoint_steps`` steps and/or ``checkpoint_seconds`` s) and the
    resource ``limits`` every edit's job spec carries (default: those in force)."""

    clip_model: str
    clip_weights: str | None
    max_iterations: int
    max_patches: int
    max_rois: int
    checkpoint_steps: int | None
    checkpoint_seconds: float | None
    limits: ResourceLimits = dataclasses.field(default_factory=resource_limits)


def edit_spec(request: dict[str, Any], source: Path, width: float, height: float, job_dir: Path,
              settings: EditSettings, defaults: dict[str, Any]) -> JobSpec:
    """The JobSpec of the page's edit ``request`` (prompt, rois, change, region_only, iterations,
    patches, seed) of the version SVG ``source``; checkpoints and the result go to ``job_dir``.
    A prompt, boxes with prompts, or both. Raises InvalidInputError for bad values."""
    change = request.get("change", "all")
    if not isinstance(change, str) or change not in CHANGES:
        raise InvalidInputError(f"change must be one of {', '.join(CHANGES)}, got {change!r}")
    region_only = bool(request.get("region_only", False))
    regions = parse_rois(request.get("rois") or [], width, height, settings.max_rois)
    if region_only and not regions:
        raise InvalidInputError("'only paths touching the boxes' needs at least one ROI box")
    patches = parse_int(request.get("patches", defaults["patches"]), "patches", 0, settings.max_patches)
    spec = JobSpec(
        input=str(source), prompt=str(request.get("prompt") or "").strip()[:1000], regions=regions,
        subset=Subset(**CHANGES[change], region_only=region_only),
        steps=parse_int(request.get("iterations", defaults["iterations"]), "iterations", 1, settings.max_iterations),
        seed=parse_int(request.get("seed", 0), "seed", 0, 2 ** 31 - 1), size=None,
        clip=ClipSettings(model=settings.clip_model, weights=settings.clip_weights, patches=patches),
        outputs=Outputs([str(job_dir / RESULT)]),
        checkpoint=CheckpointPolicy(directory=str(job_dir), every_steps=settings.checkpoint_steps,
                                    every_seconds=settings.checkpoint_seconds, resume=True, keep=True),
        limits=settings.limits, id=job_dir.name)
    if not spec.prompt and not regions:
        raise InvalidInputError("write a prompt for the whole picture, or draw a box and give it a prompt")
    return spec.validate()


def continued_spec(spec: JobSpec, job_dir: Path, total: int, settings: EditSettings) -> JobSpec:
    """``spec`` (an earlier edit's) run on to ``total`` steps from that edit's checkpoint, in ``job_dir``."""
    previous = spec.checkpoint.directory
    return dataclasses.replace(
        spec, steps=total, outputs=Outputs([str(job_dir / RESULT)]), id=job_dir.name,
        checkpoint=CheckpointPolicy(directory=str(job_dir), every_steps=settings.checkpoint_steps,
                                    every_seconds=settings.checkpoint_seconds, resume=True, resume_from=previous,
                                    keep=True))


def checkpoint_step(job_dir: Path) -> tuple[int, list[float]]:
    """(steps done, their losses) of the checkpoint in ``job_dir``; (0, []) without one."""
    try:
        info = inspect_checkpoint(job_dir)
    except ClipvgError:
        return 0, []
    return (info.step, info.losses) if info is not None else (0, [])


def resume_point(spec: JobSpec) -> tuple[int, list[float]]:
    """(step, losses so far) where ``spec`` starts: its own checkpoint, else the one it continues."""
    step, losses = checkpoint_step(Path(spec.checkpoint.directory))
    if not step and spec.checkpoint.resume_from:
        step, losses = checkpoint_step(Path(spec.checkpoint.resume_from))
    return step, losses


@dataclasses.dataclass
class EditOutcome:
    """How an edit ended: ``status`` (finished, stopped, failed), a ``message``, the ``steps`` done
    of ``total`` and their ``losses``, and the written SVG (``svg_file``, None when no step was taken)."""

    status: str
    message: str
    steps: int
    total: int
    losses: list[float]
    svg_file: Path | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``svg_file`` as text)."""
        return {**dataclasses.asdict(self), "svg_file": None if self.svg_file is None else str(self.svg_file)}


def run_edit(spec: JobSpec, clip, device: str, preview_interval: float, report: Callable[..., None],
             cancel: Callable[[], bool]) -> EditOutcome:
    """Run ``spec`` on ``device`` with the CLIP model ``clip`` (in a worker process), reporting
    ("begin", first step, total, losses so far), ("progress", step, loss, checkpoint step) after
    every step and ("preview", SVG text, step) every ``preview_interval`` s; ``cancel()`` stops it
    after a step (the result so far is kept). Errors of the edit (out of memory with its advice, a
    non-finite gradient ...) end it as failed, keeping the steps done when a checkpoint has them."""
    job_dir = Path(spec.checkpoint.directory)
    start_step, losses = resume_point(spec)
    report("begin", start_step, spec.steps, losses)
    last_preview = time.monotonic()

    def progress(state: JobProgress) -> None:
        nonlocal last_preview
        if state.phase != "editing":
            return
        report("progress", state.step, state.loss, state.checkpoint_step)
        if state.step < state.total and time.monotonic() - last_preview >= preview_interval:
            report("preview", scene_to_svg_string(state.scene), state.step)
            last_preview = time.monotonic()

    result_file = Path(spec.outputs.paths[0])
    try:
        result = run_job(dataclasses.replace(spec, device=device), progress=progress, cancel=cancel, clip=clip)
    except ClipvgError as error:  # out of memory (with advice), a bad input, a non-finite gradient...
        steps, losses = checkpoint_step(job_dir)
        kept = result_file if result_file.is_file() and steps > start_step else None
        return EditOutcome("failed", str(error), steps, spec.steps, losses, kept)
    status = {"finished": "finished", "cancelled": "stopped"}.get(result.status, "failed")
    kept = result_file if result.steps > start_step else None
    message = "" if kept else "no step was taken"
    return EditOutcome(status if kept else ("failed" if status == "finished" else status), message, result.steps,
                       result.total, list(result.losses), kept)


JOB_UPDATES = {"begin": Job.begin, "progress": Job.progress, "preview": Job.preview}  # run_edit's reports


def apply_report(job: Job, kind: str, *values) -> None:
    """Give ``job`` one of ``run_edit``'s reports (other kinds are not the job's)."""
    update = JOB_UPDATES.get(kind)
    if update is not None:
        update(job, *values)
