"""The local executor: one worker process per visible GPU (or ``workers`` on the CPU), each loading
CLIP once and running the jobs the coordinator hands it, one at a time."""
from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable

from ..edit.interrupt import deferred_interrupt
from ..errors import ClipvgError, InvalidInputError
from .jobs import Job
from .progress import Tracker

POLL_S = 0.25
WORKER_PREFIX = "clipvg-batch-"  # the worker processes' names
MAX_START_FAILURES = 3


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, as CUDA_VISIBLE_DEVICES entries (empty without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return []
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None and listed.strip():
        return [d.strip() for d in listed.split(",") if d.strip()][:torch.cuda.device_count()]
    return [str(i) for i in range(torch.cuda.device_count())]


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    """A fork server that imports torch, CLIP and the editor once (workers start in a fraction of a
    second and never inherit CUDA or threads from the caller); spawn where there is none."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["clipvg.batch.worker"])
        return context
    return multiprocessing.get_context("spawn")


class _Worker:
    def __init__(self, context, index: int, gpu: str | None, threads: int | None, preload: dict | None) -> None:
        from . import worker

        self.name = f"local-{index}" + (f" (GPU {gpu})" if gpu is not None else "")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker.serve, args=(child, gpu, threads, preload, os.getpid()),
                                       name=f"{WORKER_PREFIX}{index}", daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.ready = self.gone = self.eof = self.told_to_stop = False

    def give(self, job: Job, checkpoint: Path) -> None:
        self.job = job
        self.conn.send(job.payload(checkpoint))

    def stop(self) -> None:
        """Ask the worker to stop: a running job finishes its step and keeps its checkpoint."""
        if self.told_to_stop or self.gone:
            return
        self.told_to_stop = True
        try:
            if self.job is not None:
                os.kill(self.process.pid, signal.SIGINT)
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass

    def close(self, timeout: float) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class LocalExecutor:
    """Runs jobs on this machine. ``workers`` processes (default: one per visible GPU, else 1), each
    given one of the visible GPUs in turn (CUDA_VISIBLE_DEVICES) unless ``device`` (the jobs' usual
    device) is the CPU; ``preload`` the CLIP each loads at start (model, weights, device);
    ``threads`` torch threads per worker (default: the cores shared out)."""

    def __init__(self, workers: int | None = None, device: str | None = None, preload: dict | None = None,
                 threads: int | None = None) -> None:
        if workers is not None and workers < 1 or threads is not None and threads < 1:
            raise InvalidInputError("--workers and --threads must be at least 1")
        # on the CPU, or on one GPU the jobs name ("cuda:1"): the workers keep every device in sight
        pinned = device is not None and (str(device).startswith("cpu") or ":" in str(device))
        self.gpus = [] if pinned else visible_gpus()
        self.workers = workers or max(1, len(self.gpus))
        self.threads = threads or max(1, cpu_count() // self.workers)
        self.preload, self.device = preload, device

    def describe(self) -> str:
        on_gpu = self.device and not str(self.device).startswith("cpu")
        where = f"{len(self.gpus)} GPU(s)" if self.gpus else self.device if on_gpu else "the CPU"
        return f"{self.workers} local worker process(es) on {where}, {self.threads} CPU thread(s) each"

    def run(self, jobs: list[Job], tracker: Tracker, checkpoint_for: Callable[[Job], Path]) -> None:
        """Run ``jobs``, reporting to ``tracker``. Ctrl-C: running jobs finish their step, save their
        checkpoints and are left pending, then KeyboardInterrupt is raised; a second Ctrl-C stops the
        workers at once."""
        if not jobs:
            return
        context = _context()
        pending = deque(jobs)
        workers: list[_Worker] = []
        started = start_failures = 0
        stopping = False

        def start_worker() -> None:
            nonlocal started
            gpu = self.gpus[started % len(self.gpus)] if self.gpus else None
            workers.append(_Worker(context, started, gpu, self.threads, self.preload))
            started += 1

        with deferred_interrupt() as interrupted:
            try:
                for _ in range(min(self.workers, len(jobs))):
                    start_worker()
                while True:
                    if interrupted() and not stopping:
                        stopping = True
                        tracker.stopping("running jobs save their progress")
                        for w in workers:
                            w.stop()
                    live = [w for w in workers if not w.gone]
                    if not stopping:
                        for w in live:
                            if w.job is None and not w.eof and pending:
                                job = pending.popleft()
                                w.give(job, checkpoint_for(job))
                                tracker.started(job.id, w.name)
                    if not any(w.job is not None for w in live) and (stopping or not pending):
                        break
                    handles = [w.conn for w in live if not w.eof] + [w.process.sentinel for w in live]
                    ready = set(wait(handles, POLL_S))
                    for w in live:
                        if w.conn in ready:
                            self._drain(w, tracker)
                        if w.process.sentinel in ready:
                            w.process.join()
                            self._drain(w, tracker)
                            w.gone = True
                            if w.job is not None:
                                died = f"the worker process died (exit code {w.process.exitcode})"
                                if w.ready or stopping:
                                    tracker.finished(w.job.id, {"state": "interrupted" if stopping else "failed",
                                                                "error": died, "seconds": None})
                                else:  # it never started: another worker takes it
                                    tracker.finished(w.job.id, {"state": "interrupted", "seconds": None})
                                    pending.appendleft(w.job)
                                w.job = None
                            if not w.ready:
                                start_failures += 1
                            if not stopping and pending and start_failures < MAX_START_FAILURES:
                                start_worker()
                    if not stopping and pending and all(w.gone for w in workers):
                        raise ClipvgError(f"the batch worker processes exit right after starting "
                                          f"({start_failures} tries; their errors are printed above). A script "
                                          "that calls clipvg.batch.run must do so under "
                                          "'if __name__ == \"__main__\":' (workers import the main module)")
                    tracker.tick()
            except KeyboardInterrupt:  # the second Ctrl-C: abandon the running jobs
                for w in workers:
                    if w.job is not None and not w.gone:
                        w.process.terminate()
                        tracker.finished(w.job.id, {"state": "interrupted", "seconds": None})
                        w.job = None
                raise
            finally:
                for w in workers:
                    w.close(timeout=10)
        if stopping:
            raise KeyboardInterrupt

    @staticmethod
    def _drain(w: _Worker, tracker: Tracker) -> None:
        """Handle every message waiting from ``w``."""
        try:
            while not w.eof and w.conn.poll():
                kind, job_id, data = w.conn.recv()
                if kind == "ready":
                    w.ready = True
                elif kind == "result" and w.job is not None and job_id == w.job.id:
                    w.job = None
                    tracker.finished(job_id, data)
        except (EOFError, OSError):
            w.eof = True
