"""Loading diffusers pipelines with their real ``from_pretrained`` (hub id or local folder)."""
from __future__ import annotations

import os
import warnings
from typing import Any

import torch

from ..errors import BackendUnavailableError, InvalidInputError


def require_diffusers() -> None:
    """Raise BackendUnavailableError unless diffusers and transformers import."""
    try:
        import diffusers  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as error:
        raise BackendUnavailableError(f"diffusion refiners need the diffusion extra ({error}); install it with "
                                      "pip install 'clipvg[diffusion]'") from None


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cuda`` when available and ``device`` is None, else ``device`` (the editor's rule)."""
    from ..edit.editor import resolve_device as editor_device

    return editor_device(device)


def load_pipeline(cls: Any, model: Any, device: torch.device, **kwargs: Any) -> Any:
    """``cls.from_pretrained(model)`` on ``device`` (float16 on CUDA), or ``model`` itself when it is
    already a pipeline. A missing or incomplete model raises InvalidInputError saying how to get it."""
    require_diffusers()
    from diffusers import DiffusionPipeline

    if isinstance(model, DiffusionPipeline):
        pipeline = model
    else:
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        try:
            with warnings.catch_warnings():  # torch_dtype is deprecated in new diffusers, the only name in old ones
                warnings.simplefilter("ignore", FutureWarning)
                pipeline = cls.from_pretrained(os.fspath(model), torch_dtype=dtype, safety_checker=None,
                                               feature_extractor=None, requires_safety_checker=False, **kwargs)
        except (OSError, ValueError, KeyError, TypeError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InvalidInputError(
                f"cannot load diffusion weights {os.fspath(model)!r} ({reason}); download them once with "
                f"`huggingface-cli download {os.fspath(model)}` where the Hugging Face hub is reachable, or pass "
                "--refiner-model DIR, a diffusers folder with model_index.json, unet/, vae/, text_encoder/, "
                "tokenizer/ and scheduler/") from None
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device)
