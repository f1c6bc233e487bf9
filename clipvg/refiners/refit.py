"""Vector re-fit: optimise the affected paths so the scene renders like a refined raster."""
from __future__ import annotations

from typing import Callable

import torch

from ..edit.editor import build_optimizer, deterministic
from ..edit.options import EditOptions
from ..render import render_on_white
from ..scene import Scene



def refit(scene: Scene, target: torch.Tensor, paths: torch.Tensor | None = None,
          clip_loss: Callable[[torch.Tensor], torch.Tensor] | None = None, *, iterations: int = 100,
          options: EditOptions | None = None, clip_weight: float = 0.1, mask: torch.Tensor | None = None) -> Scene:
    """A copy of ``scene`` whose paths ``paths`` ((N,) bool, default all) were optimised for
    ``iterations`` steps so its render on white matches ``target`` (H, W, 3) in [0, 1]: mean squared
    error (over ``mask`` (H, W) bool when given) plus ``clip_weight`` x ``clip_loss(render)`` (e.g. a
    ``losses.ROIClipLoss``). Adam with the editor's parameter groups and learning rates (``options``,
    default EditOptions' CLIPVG defaults); colours are clamped after each step. Other paths stay
    bit-identical."""
    options = options or EditOptions("refit")
    fitted = scene.clone()
    optimizer = build_optimizer(fitted, options, None if paths is None else paths.to(scene.device))
    target = target.to(scene.device, torch.float32)
    weight = None if mask is None else mask.to(scene.device)[..., None].float()
    with deterministic():
        for _ in range(iterations):
            optimizer.zero_grad(set_to_none=True)
            image = render_on_white(fitted)
            error = (image - target) ** 2
            loss = error.mean() if weight is None else (error * weight).sum() / (3 * weight.sum()).clamp(min=1)
            if clip_loss is not None:
                loss = loss + clip_weight * clip_loss(image)
            loss.backward()
            optimizer.step()
            fitted.clamp_()
    return fitted.clone()
