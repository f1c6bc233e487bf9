"""Inpainting and object removal in the vector domain.

Inpaint / replace: the paths lying inside the mask are dropped, the masked region is re-initialised
as a new layer (the picture there blurred, plus noise, vectorized inside the mask) and only that
layer is edited. Remove: the region is first reset from its surroundings (a smooth biharmonic fill
from the mask's border), the paths of the removed object are dropped, and the filled picture is
re-vectorized with outlines that follow its colours across the mask's border, never the mask (so
the mask's shape cannot come back as a new object, MiracleVision's failure case).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..render import render_on_white
from ..scene import Scene
from .layer import drop_paths, inside_share, stack, vectorize_layer, vectorize_touching
from .masks import bounding_box, dilate
from .prepared import Prepared
from .seed import add_noise, fill_from_border

INPAINT_LAYER = "inpaint"
REMOVE_LAYER = "removed"
BACKGROUND_PROMPT = "an empty background, nothing there"


def blur(image: torch.Tensor, radius: int) -> torch.Tensor:
    """(H, W, C) box-blurred with a (2 ``radius`` + 1)^2 window (edges replicated)."""
    if radius <= 0:
        return image.clone()
    chw = F.pad(image.permute(2, 0, 1)[None], (radius,) * 4, mode="replicate")
    return F.avg_pool2d(chw, 2 * radius + 1, stride=1)[0].permute(1, 2, 0)


def _render(scene: Scene) -> torch.Tensor:
    with torch.no_grad():
        return render_on_white(scene).cpu()


def context_box(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """The ROI box of a masked region: its bounding box grown by half its size (context for CLIP)."""
    _, _, w, h = bounding_box(mask)
    return bounding_box(mask, pad=max(2, max(w, h) // 4))


def prepare_inpaint(scene: Scene, mask: torch.Tensor, *, seed: int = 0, noise: float = 0.08, colors: int = 12,
                    blur_radius: int = 2, seed_image: torch.Tensor | None = None) -> Prepared:
    """Re-initialise the region ``mask`` (H, W) bool of ``scene`` as layer "inpaint" on top.

    Paths lying entirely inside the mask are dropped (the others stay bit-identical and fixed); the
    new layer partitions the mask into ``colors``-colour paths vectorized from ``seed_image``
    (H, W, 3), by default the picture blurred by ``blur_radius`` px with Gaussian noise of std
    ``noise`` (``seed``) inside the mask.
    """
    if seed_image is None:
        seed_image = add_noise(blur(_render(scene), blur_radius), mask, noise, seed)
    inside = inside_share(scene, mask) >= 0.999
    base = drop_paths(scene, inside)
    result, moving = stack(base, vectorize_layer(seed_image, mask, INPAINT_LAYER, colors, seed))
    return Prepared(result, moving, mask.cpu(), [context_box(mask)])


def prepare_removal(scene: Scene, mask: torch.Tensor, *, seed: int = 0, colors: int = 12,
                    seed_image: torch.Tensor | None = None) -> Prepared:
    """Reset the region ``mask`` (H, W) bool of ``scene`` from its surroundings, as layer "removed".

    The object's paths (more than half of their area inside the mask grown by 1 px) are dropped; the
    picture filled from the mask's border (or ``seed_image`` (H, W, 3)) is vectorized in ``colors``
    colours and its regions that reach into the mask become the new layer, the only one to move.
    """
    if seed_image is None:
        seed_image = fill_from_border(_render(scene), mask)
    objects = inside_share(scene, dilate(mask, 1)) > 0.5
    base = drop_paths(scene, objects)
    result, moving = stack(base, vectorize_touching(seed_image, mask, REMOVE_LAYER, colors, seed))
    return Prepared(result, moving, mask.cpu(), [context_box(mask)])
