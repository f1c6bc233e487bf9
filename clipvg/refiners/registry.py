"""Refiners by name, for the CLI: ``sd-inpaint``, ``controlnet-inpaint``, ``imagic``, ``unitune``,
``layerdiffusion``."""
from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError
from .base import Refiner
from .loading import require_diffusers

NAMES = ("sd-inpaint", "controlnet-inpaint", "imagic", "unitune", "layerdiffusion")


def make_refiner(name: str, model: Any = None, device: str | None = None, **settings: Any) -> Refiner:
    """The refiner ``name`` on ``model`` (hub id / local folder / pipeline; None: its default model);
    ``settings`` go to its constructor (steps, guidance, precision, ...)."""
    if name not in NAMES:
        raise InvalidInputError(f"unknown refiner {name!r}; choose one of {', '.join(NAMES)}")
    require_diffusers()
    if name == "sd-inpaint":
        from .sd_inpaint import DEFAULT_MODEL, SDInpaintRefiner as cls
    elif name == "controlnet-inpaint":
        from .controlnet_inpaint import DEFAULT_MODEL, ControlNetInpaintRefiner as cls
    elif name == "imagic":
        from .imagic import DEFAULT_MODEL, ImagicRefiner as cls
    elif name == "unitune":
        from .unitune import DEFAULT_MODEL, UniTuneRefiner as cls
    else:
        from .layerdiffusion import DEFAULT_MODEL, LayerDiffusionRefiner as cls
    return cls(DEFAULT_MODEL if model is None else model, device, **settings)
