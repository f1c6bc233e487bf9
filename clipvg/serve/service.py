"""The server's state and work, without HTTP: settings (``ServeConfig``), the CLIP model loaded once
per device (``ModelPool``), documents in the work directory, and the queues that run edits (one at a
time per device) and vectorize photos. Editing goes through ``clipvg.edit``'s public API only."""
from __future__ import annotations

import io
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..edit import EditOptions, Editor, load_checkpoint, save_checkpoint
from ..edit.editor import resolve_device
from ..errors import ClipvgError, InvalidInputError
from ..svg import load_svg, scene_to_svg_string
from .jobs import Job, JobQueue
from .security import UploadError, check_svg_markup, gunzip_limited, sniff
from .store import DocumentStore, NotFound

log = logging.getLogger("clipvg.serve")

EXAMPLES_DIR = Path(__file__).with_name("examples")
REPO_EXAMPLE_PHOTO = Path(__file__).resolve().parents[2] / "examples" / "data" / "astronaut.png"
CHANGES = ("all", "colors_only", "shapes_only")


def default_work_dir() -> Path:
    """``$XDG_CACHE_HOME/clipvg/serve`` (default ``~/.cache/clipvg/serve``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "clipvg" / "serve"


@dataclass
class ServeConfig:
    """Settings of one ``clipvg serve`` process.

    ``host``/``token``: the address served and the access token (required unless ``host`` is
    loopback). ``devices``: one edit runs at a time on each (default cuda when available, else cpu).
    ``clip_model``/``clip_weights`` as for ``clipvg edit``. ``max_upload_bytes``: bigger uploads get
    413. ``preview_interval``: seconds between live SVG updates of a running edit. ``defaults``: what
    the page's fields start with.
    """

    work_dir: Path = field(default_factory=default_work_dir)
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    devices: tuple[str, ...] = ()
    clip_model: str = "ViT-B-32"
    clip_weights: str | None = "openai"
    max_upload_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_iterations: int = 5000
    max_patches: int = 512
    max_rois: int = 16
    preview_interval: float = 0.5
    preload: bool = False
    defaults: dict[str, Any] = field(default_factory=lambda: dict(
        iterations=150, patches=64, seed=0, rounds="10,30", max_size=512, prompt=""))

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)
        self.devices = tuple(str(resolve_device(d)) for d in (self.devices or (None,)))


class ModelPool:
    """The CLIP model, loaded at most once per device for the life of the process (a failed load,
    e.g. missing weights, is retried by the next edit)."""

    def __init__(self, model: str, weights: str | None) -> None:
        self.model, self.weights = model, weights
        self.loads = 0
        self.status = "not loaded"
        self.error = ""
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, device: str):
        with self._lock:
            if device not in self._models:
                import losses

                self.status = "loading"
                try:
                    self._models[device] = losses.load_clip(self.model, self.weights, device=device)
                except Exception as error:
                    self.status, self.error = "failed", str(error)
                    raise InvalidInputError(
                        f"cannot load the CLIP model {self.model} with weights {self.weights}: {error} "
                        "(restart clipvg serve with other --clip-model/--clip-weights)") from None
                self.loads += 1
                self.status, self.error = "ready", ""
            return self._models[device]


class _StopEdit(Exception):
    """Raised from the editor callback when the user pressed Stop (after a full step)."""


def parse_rounds(text: Any) -> tuple[int, ...]:
    """``"10,30"`` -> (10, 30): 1 to 6 rounds of 2 to 256 colours."""
    try:
        rounds = tuple(int(v) for v in str(text).replace(" ", "").split(",") if v)
    except ValueError:
        rounds = ()
    if not 1 <= len(rounds) <= 6 or not all(2 <= r <= 256 for r in rounds):
        raise InvalidInputError(f"rounds {text!r}: give 1 to 6 colour counts between 2 and 256, e.g. 10,30")
    return rounds


def parse_int(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidInputError(f"{name} must be between {low} and {high}, got {number}")
    return number


class Service:
    """Documents, queues and model of one server process."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store = DocumentStore(config.work_dir)
        self.models = ModelPool(config.clip_model, config.clip_weights)
        self.edits = JobQueue("edit", list(config.devices), self._run_edit)
        self.prep = JobQueue("vectorize", ["cpu"], self._run_vectorize)
        self.jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._submit_lock = threading.Lock()  # one check-then-queue at a time: one active job per document
        self.started = False

    # -- life ----------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.edits.start()
        self.prep.start()
        if self.config.preload:
            threading.Thread(target=self._preload, name="clipvg-preload", daemon=True).start()

    def _preload(self) -> None:
        try:
            self.models.get(self.config.devices[0])
        except ClipvgError as error:
            log.warning("%s", error)

    def close(self) -> None:
        self.edits.close()
        self.prep.close()

    def info(self) -> dict[str, Any]:
        running = self.edits.running()
        return {"version": _version(), "devices": list(self.config.devices), "clip_model": self.config.clip_model,
                "clip_weights": self.config.clip_weights, "model": {"status": self.models.status,
                                                                   "error": self.models.error},
                "queue": {"running": len(running), "waiting": self.edits.pending_count()},
                "max_upload_bytes": self.config.max_upload_bytes, "defaults": self.config.defaults,
                "limits": {"iterations": self.config.max_iterations, "patches": self.config.max_patches,
                           "rois": self.config.max_rois},
                "examples": self.examples()}

    # -- jobs ----------------------------------------------------------------------------------------
    def _add_job(self, job: Job, queue: JobQueue) -> Job:
        with self._jobs_lock:
            self.jobs[job.id] = job
            if len(self.jobs) > 5000:  # forget the oldest finished jobs
                for old in [j for j in self.jobs.values() if j.done][:1000]:
                    del self.jobs[old.id]
        self.store.update(job.document, job=job.id)
        return queue.submit(job)

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    def stop(self, job_id: str) -> Job:
        job = self.job(job_id)
        job.queue.stop(job)
        return job

    def document(self, doc_id: str) -> dict[str, Any]:
        """The document's metadata, with its current job's state if any."""
        document = self.store.get(doc_id)
        job = self.jobs.get(document.get("job") or "")
        document["job"] = job.snapshot() if job is not None else None
        return document

    # -- opening pictures ----------------------------------------------------------------------------
    def examples(self) -> list[dict[str, str]]:
        found = [{"name": p.stem, "title": f"{p.stem.replace('_', ' ')} (SVG)"}
                 for p in sorted(EXAMPLES_DIR.glob("*.svg"))]
        if REPO_EXAMPLE_PHOTO.is_file():
            found.append({"name": "astronaut", "title": "astronaut (photo)"})
        return found

    def open_example(self, name: str, rounds: Any = None, max_size: Any = None) -> tuple[dict, Job | None]:
        by_name = {e["name"]: e for e in self.examples()}
        if name not in by_name:
            raise NotFound(f"no example {name!r}")
        path = REPO_EXAMPLE_PHOTO if name == "astronaut" else EXAMPLES_DIR / f"{name}.svg"
        return self.open_upload(path.read_bytes(), path.name, rounds, max_size)

    def open_upload(self, data: bytes, name: str, rounds: Any = None, max_size: Any = None) -> tuple[dict, Job | None]:
        """A new document from uploaded bytes, recognised by content: an SVG is read now (through
        clipvg's reader; version 0 is clipvg's re-written SVG), a photo is vectorized by a queued job."""
        config = self.config
        kind = sniff(data)
        name = str(name or "picture")[:200]
        if kind is None:
            raise UploadError(415, "not a PNG, JPEG, WebP or SVG file (files are recognised by their content, "
                                   "not their name)")
        if kind == "svgz":
            data, kind = gunzip_limited(data, config.max_upload_bytes), "svg"
            if sniff(data) != "svg":
                raise UploadError(415, "the gzip file does not hold an SVG")
        if kind == "svg":
            check_svg_markup(data)
            scene = _read_svg(data, self.store.root)
            document = self.store.create(name, "svg")
            self.store.add_version(document["id"], scene, kind="source", status="finished",
                                   title="opened " + name)
            return self.document(document["id"]), None
        rounds = parse_rounds(config.defaults["rounds"] if rounds in (None, "") else rounds)
        max_size = parse_int(config.defaults["max_size"] if max_size in (None, "") else max_size,
                             "max size", 16, 4096)
        image = _open_photo(data, config.max_pixels)
        document = self.store.create(name, "photo", rounds=list(rounds), max_size=max_size)
        job = self._add_job(Job("vectorize", document["id"], {"image": image, "rounds": rounds,
                                                               "max_size": max_size}), self.prep)
        return self.document(document["id"]), job

    def _run_vectorize(self, job: Job, device: str) -> None:
        import vectorize

        spec = job.spec
        job.begin(0, len(spec["rounds"]), [])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scene = vectorize.vectorize(spec.pop("image"), rounds=spec["rounds"], max_size=spec["max_size"])
        except ClipvgError as error:
            job.end("failed", f"cannot vectorize this picture: {error}")
            return
        except MemoryError:
            job.end("failed", "out of memory while vectorizing; try a smaller max size")
            return
        rounds = ",".join(map(str, spec["rounds"]))
        entry = self.store.add_version(job.document, scene, kind="source", status="finished",
                                       title=f"vectorized ({rounds} colours, max {spec['max_size']} px)")
        job.step = len(spec["rounds"])
        job.end("finished", version=entry["index"])

    # -- edits ---------------------------------------------------------------------------------------
    def start_edit(self, doc_id: str, request: dict[str, Any]) -> Job:
        """Queue an edit of one version of a document; ``request`` holds version, prompt, rois
        ([{x, y, w, h, prompt}]), change (all/colors_only/shapes_only), region_only, iterations,
        patches and seed. Bad values raise InvalidInputError."""
        with self._submit_lock:
            return self._start_edit(doc_id, request)

    def _start_edit(self, doc_id: str, request: dict[str, Any]) -> Job:
        config = self.config
        document = self.store.get(doc_id)
        self._check_idle(document)
        version = parse_int(request.get("version", len(document["versions"]) - 1), "version", 0,
                            max(len(document["versions"]) - 1, 0))
        self.store.version(doc_id, version)
        prompt = str(request.get("prompt") or "").strip()[:1000]
        change = request.get("change", "all")
        if change not in CHANGES:
            raise InvalidInputError(f"change must be one of {', '.join(CHANGES)}, got {change!r}")
        region_only = bool(request.get("region_only", False))
        rois = self._rois(request.get("rois") or [], document)
        options = dict(prompt=prompt, rois=rois, params=[change] + ["region_only"] * region_only,
                       iterations=parse_int(request.get("iterations", config.defaults["iterations"]), "iterations",
                                            1, config.max_iterations),
                       num_patches=parse_int(request.get("patches", config.defaults["patches"]), "patches", 0,
                                             config.max_patches),
                       seed=parse_int(request.get("seed", 0), "seed", 0, 2 ** 31 - 1))
        self._options(options, config.devices[0])  # validate now, so mistakes answer 400
        if region_only and not rois:
            raise InvalidInputError("'only paths touching the boxes' needs at least one ROI box")
        return self._add_job(Job("edit", doc_id, {"base": version, "options": options, "resume": False}),
                             self.edits)

    def continue_edit(self, doc_id: str, version: int, iterations: Any = None) -> Job:
        """Queue the continuation of the edit that made ``version`` (its checkpoint): to the edit's
        total if it was stopped early, else ``iterations`` more steps (default: as many as before)."""
        with self._submit_lock:
            return self._continue_edit(doc_id, version, iterations)

    def _continue_edit(self, doc_id: str, version: int, iterations: Any) -> Job:
        document = self.store.get(doc_id)
        self._check_idle(document)
        entry = self.store.version(doc_id, parse_int(version, "version", 0, 10 ** 6))
        if not entry.get("checkpoint") or not (self.store.checkpoint_dir(doc_id, entry["index"])
                                               / "checkpoint.pt").is_file():
            raise InvalidInputError(f"version {entry['index']} is not an edit that can be continued; start a new edit")
        options = dict(entry["options"])
        steps, total = entry["steps"], entry["total"]
        more = parse_int(options["iterations"] if iterations in (None, "") else iterations, "iterations", 1,
                         self.config.max_iterations)
        options["iterations"] = total if steps < total else steps + more
        return self._add_job(Job("edit", doc_id, {"base": entry["index"], "options": options, "resume": True}),
                             self.edits)

    def _check_idle(self, document: dict) -> None:
        job = self.jobs.get(document.get("job") or "")
        if job is not None and not job.done:
            raise InvalidInputError("this document already has a job queued or running (an edit, or vectorizing); stop it first")

    def _rois(self, items: Any, document: dict) -> list[tuple[tuple[int, int, int, int], str]]:
        if not isinstance(items, list) or len(items) > self.config.max_rois:
            raise InvalidInputError(f"rois must be a list of at most {self.config.max_rois} boxes")
        width, height = document["width"] or 0, document["height"] or 0
        rois = []
        for number, item in enumerate(items, 1):
            try:
                x, y, w, h = (float(item[k]) for k in ("x", "y", "w", "h"))
                text = str(item.get("prompt") or "").strip()[:1000]
            except (TypeError, KeyError, ValueError):
                raise InvalidInputError(f"ROI {number}: give x, y, w, h and a prompt") from None
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(width, x + w), min(height, y + h)
            box = (round(x0), round(y0), round(x1 - x0), round(y1 - y0))
            if box[2] < 1 or box[3] < 1:
                raise InvalidInputError(f"ROI {number} lies outside the picture or is smaller than a pixel")
            if not text:
                raise InvalidInputError(f"ROI {number} has no prompt; describe what this box should show")
            rois.append((box, text))
        return rois

    def _options(self, options: dict, device: str) -> EditOptions:
        return EditOptions(**options, device=device, clip_model=self.config.clip_model,
                           clip_weights=self.config.clip_weights)

    def _run_edit(self, job: Job, device: str) -> None:
        spec, doc_id = job.spec, job.document
        meta = {"document": doc_id}
        editor = None
        try:
            clip = self.models.get(device)
            options = self._options(spec["options"], device)
            if spec["resume"]:
                editor = load_checkpoint(self.store.checkpoint_dir(doc_id, spec["base"]), options, clip, meta=meta)
            else:
                editor = Editor(self.store.load_scene(doc_id, spec["base"]), options, clip)
        except ClipvgError as error:
            job.end("failed", str(error))
            return
        except torch.cuda.OutOfMemoryError:
            _free_memory()
            job.end("failed", "the GPU ran out of memory while preparing the edit; try fewer patches or a smaller "
                              "picture")
            return
        total = options.iterations
        job.begin(editor.step_count, total, editor.losses)
        last_preview = time.monotonic()

        def callback(step: int, loss: float, current: Editor) -> None:
            nonlocal last_preview
            job.progress(step, loss)
            if step < total and time.monotonic() - last_preview >= self.config.preview_interval:
                job.preview(scene_to_svg_string(current.scene), step)
                last_preview = time.monotonic()
            if job.stop_requested.is_set():
                raise _StopEdit

        status, message, start_step = "finished", "", editor.step_count
        try:
            editor.run(iterations=total, callback=callback)
        except _StopEdit:
            status = "stopped"
        except torch.cuda.OutOfMemoryError:
            _free_memory()
            status, message = "failed", ("the GPU ran out of memory; try fewer patches or a smaller picture "
                                         "(the result so far is kept)")
        except MemoryError:
            status, message = "failed", "out of memory; try fewer patches or a smaller picture"
        except ClipvgError as error:  # e.g. a non-finite gradient: the scene is the last good one
            status, message = "failed", str(error)
        if editor.step_count == start_step:
            job.end(status if status != "finished" else "failed", message or "no step was taken")
            return
        entry = self.store.add_version(
            doc_id, editor.scene, kind="edit", parent=spec["base"], status=status, steps=editor.step_count,
            total=total, losses=list(editor.losses), options=spec["options"], continued=spec["resume"],
            title=spec["options"]["prompt"] or ", ".join(text for _, text in spec["options"]["rois"]),
            checkpoint=False)
        try:
            save_checkpoint(editor, self.store.checkpoint_dir(doc_id, entry["index"]), meta)
            self.store.set_version_fields(doc_id, entry["index"], checkpoint=True)
        except Exception:  # the version is kept even when its checkpoint cannot be written
            log.exception("cannot write the checkpoint of %s v%d", doc_id, entry["index"])
        job.preview(self.store.svg_text(doc_id, entry["index"]), editor.step_count)
        job.end(status, message, version=entry["index"])


def _free_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _read_svg(data: bytes, work_dir: Path):
    """A Scene from SVG bytes, through clipvg's reader (never the bytes themselves)."""
    import tempfile

    from ..errors import SVGParseError

    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        path = Path(folder) / "upload.svg"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scene = load_svg(path)
        except (SVGParseError, InvalidInputError) as error:
            raise UploadError(400, str(error).replace(str(path), "the SVG")) from None
        except RecursionError:
            raise UploadError(400, "cannot read this SVG: its elements are nested too deeply") from None
        except Exception as error:  # svgelements raises many types on odd input
            raise UploadError(400, f"cannot read this SVG ({type(error).__name__})") from None
    if scene.num_paths == 0:
        raise UploadError(400, "the SVG has no shapes clipvg can edit (text, images and filters are skipped)")
    if not (1 <= scene.width <= 8192 and 1 <= scene.height <= 8192):
        raise UploadError(400, f"the SVG canvas is {scene.width:g} x {scene.height:g} px; clipvg serve edits "
                               "canvases from 1 to 8192 px on a side")
    return scene


def _open_photo(data: bytes, max_pixels: int) -> Image.Image:
    """The uploaded photo, decoded (PNG, JPEG or WebP only; at most ``max_pixels`` pixels)."""
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP"])
        width, height = image.size
        if width * height > max_pixels:
            raise UploadError(413, f"the photo is {width} x {height} pixels; this server takes at most "
                                   f"{max_pixels / 1e6:.0f} megapixels")
        image.load()
    except UploadError:
        raise
    except Exception as error:  # Pillow raises many types for corrupt files
        raise UploadError(400, f"cannot decode this picture ({type(error).__name__}: {error})") from None
    return image


def _version() -> str:
    from .. import __version__
    return __version__
