"""Rendering a Scene's tree: groups with opacity, clip paths, masks and blur drawn in isolation.

Runs of paths with no effect between them are drawn in one ``render_torch`` call; a group with an
effect is drawn off-screen (its own premultiplied RGBA), then blurred, clipped, masked and faded in
that order (as SVG's filter, clip-path, mask, opacity), and composited source-over. Everything stays
differentiable: group opacities, clip-path points, mask contents and what they draw.
"""
from __future__ import annotations

import torch

from ..scene import Scene
from ..scene.tree import Blur, ClipPath, Group, Mask, Rect
from .blur import gaussian_blur

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
    straight = torch.where(alpha[:, None] > 0, color / alpha.clamp(min=1e-12)[:, None], torch.zeros_like(color))
    image = torch.cat([straight, alpha[:, None]], 1)
    image = image - (image - image.clamp(0, 1)).detach()  # straight-through clamp, as render_torch
    return image.reshape(height, width, 4)


def _draw_group_content(canvas: _Canvas, group: Group, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour and alpha of ``group``'s children (its own effects not applied)."""
    color, alpha = canvas.empty()
    run: list[int] = []

    def over(top: tuple[torch.Tensor, torch.Tensor]) -> None:
        nonlocal color, alpha
        top_color, top_alpha = top
        color = top_color + color * (1 - top_alpha)[:, None]
        alpha = top_alpha + alpha * (1 - top_alpha)

    def flush() -> None:
        if run:
            over(canvas.draw_paths(list(run)))
            run.clear()

    def visit(children: list) -> None:
        for child in children:
            if not isinstance(child, Group):
                run.append(int(child))
            elif not _needs_isolation(canvas, child):
                visit(child.children)  # plain structure: its paths join the current run
            elif depth < MAX_DEPTH:
                flush()
                over(_draw_isolated(canvas, child, depth + 1))

    visit(group.children)
    flush()
    return color, alpha


def _needs_isolation(canvas: _Canvas, group: Group) -> bool:
    if group.clip is not None or group.mask is not None or group.blur is not None:
        return True
    if group.index >= 0 and len(canvas.scene.group_opacity) > group.index:
        opacity = canvas.scene.group_opacity[group.index]
        return bool(opacity.requires_grad) or float(opacity) < 1
    return group.opacity < 1


def _draw_isolated(canvas: _Canvas, group: Group, depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    color, alpha = _draw_group_content(canvas, group, depth)
    if group.blur is not None:
        color, alpha = _blur(canvas, group.blur, color, alpha)
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


def _blur(canvas: _Canvas, blur: Blur, color: torch.Tensor, alpha: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor]:
    sx, sy = canvas.scale
    rgba = torch.cat([color, alpha[:, None]], 1).T.reshape(4, canvas.height, canvas.width)
    if blur.linear_rgb:
        rgba = torch.cat([_to_linear(rgba[:3], rgba[3:]), rgba[3:]])
    rgba = gaussian_blur(rgba, blur.std[0] * sx, blur.std[1] * sy)
    if blur.linear_rgb:
        rgba = torch.cat([_to_srgb(rgba[:3], rgba[3:]), rgba[3:]])
    rgba = rgba.reshape(4, -1).T
    if blur.region is not None:
        rgba = rgba * canvas.rect(blur.region)[:, None]
    return rgba[:, :3], rgba[:, 3]


def _to_linear(color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Premultiplied sRGB -> premultiplied linear RGB."""
    c = (color / alpha.clamp(min=1e-6)).clamp(0, 1)
    linear = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055).clamp(min=1e-12) ** 2.4)
    return linear * alpha


def _to_srgb(color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Premultiplied linear RGB -> premultiplied sRGB."""
    c = (color / alpha.clamp(min=1e-6)).clamp(0, 1)
    srgb = torch.where(c <= 0.0031308, c * 12.92, 1.055 * c.clamp(min=1e-12) ** (1 / 2.4) - 0.055)
    return srgb * alpha
