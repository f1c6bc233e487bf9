"""The server's worker processes: every CPU-heavy task of ``clipvg serve`` (an edit, vectorizing or
decoding a photo, reading an uploaded SVG, making a download) runs in one, so the event loop never
waits for the GIL behind it.

A ``Worker`` is one process started with the spawn method on first use (and again after it died),
one task at a time: ``call(task, args, on_message, cancel)`` sends the task over a pipe and, while
it runs, hands each message the task reports (progress, previews, model state) to ``on_message``
and forwards ``cancel`` (a ``threading.Event``) to the process. A process that dies mid-task raises
``WorkerDied``; a task's own error comes back as ``TaskError`` (an HTTP status and a message).

Processes start from one long-lived thread (the kernel's parent-death signal fires when the
*thread* that started a process ends), die with the server however it ends, run at a lower
priority (``WORKER_NICE``) with ``threads`` torch threads, so the event loop keeps a core.
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import wait
from typing import Any, Callable

from ..startup import run_child

log = logging.getLogger("clipvg.serve")

POLL_S = 0.1  # seconds between looks at the job's cancel while a task runs
QUIT_S = 1.0  # seconds an idle worker gets to exit by itself before it is killed
WORKER_NICE = 10  # niceness added to worker processes: the event loop gets the CPU first
_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="clipvg-spawn")  # its thread lives as long as the process


def default_threads() -> int:
    """Torch threads per worker by default: the cores this process may use, less one for the event loop."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker process runs: ``threads`` torch (and numba) threads; ``init`` an optional
    ``"module:function"`` it calls once at start (logging set-up; the tests inject faults with it);
    ``parent`` the server's process id (the worker ends when it does)."""

    threads: int
    init: str | None
    parent: int


class TaskError(Exception):
    """A task refused its input: ``status`` (400, 413 ...) and a message for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class WorkerDied(Exception):
    """The worker process ended while it ran a task (killed, crashed, out of memory) with ``exitcode``."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"the worker process ended (exit code {exitcode})")
        self.exitcode = exitcode


class Worker:
    """One worker process named ``name``, started on demand; thread-safe (one task at a time)."""

    def __init__(self, name: str, settings: WorkerSettings) -> None:
        self.name, self.settings = name, settings
        self._context = get_context("spawn")
        self._cancel = self._context.Event()
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self.starts = 0

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def _ensure(self):
        """The running process: started now (from the spawner thread) if there is none or it died."""
        if self._process is None or not self._process.is_alive():
            self._discard()
            self._conn, child = self._context.Pipe()
            # the child sets its parent-death signal before it imports worker_main (and torch)
            process = self._context.Process(target=run_child, name=f"clipvg-serve-{self.name}", daemon=True,
                                            args=(self.settings.parent, "clipvg.serve.worker_main:main",
                                                  child, self._cancel, self.settings))
            _SPAWNER.submit(process.start).result()
            child.close()
            self._process = process
            self.starts += 1
        return self._process

    def start(self) -> None:
        """Start the process now (it imports what its tasks need) instead of at the first task."""
        with self._lock:
            self._ensure()

    def call(self, task: str, args: dict[str, Any], on_message: Callable[..., None] | None = None,
             cancel: threading.Event | None = None) -> Any:
        """Run ``task`` (a name in ``worker_main.TASKS``) with ``args`` in the process; returns its
        result. Raises TaskError (the task refused) or WorkerDied."""
        with self._lock:
            process = self._ensure()
            self._cancel.clear()
            try:
                self._conn.send((task, args))
            except OSError:
                raise self._died() from None
            while True:
                if cancel is not None and cancel.is_set() and not self._cancel.is_set():
                    self._cancel.set()
                ready = wait([self._conn, process.sentinel], POLL_S)
                if self._conn in ready:
                    try:
                        kind, *payload = self._conn.recv()
                    except (EOFError, OSError):
                        raise self._died() from None
                    if kind == "result":
                        return payload[0]
                    if kind == "error":
                        raise TaskError(*payload)
                    if on_message is not None:
                        on_message(kind, *payload)
                elif process.sentinel in ready:
                    raise self._died()

    def _died(self) -> WorkerDied:
        process = self._process
        process.join(5)
        code = process.exitcode
        log.warning("worker process %s (pid %s) ended with exit code %s", self.name, process.pid, code)
        self._discard()
        return WorkerDied(code)

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self, timeout: float = 10.0) -> None:
        """Ask the process to end after its task (waiting at most ``timeout`` s), then make sure it has."""
        idle = self._lock.acquire(timeout=timeout)
        try:
            process = self._process
            if process is None:
                return
            if idle:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
                process.join(min(timeout, QUIT_S))  # idle: nothing to save, so not long
            if process.is_alive():
                process.kill()
                process.join(5)
            if idle:
                self._discard()
        finally:
            if idle:
                self._lock.release()
