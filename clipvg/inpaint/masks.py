"""Masks for inpainting: from a PNG or a box, grown by a margin, and their bounding boxes."""
from __future__ import annotations

import os

import numpy as np
import torch
from scipy import ndimage

from ..edit.regions import region_mask
from ..errors import InvalidInputError
from ..input_check import ReadRaster

Box = tuple[int, int, int, int]


def parse_box(text: str) -> Box:
    """``"X,Y,W,H"`` (whole pixels, W and H positive) -> (x, y, w, h); InvalidInputError otherwise."""
    try:
        box = tuple(int(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise InvalidInputError(f"malformed box {text!r}; write X,Y,W,H in pixels with W, H > 0, e.g. --box 10,20,40,30")
    return box


def load_mask(shape: tuple[int, int], mask: str | os.PathLike | ReadRaster | np.ndarray | torch.Tensor | None = None,
              box: Box | None = None) -> torch.Tensor:
    """(H, W) bool on the canvas grid ``shape`` = (H, W): the union of ``mask`` (an image file, white
    or opaque = inside, one ``clipvg.input_check`` decoded, or an array; resized when it has the canvas's
    aspect ratio) and ``box`` (x, y, w, h px). Raises InvalidInputError when neither is given, or the result is empty or full."""
    if mask is None and box is None:
        raise InvalidInputError("give a mask image (--mask) or a box (--box X,Y,W,H)")
    if box is not None:
        x, y, w, h = box
        if x >= shape[1] or y >= shape[0] or x + w <= 0 or y + h <= 0:
            raise InvalidInputError(f"box {box} lies outside the {shape[1]}x{shape[0]} canvas")
    region = region_mask(shape, [box] if box is not None else [], mask)
    if not region.any():
        raise InvalidInputError("the mask is empty; paint the region to change white (or opaque)")
    if region.all():
        raise InvalidInputError("the mask covers the whole canvas; use clipvg edit to change everything")
    return region


def dilate(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """``mask`` (H, W) bool grown by ``pixels`` (Euclidean distance, on the CPU)."""
    if pixels <= 0:
        return mask.clone()
    distance = ndimage.distance_transform_edt(~mask.cpu().numpy())
    return torch.from_numpy(distance <= pixels).to(mask.device)


def bounding_box(mask: torch.Tensor, pad: int = 0) -> Box:
    """The (x, y, w, h) pixel box around ``mask``'s True pixels, grown by ``pad`` and kept on the canvas."""
    rows, cols = torch.nonzero(mask.cpu(), as_tuple=True)
    if len(rows) == 0:
        raise InvalidInputError("the mask is empty")
    height, width = mask.shape
    x0, y0 = max(0, int(cols.min()) - pad), max(0, int(rows.min()) - pad)
    x1, y1 = min(width, int(cols.max()) + 1 + pad), min(height, int(rows.max()) + 1 + pad)
    return x0, y0, x1 - x0, y1 - y0
