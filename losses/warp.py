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
# On the CPU, grid_sample runs its batch entries in parallel and nothing else: the views are sampled as
# up to this many batch entries of the same image, each with its own input gradient (summed after) of at
# most _CHUNK_BYTES in all. The count depends on the sizes only, never on the threads, so the summation
# order, and the gradient's last bits, are the same on every machine.
_MAX_CHUNKS = 8
_CHUNK_BYTES = 2 ** 27


def sample_white_padded(darkness: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bicubic samples of `1 - darkness` at pixel coordinates, white (1) beyond the tensor's edges.

    darkness: `(N, 3, H, W)` = 1 - image, so zero padding reads as white; xy: `(N, Ho, Wo, 2)` pixel
    coordinates (x, y) of `darkness`, pixel i spanning [i, i + 1]. Returns `(N, 3, Ho, Wo)`.
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
    pixels = _sample_in_chunks(stack, stacked_xy.reshape(-1, size, 2))  # (3, V*size, size)
    pixels = pixels.view(3, len(views), size, size).transpose(0, 1)
    return torch.where(inside.unsqueeze(1), pixels, torch.ones_like(pixels))


def _sample_in_chunks(darkness: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """``sample_white_padded`` of ``darkness (1, 3, H, W)`` at ``xy (R, S, 2)`` -> ``(3, R, S)``, the R rows
    split into batch entries of one expanded image on the CPU (see ``_MAX_CHUNKS``): the backward of one
    batch entry runs on one thread, and was 12 % of a bf16 CLIP step at 512 px and 64 patches."""
    rows, side = xy.shape[:2]
    chunks = 1
    if darkness.device.type == "cpu":
        chunks = max(1, min(_MAX_CHUNKS, rows // side, _CHUNK_BYTES // (darkness.numel() * darkness.element_size())))
    per = -(-rows // chunks)
    xy = F.pad(xy, (0, 0, 0, 0, 0, per * chunks - rows)).view(chunks, per, side, 2)
    pixels = sample_white_padded(darkness.expand(chunks, -1, -1, -1), xy)  # (chunks, 3, per, S)
    return pixels.transpose(0, 1).reshape(3, chunks * per, side)[:, :rows]
