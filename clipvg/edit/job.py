"""``run_job(spec, progress=, cancel=) -> JobResult``: the one edit job behind the CLI, batch and the
web editor.

A job loads or vectorizes its input (or continues from its checkpoint), optimises, saves checkpoints
by its policy, and writes its outputs atomically; it owns its checkpoint directory while it runs
(``clipvg.edit.ownership``), so two processes never write one job's outputs. Front ends build a
``JobSpec`` and read the ``JobResult``; none of them has a step loop of its own.

``run_session`` is the same machinery for commands that prepare their scene themselves (``clipvg
font``, ``inpaint``, ``outpaint``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..atomic import check_writable, ensure_not_input
from ..crossings import check_edit
from ..errors import ClipvgError, InvalidInputError
from ..input_check import JobReads, ReadRaster
from ..limits import using
from ..scene import Scene
from .checkpoint import checkpoint_file, has_checkpoint, load_checkpoint, save_checkpoint
from .editor import Editor
from .memory import MemoryGuard
from .options import EditOptions
from .outputs import FrameRecorder, check_targets, export_layers, output_bytes, write_scene
from .ownership import JobLock, own_job
from .spec import JobSpec

if TYPE_CHECKING:
    from ..svg.reader import ReadSVG

Cancel = threading.Event | Callable[[], bool] | None
NewEditor = Callable[[EditOptions, Any], Editor]  # (options, clip or None) -> a fresh Editor
FINISHED, CANCELLED, INTERRUPTED = "finished", "cancelled", "interrupted"


@dataclass
class JobProgress:
    """What ``progress`` receives: the ``phase`` ("preparing", "editing", "writing"), ``step`` of
    ``total``, the last ``loss`` (None before the first step), seconds ``elapsed`` since the job
    started, ``checkpoint_step`` (the step of the last checkpoint written, None if none) and the
    live ``scene`` (read it, e.g. for a preview; do not modify it; None while preparing)."""

    phase: str
    step: int
    total: int
    loss: float | None
    elapsed: float
    checkpoint_step: int | None = None
    scene: Scene | None = None


@dataclass
class JobResult:
    """What a job did. ``status``: "finished", "cancelled" (``cancel``, or ``max_seconds``)
    or "interrupted" (Ctrl-C); ``files`` every file written (outputs first, then layers, frames,
    GIF); ``steps`` done of ``total``; ``losses`` one per step (the resumed steps' included);
    ``resumed_from`` the step a checkpoint continued from (None: started afresh); ``checkpoint``
    the checkpoint directory when one is left to resume from; ``timings`` seconds per phase
    (prepare, optimise, write, and the editor's render/clip/render_backward/optimizer);
    ``num_paths`` of the scene; ``taken_over_from`` a description of the dead process whose job
    this one took over."""

    status: str
    files: list[str]
    steps: int
    total: int
    losses: list[float]
    resumed_from: int | None
    checkpoint: str | None
    timings: dict[str, float]
    num_paths: int
    taken_over_from: str | None = None
    message: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """One line: what was written, paths, steps, last loss, seconds."""
        loss = f"{self.losses[-1]:.4f}" if self.losses else "n/a"
        seconds = sum(self.timings.get(k, 0.0) for k in ("prepare", "optimise", "write"))
        outputs = [f for f in self.files if not Path(f).parent.name.endswith(("_layers", "_frames"))]
        return (f"wrote {', '.join(outputs)} ({self.num_paths} paths, step {self.steps}/{self.total}, loss {loss}, "
                f"{seconds:.1f} s)")


def edit_options(spec: JobSpec, mask: ReadRaster | None = None) -> EditOptions:
    """The EditOptions of ``spec`` (its prompt, regions, subset, CLIP and loop settings); ``mask``: its region mask
    already decoded (``JobReads.mask``), whose pixels the editor takes instead of decoding the file again."""
    rois = [dict(prompt=r.prompt, box=tuple(r.box), num_patches=spec.clip.patches if r.patches is None else r.patches)
            for r in spec.regions]
    return EditOptions(spec.prompt.strip(), rois=rois, params=spec.subset.names(), iterations=spec.steps,
                       seed=spec.seed, device=spec.device, clip_model=spec.clip.model, clip_weights=spec.clip.weights,
                       precision=spec.clip.precision, source_prompt=spec.clip.source_prompt,
                       num_patches=spec.clip.patches, region_mask=spec.subset.mask if mask is None else mask,
                       deterministic=spec.deterministic, backend=spec.backend)


def file_digest(path: str | Path) -> str:
    """Short SHA-256 of a file's bytes (ties a checkpoint to its input)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def input_meta(spec: JobSpec) -> dict:
    """Checkpoint meta of what the edit starts from (a resume must start from the same)."""
    source = file_digest(spec.input) if spec.input is not None else hashlib.sha256(spec.svg.encode()).hexdigest()[:16]
    refiner = None if spec.refiner is None else dataclasses.asdict(spec.refiner)
    return {"input": source, "max_size": spec.size, "refiner": refiner}


def load_scene(spec: JobSpec, read: ReadSVG | ReadRaster | None = None) -> Scene:
    """The scene ``spec`` starts from: its SVG (file or markup) read, or its photo vectorized; ``read``: its
    input file already read (``JobReads.input`` of ``clipvg.input_check.check_job_inputs``): an SVG's Scene is
    built, a photo's pixels vectorized, without reading the file again."""
    from .api import load_source
    from ..svg import load_svg

    if spec.svg is not None:
        return load_svg(spec.svg)
    return load_source(spec.input if read is None else read, spec.size)


def check_resources(scene: Scene, spec: JobSpec, what: str) -> None:
    """ResourceLimitError when editing ``scene`` under ``spec`` exceeds the resource limits (render
    size, paths, points, estimated bytes with the CLIP views of every prompt); ``what`` names the job."""
    views = spec.clip.patches + sum(spec.clip.patches if r.patches is None else r.patches for r in spec.regions)
    check_edit(spec.limits, scene, len(scene.points), scene.num_paths, views, what)


def run_job(spec: JobSpec, progress: Callable[[JobProgress], Any] | None = None, cancel: Cancel = None, *,
            clip=None, show_bar: bool = False, read: JobReads | None = None) -> JobResult:
    """Run the edit ``spec`` describes; returns its JobResult.

    ``progress(JobProgress)`` is called while preparing and after every step; ``cancel`` (a
    ``threading.Event`` or a callable returning True) stops the job after the current step: the
    checkpoint is saved and the outputs are written, status "cancelled". ``clip`` a preloaded
    ``losses.load_clip`` model (default: loaded, and cached, from ``spec.clip``). ``show_bar`` a
    tqdm bar. ``read``: ``spec.input`` and its region mask already read by ``clipvg.input_check.check_job_inputs``
    (the job builds its Scene and region from them instead of reading the files again; the decoded pixels are let
    go when the job continues from a checkpoint). Raises InvalidInputError (bad spec or input), JobOwnedError
    (another live process runs this job), EditOutOfMemoryError (with advice), or the ClipvgError that stopped the
    edit (the outputs and a checkpoint of the last good step are written first).
    """
    spec.validate()
    read = read or JobReads()
    options = edit_options(spec, read.mask)

    def new_editor(edit_options_: EditOptions, clip_) -> Editor:
        scene = load_scene(spec, read.input)
        check_resources(scene, spec, f"job {spec.id or spec.input or 'svg'}")
        if spec.refiner is not None:
            scene = _refine(scene, spec)
        return Editor(scene, edit_options_, clip_)

    # continuing from a checkpoint, the decoded photo and mask are let go before the checkpoint loads
    return run_session(spec, options, new_editor, input_meta(spec), progress, cancel, clip=clip, show_bar=show_bar,
                       on_resume=read.drop)


def _refine(scene: Scene, spec: JobSpec) -> Scene:
    from ..refiners import refine_scene
    from ..refiners.registry import build_refiner

    refiner = build_refiner(spec.refiner.name, spec.refiner.model, spec.device, spec.refiner.settings)
    return refine_scene(scene, refiner, spec.prompt, seed=spec.seed, iterations=spec.refiner.refit_iterations)


def _cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


class _Stop(Exception):
    """Raised from the step callback to stop after a full step (cancel or time limit)."""


def run_session(spec: JobSpec, options: EditOptions, new_editor: NewEditor, meta: dict,
                progress: Callable[[JobProgress], Any] | None = None, cancel: Cancel = None, *, clip=None,
                show_bar: bool = False, on_resume: Callable[[], Any] | None = None) -> JobResult:
    """Run ``options``' edit under ``spec``'s outputs, checkpoint policy and limits: continue from a
    checkpoint when the policy allows and one matches ``options`` and ``meta`` (calling ``on_resume()`` first),
    else start with ``new_editor(options, clip)``. See ``run_job`` for the rest."""
    spec.validate()
    inputs = spec.input_files()
    for target in spec.outputs.paths:
        ensure_not_input(target, inputs)
    check_targets(spec.outputs.paths)  # a PDF needs libcairo: known before any work, not after
    check_writable(tuple(spec.outputs.paths))  # before any work that an unwritable output would lose
    directory = spec.checkpoint_dir()
    start = time.perf_counter()
    with own_job(directory) as lock, MemoryGuard() as guard, using(spec.limits):  # the parsers read spec.limits
        session = _Session(spec, lock, progress, start)
        session.report("preparing", 0, options.iterations, None, None)
        editor, resumed_from = _open(spec, options, new_editor, meta, clip, on_resume)
        guard.editor = session.editor = editor
        check_writable(tuple(spec.outputs.paths), output_bytes(editor.scene, spec.outputs.paths))
        session.timings["prepare"] = time.perf_counter() - start
        return session.run(editor, options, meta, resumed_from, cancel, show_bar)


def _checkpoint_source(spec: JobSpec) -> Path | None:
    """The checkpoint directory the job continues from: its own (when its policy resumes) or ``resume_from``'s,
    the first that holds a checkpoint; None when it starts afresh."""
    policy = spec.checkpoint
    sources = ([spec.checkpoint_dir()] if policy.resume else []) + ([Path(policy.resume_from)] if policy.resume_from else [])
    return next((source for source in sources if has_checkpoint(source)), None)


def _open(spec: JobSpec, options: EditOptions, new_editor: NewEditor, meta: dict, clip,
          on_resume: Callable[[], Any] | None) -> tuple[Editor, int | None]:
    """(editor, the step it resumed from or None): from the job's checkpoint, ``resume_from``'s (calling
    ``on_resume()`` before it loads), or new."""
    source = _checkpoint_source(spec)
    if source is None:
        return new_editor(options, clip), None
    if on_resume is not None:
        on_resume()
    editor = load_checkpoint(source, options, clip, meta=meta)
    return editor, editor.step_count


class _Session:
    """The running part of a job: progress, periodic checkpoints and frames, stop, outputs."""

    def __init__(self, spec: JobSpec, lock: JobLock, progress, start: float) -> None:
        self.spec, self.lock, self.progress, self.start = spec, lock, progress, start
        self.editor: Editor | None = None
        self.timings: dict[str, float] = {}
        self.checkpoint_step: int | None = None
        self.saved_at = time.monotonic()
        first = Path(spec.outputs.paths[0]).with_suffix("")
        self.stem = first
        self.frames = FrameRecorder(first.with_name(first.name + "_frames")) if spec.outputs.frames_every else None

    def report(self, phase: str, step: int, total: int, loss: float | None, scene: Scene | None) -> None:
        if self.progress is not None:
            self.progress(JobProgress(phase, step, total, loss, time.perf_counter() - self.start,
                                      self.checkpoint_step, scene))

    def save(self, editor: Editor, meta: dict) -> None:
        self.lock.check()
        save_checkpoint(editor, self.lock.directory, meta, owner=dataclasses.asdict(self.lock.owner))
        self.checkpoint_step, self.saved_at = editor.step_count, time.monotonic()

    def run(self, editor: Editor, options: EditOptions, meta: dict, resumed_from: int | None, cancel: Cancel,
            show_bar: bool) -> JobResult:
        spec, policy, total = self.spec, self.spec.checkpoint, options.iterations
        if self.frames and editor.step_count == 0:
            self.frames.add(editor.scene, 0)
        loop_start = time.perf_counter()
        deadline = None if spec.max_seconds is None else time.monotonic() + spec.max_seconds

        def after_step(step: int, loss: float, current: Editor) -> None:
            if self.frames and step % spec.outputs.frames_every == 0:
                self.frames.add(current.scene, step)
            due_steps = policy.every_steps is not None and step % policy.every_steps == 0
            due_time = policy.every_seconds is not None and time.monotonic() - self.saved_at >= policy.every_seconds
            if (due_steps or due_time) and step < total:
                self.save(current, meta)
            self.report("editing", step, total, loss, current.scene)
            if step < total and (_cancelled(cancel) or (deadline is not None and time.monotonic() >= deadline)):
                raise _Stop

        status, mid_step, failure = FINISHED, False, None
        try:
            if editor.run(callback=after_step, progress=show_bar):
                status = INTERRUPTED
        except _Stop:
            status = CANCELLED
        except KeyboardInterrupt:  # a second Ctrl-C: the scene may be mid-step, so no checkpoint
            status, mid_step = INTERRUPTED, True
        except ClipvgError as error:  # e.g. a non-finite gradient: the scene is the last good one
            failure = error
        self.timings["optimise"] = time.perf_counter() - loop_start
        return self.finish(editor, meta, status, mid_step, failure, resumed_from)

    def finish(self, editor: Editor, meta: dict, status: str, mid_step: bool, failure: ClipvgError | None,
               resumed_from: int | None) -> JobResult:
        spec = self.spec
        write_start = time.perf_counter()
        self.report("writing", editor.step_count, editor.options.iterations, editor.losses[-1] if editor.losses else None,
                    editor.scene)
        keep = spec.checkpoint.keep or (status != FINISHED and not mid_step)
        if keep and not mid_step:
            self.save(editor, meta)
        self.lock.check()
        files = self.write_outputs(editor)
        if not keep:
            with contextlib.suppress(FileNotFoundError):
                checkpoint_file(self.lock.directory).unlink()
        self.timings.update(editor.timings, write=time.perf_counter() - write_start)
        previous = self.lock.taken_over_from
        result = JobResult(status, files, editor.step_count, editor.options.iterations, list(editor.losses),
                           resumed_from, str(self.lock.directory) if keep and not mid_step else None,
                           dict(self.timings), editor.scene.num_paths,
                           previous.describe() if previous is not None else None)
        result.message = result.summary()
        if failure is not None:
            raise failure
        return result

    def write_outputs(self, editor: Editor) -> list[str]:
        spec, inputs = self.spec, self.spec.input_files()
        for target in spec.outputs.paths:
            write_scene(editor.scene, target, inputs)
        files = list(spec.outputs.paths)
        if spec.outputs.export_layers:
            files += map(str, export_layers(editor.scene, self.stem.with_name(self.stem.name + "_layers"), inputs))
        if self.frames:
            files.append(str(self.frames.add(editor.scene, editor.step_count)))
            gif = self.frames.write_gif(self.stem.with_suffix(".gif"))
            files += [str(gif)] if gif else []
        return files
