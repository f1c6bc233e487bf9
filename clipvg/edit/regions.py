"""Region-only edits: which paths touch a region (ROI boxes and/or a mask) of the canvas.

A path touches the region when its outline passes within half a pixel (plus half its stroke width)
of a region pixel centre, or when its fill covers the region (winding number at one pixel of each
connected part of the region). All paths are tested at once on the renderer's flattening.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
from skimage.measure import label

from ..errors import InvalidInputError
from ..input_check import ReadRaster
from ..ragged import expand
from ..render import path_outlines
from ..scene import Scene

Box = tuple[float, float, float, float]
SPACING = 0.5  # px between outline samples


def canvas_shape(scene: Scene) -> tuple[int, int]:
    """(H, W) of the pixel grid of ``scene``'s canvas."""
    return max(1, round(scene.height)), max(1, round(scene.width))


def region_mask(shape: tuple[int, int], boxes: Sequence[Box] = (),
                mask: str | os.PathLike | ReadRaster | np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
    """(H, W) bool: the union of ``boxes`` (x, y, w, h in px) and ``mask``.

    ``mask`` is an (h, w) array (nonzero = inside), or an image file (bright or opaque = inside), or one
    ``clipvg.input_check`` decoded (its pixels taken); a mask of another size with the canvas's aspect ratio is
    resized (nearest), any other size is an error.
    """
    height, width = shape
    region = torch.zeros(shape, dtype=torch.bool)
    for x, y, w, h in boxes:
        region[max(0, int(np.floor(y))):int(np.ceil(y + h)), max(0, int(np.floor(x))):int(np.ceil(x + w))] = True
    if mask is not None:
        region |= _load_mask(mask, shape)
    return region


def _load_mask(mask, shape: tuple[int, int]) -> torch.Tensor:
    if isinstance(mask, (str, os.PathLike, ReadRaster)):
        from vectorize.image_io import load_image
        rgba = mask.take() if isinstance(mask, ReadRaster) else load_image(mask)
        array = (rgba[..., :3].mean(-1) * rgba[..., 3]) > 0.5
    else:
        array = torch.as_tensor(mask).detach().cpu().numpy()
        if array.ndim == 3:
            array = array.mean(-1)
        array = array > (0.5 if array.dtype.kind == "f" else 0)
    if array.ndim != 2:
        raise InvalidInputError(f"a region mask must be a 2-D image, got shape {array.shape}")
    height, width = shape
    if array.shape != shape:
        if abs(array.shape[1] / array.shape[0] - width / height) > 0.02 * width / height:
            raise InvalidInputError(f"the mask is {array.shape[1]}x{array.shape[0]} px but the canvas is "
                                    f"{width}x{height}; pass a mask with the canvas's aspect ratio")
        rows = np.minimum((np.arange(height) + 0.5) * array.shape[0] / height, array.shape[0] - 1).astype(int)
        cols = np.minimum((np.arange(width) + 0.5) * array.shape[1] / width, array.shape[1] - 1).astype(int)
        array = array[rows][:, cols]
    return torch.from_numpy(np.ascontiguousarray(array))


def _samples(edges: torch.Tensor, spacing: float = SPACING) -> tuple[torch.Tensor, torch.Tensor]:
    """Points (M, 2) along ``edges`` (E, 2, 2) at most ``spacing`` apart, ends included; edge ids (M,)."""
    pieces = torch.ceil((edges[:, 1] - edges[:, 0]).norm(dim=-1) / spacing).clamp(1, 1 << 16).long()
    edge, t = expand(pieces + 1)
    t = (t / pieces[edge])[:, None]
    return edges[edge, 0] * (1 - t) + edges[edge, 1] * t, edge


def paths_touching(scene: Scene, region: torch.Tensor) -> torch.Tensor:
    """(N,) bool: the paths of ``scene`` that touch ``region`` ((H, W) bool on the canvas grid)."""
    region = region.to(torch.bool).cpu()
    if region.shape != canvas_shape(scene):
        raise InvalidInputError(f"region of shape {tuple(region.shape)} does not match the canvas {canvas_shape(scene)}")
    cpu = scene.to("cpu")
    touched = torch.zeros(cpu.num_paths, dtype=torch.bool)
    if cpu.num_paths == 0 or not region.any():
        return touched.to(scene.device)
    edges, edge_path = path_outlines(cpu)
    radius = SPACING + torch.where(cpu.has_stroke, cpu.stroke_width / 2, torch.zeros_like(cpu.stroke_width))
    samples, sample_edge = _samples(edges)
    sample_path = edge_path[sample_edge]
    touched[sample_path[_near_region(samples, radius[sample_path], region)]] = True
    components, count = label(region.numpy(), connectivity=1, return_num=True)
    probes = torch.tensor(np.array([np.argwhere(components == c + 1)[0] for c in range(count)]),
                          dtype=torch.float32)[:, [1, 0]] + 0.5  # (C, 2) x, y pixel centres
    covered = _winding(edges, edge_path, probes, cpu.num_paths)  # (C, N)
    inside = torch.where(cpu.evenodd, covered % 2 != 0, covered != 0) & cpu.has_fill
    return (touched | inside.any(0)).to(scene.device)


def _near_region(points: torch.Tensor, radius: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """(M,) bool: a region pixel centre lies within the square of half-side ``radius`` around each point."""
    height, width = region.shape
    integral = torch.zeros(height + 1, width + 1, dtype=torch.int64)
    integral[1:, 1:] = region.long().cumsum(0).cumsum(1)
    x0 = torch.ceil(points[:, 0] - radius - 0.5).clamp(0, width).long()
    x1 = (torch.floor(points[:, 0] + radius - 0.5) + 1).clamp(0, width).long()
    y0 = torch.ceil(points[:, 1] - radius - 0.5).clamp(0, height).long()
    y1 = (torch.floor(points[:, 1] + radius - 0.5) + 1).clamp(0, height).long()
    total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    return (total > 0) & (x1 > x0) & (y1 > y0)


def _winding(edges: torch.Tensor, edge_path: torch.Tensor, probes: torch.Tensor, num_paths: int,
             chunk: int = 64) -> torch.Tensor:
    """(C, N) int64 winding numbers of each path's outline (``edges`` (E, 2, 2)) around each probe (C, 2)."""
    a, b = edges[:, 0], edges[:, 1]
    rows = []
    for part in probes.split(chunk):
        px, py = part[:, 0:1], part[:, 1:2]  # (c, 1)
        left = (b[:, 0] - a[:, 0]) * (py - a[:, 1]) - (px - a[:, 0]) * (b[:, 1] - a[:, 1])  # (c, E)
        up = (a[:, 1] <= py) & (b[:, 1] > py) & (left > 0)
        down = (b[:, 1] <= py) & (a[:, 1] > py) & (left < 0)
        crossing = up.long() - down.long()
        rows.append(torch.zeros(len(part), num_paths, dtype=torch.int64).index_add_(1, edge_path, crossing))
    return torch.cat(rows) if rows else torch.zeros(0, num_paths, dtype=torch.int64)
