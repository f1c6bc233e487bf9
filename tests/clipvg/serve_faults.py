"""Faults injected into ``clipvg serve``'s worker processes at the real call site (``Editor.step``
inside ``run_job``), through ``ServeConfig.worker_init = "serve_faults:<function>"``: each function
runs once at a worker's start and patches the editor of that process only. Only edits with seed
``FAULTY_SEED`` are hit, so a test's other edits run normally."""
from __future__ import annotations

import os
import signal
from pathlib import Path

FAULTY_SEED = 13
CRASH_STEP = 2
MARKER = "CLIPVG_TEST_CRASH_MARKER"  # a file made by the crash: a worker started after it does not crash


def _patch_step(fault) -> None:
    from clipvg.edit.editor import Editor

    real_step = Editor.step

    def step(self):
        if self.options.seed == FAULTY_SEED:
            fault(self)
        return real_step(self)

    Editor.step = step


def out_of_memory_after_first_step() -> None:
    """The edit runs out of (CUDA) memory in its second step."""
    import torch

    def fault(editor) -> None:
        if editor.step_count >= 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    _patch_step(fault)


def crash_at_step() -> None:
    """The worker process is killed (SIGKILL) as its edit starts step ``CRASH_STEP + 1``, once: the
    file named by $CLIPVG_TEST_CRASH_MARKER is made first, and a worker that finds it does not crash."""
    marker = Path(os.environ[MARKER])

    def fault(editor) -> None:
        if editor.step_count == CRASH_STEP and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)

    _patch_step(fault)
