"""Rendering views from a canvas: every view of every ROI in one bicubic `grid_sample` call."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from losses.augment import Box, Views, view_coordinates

# Bicubic taps reach 2 pixels, so points > 2 px outside a box read only white and can be clamped there;
# boxes are stacked with this many white rows/columns between them so taps never cross into a neighbour.
_MARGIN = 2
_GAP = 2 * _MARGIN


def sample_white_padded(darkness: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bicubic samples of `1 - darkness` at pixel coordinates, white (1) beyond the tensor's edges.

    darkness: `(1, 3, H, W)` = 1 - image, so zero padding reads as white; xy: `(1, Ho, Wo, 2)` pixel
    coordinates (x, y) of `darkness`, pixel i spanning [i, i + 1]. Returns `(1, 3, Ho, Wo)`.
    """
    size = torch.tensor(darkness.shape[-1:-3:-1], dtype=xy.dtype, device=xy.device)
    grid = 2 * xy / size - 1
    return 1 - F.grid_sample(darkness, grid, mode="bicubic", padding_mode="zeros", align_corners=False)


def render_views(image: torch.Tensor, boxes: Sequence[Box], views: Views, size: int) -> torch.Tensor:
    """Render views of `image (3, H, W)` in [0, 1] -> `(V, 3, size, size)`, differentiable in `image`.

    Each ROI's box is cut out and the boxes are stacked, white-separated, into one tall tensor, so a
    view only ever sees its own ROI's pixels and white; one `grid_sample` renders all views.
    """
    width = max(w for _, _, w, _ in boxes) + 2 * _GAP
    slabs, tops = [], []
    top = _GAP
    for x, y, w, h in boxes:
        slabs.append(F.pad(1 - image[:, y:y + h, x:x + w], (_GAP, width - w - _GAP, 0, _GAP)))
        tops.append(top)
        top += h + _GAP
    stack = F.pad(torch.cat(slabs, dim=1), (0, 0, _GAP, 0)).unsqueeze(0)  # (1, 3, top, width)

    device = image.device
    views = views.to(device)
    roi = views.roi_index
    box = torch.tensor(boxes, dtype=torch.float32, device=device)[roi]
    offset = torch.tensor([[_GAP, t] for t in tops], dtype=torch.float32, device=device)[roi]
    xy, inside = view_coordinates(views, size)
    local = (xy - box[:, None, None, :2]).clamp(min=-_MARGIN)
    local = torch.minimum(local, box[:, None, None, 2:] + _MARGIN)
    stacked_xy = local + offset[:, None, None, :]
    pixels = sample_white_padded(stack, stacked_xy.reshape(1, -1, size, 2))  # (1, 3, V*size, size)
    pixels = pixels.view(3, len(views), size, size).transpose(0, 1)
    return torch.where(inside.unsqueeze(1), pixels, torch.ones_like(pixels))
