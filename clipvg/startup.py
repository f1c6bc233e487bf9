"""Process start-up settings, importable without torch (the CLI calls them before loading a command)."""
from __future__ import annotations

import os


def set_startup_environment() -> None:
    """Environment a process running edits wants before CUDA starts (called once at start-up by the
    CLI and the batch workers, never during a job): cuBLAS's reproducible workspace."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
