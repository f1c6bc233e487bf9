"""Jobs and their queues: a queue has one worker thread per device and runs one job at a time on
each, in submission order; queued jobs know their place and can be cancelled, running ones stopped."""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import secrets
import threading
import time
from collections import deque
from typing import Any, Callable

log = logging.getLogger("clipvg.serve")

DONE = frozenset({"finished", "stopped", "cancelled", "failed", "interrupted"})
KEEP_DONE = 500  # finished jobs remembered per queue (their results live in the work directory)
KEEP_PREVIEWS = 20  # finished jobs that keep their last SVG in memory


class Job:
    """One unit of work (``kind`` "edit" or "vectorize") for a document, with its progress.

    The worker updates it through ``begin``, ``progress``, ``preview`` and ``end``; readers take
    ``snapshot()``. ``revision`` grows with every change, ``svg_revision`` with every new preview.
    ``spec`` is the job's record (small JSON-able data; never decoded images or tensors).
    ``checkpoint_step``: the step of the edit's last checkpoint. An "interrupted" job (found after a
    restart) can be queued again with ``requeue``.
    """

    def __init__(self, kind: str, document: str, spec: dict[str, Any], job_id: str | None = None) -> None:
        self.id = job_id or secrets.token_hex(16)
        self.kind = kind
        self.document = document
        self.spec = spec
        self.status = "queued"
        self.message = ""
        self.step = self.first_step = self.total = 0
        self.checkpoint_step: int | None = None
        self.losses: list[float] = []
        self.created = time.time()
        self.started: float | None = None
        self.ended: float | None = None
        self.version: int | None = None
        self.svg: str | None = None
        self.svg_step = 0
        self.svg_revision = 0
        self.revision = 0
        self.stop_requested = threading.Event()
        self._lock = threading.Lock()
        self.queue: "JobQueue | None" = None

    @property
    def done(self) -> bool:
        return self.status in DONE

    def _changed(self) -> None:
        self.revision += 1

    def begin(self, step: int, total: int, losses: list[float]) -> None:
        with self._lock:
            self.step = self.first_step = step
            self.total = total
            self.losses = list(losses)
            self.started = time.time()
            self._changed()

    def progress(self, step: int, loss: float, checkpoint_step: int | None = None) -> None:
        with self._lock:
            self.step = step
            self.losses.append(loss)
            self.checkpoint_step = checkpoint_step
            self._changed()

    def requeue(self) -> None:
        """Make a finished (e.g. interrupted) job ready to run again, keeping its id."""
        with self._lock:
            self.status, self.message, self.ended, self.version = "queued", "", None, None
            self.stop_requested.clear()
            self._changed()

    def preview(self, svg: str, step: int) -> None:
        with self._lock:
            self.svg, self.svg_step = svg, step
            self.svg_revision += 1
            self._changed()

    def end(self, status: str, message: str = "", version: int | None = None) -> None:
        with self._lock:
            self.status, self.message, self.version = status, message, version
            self.ended = time.time()
            self._changed()

    def eta(self) -> float | None:
        """Seconds left, from the speed of this run's steps so far."""
        done = self.step - self.first_step
        if self.status != "running" or self.started is None or done <= 0:
            return None
        return (time.time() - self.started) / done * max(self.total - self.step, 0)

    def snapshot(self, losses_from: int = 0) -> dict[str, Any]:
        """A JSON-able state; ``losses`` holds the losses from index ``losses_from`` on."""
        position = self.queue.position(self) if self.queue is not None else 0
        with self._lock:
            elapsed = None if self.started is None else (self.ended or time.time()) - self.started
            return {"id": self.id, "kind": self.kind, "document": self.document, "status": self.status,
                    "message": self.message, "step": self.step, "total": self.total,
                    "position": position, "queued": self.queue.pending_count() if self.queue else 0,
                    "eta": self.eta(), "elapsed": elapsed, "version": self.version,
                    "losses_from": losses_from, "losses": self.losses[losses_from:],
                    "svg_revision": self.svg_revision, "base": self.spec.get("base"),
                    "checkpoint_step": self.checkpoint_step, "stop_requested": self.stop_requested.is_set()}


class JobQueue:
    """Runs ``runner(job, device)`` for submitted jobs, one at a time per device, oldest first."""

    def __init__(self, name: str, devices: list[str], runner: Callable[[Job, str], None]) -> None:
        self.name = name
        self.devices = list(devices)
        self.runner = runner
        self._pending: deque[Job] = deque()
        self._running: dict[str, Job] = {}
        self._done: deque[Job] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for device in self.devices:
            thread = threading.Thread(target=self._loop, args=(device,), name=f"clipvg-{self.name}-{device}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, job: Job) -> Job:
        with self._cond:
            if self._closing:
                raise RuntimeError("the server is shutting down")
            job.queue = self
            self._pending.append(job)
            self._cond.notify()
        return job

    def position(self, job: Job) -> int:
        """1 for the next job to run, 2 for the one after, ...; 0 when not waiting."""
        with self._cond:
            try:
                return self._pending.index(job) + 1
            except ValueError:
                return 0

    def pending_count(self) -> int:
        with self._cond:
            return len(self._pending)

    def running(self) -> list[Job]:
        with self._cond:
            return list(self._running.values())

    def stop(self, job: Job) -> str:
        """Cancel a waiting job, or ask a running one to stop after its current step (its result is
        kept). Returns the job's status afterwards."""
        with self._cond:
            if job in self._pending:
                self._pending.remove(job)
                job.end("cancelled", "cancelled while waiting in the queue")
                self._remember(job)
                return job.status
        if not job.done:
            job.stop_requested.set()
            job._changed()
        return job.status

    def close(self, timeout: float = 30.0) -> None:
        """Cancel waiting jobs, stop running ones (they keep their results) and wait for the workers."""
        with self._cond:
            self._closing = True
            pending, self._pending = list(self._pending), deque()
            running = list(self._running.values())
            self._cond.notify_all()
        for job in pending:
            job.end("cancelled", "the server shut down")
        for job in running:
            job.stop_requested.set()
        deadline = time.time() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.time()))

    def _remember(self, job: Job) -> None:
        self._done.append(job)
        while len(self._done) > KEEP_DONE:
            self._done.popleft()
        if len(self._done) > KEEP_PREVIEWS:  # old results are read from the work directory instead
            self._done[-KEEP_PREVIEWS - 1].svg = None

    def _loop(self, device: str) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                job = self._pending.popleft()
                job.status = "running"
                job._changed()
                self._running[device] = job
            try:
                self.runner(job, device)
            except BaseException as error:  # the worker must survive anything a job does
                log.exception("job %s failed", job.id)
                job.end("failed", f"internal error: {type(error).__name__}: {error}")
            finally:
                if not job.done:
                    job.end("failed", "the job ended without a result")
                with self._cond:
                    self._running.pop(device, None)
                    self._remember(job)
                trim_heap()  # no gc.collect() here: a full collection holds the GIL (the event loop) ~0.5 s


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None elsewhere)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def trim_heap() -> None:
    """Hand the freed heap back to the system (glibc keeps freed memory of threads' arenas
    otherwise; the process's size would only grow). ctypes lets go of the GIL meanwhile."""
    if _TRIM is not None:
        _TRIM(0)


def release_memory() -> None:
    """After a worker's task: collect its garbage, then ``trim_heap``."""
    gc.collect()
    trim_heap()
