"""The server's state and work, without HTTP: settings (``ServeConfig``), documents in the work
directory, and the queues that run edits (one at a time per device, each a ``clipvg.edit`` job:
``serve.edits``) and vectorize photos.

The work itself runs in worker processes (``serve.workers``): one per device for edits (it loads
the CLIP model once), one for vectorizing photos, reading uploaded SVGs and making downloads. The
server process only checks requests, keeps the documents' records and streams what the workers
report, so its event loop answers at once while they compute. A worker that dies mid-edit leaves
the edit "interrupted at step k of n", as a restart does.

Every job is recorded in its document's folder before it is queued. After a crash or restart,
``Service.start`` finds them: a photo still to vectorize is queued again, an edit is shown as
"interrupted at step k of n" and ``resume`` continues it from its checkpoint (same job id, so an
open page's event stream reconnects to it). Documents untouched for ``keep_days`` are removed.
"""
from __future__ import annotations

import gc
import io
import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..edit import JobSpec
from ..edit.checkpoint import has_checkpoint
from ..edit.editor import resolve_device
from ..errors import InvalidInputError
from ..limits import ResourceLimits, resource_limits
from ..svg.point_count import check_markup_points
from .edits import EditSettings, apply_report, continued_spec, edit_spec, parse_int, resume_point
from .jobs import Job, JobQueue
from .security import UploadError, sniff
from .store import DocumentStore, NotFound
from .tasks import photo_limits
from .workers import TaskError, Worker, WorkerDied, WorkerSettings, default_threads

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
    ``worker_threads``: torch threads of each worker process (default: the cores less one, at least
    1, so the server's event loop keeps a core). ``worker_init``: a ``"module:function"`` each worker
    process calls once at start (logging set-up; the tests inject faults with it).
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
    limits: ResourceLimits = field(default_factory=resource_limits)
    max_iterations: int = 5000
    max_patches: int = 512
    max_rois: int = 16
    preview_interval: float = 0.5
    checkpoint_steps: int | None = 10
    checkpoint_seconds: float | None = 30.0
    keep_days: float = 7.0
    preload: bool = False
    worker_threads: int = field(default_factory=default_threads)
    worker_init: str | None = None
    defaults: dict[str, Any] = field(default_factory=lambda: dict(
        iterations=150, patches=64, seed=0, rounds="10,30", max_size=512, prompt=""))

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)
        self.devices = tuple(str(resolve_device(d)) for d in (self.devices or (None,)))
        if self.keep_days < 0:
            raise InvalidInputError(f"keep_days must be 0 (keep for ever) or more, got {self.keep_days}")
        if self.worker_threads < 1:
            raise InvalidInputError(f"worker threads must be at least 1, got {self.worker_threads}")

    def edit_settings(self) -> EditSettings:
        return EditSettings(self.clip_model, self.clip_weights, self.max_iterations, self.max_patches,
                            self.max_rois, self.checkpoint_steps, self.checkpoint_seconds, self.limits)


class ModelStatus:
    """What the edit workers report of the CLIP model: ``status`` (not loaded, loading, ready,
    failed), the load's ``error``, and how many ``loads`` the workers made."""

    def __init__(self) -> None:
        self.status, self.error, self.loads = "not loaded", "", 0

    def report(self, kind: str, status: str = "", error: str = "", loaded: bool = False) -> None:
        """One ("model", status, error, loaded now) message of a worker (other kinds are ignored)."""
        if kind == "model":
            self.status, self.error = status, error
            self.loads += loaded


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
        self.models = ModelStatus()
        settings = WorkerSettings(config.worker_threads, config.worker_init, os.getpid())
        self.edit_workers = {device: Worker(f"edit-{device}", settings) for device in config.devices}
        self.prep_worker = Worker("prep", settings)  # vectorizing, reading SVGs, downloads
        self.edits = JobQueue("edit", list(config.devices), self._recorded(self._run_edit))
        self.prep = JobQueue("vectorize", ["cpu"], self._recorded(self._run_vectorize))
        self.jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._submit_lock = threading.Lock()  # one check-then-queue at a time: one active job per document
        self._closing = threading.Event()
        self._examples = _examples()
        self.started = False

    # -- life ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Pick up the jobs a previous process left, start the queues and the expiry sweep."""
        if self.started:
            return
        self.started = True
        gc.freeze()  # what is loaded by now lives for good: later collections (holding the GIL) skip it
        self.recover()
        self.edits.start()
        self.prep.start()
        if self.config.keep_days:
            threading.Thread(target=self._sweep, name="clipvg-expire", daemon=True).start()
        if self.config.preload:
            threading.Thread(target=self._preload, name="clipvg-preload", daemon=True).start()

    def _preload(self) -> None:
        """Start the worker processes now and load CLIP in the first edit worker (not at the first edit)."""
        device = self.config.devices[0]
        self.prep_worker.start()
        try:
            self.edit_workers[device].call("load_model", {"model": self.config.clip_model, "device": device,
                                                          "weights": self.config.clip_weights}, self.models.report)
        except (TaskError, WorkerDied) as error:
            log.warning("%s", error)

    def close(self) -> None:
        """Stop the queues (running edits keep their results), then the worker processes."""
        self._closing.set()
        self.edits.close()
        self.prep.close()
        for worker in (*self.edit_workers.values(), self.prep_worker):
            worker.close()

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
            if record is not None and record.get("ended") in (None, "interrupted") and not made:
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
        _interrupt(job, "the server stopped")
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
        """A new document from uploaded bytes, recognised by content: an SVG (or gzipped SVG) is read
        now, by the prep worker (through clipvg's reader; version 0 is clipvg's re-written SVG), a
        photo's header is checked, the photo kept undecoded in the document's folder and vectorized
        by a queued job."""
        config = self.config
        kind = sniff(data)
        name = str(name or "picture")[:200]
        if kind is None:
            raise UploadError(415, "not a PNG, JPEG, WebP or SVG file (files are recognised by their content, "
                                   "not their name)")
        if kind in ("svg", "svgz"):
            if kind == "svg":  # too many points: 413 here, before the worker gets the bytes (0.2 s for 10 MB)
                check_markup_points(data, "the SVG", config.limits)
            with tempfile.TemporaryDirectory(dir=self.store.root) as folder:
                svg_file = Path(folder) / "read.svg"
                shape = self._in_worker(self.prep_worker, "read_svg", {
                    "data": data, "gzip": kind == "svgz", "max_bytes": config.max_upload_bytes, "out": str(svg_file),
                    "limits": asdict(config.limits)})
                document = self.store.create(name, "svg")
                self.store.add_version(document["id"], shape, svg_file, kind="source", status="finished",
                                       title="opened " + name)
            return self.document(document["id"]), None
        rounds = parse_rounds(config.defaults["rounds"] if rounds in (None, "") else rounds)
        max_size = parse_int(config.defaults["max_size"] if max_size in (None, "") else max_size,
                             "max size", 16, 4096)
        _check_photo(data, config.max_pixels)  # refuse now what cannot be vectorized
        document = self.store.create(name, "photo", rounds=list(rounds), max_size=max_size)
        self.store.upload_file(document["id"]).write_bytes(data)
        job = self._add_job(Job("vectorize", document["id"], {"kind": "vectorize", "rounds": list(rounds),
                                                               "max_size": max_size}), self.prep)
        return self.document(document["id"]), job

    @staticmethod
    def _in_worker(worker: Worker, task: str, args: dict[str, Any]) -> Any:
        """``task`` run by ``worker``; its refusal, or the worker's death, as an UploadError."""
        try:
            return worker.call(task, args)
        except TaskError as error:
            raise UploadError(error.status, error.message) from None
        except WorkerDied as error:
            raise UploadError(500, f"the server's worker process failed ({error}); try again") from None

    def _run_vectorize(self, job: Job, device: str) -> None:
        """Vectorize the document's uploaded photo into its version 0 (in the prep worker); on failure
        the document goes."""
        doc_id, spec = job.document, job.spec
        job.begin(0, len(spec["rounds"]), [])
        upload = self.store.upload_file(doc_id)
        svg_file = upload.with_name("vectorized.svg")
        args = {"path": str(upload), "rounds": spec["rounds"], "max_size": spec["max_size"],
                "max_pixels": self.config.max_pixels, "out": str(svg_file)}
        try:
            shape = self._in_worker(self.prep_worker, "vectorize", args)
        except UploadError as error:
            self._discard(doc_id)
            job.end("failed", f"cannot vectorize this picture: {error.message}")
            return
        rounds = ",".join(map(str, spec["rounds"]))
        entry = self.store.add_version(doc_id, shape, svg_file, kind="source", status="finished", job=job.id,
                                       title=f"vectorized ({rounds} colours, max {spec['max_size']} px)")
        upload.unlink(missing_ok=True)
        job.step = len(spec["rounds"])
        job.end("finished", version=entry["index"])

    def export(self, doc_id: str, version: int, fmt: str) -> Path:
        """The file of ``version`` in ``fmt`` (``DocumentStore.export``), made by the prep worker."""
        return self.store.export(doc_id, version, fmt, lambda args: self._in_worker(self.prep_worker, "export", args))

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
        """Run the edit in ``device``'s worker; its reports go to ``job``, its result becomes a version.
        A worker that dies leaves the edit interrupted at its last checkpoint, to resume."""
        doc_id, record = job.document, job.spec

        def on_message(kind: str, *values) -> None:
            self.models.report(kind, *values)
            apply_report(job, kind, *values)

        args = {"spec": record["spec"], "device": device, "preview_interval": self.config.preview_interval}
        try:
            outcome = self.edit_workers[device].call("edit", args, on_message, job.stop_requested)
        except WorkerDied as error:
            _interrupt(job, f"the worker process (exit code {error.exitcode}) stopped")
            return
        except TaskError as error:
            job.end("failed", error.message)
            return
        if outcome["svg_file"] is None:
            job.end(outcome["status"], outcome["message"])
            return
        entry = self.store.add_version(
            doc_id, outcome["shape"], Path(outcome["svg_file"]), kind="edit", parent=record["base"],
            status=outcome["status"], steps=outcome["steps"], total=outcome["total"], losses=outcome["losses"],
            continued=record["continued"], title=record["title"], options=record["options"], job=job.id,
            checkpoint=has_checkpoint(self.store.job_dir(doc_id, job.id)))
        job.preview(self.store.svg_text(doc_id, entry["index"]), outcome["steps"])
        job.end(outcome["status"], outcome["message"], version=entry["index"])


def _interrupt(job: Job, cause: str) -> None:
    """End ``job`` (an edit) as interrupted at its checkpoint's step: ``cause`` (e.g. "the server
    stopped") "this edit at step k of n"; ``Service.resume`` continues it from there."""
    steps, losses = resume_point(JobSpec.from_dict(job.spec["spec"]))
    job.begin(steps, job.spec["spec"]["steps"], losses)
    job.checkpoint_step = steps
    job.end("interrupted", f"{cause} this edit at step {steps} of {job.total}; resume continues from its checkpoint")


def _examples() -> list[dict[str, str]]:
    """The bundled examples (looked up once: ``info`` answers every few seconds per page)."""
    found = [{"name": p.stem, "title": f"{p.stem.replace('_', ' ')} (SVG)"} for p in sorted(EXAMPLES_DIR.glob("*.svg"))]
    if REPO_EXAMPLE_PHOTO.is_file():
        found.append({"name": "astronaut", "title": "astronaut (photo)"})
    return found


def _check_photo(data: bytes, max_pixels: int) -> None:
    """Refuse an uploaded photo that is not a PNG, JPEG or WebP, or over ``max_pixels`` pixels (the
    megapixels check of ``vectorize``, from the header: nothing is decoded here), or a PNG whose
    chunks fail their checksums (found at once instead of by the vectorize job)."""
    from vectorize.image_io import check_megapixels

    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP"]) as image, photo_limits(max_pixels):
            check_megapixels(image.width, image.height, "the photo")
            if image.format == "PNG":
                image.verify()  # every chunk's CRC, without decompressing
    except Image.DecompressionBombError:  # larger than Pillow's own limit, so larger than ours
        raise UploadError(413, f"the photo has more pixels than this server takes (at most {max_pixels / 1e6:g} "
                               "megapixels)") from None
    except Exception as error:  # Pillow raises many types for corrupt files
        if getattr(error, "limit", None):
            raise
        raise UploadError(400, f"cannot decode this picture ({type(error).__name__}: {error})") from None


def _version() -> str:
    from .. import __version__
    return __version__
