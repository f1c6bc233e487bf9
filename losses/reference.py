"""Reference implementation of `ROIClipLoss` in the official code's style, for tests and benchmarks.

Each ROI is cut out of the image, each view is rendered on its own, and CLIP runs once per ROI and view
kind (whole view, then the batch of patches), optionally with one CLIP model per ROI as the official
code does. On the same views it gives the batched loss's value.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from losses.augment import Views, view_coordinates
from losses.clip_model import ClipModel
from losses.roi import ROIClipLoss, check_image
from losses.warp import sample_white_padded


def render_view_loop(image: torch.Tensor, box: tuple[int, int, int, int], views: Views, size: int) -> torch.Tensor:
    """Render each of `views` of one ROI of `image (3, H, W)`, one at a time -> `(V, 3, size, size)`."""
    x, y, w, h = box
    darkness = (1 - image[:, y:y + h, x:x + w]).unsqueeze(0)  # the ROI alone; white all around
    renders = []
    views = views.to(image.device)
    for i in range(len(views)):
        xy, inside = view_coordinates(views.select([i]), size)
        local = xy - torch.tensor([x, y], dtype=xy.dtype, device=xy.device)
        pixels = sample_white_padded(darkness, local)
        renders.append(torch.where(inside.unsqueeze(1), pixels, torch.ones_like(pixels)))
    return torch.cat(renders)


def reference_loss(loss_fn: ROIClipLoss, image: torch.Tensor, views: Views,
                   clips: Sequence[ClipModel] | None = None) -> torch.Tensor:
    """`loss_fn`'s loss of `image (H, W, 3)` on `views`, computed ROI by ROI and view by view -> scalar.

    clips: one CLIP per ROI (official style); defaults to `loss_fn.clip` for every ROI.
    """
    check_image(image, loss_fn.size)
    pixels = image.to(loss_fn.clip.device).permute(2, 0, 1)
    clips = clips or [loss_fn.clip] * len(loss_fn.rois)
    losses = torch.zeros(len(views), device=pixels.device)
    for i, box in enumerate(loss_fn.boxes):
        for kind in (~views.is_patch, views.is_patch):
            index = torch.nonzero((views.roi_index == i) & kind).squeeze(1)
            if len(index) == 0:
                continue
            subset = views.select(index)
            embeddings = clips[i].encode_image(render_view_loop(pixels, box, subset, clips[i].image_size))
            losses = losses.index_put((index.to(pixels.device),), loss_fn.view_losses(embeddings, subset))
    return loss_fn.total(losses, views)
