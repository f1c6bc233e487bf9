"""One-call outpaint, inpaint and remove: prepare the scene, then edit only the new layer."""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ..edit.api import EditResult, Source, load_source
from ..edit.regions import canvas_shape
from .inpaint import BACKGROUND_PROMPT, prepare_inpaint, prepare_removal
from .masks import Box, load_mask
from .outpaint import prepare_outpaint
from .prepared import area_options, edit_prepared

Mask = str | os.PathLike | np.ndarray | torch.Tensor | None


def outpaint(source: Source, prompt: str, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0, *,
             seed: int = 0, clip=None, max_size: int | None = 512, progress: bool = False,
             **options: Any) -> EditResult:
    """Grow ``source`` (see ``clipvg.edit.load_source``) by the margins (px) and paint the new area
    toward ``prompt``: only the new layer moves, the loss looks at the new strips. ``options`` go to
    EditOptions (iterations, device, clip_model, clip_weights, num_patches, ...)."""
    prepared = prepare_outpaint(load_source(source, max_size), left, right, top, bottom, seed=seed)
    return edit_prepared(prepared, area_options(prepared, prompt, seed=seed, **options), clip, progress=progress)


def inpaint(source: Source, prompt: str, mask: Mask = None, box: Box | None = None, *, seed: int = 0, clip=None,
            max_size: int | None = 512, progress: bool = False, **options: Any) -> EditResult:
    """Repaint the region ``mask`` (image file or (H, W) array) and/or ``box`` (x, y, w, h px) of
    ``source`` toward ``prompt``; paths outside stay bit-identical. ``options`` go to EditOptions."""
    scene = load_source(source, max_size)
    prepared = prepare_inpaint(scene, load_mask(canvas_shape(scene), mask, box), seed=seed)
    return edit_prepared(prepared, area_options(prepared, prompt, seed=seed, **options), clip, progress=progress)


def remove(source: Source, mask: Mask = None, box: Box | None = None, prompt: str = BACKGROUND_PROMPT, *,
           seed: int = 0, clip=None, max_size: int | None = 512, progress: bool = False,
           **options: Any) -> EditResult:
    """Remove the object under ``mask`` / ``box`` from ``source``: reset the region from its
    surroundings, then edit it toward the background description ``prompt``."""
    scene = load_source(source, max_size)
    prepared = prepare_removal(scene, load_mask(canvas_shape(scene), mask, box), seed=seed)
    return edit_prepared(prepared, area_options(prepared, prompt, seed=seed, **options), clip, progress=progress)
