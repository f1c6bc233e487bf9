"""Loading diffusers pipelines with their real ``from_pretrained`` (hub id or local folder)."""
from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import torch

from ..errors import BackendUnavailableError, InvalidInputError
from .precision import Precision, quantize_int8, resolve_precision

# diffusers logs this on import whenever torchao is installed at a version it does not list; int8
# works regardless (tests/clipvg/test_refiners_precision.py), so keep it off the CLI's stderr
logging.getLogger("diffusers.quantizers.torchao.torchao_quantizer").setLevel(logging.ERROR)


def require_diffusers() -> None:
    """Raise BackendUnavailableError unless diffusers and transformers import. The first import of
    diffusers' pipelines also imports torchao when it is installed, whose registrations log
    deprecation warnings through torch's pytree logger: they are held back during that import."""
    pytree = logging.getLogger("torch.utils._pytree")
    level = pytree.level
    pytree.setLevel(logging.ERROR)
    try:
        import transformers  # noqa: F401
        from diffusers import DiffusionPipeline  # noqa: F401
    except ImportError as error:
        raise BackendUnavailableError(f"diffusion refiners need the diffusion extra ({error}); install it with "
                                      "pip install 'clipvg[diffusion]'") from None
    finally:
        pytree.setLevel(level)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cuda`` when available and ``device`` is None, else ``device`` (the editor's rule)."""
    from ..edit.editor import resolve_device as editor_device

    return editor_device(device)


def missing_weights(model: Any, reason: str, layout: str = "a diffusers folder with model_index.json, unet/, "
                    "vae/, text_encoder/, tokenizer/ and scheduler/", flag: str = "--refiner-model") -> InvalidInputError:
    """The error for weights that cannot be loaded, saying how to get them."""
    return InvalidInputError(
        f"cannot load diffusion weights {os.fspath(model)!r} ({reason}); download them once with "
        f"`huggingface-cli download {os.fspath(model)}` where the Hugging Face hub is reachable, or pass "
        f"{flag} DIR, {layout}")


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def load_model(cls: Any, model: Any, dtype: torch.dtype, flag: str, layout: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained(model, torch_dtype=dtype)`` (a diffusers model: ControlNetModel, ...), or
    ``model`` itself when it is already one; missing weights raise InvalidInputError."""
    if isinstance(model, torch.nn.Module):
        return model
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return cls.from_pretrained(os.fspath(model), torch_dtype=dtype, **kwargs)
    except (OSError, ValueError, KeyError, TypeError, EnvironmentError) as error:
        raise missing_weights(model, first_line(error), layout, flag) from None


def safety_off(cls: Any) -> dict:
    """The keyword arguments that keep ``cls.from_pretrained`` from loading a safety checker, for the
    pipelines that have one (SD 1.x/2.x; an AutoPipeline may resolve to one)."""
    import inspect

    off = {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    if cls.__name__.startswith("AutoPipeline"):
        return off
    parameters = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in off.items() if k in parameters} if "safety_checker" in parameters else {}


def load_pipeline(cls: Any, model: Any, device: torch.device, precision: Precision | str | None = None,
                  quantize: tuple[str, ...] = ("unet", "text_encoder", "text_encoder_2", "controlnet"),
                  **kwargs: Any) -> Any:
    """``cls.from_pretrained(model)`` on ``device`` at ``precision`` (a Precision or one of
    PRECISIONS; default auto: float16 on CUDA), or ``model`` itself when it is already a pipeline.
    With int8 the pipeline's ``quantize`` modules get int8 linear layers (``quantize_int8``); the
    precision in force is set as ``pipeline.clipvg_precision``. A missing or incomplete model raises
    InvalidInputError saying how to get it."""
    require_diffusers()
    from diffusers import DiffusionPipeline

    if not isinstance(precision, Precision):
        precision = resolve_precision(precision, device)
    if isinstance(model, DiffusionPipeline):
        pipeline = model
    else:
        dtype = precision.dtype
        try:
            with warnings.catch_warnings():  # torch_dtype is deprecated in new diffusers, the only name in old ones
                warnings.simplefilter("ignore", FutureWarning)
                pipeline = cls.from_pretrained(os.fspath(model), torch_dtype=dtype, **safety_off(cls), **kwargs)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise missing_weights(model, first_line(error)) from None
    pipeline.set_progress_bar_config(disable=True)
    pipeline = pipeline.to(device)
    pipeline.clipvg_precision = quantize_int8([getattr(pipeline, name, None) for name in quantize], precision)
    return pipeline
