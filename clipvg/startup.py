"""Process start-up, importable without torch: the CLI's environment, and the parent-death rule that
worker processes (batch and serve) set before they import anything heavy."""
from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
import threading
import time
from typing import Any

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_S = 1.0  # seconds between looks at the parent


def set_startup_environment() -> None:
    """Environment a process running edits wants before CUDA starts (called once at start-up by the
    CLI and the batch workers, never during a job): cuBLAS's reproducible workspace."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (someone else's process counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent(parent: int) -> None:
    """Make this process end when process ``parent`` ends, however it ends (SIGKILL included): the
    kernel's parent-death signal on Linux (for the thread that started this process), and a thread
    that checks ``parent`` every ``WATCH_S`` seconds everywhere."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while process_alive(parent):
            time.sleep(WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="clipvg-parent-watch", daemon=True).start()


def run_child(parent: int, target: str, *args: Any) -> None:
    """A spawned process's entry point: die with ``parent`` first, then import ``target``
    ("package.module:function", typically one that loads torch for seconds) and call it with ``args``.
    Spawned with this as its target, a child never outlives its parent while it is still importing."""
    die_with_parent(parent)
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args)
