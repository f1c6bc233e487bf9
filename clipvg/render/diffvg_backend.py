"""Optional backend: pydiffvg (https://github.com/BachiLi/diffvg), built by the user.

Same Scene, same output convention as the torch backend: (H, W, 4) straight RGBA. pydiffvg supports
solid and gradient fills and strokes; it has no per-path line caps/joins (it draws round ones).
"""
from __future__ import annotations

import torch

from ..errors import BackendUnavailableError
from ..scene import Scene


def _import_pydiffvg():
    try:
        import pydiffvg
    except ImportError as error:
        raise BackendUnavailableError(
            "backend='diffvg' needs pydiffvg, which is not on PyPI: build it from "
            "https://github.com/BachiLi/diffvg (python setup.py install), or use backend='torch'"
        ) from error
    return pydiffvg


def _paint(pydiffvg, scene: Scene, path: int, stroke: bool, scale: torch.Tensor, opacity: torch.Tensor):
    colors = scene.stroke_color if stroke else scene.fill_color
    gradient = int((scene.stroke_gradient if stroke else scene.fill_gradient)[path])
    if gradient < 0:
        return colors[path] * torch.cat([colors.new_ones(3), opacity[path:path + 1]])
    begin, end = int(scene.gradient_stop_offsets[gradient]), int(scene.gradient_stop_offsets[gradient + 1])
    stop_colors = scene.stop_colors[begin:end] * torch.cat([colors.new_ones(3), opacity[path:path + 1]])
    coords = scene.gradient_coords[gradient]
    if not torch.allclose(scene.gradient_transform[gradient].detach().cpu(),
                          torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])):
        raise BackendUnavailableError("backend='diffvg' cannot draw transformed gradients; use backend='torch'")
    if int(scene.gradient_kind[gradient]) == 0:
        return pydiffvg.LinearGradient(begin=coords[0:2] * scale, end=coords[2:4] * scale,
                                       offsets=scene.stop_offsets[begin:end], stop_colors=stop_colors)
    return pydiffvg.RadialGradient(center=coords[0:2] * scale, radius=coords[2:3].expand(2) * scale,
                                   offsets=scene.stop_offsets[begin:end], stop_colors=stop_colors)


def render_diffvg(scene: Scene, width: int, height: int, background: torch.Tensor | None) -> torch.Tensor:
    """(H, W, 4) straight RGBA from pydiffvg, 2 x 2 samples per pixel as in CLIPVG."""
    pydiffvg = _import_pydiffvg()
    pydiffvg.set_device(scene.device)
    scale = torch.tensor([width / scene.width, height / scene.height], device=scene.device)
    points = scene.points * scale
    shapes, groups = [], []
    subpath_segments = scene.subpath_segment_offsets.tolist()
    subpath_points = scene.subpath_point_offsets.tolist()
    degrees = scene.segment_degrees.tolist()
    closed = scene.subpath_closed.tolist()
    path_subpaths = scene.path_subpath_offsets.tolist()
    stroke_scale = float(torch.sqrt(scale[0] * scale[1]))
    for path in range(scene.num_paths):
        ids = []
        for q in range(path_subpaths[path], path_subpaths[path + 1]):
            controls = torch.tensor([d - 1 for d in degrees[subpath_segments[q]:subpath_segments[q + 1]]],
                                    dtype=torch.int32)
            ids.append(len(shapes))
            shapes.append(pydiffvg.Path(num_control_points=controls,
                                        points=points[subpath_points[q]:subpath_points[q + 1]],
                                        is_closed=closed[q],
                                        stroke_width=scene.stroke_width[path] * stroke_scale / 2))
        fill = _paint(pydiffvg, scene, path, False, scale, scene.opacity) if scene.has_fill[path] else None
        stroke = _paint(pydiffvg, scene, path, True, scale, scene.opacity) if scene.has_stroke[path] else None
        groups.append(pydiffvg.ShapeGroup(shape_ids=torch.tensor(ids), fill_color=fill, stroke_color=stroke,
                                          use_even_odd_rule=bool(scene.evenodd[path])))
    args = pydiffvg.RenderFunction.serialize_scene(width, height, shapes, groups, num_samples_x=2,
                                                   num_samples_y=2)
    image = pydiffvg.RenderFunction.apply(width, height, 2, 2, 0, None, *args)  # straight RGBA
    rgb, alpha = image[..., :3], image[..., 3:]
    if background is not None:
        rgb = rgb * alpha + background[:3] * background[3] * (1 - alpha)
        alpha = alpha + background[3] * (1 - alpha)
        rgb = rgb / alpha.clamp(min=1e-12)
    return torch.cat([rgb, alpha], -1)
