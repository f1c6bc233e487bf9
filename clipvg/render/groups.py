"""Rendering a Scene's tree: groups with opacity, clip paths, masks, filters and blend modes drawn
in isolation.

Runs of paths with no effect between them are drawn in one ``render_torch`` call; a group with an
effect is drawn off-screen (its own premultiplied RGBA), then filtered, clipped, masked and faded in
that order (as SVG's filter, clip-path, mask, opacity), and composited onto what is below it with its
blend mode (source-over for "normal"). A pattern fill draws its tile on a canvas of its own, then
repeats it (``clipvg.render.pattern``). Everything stays differentiable: group opacities, clip-path
points, mask contents, filter parameters, pattern tiles and what they draw.
"""
from __future__ import annotations

import math
from dataclasses import replace

import torch

from ..scene import Scene
from ..scene.tree import ClipPath, Group, Image, Mask, Pattern, Rect
from .composite import unpremultiplied
from .filters import apply_filter, blend
from .pattern import draw_repeated, tile_layout

LUMINANCE = (0.2125, 0.7154, 0.0721)  # SVG/CSS mask luminance coefficients (sRGB values)
MAX_DEPTH = 64  # nested isolated groups / masks deeper than this are not drawn (a guard; readers stop earlier)


class _Canvas:
    """What every off-screen pass shares: the scene, output size and scale."""

    def __init__(self, scene: Scene, width: int, height: int) -> None:
        self.scene = scene
        self.width, self.height = width, height
        self.scale = (width / scene.width, height / scene.height)
        self.dtype = scene.points.dtype
        self.device = scene.device

    def empty(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.width * self.height
        return (torch.zeros(n, 3, dtype=self.dtype, device=self.device),
                torch.zeros(n, dtype=self.dtype, device=self.device))

    def draw_paths(self, paths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Premultiplied colour (HW, 3) and alpha (HW,) of ``paths`` drawn in order."""
        from .torch_backend import render_torch
        image = render_torch(self.scene.take(paths), self.width, self.height, None).reshape(-1, 4)
        alpha = image[:, 3]
        return image[:, :3] * alpha[:, None], alpha

    def draw_image(self, image: Image) -> tuple[torch.Tensor, torch.Tensor]:
        """Premultiplied colour (HW, 3) and alpha (HW,) of an image quad."""
        from .image import draw_image
        a, b, c, d, e, f = image.transform
        sx, sy = self.scale
        matrix = torch.tensor([[a * sx, c * sx, e * sx], [b * sy, d * sy, f * sy], [0.0, 0.0, 1.0]],
                              dtype=torch.float64)  # on the host: the placement needs no device syncs
        texture = image.texture.to(self.device, self.dtype)
        return draw_image(texture, matrix, self.width, self.height, image.sampling, image.opacity, image.view,
                          redraw=image.redraw)

    def coverage(self, paths: list[int]) -> torch.Tensor:
        """(HW,) union coverage of the fills of ``paths`` (each with its own fill rule), as clip shapes."""
        from .torch_backend import render_torch
        sub = self.scene.take(paths)
        n = sub.num_paths
        ones = torch.ones(n, dtype=torch.bool, device=self.device)
        sub.has_fill, sub.has_stroke = ones, ~ones
        sub.fill_color = torch.ones(n, 4, dtype=sub.fill_color.dtype, device=self.device)
        sub.fill_gradient = torch.full((n,), -1, dtype=torch.int64, device=self.device)
        sub.opacity = torch.ones(n, dtype=sub.opacity.dtype, device=self.device)
        return render_torch(sub, self.width, self.height, None).reshape(-1, 4)[:, 3]

    def path_box(self, path: int) -> tuple[int, int, int, int] | None:
        """The output pixels [x0, x1) x [y0, y1) holding path ``path``'s control points (its fill), or None."""
        points = self.scene.take([path]).points.detach()
        if not len(points):
            return None
        scale = torch.tensor(self.scale, dtype=points.dtype, device=points.device)
        (x0, y0), (x1, y1) = (points.min(0).values * scale).tolist(), (points.max(0).values * scale).tolist()
        box = (max(0, math.floor(x0)), max(0, math.floor(y0)), min(self.width, math.ceil(x1)),
               min(self.height, math.ceil(y1)))
        return box if box[2] > box[0] and box[3] > box[1] else None

    def rect(self, region: Rect) -> torch.Tensor:
        """(HW,) exact area of each pixel inside the axis-aligned ``region`` (canvas px)."""
        x, y, w, h = region
        sx, sy = self.scale

        def overlap(lo: float, hi: float, count: int) -> torch.Tensor:
            edges = torch.arange(count, dtype=self.dtype, device=self.device)
            return (torch.minimum(edges + 1, torch.tensor(hi, dtype=self.dtype))
                    - torch.maximum(edges, torch.tensor(lo, dtype=self.dtype))).clamp(0, 1)

        return (overlap(y * sy, (y + h) * sy, self.height)[:, None]
                * overlap(x * sx, (x + w) * sx, self.width)[None, :]).reshape(-1)


def render_tree(scene: Scene, width: int, height: int, background: torch.Tensor | None) -> torch.Tensor:
    """(H, W, 4) straight RGBA of a Scene with a tree (see ``clipvg.scene.tree``)."""
    canvas = _Canvas(scene, width, height)
    color, alpha = _draw_group_content(canvas, scene.tree, 0)
    if background is not None:
        color = color + (background[:3] * background[3]) * (1 - alpha)[:, None]
        alpha = alpha + background[3] * (1 - alpha)
    return unpremultiplied(color, alpha).reshape(height, width, 4)


def _draw_group_content(canvas: _Canvas, group: Group, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour and alpha of ``group``'s children (its own effects not applied)."""
    color, alpha = canvas.empty()
    run: list[int] = []

    def over(top: tuple[torch.Tensor, torch.Tensor], mode: str = "normal") -> None:
        nonlocal color, alpha
        top_color, top_alpha = top
        if mode == "normal":
            color = top_color + color * (1 - top_alpha)[:, None]
            alpha = top_alpha + alpha * (1 - top_alpha)
        else:
            mixed, alpha = blend(top_color.T, top_alpha, color.T, alpha, mode)
            color = mixed.T

    def flush() -> None:
        if run:
            over(canvas.draw_paths(list(run)))
            run.clear()

    def visit(children: list) -> None:
        for child in children:
            if isinstance(child, Image):
                flush()
                over(canvas.draw_image(child))
            elif isinstance(child, Pattern):
                flush()
                over(_draw_pattern(canvas, child, depth))
            elif not isinstance(child, Group):
                run.append(int(child))
            elif not _needs_isolation(canvas, child):
                visit(child.children)  # plain structure: its paths join the current run
            elif depth < MAX_DEPTH:
                flush()
                over(_draw_isolated(canvas, child, depth + 1), child.blend)

    visit(group.children)
    flush()
    return color, alpha


def _draw_pattern(canvas: _Canvas, pattern: Pattern, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour and alpha of a pattern fill: its tile drawn once into a texture at the
    output's resolution (on a canvas of its own, in tile px), repeated over the filled shape."""
    layout = tile_layout(pattern.size, pattern.transform, canvas.scale)
    box = canvas.path_box(pattern.path)
    if layout is None or box is None or depth >= MAX_DEPTH:
        return canvas.empty()
    kx, ky = layout.scale
    tile = _Canvas(replace(canvas.scene, width=layout.width / kx, height=layout.height / ky), layout.width,
                   layout.height)
    color, alpha = _draw_group_content(tile, pattern.content, depth + 1)
    texture = torch.cat([color, alpha[:, None]], 1).reshape(layout.height, layout.width, 4)
    return draw_repeated(texture, layout.matrix, canvas.coverage([pattern.path]), box, canvas.width, canvas.height,
                         pattern.opacity, pattern.sampling)


def _needs_isolation(canvas: _Canvas, group: Group) -> bool:
    if group.clip is not None or group.mask is not None or group.filters or group.blend != "normal" or group.isolate:
        return True
    if group.index >= 0 and len(canvas.scene.group_opacity) > group.index:
        opacity = canvas.scene.group_opacity[group.index]
        return bool(opacity.requires_grad) or float(opacity) < 1
    return group.opacity < 1


def _draw_isolated(canvas: _Canvas, group: Group, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    color, alpha = _draw_group_content(canvas, group, depth)
    if group.filters:
        color, alpha = _filter(canvas, group, color, alpha, depth)
    factor = None
    if group.clip is not None:
        factor = _clip_coverage(canvas, group.clip, depth)
    if group.mask is not None:
        value = _mask_value(canvas, group.mask, depth)
        factor = value if factor is None else factor * value
    if group.index >= 0 and len(canvas.scene.group_opacity) > group.index:
        opacity = canvas.scene.group_opacity[group.index].to(canvas.dtype)
    else:
        opacity = torch.tensor(group.opacity, dtype=canvas.dtype, device=canvas.device)
    factor = opacity if factor is None else factor * opacity
    if factor.dim() == 0:
        return color * factor, alpha * factor
    return color * factor[:, None], alpha * factor


def _clip_coverage(canvas: _Canvas, clip: ClipPath, depth: int) -> torch.Tensor:
    coverage = canvas.coverage(clip.paths) if clip.paths else canvas.empty()[1]
    for part in clip.parts if depth < MAX_DEPTH else []:  # union with the clipPath's own clipped children
        coverage = 1 - (1 - coverage) * (1 - _clip_coverage(canvas, part, depth + 1))
    if clip.clip is not None and depth < MAX_DEPTH:
        coverage = coverage * _clip_coverage(canvas, clip.clip, depth + 1)
    return coverage


def _mask_value(canvas: _Canvas, mask: Mask, depth: int) -> torch.Tensor:
    color, alpha = _draw_isolated(canvas, mask.content, depth + 1) if _needs_isolation(canvas, mask.content) \
        else _draw_group_content(canvas, mask.content, depth + 1)
    if mask.kind == "alpha":
        value = alpha
    else:
        value = (color * torch.tensor(LUMINANCE, dtype=color.dtype, device=color.device)).sum(1)
    if mask.region is not None:
        value = value * canvas.rect(mask.region)
    return value


def _filter(canvas: _Canvas, group: Group, color: torch.Tensor, alpha: torch.Tensor, depth: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """The group's image (premultiplied (HW, 3), (HW,)) through its filters, in order."""

    def image(c: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return torch.cat([c, a[:, None]], 1).T.reshape(4, canvas.height, canvas.width)

    def draw(content: Group) -> torch.Tensor:
        return image(*_draw_group_content(canvas, content, depth + 1))

    rgba = image(color, alpha)
    for filter in group.filters:
        rgba = apply_filter(filter, rgba, canvas.scale, draw)
    rgba = rgba.reshape(4, -1).T
    return rgba[:, :3], rgba[:, 3]
