"""Drawing a large render without gradients in horizontal bands of rows, so that the renderer's
working memory follows the width of the render, not its area.

A band of output rows [y0, y1) is the whole scene drawn on a canvas ``y1 - y0`` rows tall whose
content is moved up by y0 output rows: the scene's canvas-px geometry (points, gradient placements,
image and pattern placements, mask and filter regions, turbulence and light positions) is shifted
by y0 / scale canvas px. Paths a pattern tile draws are in tile px and stay put. Filters reach
across rows (a blur, an offset, a dilation), so a band with filters is drawn with ``margin`` extra
rows above and below (the sum of every filter primitive's reach) and cut back; filters whose result
depends on the whole region (``feTile``, stitched turbulence, wrapped convolution) are not banded.
At the scene's own size (scale 1) the shift is exact in float32 and the bands equal the one-shot
render; at other scales they differ by the rounding of the shifted coordinates (float32: about the
float spacing of the canvas coordinates, float64: about 1e-12).
"""
from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Callable, Iterator

import torch

from ..ragged import group_min_max
from ..scene import Scene
from ..scene.tree import ClipPath, Filter, FilterPrimitive, Group, Image, Mask, Pattern

BAND_PIXELS = 1 << 20  # output pixels drawn at once (plus the filter margin rows)
OFF_CANVAS = -1e5  # canvas px: where the points of a path that cannot reach a band go (left and above it)
MAX_BLUR_RADIUS = 512  # px, as clipvg.render.blur.MAX_RADIUS: a blur reaches no further
Draw = Callable[[Scene, int, int, "torch.Tensor | None"], torch.Tensor]  # (scene, width, height, background) -> (H, W, 4)
# primitives that only recolour or combine pixels in place (reach 0)
_IN_PLACE = {"feFlood", "feColorMatrix", "feComponentTransfer", "feComposite", "feMerge", "feBlend", "feImage"}


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


def _primitive_reach(primitive: FilterPrimitive, sy: float) -> float | None:
    """How many output rows away ``primitive`` reads its inputs, at ``sy`` output px per canvas px;
    None when its result depends on the whole filter region."""
    kind, q = primitive.kind, primitive.params
    if kind in _IN_PLACE:
        return 0.0
    if kind == "feTurbulence":
        return None if q.get("stitch") else 0.0
    if kind in ("feGaussianBlur", "feDropShadow"):
        blur = min(math.ceil(3 * abs(float(q["std"][1])) * sy), MAX_BLUR_RADIUS) + 1
        return blur + (abs(float(q["offset"][1])) * sy + 1 if kind == "feDropShadow" else 0)
    if kind == "feOffset":
        return abs(float(q["offset"][1])) * sy + 1
    if kind == "feMorphology":
        return math.ceil(abs(float(q["radius"][1])) * sy) + 1
    if kind == "feConvolveMatrix":
        return None if q.get("edge_mode") == "wrap" else float(q["kernel"].shape[0])
    if kind == "feDisplacementMap":
        return abs(float(q["scale"])) * sy / 2 + 1
    if kind in ("feDiffuseLighting", "feSpecularLighting"):
        return 2.0
    return None  # feTile and anything new


def _group_reach(group: Group, sy: float) -> float | None:
    """How many output rows away what ``group`` draws on the canvas depends on: its filters' reach
    plus the farthest reach among the groups inside it (mask and feImage contents included; pattern
    tiles are drawn on canvases of their own); None when a filter reads its whole region."""
    inner = [child for child in group.children if isinstance(child, Group)]
    inner += [group.mask.content] if group.mask is not None else []
    primitives = [p for f in group.filters for p in f.primitives]
    inner += [p.content for p in primitives if p.content is not None]
    reaches = [_group_reach(child, sy) for child in inner] + [_primitive_reach(p, sy) for p in primitives]
    if any(reach is None for reach in reaches):
        return None
    return sum(reaches[len(inner):]) + max(reaches[:len(inner)], default=0.0)


def band_margin(scene: Scene, height: int) -> int | None:
    """Extra output rows a band of ``scene`` drawn ``height`` rows tall needs above and below for its
    filters to see what they read; None when the scene cannot be drawn in bands."""
    if scene.tree is None:
        return 0
    if _tile_paths(scene.tree) & set(scene.tree.drawn_paths()):
        return None  # a path drawn both in tile px and on the canvas: one shift cannot serve both
    reach = _group_reach(scene.tree, height / scene.height)
    return None if reach is None else math.ceil(reach)


def band_rows(width: int, margin: int) -> int:
    """Output rows of one band (margins not counted) for a render ``width`` px wide."""
    return max(1, BAND_PIXELS // width - 2 * margin, margin)


def _clip_paths(clip: ClipPath | None) -> Iterator[int]:
    if clip is not None:
        yield from clip.paths
        for part in clip.parts:
            yield from _clip_paths(part)
        yield from _clip_paths(clip.clip)


def _tile_paths(tree: Group) -> set[int]:
    """Scene paths that only pattern tiles draw (their points are in tile px)."""
    found: set[int] = set()
    for group in tree.groups():
        for pattern in (child for child in group.children if isinstance(child, Pattern)):
            for inner in pattern.content.groups():
                found.update(child for child in inner.children if isinstance(child, int))
                found.update(child.path for child in inner.children if isinstance(child, Pattern))
                found.update(_clip_paths(inner.clip))
    return found


def _moved(transform: tuple[float, ...], dy: float) -> tuple[float, ...]:
    """An SVG matrix (a..f) whose result is moved up by ``dy``."""
    return (*transform[:5], transform[5] - dy)


def _moved_rect(rect: tuple[float, float, float, float] | None, dy: float) -> tuple[float, float, float, float] | None:
    return None if rect is None else (rect[0], rect[1] - dy, rect[2], rect[3])


def _moved_primitive(primitive: FilterPrimitive, dy: float) -> FilterPrimitive:
    params = dict(primitive.params)
    if primitive.kind == "feTurbulence":  # (scale x, scale y, e, f): its placement on the canvas
        params["transform"] = params["transform"] - params["transform"].new_tensor([0.0, 0.0, 0.0, dy])
    if "light" in params:
        light = dict(params["light"])
        for key in ("position", "points_at"):
            if key in light:
                light[key] = light[key] - light[key].new_tensor([0.0, dy, 0.0])
        params["light"] = light
    content = None if primitive.content is None else _moved_group(primitive.content, dy)
    return replace(primitive, subregion=_moved_rect(primitive.subregion, dy), params=params, content=content)


def _moved_group(group: Group, dy: float) -> Group:
    """``group`` with its canvas-px placements moved up by ``dy`` canvas px (its paths' points are moved
    in the Scene); pattern tiles' contents are in tile px and stay."""
    children: list = []
    for child in group.children:
        if isinstance(child, Group):
            child = _moved_group(child, dy)
        elif isinstance(child, (Image, Pattern)):
            child = replace(child, transform=_moved(child.transform, dy))
        children.append(child)
    mask = None if group.mask is None else Mask(_moved_group(group.mask.content, dy), group.mask.kind,
                                                _moved_rect(group.mask.region, dy), group.mask.id)
    filters = [Filter([_moved_primitive(p, dy) for p in f.primitives], _moved_rect(f.region, dy), f.id)
               for f in group.filters]
    return replace(group, children=children, mask=mask, filters=filters)


def _path_rows(scene: Scene, sy: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per path, the lowest and highest output row (N,) its drawing can touch (control points, padded by
    its stroke: miter joins reach miter_limit x half the width)."""
    points = scene.points.detach()
    path_of_point = scene.point_path_index()
    low, high = group_min_max(points[:, 1].double(), path_of_point, scene.num_paths)
    stroke = scene.stroke_width.detach().double() * scene.miter_limit.detach().double().clamp(min=2) / 2
    pad = torch.where(scene.has_stroke, stroke, torch.zeros_like(stroke))
    return (low - pad) * sy - 2, (high + pad) * sy + 2


def _band_scene(scene: Scene, tile: tuple[torch.Tensor, torch.Tensor], rows: int, height: int, y0: int,
                path_rows: tuple[torch.Tensor, torch.Tensor]) -> Scene:
    """``scene`` moved up by ``y0`` output rows on a canvas ``rows`` rows tall (of a ``height``-row
    render); ``tile`` (points (P,), gradients (G,) bool, from ``_tile_parts``) marks what is in tile
    px (not moved). Paths that cannot reach the band (``path_rows`` from ``_path_rows``) are left out
    of a flat scene, and collapsed to a point off the canvas in a tree (whose indices must stay)."""
    dy = y0 * scene.height / height
    tile_points, tile_gradients = tile
    points = scene.points.detach().clone()
    points[~tile_points, 1] -= dy
    placement = scene.gradient_transform.detach().clone()
    placement[~tile_gradients, 5] -= dy
    low, high = path_rows
    near = (high >= y0) & (low <= y0 + rows)
    if not scene.is_flat:  # paths off the band (tile paths aside) collapse to a point off the canvas
        path_of_point = scene.point_path_index()
        points[~near[path_of_point] & ~tile_points] = OFF_CANVAS
    moved = replace(scene, points=points, height=rows * scene.height / height, gradient_transform=placement,
                    tree=None if scene.tree is None else _moved_group(scene.tree, dy))
    keep = torch.nonzero(near).flatten()
    return moved.take(keep) if scene.is_flat and len(keep) < scene.num_paths else moved


def _tile_parts(scene: Scene) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Which points (P,) and gradients (G,) bool only pattern tiles use (tile px: not moved); None
    when a gradient serves both a tile and the canvas (one shift cannot serve both: no bands)."""
    tile_points = torch.zeros(len(scene.points), dtype=torch.bool, device=scene.device)
    tile_gradients = torch.zeros(len(scene.gradient_transform), dtype=torch.bool, device=scene.device)
    paths = sorted(_tile_paths(scene.tree)) if scene.tree is not None else []
    if not paths:
        return tile_points, tile_gradients
    in_tile = torch.zeros(scene.num_paths, dtype=torch.bool, device=scene.device)
    in_tile[paths] = True
    canvas_gradients = torch.zeros_like(tile_gradients)
    for table in (scene.fill_gradient, scene.stroke_gradient):
        used = table >= 0
        tile_gradients[table[used & in_tile]] = True
        canvas_gradients[table[used & ~in_tile]] = True
    if bool((tile_gradients & canvas_gradients).any()):
        return None
    path_of_point = scene.point_path_index()
    return in_tile[path_of_point], tile_gradients


def render_rows(scene: Scene, width: int, height: int, background: torch.Tensor | None, draw: Draw
                ) -> Iterator[tuple[int, torch.Tensor]] | None:
    """The render of ``scene`` at ``width`` x ``height`` by ``draw`` (render_torch or render_tree) as
    bands (y0, (rows, W, 4) straight RGBA), top to bottom; None when it fits in one band or cannot be
    banded (then draw it in one piece). Draws without gradients."""
    margin = band_margin(scene, height)
    if margin is None or width * height <= BAND_PIXELS:
        return None
    rows = band_rows(width, margin)
    tile = _tile_parts(scene)
    if rows >= height or tile is None:
        return None
    path_rows = _path_rows(scene, height / scene.height)

    def bands() -> Iterator[tuple[int, torch.Tensor]]:
        with torch.no_grad():
            for y0 in range(0, height, rows):
                top, bottom = max(0, y0 - margin), min(height, y0 + rows + margin)
                band = _band_scene(scene, tile, bottom - top, height, top, path_rows)
                image = draw(band, width, bottom - top, background)
                yield y0, image[y0 - top:min(y0 + rows, height) - top]

    return bands()


def render_in_bands(scene: Scene, width: int, height: int, background: torch.Tensor | None, draw: Draw
                    ) -> torch.Tensor | None:
    """(H, W, 4) straight RGBA of ``scene`` drawn band by band (see ``render_rows``), or None when it
    is not banded."""
    bands = render_rows(scene, width, height, background, draw)
    if bands is None:
        return None
    out = torch.empty(height, width, 4, dtype=scene.points.dtype, device=scene.device)
    for y0, image in bands:
        out[y0:y0 + len(image)] = image
    return out
