"""Refine a scene's raster with a Refiner and fit the result back into paths."""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from ..edit.options import EditOptions
from ..inpaint.layer import stack, vectorize_layer
from ..inpaint.prepared import Prepared
from ..render import render_on_white
from ..scene import Scene
from .base import Refiner
from .layered import LayeredRefiner
from .refit import refit

Prepare = Callable[[torch.Tensor | None], Prepared]


def refine_prepared(prepare: Prepare, refiner: Refiner, prompt: str, *, seed: int = 0, remove: bool = False,
                    prior: bool = False, iterations: int = 100, options: EditOptions | None = None) -> Prepared:
    """``prepare(seed_image)`` (e.g. ``lambda s: prepare_outpaint(scene, left=64, seed_image=s)``)
    first with its own seed; the refiner repaints that render's area (``prior``: starting from the
    seed, the border prior: the raster seed itself (``Prepared.prior``, e.g. the outpaint's mirrored
    border plus noise) where the preparation kept one, not the render of its vectorized, flattened
    copy); ``prepare`` again on the refined raster makes the new layer, which is then re-fitted to
    the raster for ``iterations`` steps (``refit``)."""
    first = prepare(None)
    start = first.prior if prior and first.prior is not None else first.render()
    refined = refiner.refine(start, first.area, prompt, seed=seed, remove=remove, prior=prior)
    prepared = prepare(refined)
    scene = refit(prepared.scene, refined, prepared.path_mask, iterations=iterations, options=options)
    return dataclasses.replace(prepared, scene=scene)


def refine_layered(prepare_background: Prepare, refiner: LayeredRefiner, prompt: str, *, seed: int = 0,
                   iterations: int = 100, options: EditOptions | None = None) -> Prepared:
    """Layered mode: the area repainted as background (``prepare_background``, e.g. a removal) as
    one new layer and what the prompt adds as a transparent layer "foreground" on top, both
    re-fitted to the refiner's composite; the two layers are the ones that move afterwards."""
    first = prepare_background(None)
    background, foreground = refiner.refine_layers(first.render(), first.area, prompt, seed=seed)
    prepared = prepare_background(background)
    scene, moving = prepared.scene, prepared.path_mask
    opaque = foreground[..., 3] > 0.5
    if bool(opaque.any()):
        scene, new = stack(scene, vectorize_layer(foreground[..., :3], opaque, "foreground", seed=seed))
        moving = torch.cat([moving.cpu(), torch.zeros(int(new.sum()), dtype=torch.bool)]).to(new.device) | new
    alpha = foreground[..., 3:]
    composite = background * (1 - alpha) + foreground[..., :3] * alpha
    scene = refit(scene, composite, moving, iterations=iterations, options=options)
    return dataclasses.replace(prepared, scene=scene, path_mask=moving)


def refine_scene(scene: Scene, refiner: Refiner, prompt: str, mask: torch.Tensor | None = None,
                 paths: torch.Tensor | None = None, *, seed: int = 0, iterations: int = 100,
                 options: EditOptions | None = None) -> Scene:
    """The whole-picture flow (``clipvg edit --refiner``): the refiner repaints ``mask`` (H, W) bool
    (default everything) of ``scene``'s render, then the paths ``paths`` ((N,) bool, default all)
    are re-fitted to it for ``iterations`` steps."""
    with torch.no_grad():
        image = render_on_white(scene).cpu()
    if mask is None:
        mask = torch.ones(image.shape[:2], dtype=torch.bool)
    refined = refiner.refine(image, mask, prompt, seed=seed)
    return refit(scene, refined, paths, iterations=iterations, options=options)
