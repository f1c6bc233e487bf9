"""Drawing a large render without gradients in tiles, so that the renderer's working memory stays
within a budget (``clipvg.tiling.TILE_BYTES``) whatever the render's size.

A tile of output pixels [x0, x1) x [y0, y1) is the whole scene drawn on a canvas ``x1 - x0`` x
``y1 - y0`` px whose content is moved left by x0 and up by y0 output px: the scene's canvas-px
geometry (points, gradient placements, image and pattern placements, mask and filter regions,
turbulence and light positions) is shifted by (x0, y0) / scale canvas px. Paths a pattern tile draws
are in tile px and stay put. Filters reach across pixels (a blur, an offset, a dilation), so a tile
with filters is drawn with margins on each side (the sum of every filter primitive's reach, per
axis) and cut back; filters whose result depends on the whole region (``feTile``, stitched
turbulence, wrapped convolution) are not tiled. The tile size follows the measured peak bytes per
drawn pixel (``clipvg.limits``: flat scenes and trees apart), and the tiles of one row of tiles are
put together into a band of whole rows (what ``render_rows`` yields). At the scene's own size
(scale 1) the shift is exact in float32 and the tiles equal the one-shot render; at other scales
they differ by the rounding of the shifted coordinates (float32: about the float spacing of the
canvas coordinates, float64: about 1e-12).

A flat scene's outline (its fills' edges and strokes' outlines, ``torch_backend.draw_items``) is made once at
the render's scale, and each tile draws the edges that reach its rows, moved onto it (edges above or below a tile
add nothing to its pixels' coverage; those left and right of it do, through the rows' sums): a stroke of many
segments is not outlined again for every band.
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Iterator

import torch

from ..crossings import EdgeLoad
from ..ragged import group_min_max
from ..scene import Scene
from ..scene.tree import Filter, FilterPrimitive, Group, Image, Mask, Pattern
from ..tiling import TilePlan, pattern_paths, plan_for, tile_budget, tile_margins, tile_plan, working_bytes

OFF_CANVAS = -1e5  # canvas px: where the points of a path that cannot reach a tile go (left and above it)


def needs_gradient(scene: Scene) -> bool:
    """Whether a render of ``scene`` records gradients: autograd is on and some scene tensor
    (points, paints, group opacities, image textures, filter parameters) requires grad."""
    if not torch.is_grad_enabled():
        return False
    tensors = [getattr(scene, item.name) for item in fields(scene)]
    if scene.tree is not None:
        tensors += [image.texture for image in scene.tree.images()]
        tensors += [t for group in scene.tree.groups() for f in group.filters for t in f.tensors()]
    return any(isinstance(t, torch.Tensor) and t.requires_grad for t in tensors)



Shift = tuple[float, float]  # canvas px a tile's content moves left and up


def _moved(transform: tuple[float, ...], shift: Shift) -> tuple[float, ...]:
    """An SVG matrix (a..f) whose result is moved left and up by ``shift``."""
    return (*transform[:4], transform[4] - shift[0], transform[5] - shift[1])


def _moved_rect(rect: tuple[float, float, float, float] | None, shift: Shift
                ) -> tuple[float, float, float, float] | None:
    return None if rect is None else (rect[0] - shift[0], rect[1] - shift[1], rect[2], rect[3])


def _moved_primitive(primitive: FilterPrimitive, shift: Shift) -> FilterPrimitive:
    params = dict(primitive.params)
    dx, dy = shift
    if primitive.kind == "feTurbulence":  # (scale x, scale y, e, f): its placement on the canvas
        params["transform"] = params["transform"] - params["transform"].new_tensor([0.0, 0.0, dx, dy])
    if "light" in params:
        light = dict(params["light"])
        for key in ("position", "points_at"):
            if key in light:
                light[key] = light[key] - light[key].new_tensor([dx, dy, 0.0])
        params["light"] = light
    content = None if primitive.content is None else _moved_group(primitive.content, shift)
    return replace(primitive, subregion=_moved_rect(primitive.subregion, shift), params=params, content=content)


def _moved_group(group: Group, shift: Shift) -> Group:
    """``group`` with its canvas-px placements moved by ``shift`` (its paths' points are moved in the
    Scene); pattern tiles' contents are in tile px and stay."""
    children: list = []
    for child in group.children:
        if isinstance(child, Group):
            child = _moved_group(child, shift)
        elif isinstance(child, (Image, Pattern)):
            child = replace(child, transform=_moved(child.transform, shift))
        children.append(child)
    mask = None if group.mask is None else Mask(_moved_group(group.mask.content, shift), group.mask.kind,
                                                _moved_rect(group.mask.region, shift), group.mask.id)
    filters = [Filter([_moved_primitive(p, shift) for p in f.primitives], _moved_rect(f.region, shift), f.id)
               for f in group.filters]
    return replace(group, children=children, mask=mask, filters=filters)


def _path_boxes(scene: Scene, scale: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per path, the lowest (N, 2) and highest (N, 2) output px (x, y) its drawing can touch (control
    points, padded by its stroke: miter joins reach miter_limit x half the width)."""
    points = scene.points.detach().double()
    path_of_point = scene.point_path_index()
    (low_x, high_x), (low_y, high_y) = (group_min_max(points[:, axis].contiguous(), path_of_point, scene.num_paths)
                                        for axis in (0, 1))
    stroke = scene.stroke_width.detach().double() * scene.miter_limit.detach().double().clamp(min=2) / 2
    pad = torch.where(scene.has_stroke, stroke, torch.zeros_like(stroke))[:, None]
    factor = torch.tensor(scale, dtype=torch.float64, device=points.device)
    return (torch.stack([low_x, low_y], 1) - pad) * factor - 2, (torch.stack([high_x, high_y], 1) + pad) * factor + 2


def _tile_scene(scene: Scene, pattern_parts: tuple[torch.Tensor, torch.Tensor], box: tuple[int, int, int, int],
                size: tuple[int, int], path_boxes: tuple[torch.Tensor, torch.Tensor]) -> tuple[Scene, torch.Tensor]:
    """``scene`` moved left by x0 and up by y0 output px on a canvas ``cols`` x ``rows`` px (``box``
    (x0, y0, cols, rows) of a ``size`` (width, height) render); ``pattern_parts`` (points (P,),
    gradients (G,) bool, from ``_pattern_parts``) marks what is in pattern tile px (not moved). Paths
    that cannot reach the tile (``path_boxes`` from ``_path_boxes``) are left out of a flat scene, and
    collapsed to a point off the canvas in a tree (whose indices must stay). Returns it and the paths (M,) it
    keeps of ``scene``'s."""
    x0, y0, cols, rows = box
    (width, height), canvas = size, (scene.width, scene.height)
    shift = (x0 * canvas[0] / width, y0 * canvas[1] / height)
    pattern_points, pattern_gradients = pattern_parts
    points = scene.points.detach().clone()
    points[~pattern_points] -= points.new_tensor(shift)
    placement = scene.gradient_transform.detach().clone()
    placement[~pattern_gradients, 4:6] -= placement.new_tensor(shift)
    low, high = path_boxes
    near = ((high >= low.new_tensor([x0, y0])) & (low <= low.new_tensor([x0 + cols, y0 + rows]))).all(1)
    if not scene.is_flat:  # paths off the tile (pattern paths aside) collapse to a point off the canvas
        points[~near[scene.point_path_index()] & ~pattern_points] = OFF_CANVAS
    moved = replace(scene, points=points, width=cols * canvas[0] / width, height=rows * canvas[1] / height,
                    gradient_transform=placement, tree=None if scene.tree is None else _moved_group(scene.tree, shift))
    if not scene.is_flat or bool(near.all()):
        return moved, torch.arange(scene.num_paths, device=scene.device)
    keep = torch.nonzero(near).flatten()
    return moved.take(keep), keep


def _pattern_parts(scene: Scene) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Which points (P,) and gradients (G,) bool only pattern tiles use (tile px: not moved); None
    when a gradient serves both a pattern tile and the canvas (one shift cannot serve both: no tiles)."""
    pattern_points = torch.zeros(len(scene.points), dtype=torch.bool, device=scene.device)
    pattern_gradients = torch.zeros(len(scene.gradient_transform), dtype=torch.bool, device=scene.device)
    paths = sorted(pattern_paths(scene.tree)) if scene.tree is not None else []
    if not paths:
        return pattern_points, pattern_gradients
    in_pattern = torch.zeros(scene.num_paths, dtype=torch.bool, device=scene.device)
    in_pattern[paths] = True
    canvas_gradients = torch.zeros_like(pattern_gradients)
    for table in (scene.fill_gradient, scene.stroke_gradient):
        used = table >= 0
        pattern_gradients[table[used & in_pattern]] = True
        canvas_gradients[table[used & ~in_pattern]] = True
    if bool((pattern_gradients & canvas_gradients).any()):
        return None
    return in_pattern[scene.point_path_index()], pattern_gradients


class _Outline:
    """A flat scene's draw items at a render's scale (``torch_backend.draw_items``): ``edges`` (E, 2, 2) output px,
    ``items`` (E,) and each edge's lowest and highest y (E,), to hand each tile the edges that reach its rows."""

    def __init__(self, scene: Scene, width: int, height: int) -> None:
        from .torch_backend import draw_items
        scale = torch.tensor([width / scene.width, height / scene.height], dtype=scene.points.dtype,
                             device=scene.device)
        self.edges, self.items = draw_items(scene, scale)
        self.top, self.bottom = self.edges[..., 1].amin(1), self.edges[..., 1].amax(1)

    def in_tile(self, box: tuple[int, int, int, int], paths: torch.Tensor, num_paths: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """The edges (K, 2, 2) that reach the rows of the tile ``box`` (x0, y0, cols, rows output px), moved onto
        it, and their items renumbered for the tile scene of the ``paths`` (M,) kept of ``num_paths``."""
        x0, y0, _, rows = box
        position = torch.full((num_paths,), -1, dtype=torch.long, device=self.items.device)
        position[paths] = torch.arange(len(paths), device=self.items.device)
        path = position.index_select(0, self.items // 2)
        pick = torch.nonzero((self.bottom >= y0) & (self.top <= y0 + rows) & (path >= 0)).flatten()
        edges = self.edges.index_select(0, pick) - self.edges.new_tensor([x0, y0])
        return edges, 2 * path.index_select(0, pick) + self.items.index_select(0, pick) % 2


def render_rows(scene: Scene, width: int, height: int, background: torch.Tensor | None,
                reserved: float = 0, load: EdgeLoad | None = None) -> Iterator[tuple[int, torch.Tensor]] | None:
    """The render of ``scene`` at ``width`` x ``height`` by the torch backend (a flat scene's outline made once,
    ``_Outline``; a tree's by ``groups.render_tree``) as bands (y0, (rows, W, 4) straight RGBA), top to bottom,
    each put together from one row of tiles (``plan_for`` beside ``reserved`` bytes); None when it fits in one
    tile or cannot be tiled (then draw it in one piece). Draws without gradients. ``load``: ``scene.edge_load()``,
    when already made."""
    plan = plan_for(scene, width, height, reserved, load)
    parts = None if plan is None else _pattern_parts(scene)
    if plan is None or parts is None:
        return None
    path_boxes = _path_boxes(scene, (width / scene.width, height / scene.height))
    (mx, my), cols, rows = plan.margin, plan.cols, plan.rows

    def tile(x0: int, y0: int, outline: _Outline | None) -> torch.Tensor:
        """(rows, cols, 4) of the tile at (x0, y0), drawn with its margins and cut back."""
        left, top = max(0, x0 - mx), max(0, y0 - my)
        right, bottom = min(width, x0 + cols + mx), min(height, y0 + rows + my)
        box = (left, top, right - left, bottom - top)
        moved, paths = _tile_scene(scene, parts, box, (width, height), path_boxes)
        if outline is None:
            from .groups import render_tree
            image = render_tree(moved, right - left, bottom - top, background)
        else:
            from .torch_backend import render_torch
            image = render_torch(moved, right - left, bottom - top, background,
                                 drawn=outline.in_tile(box, paths, scene.num_paths))
        return image[y0 - top:min(y0 + rows, height) - top, x0 - left:min(x0 + cols, width) - left]

    def bands() -> Iterator[tuple[int, torch.Tensor]]:
        with torch.no_grad():
            outline = _Outline(scene, width, height) if scene.is_flat else None
            for y0 in range(0, height, rows):
                if cols >= width:
                    yield y0, tile(0, y0, outline)
                    continue
                band = torch.empty(min(rows, height - y0), width, 4, dtype=scene.points.dtype, device=scene.device)
                for x0 in range(0, width, cols):
                    band[:, x0:x0 + cols] = tile(x0, y0, outline)
                yield y0, band

    return bands()

__all__ = ["TilePlan", "needs_gradient", "plan_for", "render_rows", "tile_budget", "tile_margins",
           "tile_plan", "working_bytes"]
