"""The default backend: pure-PyTorch exact-area rasterization of fills and strokes, CPU or CUDA."""
from __future__ import annotations

import torch

from ..scene import Scene
from .composite import composite
from .coverage import rasterize
from .geometry import closing_edges, flatten
from .paint import fragment_colors
from .stroke import stroke_edges


def _owner(offsets: torch.Tensor) -> torch.Tensor:
    return torch.arange(len(offsets) - 1, device=offsets.device).repeat_interleave(offsets.diff())


def draw_items(scene: Scene, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Edges (E, 2, 2) in output pixels of every draw item, and their item ids (E,).

    Path k draws item 2k (its fill) then item 2k + 1 (its stroke); each item is a closed edge soup.
    """
    points = scene.points * scale
    subpath_path = _owner(scene.path_subpath_offsets)
    lines = flatten(scene, points)
    line_path = subpath_path[lines.subpath]

    filled = scene.has_fill[line_path]
    close, close_subpath = closing_edges(scene, points)
    close_filled = scene.has_fill[subpath_path[close_subpath]]
    parts = [lines.edges[filled], close[close_filled]]
    items = [2 * line_path[filled], 2 * subpath_path[close_subpath][close_filled]]

    half_width = scene.stroke_width[subpath_path] * torch.sqrt(scale[0] * scale[1]) / 2
    stroked = (scene.has_stroke[line_path] & (scene.stroke_width[line_path] > 0)).detach()
    if stroked.any():
        subset = type(lines)(lines.edges[stroked], lines.subpath[stroked], lines.corner[stroked])
        edges, subpath = stroke_edges(subset, half_width, scene.line_join[subpath_path],
                                      scene.line_cap[subpath_path], scene.miter_limit[subpath_path],
                                      scene.subpath_closed)
        parts.append(edges)
        items.append(2 * subpath_path[subpath] + 1)
    return torch.cat(parts), torch.cat(items)


def render_torch(scene: Scene, width: int, height: int, background: torch.Tensor | None) -> torch.Tensor:
    """(H, W, 4) straight RGBA of ``scene`` drawn at ``width`` x ``height`` over ``background`` (4,)."""
    device = scene.device
    scale = torch.tensor([width / scene.width, height / scene.height], dtype=torch.float32, device=device)
    edges, items = draw_items(scene, scale)
    evenodd = torch.stack([scene.evenodd, torch.zeros_like(scene.evenodd)], 1).flatten()
    fragments = rasterize(edges, items, evenodd, width, height)
    path, is_stroke = fragments.item // 2, fragments.item % 2 == 1
    centre = torch.stack([fragments.pixel % width, fragments.pixel // width], 1).to(torch.float32) + 0.5
    colors = fragment_colors(scene, path, is_stroke, centre / scale)
    alpha = fragments.coverage * colors[:, 3] * scene.opacity[path]
    premultiplied, coverage = composite(fragments.pixel, alpha, colors[:, :3], width * height)
    if background is not None:
        under = 1 - coverage
        premultiplied = premultiplied + (background[:3] * background[3])[None] * under[:, None]
        coverage = coverage + background[3] * under
    straight = torch.where(coverage[:, None] > 0, premultiplied / coverage.clamp(min=1e-12)[:, None],
                           torch.zeros_like(premultiplied))
    return torch.cat([straight.clamp(0, 1), coverage[:, None].clamp(0, 1)], 1).reshape(height, width, 4)
