"""Outpainting in the vector domain: grow the canvas, seed the new area by mirroring the picture
across its border plus noise (MiracleVision), vectorize that as a new layer, edit only that layer."""
from __future__ import annotations

import dataclasses

import torch

from ..edit.regions import canvas_shape
from ..errors import InvalidInputError
from ..input_check import check_margins
from ..scene import Scene
from .layer import stack, vectorize_layer
from .masks import Box
from .prepared import Prepared
from .seed import add_noise, mirror_extend

LAYER = "outpaint"


def extend_canvas(scene: Scene, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0) -> Scene:
    """A copy of ``scene`` on a canvas grown by the margins (px): every path and gradient moved by
    (``left``, ``top``); nothing else changes. Margins over the outpaint_margin limit are refused."""
    check_margins({"left": left, "right": right, "top": top, "bottom": bottom})
    grown = scene.clone()
    offset = torch.tensor([float(left), float(top)], device=scene.device)
    grown.points += offset
    grown.gradient_transform[:, 4:6] += offset
    return dataclasses.replace(grown, width=scene.width + left + right, height=scene.height + top + bottom)


def margin_boxes(shape: tuple[int, int], left: int, right: int, top: int, bottom: int) -> list[Box]:
    """One ROI box per grown side of a canvas of ``shape`` = (H, W) (after growing): the new strip
    plus as much of the old picture again as context, clipped to the canvas."""
    height, width = shape
    boxes = []
    if left:
        boxes.append((0, 0, min(width, 2 * left), height))
    if right:
        boxes.append((max(0, width - 2 * right), 0, width - max(0, width - 2 * right), height))
    if top:
        boxes.append((0, 0, width, min(height, 2 * top)))
    if bottom:
        boxes.append((0, max(0, height - 2 * bottom), width, height - max(0, height - 2 * bottom)))
    return boxes


def new_area(shape: tuple[int, int], left: int, right: int, top: int, bottom: int) -> torch.Tensor:
    """(H, W) bool: the pixels outside the old picture on a grown canvas of ``shape`` = (H, W)."""
    area = torch.ones(shape, dtype=torch.bool)
    area[top:shape[0] - bottom, left:shape[1] - right] = False
    return area


def prepare_outpaint(scene: Scene, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0, *,
                     seed: int = 0, noise: float = 0.08, colors: int = 12,
                     seed_image: torch.Tensor | None = None) -> Prepared:
    """Grow ``scene``'s canvas by the margins (px) and seed the new area as layer "outpaint".

    The old paths are translated and never change again; the new layer vectorizes (``colors``
    colours) the picture mirrored across the border with Gaussian noise of std ``noise`` (from
    ``seed``), or ``seed_image`` (H', W', 3) when given (e.g. a diffusion refiner's result). The
    mirrored seed raster itself is kept as the result's ``prior`` (a refiner's starting point).
    """
    margins = (left, right, top, bottom)
    if any(int(m) != m or m < 0 for m in margins) or not any(margins):
        raise InvalidInputError(f"outpaint margins must be whole pixels >= 0, at least one > 0; got "
                                f"left={left} right={right} top={top} bottom={bottom}")
    grown = extend_canvas(scene, left, right, top, bottom)
    shape = canvas_shape(grown)
    area = new_area(shape, left, right, top, bottom)
    prior = None
    if seed_image is None:
        prior, _ = seed_outpaint(scene, left, right, top, bottom, seed=seed, noise=noise)
        seed_image = prior
    if tuple(seed_image.shape[:2]) != shape:
        raise InvalidInputError(f"the seed image is {tuple(seed_image.shape[:2])}, the grown canvas {shape}")
    result, moving = stack(grown, vectorize_layer(seed_image, area, LAYER, colors, seed))
    return Prepared(result, moving, area, margin_boxes(shape, left, right, top, bottom), prior)


def seed_outpaint(scene: Scene, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0, *,
                  seed: int = 0, noise: float = 0.08) -> tuple[torch.Tensor, torch.Tensor]:
    """The MiracleVision seed as a raster: (grown image (H', W', 3) with the mirrored, noisy border,
    new area (H', W') bool); what a diffusion refiner starts from (the border prior)."""
    from ..render import render_on_white

    with torch.no_grad():
        image = render_on_white(scene).cpu()
    shape = (image.shape[0] + top + bottom, image.shape[1] + left + right)
    area = new_area(shape, left, right, top, bottom)
    return add_noise(mirror_extend(image, left, right, top, bottom), area, noise, seed), area
