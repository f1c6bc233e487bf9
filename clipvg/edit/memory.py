"""Out of memory during an edit: one handler, the same advice for every front end."""
from __future__ import annotations

import torch

from ..errors import ClipvgError

ADVICE = ("use fewer patches (--patches, views per step), a smaller picture (--max-size) or half precision on "
          "CUDA (--precision fp16 or bf16), or free memory on the device")


class EditOutOfMemoryError(ClipvgError, MemoryError):
    """The device ran out of memory during an edit; the message says what to lower."""


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA's out-of-memory error, Python's MemoryError, or the CPU allocator's RuntimeError."""
    return (isinstance(error, (torch.cuda.OutOfMemoryError, MemoryError))
            or (isinstance(error, RuntimeError) and "can't allocate memory" in str(error)))


class MemoryGuard:
    """``with MemoryGuard() as guard:`` turns an out-of-memory error raised inside into one
    EditOutOfMemoryError with ``ADVICE``; set ``guard.editor`` once an Editor exists so the message
    says the scene's size and views per step. CUDA's cache is emptied before raising."""

    def __init__(self) -> None:
        self.editor = None

    def __enter__(self) -> "MemoryGuard":
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None or isinstance(error, EditOutOfMemoryError) or not is_out_of_memory(error):
            return False
        if self.editor is not None:
            self.editor.optimizer.zero_grad(set_to_none=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise EditOutOfMemoryError(out_of_memory_message(error, self.editor)) from None


def out_of_memory_message(error: BaseException, editor=None) -> str:
    """What ran out, while doing what, what to lower, and the first line of the original error."""
    on_gpu = isinstance(error, torch.cuda.OutOfMemoryError) or (editor is not None and editor.device.type == "cuda")
    doing = "preparing the edit"
    if editor is not None:
        scene = editor.scene
        views = sum(1 + roi.num_patches for roi in editor.rois)
        doing = (f"editing a {round(scene.width)}x{round(scene.height)} scene of {scene.num_paths} paths with "
                 f"{views} CLIP views per step")
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
    return f"{'the GPU' if on_gpu else 'the machine'} ran out of memory {doing}; {ADVICE} ({detail})"
