"""The body of a server worker process (started by ``workers.Worker``): set itself up, then run the
tasks the server sends over the pipe, one at a time, until it sends None or goes away.

Messages to the server: what a task reports, then ("result", value) or ("error", status, message).
Ctrl-C in the terminal reaches the whole process group: the worker ignores it and the server, which
shuts down gracefully, stops its task instead.
"""
from __future__ import annotations

import gc
import importlib
import logging
import os
import signal
from typing import Any, Callable

from ..errors import ClipvgError
from . import tasks
from .jobs import release_memory
from .security import UploadError
from .workers import WORKER_NICE, WorkerSettings

log = logging.getLogger("clipvg.serve")

TASKS: dict[str, Callable[..., Any]] = {"edit": tasks.edit, "vectorize": tasks.vectorize_photo,
                                        "read_svg": tasks.read_svg, "export": tasks.export,
                                        "load_model": tasks.load_model}
TIDY_AFTER = frozenset({"edit", "vectorize"})  # tasks that leave big garbage (a full collection takes ~0.5 s)


def set_up(settings: WorkerSettings) -> None:
    """Yield the CPU to the server, use ``settings.threads`` threads, run ``settings.init`` (the process
    already dies with the server: ``startup.run_child``)."""
    import torch

    from ..startup import set_startup_environment

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICE)
    set_startup_environment()
    torch.set_num_threads(settings.threads)
    try:
        import numba

        numba.set_num_threads(min(settings.threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass
    if settings.init:
        module, _, name = settings.init.partition(":")
        getattr(importlib.import_module(module), name)()
    gc.freeze()  # the modules loaded by now: the collection after each task skips them


def failure(error: BaseException) -> tuple[str, int, str]:
    """The ("error", HTTP status, message) a task's exception becomes."""
    if isinstance(error, UploadError):
        return "error", error.status, error.message
    if isinstance(error, ClipvgError):
        return "error", 413 if getattr(error, "limit", None) else 400, str(error)
    log.exception("a worker task failed")
    return "error", 500, f"internal error: {type(error).__name__}: {error}"


def main(conn, cancel, settings: WorkerSettings) -> None:
    """Serve tasks from ``conn``; ``cancel`` (an Event the server sets) asks the running task to stop."""
    set_up(settings)

    def report(*message) -> None:
        conn.send(message)

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task, args = message
        try:
            answer = ("result", TASKS[task](args, report, cancel.is_set))
        except Exception as error:  # noqa: BLE001 - every failure of a task goes back to the server
            answer = failure(error)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return
        finally:
            answer = None
            if task in TIDY_AFTER:
                release_memory()
