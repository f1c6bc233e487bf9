"""The server's state and work, without HTTP: settings (``ServeConfig``), the CLIP model loaded once
per device (``ModelPool``), documents in the work directory, and the queues that run edits (one at a
time per device, each a ``clipvg.edit`` job: ``serve.edits``) and vectorize photos.

Every job is recorded in its document's folder before it is queued. After a crash or restart,
``Service.start`` finds them: a photo still to vectorize is queued again, an edit is shown as
"interrupted at step k of n" and ``resume`` continues it from its checkpoint (same job id, so an
open page's event stream reconnects to it). Documents untouched for ``keep_days`` are removed.
"""
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

from PIL import Image

from ..edit import JobSpec
from ..edit.checkpoint import has_checkpoint
from ..edit.editor import resolve_device
from ..errors import ClipvgError, InvalidInputError
from ..limits import resource_limits
from ..svg import load_svg
from .edits import EditSettings, continued_spec, edit_spec, parse_int, resume_point, run_edit
from .jobs import Job, JobQueue
from .security import UploadError, check_svg_markup, gunzip_limited, sniff
from .store import DocumentStore, NotFound

log = logging.getLogger("clipvg.serve")

EXAMPLES_DIR = Path(__file__).with_name("examples")
REPO_EXAMPLE_PHOTO = Path(__file__).resolve().parents[2] / "examples" / "data" / "astronaut.png"
SWEEP_INTERVAL = 3600.0  # seconds between looks for expired documents
DAY = 86400.0


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
    413. ``preview_interval``: seconds between live SVG updates of a running edit.
    ``checkpoint_steps``/``checkpoint_seconds``: a running edit saves its checkpoint at most this
    often (whichever comes first; None turns one off). ``keep_days``: documents untouched this long
    are deleted (0: kept for ever). ``defaults``: what the page's fields start with.
    """

    work_dir: Path = field(default_factory=default_work_dir)
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    devices: tuple[str, ...] = ()
    clip_model: str = "ViT-B-32"
    clip_weights: str | None = "openai"
    max_upload_bytes: int = field(default_factory=lambda: resource_limits().upload_bytes)
    max_pixels: int = field(default_factory=lambda: round(resource_limits().megapixels * 1e6))
    max_iterations: int = 5000
    max_patches: int = 512
    max_rois: int = 16
    preview_interval: float = 0.5
    checkpoint_steps: int | None = 10
    checkpoint_seconds: float | None = 30.0
    keep_days: float = 7.0
    preload: bool = False
    defaults: dict[str, Any] = field(default_factory=lambda: dict(
        iterations=150, patches=64, seed=0, rounds="10,30", max_size=512, prompt=""))

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)
        self.devices = tuple(str(resolve_device(d)) for d in (self.devices or (None,)))
        if self.keep_days < 0:
            raise InvalidInputError(f"keep_days must be 0 (keep for ever) or more, got {self.keep_days}")

    def edit_settings(self) -> EditSettings:
        return EditSettings(self.clip_model, self.clip_weights, self.max_iterations, self.max_patches,
                            self.max_rois, self.checkpoint_steps, self.checkpoint_seconds)


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


def parse_rounds(text: Any) -> tuple[int, ...]:
    """``"10,30"`` -> (10, 30): 1 to 6 rounds of 2 to 256 colours."""
    try:
        rounds = tuple(int(v) for v in str(text).replace(" ", "").split(",") if v)
    except ValueError:
        rounds = ()
    if not 1 <= len(rounds) <= 6 or not all(2 <= r <= 256 for r in rounds):
        raise InvalidInputError(f"rounds {text!r}: give 1 to 6 colour counts between 2 and 256, e.g. 10,30")
    return rounds


class Service:
    """Documents, queues and model of one server process."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.store = DocumentStore(config.work_dir)
        self.models = ModelPool(config.clip_model, config.clip_weights)
        self.edits = JobQueue("edit", list(config.devices), self._recorded(self._run_edit))
        self.prep = JobQueue("vectorize", ["cpu"], self._recorded(self._run_vectorize))
        self.jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._submit_lock = threading.Lock()  # one check-then-queue at a time: one active job per document
        self._closing = threading.Event()
        self._examples = _examples()
        # one upload read at a time: reading holds the GIL, and the event loop must get it in between
        self._reading = threading.Lock()
        self.started = False

    # -- life ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Pick up the jobs a previous process left, start the queues and the expiry sweep."""
        if self.started:
            return
        self.started = True
        self.recover()
        self.edits.start()
        self.prep.start()
        if self.config.keep_days:
            threading.Thread(target=self._sweep, name="clipvg-expire", daemon=True).start()
        if self.config.preload:
            threading.Thread(target=self._preload, name="clipvg-preload", daemon=True).start()

    def _preload(self) -> None:
        try:
            self.models.get(self.config.devices[0])
        except ClipvgError as error:
            log.warning("%s", error)

    def close(self) -> None:
        self._closing.set()
        self.edits.close()
        self.prep.close()

    def info(self) -> dict[str, Any]:
        config = self.config
        return {"version": _version(), "devices": list(config.devices), "clip_model": config.clip_model,
                "clip_weights": config.clip_weights, "model": {"status": self.models.status,
                                                              "error": self.models.error},
                "queue": {"running": len(self.edits.running()), "waiting": self.edits.pending_count()},
                "max_upload_bytes": config.max_upload_bytes, "defaults": config.defaults,
                "limits": {"iterations": config.max_iterations, "patches": config.max_patches,
                           "rois": config.max_rois},
                "keep_days": config.keep_days,
                "checkpoint": {"steps": config.checkpoint_steps, "seconds": config.checkpoint_seconds},
                "examples": self.examples()}

    # -- recovery and expiry -------------------------------------------------------------------------
    def recover(self) -> None:
        """After a restart: queue again the photos that were being vectorized, show cut-short edits as
        interrupted (resumable), delete documents left empty and those past ``keep_days``."""
        for doc_id in self.store.ids():
            try:
                document = self.store.get(doc_id)
            except (NotFound, ValueError):
                continue
            if self._expired(document):
                self.store.delete(doc_id)
                continue
            job_id = document.get("job")
            record = self.store.read_job(doc_id, job_id) if job_id else None
            made = any(v.get("job") == job_id for v in document["versions"])  # killed just before the note
            if record is not None and "ended" not in record and not made:
                if record["kind"] == "vectorize" and self.store.upload_file(doc_id).is_file():
                    self._register(Job("vectorize", doc_id, record, job_id))
                    self.prep.submit(self.jobs[job_id])
                    log.info("vectorizing %s again (the server stopped while it ran)", doc_id)
                    continue
                if record["kind"] == "edit":
                    self._register(self._interrupted(doc_id, record, job_id))
            if not document["versions"]:
                self.store.delete(doc_id)

    def _interrupted(self, doc_id: str, record: dict, job_id: str) -> Job:
        job = Job("edit", doc_id, record, job_id)
        steps, losses = resume_point(JobSpec.from_dict(record["spec"]))
        job.begin(steps, record["spec"]["steps"], losses)
        job.checkpoint_step = steps
        job.end("interrupted", f"the server stopped this edit at step {steps} of {job.total}; "
                               "resume continues from its checkpoint")
        return job

    def _expired(self, document: dict, now: float | None = None) -> bool:
        keep = self.config.keep_days * DAY
        job = self.jobs.get(document.get("job") or "")
        active = job is not None and not job.done
        age = (time.time() if now is None else now) - document.get("updated", document["created"])
        return bool(keep) and not active and age > keep

    def expire(self, now: float | None = None) -> list[str]:
        """Delete the documents untouched for ``keep_days`` at time ``now`` (default: now), not those
        with a job queued or running; returns their ids."""
        gone = []
        for doc_id in self.store.ids():
            with self._submit_lock:
                try:
                    if self._expired(self.store.get(doc_id), now):
                        self.store.delete(doc_id)
                        gone.append(doc_id)
                except (NotFound, ValueError, OSError):
                    continue
        return gone

    def _sweep(self) -> None:
        while not self._closing.wait(SWEEP_INTERVAL):
            try:
                self.expire()
            except Exception:  # the sweep must not die; the next one tries again
                log.exception("cannot remove expired documents")

    # -- jobs ----------------------------------------------------------------------------------------
    def _register(self, job: Job) -> Job:
        with self._jobs_lock:
            self.jobs[job.id] = job
            if len(self.jobs) > 5000:  # forget the oldest finished jobs
                for old in [j for j in self.jobs.values() if j.done][:1000]:
                    del self.jobs[old.id]
        return job

    def _add_job(self, job: Job, queue: JobQueue) -> Job:
        """Record ``job`` in its document (so a restart finds it), then queue it."""
        self.store.write_job(job.document, {"id": job.id, "created": time.time(), **job.spec})
        self.store.update(job.document, job=job.id)
        self._register(job)
        return queue.submit(job)

    def _recorded(self, runner):
        """``runner`` that notes in the job's record how it ended (a job without the note was cut
        short by a crash or a kill, and is picked up by ``recover``)."""
        def run(job: Job, device: str) -> None:
            try:
                runner(job, device)
            finally:
                self._note_end(job)
        return run

    def _note_end(self, job: Job) -> None:
        record = self.store.read_job(job.document, job.id) if self.store.exists(job.document) else None
        if record is not None:
            self.store.write_job(job.document, {**record, "ended": job.status if job.done else "failed"})

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    def stop(self, job_id: str) -> Job:
        """Cancel a waiting job or stop a running one (an edit keeps its result). A photo whose
        vectorizing is cancelled leaves no document behind."""
        job = self.job(job_id)
        if job.queue is not None and job.queue.stop(job) == "cancelled":
            if job.kind == "vectorize":
                self._discard(job.document)
            else:
                self._note_end(job)
        return job

    def resume(self, job_id: str) -> Job:
        """Queue an interrupted edit again; it continues from its checkpoint under the same job id."""
        with self._submit_lock:
            job = self.job(job_id)
            if job.status != "interrupted":
                raise InvalidInputError(f"this edit is {job.status}, not interrupted; only an interrupted edit resumes")
            if self.store.get(job.document).get("job") != job.id:
                raise InvalidInputError("a newer job of this document replaced the interrupted edit; start a new edit")
            job.requeue()
            return self.edits.submit(job)

    def document(self, doc_id: str) -> dict[str, Any]:
        """The document's metadata, with its current job's state if any."""
        document = self.store.get(doc_id)
        job = self.jobs.get(document.get("job") or "")
        document["job"] = job.snapshot() if job is not None else None
        document["expires"] = (document["updated"] + self.config.keep_days * DAY) if self.config.keep_days else None
        return document

    def delete(self, doc_id: str) -> None:
        with self._submit_lock:
            self._check_idle(self.store.get(doc_id))
            self.store.delete(doc_id)

    def _discard(self, doc_id: str) -> None:
        try:
            self.store.delete(doc_id)
        except (NotFound, OSError):
            pass

    # -- opening pictures ----------------------------------------------------------------------------
    def examples(self) -> list[dict[str, str]]:
        return self._examples

    def open_example(self, name: str, rounds: Any = None, max_size: Any = None) -> tuple[dict, Job | None]:
        by_name = {e["name"]: e for e in self.examples()}
        if name not in by_name:
            raise NotFound(f"no example {name!r}")
        path = REPO_EXAMPLE_PHOTO if name == "astronaut" else EXAMPLES_DIR / f"{name}.svg"
        return self.open_upload(path.read_bytes(), path.name, rounds, max_size)

    def open_upload(self, data: bytes, name: str, rounds: Any = None, max_size: Any = None) -> tuple[dict, Job | None]:
        """A new document from uploaded bytes, recognised by content: an SVG is read now (through
        clipvg's reader; version 0 is clipvg's re-written SVG), a photo is checked, kept undecoded in
        the document's folder and vectorized by a queued job."""
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
            with self._reading:
                scene = _read_svg(data, self.store.root)
            document = self.store.create(name, "svg")
            self.store.add_version(document["id"], scene, kind="source", status="finished",
                                   title="opened " + name)
            return self.document(document["id"]), None
        rounds = parse_rounds(config.defaults["rounds"] if rounds in (None, "") else rounds)
        max_size = parse_int(config.defaults["max_size"] if max_size in (None, "") else max_size,
                             "max size", 16, 4096)
        with self._reading:
            _open_photo(data, config.max_pixels).close()  # refuse what cannot be vectorized now
        document = self.store.create(name, "photo", rounds=list(rounds), max_size=max_size)
        self.store.upload_file(document["id"]).write_bytes(data)
        job = self._add_job(Job("vectorize", document["id"], {"kind": "vectorize", "rounds": list(rounds),
                                                               "max_size": max_size}), self.prep)
        return self.document(document["id"]), job

    def _run_vectorize(self, job: Job, device: str) -> None:
        """Vectorize the document's uploaded photo into its version 0; on failure the document goes."""
        import vectorize

        doc_id, spec = job.document, job.spec
        job.begin(0, len(spec["rounds"]), [])
        upload = self.store.upload_file(doc_id)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image = _open_photo(upload.read_bytes(), self.config.max_pixels)
                scene = vectorize.vectorize(image, rounds=tuple(spec["rounds"]), max_size=spec["max_size"])
                del image
        except (ClipvgError, UploadError) as error:
            self._discard(doc_id)
            job.end("failed", f"cannot vectorize this picture: {error}")
            return
        except (MemoryError, OSError) as error:
            self._discard(doc_id)
            job.end("failed", f"cannot vectorize this picture ({type(error).__name__}); try a smaller max size")
            return
        rounds = ",".join(map(str, spec["rounds"]))
        entry = self.store.add_version(doc_id, scene, kind="source", status="finished", job=job.id,
                                       title=f"vectorized ({rounds} colours, max {spec['max_size']} px)")
        upload.unlink(missing_ok=True)
        job.step = len(spec["rounds"])
        job.end("finished", version=entry["index"])

    # -- edits ---------------------------------------------------------------------------------------
    def start_edit(self, doc_id: str, request: dict[str, Any]) -> Job:
        """Queue an edit of one version of a document; ``request`` holds version, prompt, rois
        ([{x, y, w, h, prompt}]; boxes with prompts alone are an edit too), change
        (all/colors_only/shapes_only), region_only, iterations, patches and seed. Bad values raise
        InvalidInputError."""
        with self._submit_lock:
            document = self.store.get(doc_id)
            self._check_idle(document)
            last = len(document["versions"]) - 1
            version = parse_int(request.get("version", last), "version", 0, max(last, 0))
            self.store.version(doc_id, version)
            job = Job("edit", doc_id, {})
            spec = edit_spec(request, self.store.version_file(doc_id, version), document["width"] or 0,
                             document["height"] or 0, self.store.job_dir(doc_id, job.id),
                             self.config.edit_settings(), self.config.defaults)
            title = spec.prompt or ", ".join(region.prompt for region in spec.regions)
            options = {"prompt": spec.prompt, "rois": [[list(r.box), r.prompt] for r in spec.regions],
                       "change": request.get("change", "all"), "region_only": spec.subset.region_only,
                       "iterations": spec.steps, "patches": spec.clip.patches, "seed": spec.seed}
            job.spec = {"kind": "edit", "base": version, "title": title, "options": options, "continued": False,
                        "spec": spec.to_dict()}
            return self._add_job(job, self.edits)

    def continue_edit(self, doc_id: str, version: int, iterations: Any = None) -> Job:
        """Queue the continuation of the edit that made ``version`` (from its checkpoint): to the
        edit's total if it was stopped early, else ``iterations`` more steps (default: as many as before)."""
        with self._submit_lock:
            document = self.store.get(doc_id)
            self._check_idle(document)
            entry = self.store.version(doc_id, parse_int(version, "version", 0, 10 ** 6))
            record = self.store.read_job(doc_id, entry["job"]) if entry.get("job") else None
            if record is None or record["kind"] != "edit" or not has_checkpoint(self.store.checkpoint_dir(doc_id, entry["index"])):
                raise InvalidInputError(f"version {entry['index']} is not an edit that can be continued; start a new edit")
            previous = JobSpec.from_dict(record["spec"])
            steps, total = entry["steps"], entry["total"]
            more = parse_int(previous.steps if iterations in (None, "") else iterations, "iterations", 1,
                             self.config.max_iterations)
            job = Job("edit", doc_id, {})
            spec = continued_spec(previous, self.store.job_dir(doc_id, job.id),
                                  total if steps < total else steps + more, self.config.edit_settings())
            job.spec = {**record, "base": entry["index"], "continued": True, "spec": spec.to_dict()}
            return self._add_job(job, self.edits)

    def _check_idle(self, document: dict) -> None:
        job = self.jobs.get(document.get("job") or "")
        if job is not None and not job.done:
            raise InvalidInputError("this document already has a job queued or running (an edit, or vectorizing); stop it first")

    def _run_edit(self, job: Job, device: str) -> None:
        doc_id, record = job.document, job.spec
        try:
            clip = self.models.get(device)
        except ClipvgError as error:
            job.end("failed", str(error))
            return
        outcome = run_edit(job, JobSpec.from_dict(record["spec"]), clip, device, self.config.preview_interval)
        if outcome.svg_file is None:
            job.end(outcome.status, outcome.message)
            return
        scene = load_svg(outcome.svg_file)
        entry = self.store.add_version(
            doc_id, scene, svg_file=outcome.svg_file, kind="edit", parent=record["base"], status=outcome.status,
            steps=outcome.steps, total=outcome.total, losses=outcome.losses, continued=record["continued"],
            title=record["title"], options=record["options"], job=job.id, checkpoint=has_checkpoint(self.store.job_dir(doc_id, job.id)))
        job.preview(self.store.svg_text(doc_id, entry["index"]), outcome.steps)
        job.end(outcome.status, outcome.message, version=entry["index"])


def _examples() -> list[dict[str, str]]:
    """The bundled examples (looked up once: ``info`` answers every few seconds per page)."""
    found = [{"name": p.stem, "title": f"{p.stem.replace('_', ' ')} (SVG)"} for p in sorted(EXAMPLES_DIR.glob("*.svg"))]
    if REPO_EXAMPLE_PHOTO.is_file():
        found.append({"name": "astronaut", "title": "astronaut (photo)"})
    return found


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
        except (SVGParseError, InvalidInputError) as error:  # over a resource limit: 413
            status = 413 if getattr(error, "limit", None) else 400
            raise UploadError(status, str(error).replace(str(path), "the SVG")) from None
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
    except Image.DecompressionBombError:  # larger than Pillow's own limit, so larger than ours
        raise UploadError(413, f"the photo has more pixels than this server takes (at most {max_pixels / 1e6:.0f} "
                               "megapixels)") from None
    except Exception as error:  # Pillow raises many types for corrupt files
        raise UploadError(400, f"cannot decode this picture ({type(error).__name__}: {error})") from None
    return image


def _version() -> str:
    from .. import __version__
    return __version__
