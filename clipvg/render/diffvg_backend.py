"""Optional backend: pydiffvg (https://github.com/BachiLi/diffvg), built by the user.

Same Scene, same output convention as the torch backend: (H, W, 4) straight RGBA in the scene's
dtype, differentiable w.r.t. points, colours, stroke widths, opacities and gradient parameters.
pydiffvg is called as CLIPVG calls it: 2 x 2 jittered samples per pixel, box filter, seed 0.

How the Scene maps onto pydiffvg:

- every path becomes one shape group for its fill, then one for its stroke (pydiffvg would draw a
  group's fill over its stroke; SVG draws the stroke on top); open subpaths are closed for the fill,
  as SVG fills them, and stay open for the stroke;
- opacity is folded into the colours' alpha, as the torch backend does;
- a gradient transform is folded into the gradient: a linear gradient under any affine map is again
  a linear gradient; a radial gradient becomes pydiffvg's axis-aligned elliptic one, which is exact
  when the map keeps axes orthogonal and axis-aligned (rotations with uniform scale, axis scales).
  Anything else raises ``BackendUnavailableError`` naming the path: rotated or skewed ellipses,
  radial gradients with a focal point, ``reflect``/``repeat`` spreads;
- pydiffvg segfaults on gradient strokes (its scene.cpp never sets a stroke gradient's derivative
  buffer), so a gradient stroke is drawn as a gradient fill of what pydiffvg would stroke: the union
  of round-capped capsules around the curve cut into chords of about 2 px;
- a group's opacity over a single path is folded into that path's alpha; other group effects (clip
  paths, masks, blur filters, opacity over several paths) raise ``BackendUnavailableError``:
  pydiffvg draws a flat list of shapes;
- pydiffvg strokes every point within half the width of the curve, i.e. round caps and joins:
  other caps/joins are drawn round with a ``DiffvgApproximationWarning``; dashed strokes are refused;
- stop offsets are made strictly increasing (equal ones 1e-5 apart): pydiffvg asserts otherwise;
- pydiffvg aborts the whole process when more than 256 fills/strokes cover one sample: scenes that
  deep are refused (bounding boxes first, then an exact per-pixel count);
- pydiffvg blends each sample in straight colour and averages the samples; over an opaque
  background that is exact. Without a background (or over a translucent one) the scene is drawn
  twice, over black and over white, which gives exact premultiplied colour and coverage.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from ..errors import BackendUnavailableError
from ..scene import CAPS, JOINS, SPREADS, Scene

SAMPLES = 2  # per axis, as in CLIPVG
SEED = 0  # CLIPVG renders with seed 0: the jitter pattern is the same every call
MAX_FRAGMENTS = 256  # pydiffvg aborts the process when more groups than this cover one sample
_STOP_EPS = 1e-5  # pydiffvg needs strictly increasing stop offsets
_ROUND_CAP, _ROUND_JOIN = CAPS.index("round"), JOINS.index("round")


class DiffvgApproximationWarning(UserWarning):
    """pydiffvg draws something differently from SVG (and from the torch backend)."""


def _import_pydiffvg():
    try:
        import pydiffvg
    except ImportError as error:
        raise BackendUnavailableError(
            "backend='diffvg' needs pydiffvg, which is not on PyPI: build it from "
            f"https://github.com/BachiLi/diffvg (python setup.py install), or use backend='torch' ({error})"
        ) from error
    return pydiffvg


def _path_name(scene: Scene, path: int) -> str:
    ident = scene.path_ids[path] if path < len(scene.path_ids) else None
    return f"path {path}" + (f" (id {ident!r})" if ident else "")


def _refuse(scene: Scene, path: int, what: str) -> BackendUnavailableError:
    return BackendUnavailableError(f"backend='diffvg' cannot draw {_path_name(scene, path)}: {what}; "
                                   "use backend='torch'")


class _Gradients:
    """pydiffvg gradient objects for the scene's gradients, built on first use (canvas -> output
    pixels and the gradient transform folded in)."""

    def __init__(self, pydiffvg, scene: Scene, scale: np.ndarray):
        self.pydiffvg, self.scene, self.scale = pydiffvg, scene, scale
        self.kind = scene.gradient_kind.tolist()
        self.spread = scene.gradient_spread.tolist()
        self.transform = scene.gradient_transform.detach().double().cpu().numpy()
        self.stops = scene.gradient_stop_offsets.tolist()
        self.coords = scene.gradient_coords.float().cpu()
        self.offsets = scene.stop_offsets.float().cpu()
        self.colors = scene.stop_colors.float().cpu()
        self.built: dict[int, object] = {}

    def paint(self, gradient: int, path: int, opacity: torch.Tensor):
        if SPREADS[self.spread[gradient]] != "pad":
            raise _refuse(self.scene, path, f"its gradient uses spreadMethod={SPREADS[self.spread[gradient]]!r} "
                                            "(pydiffvg pads only)")
        if gradient not in self.built:
            self.built[gradient] = self._build(gradient, path)
        kind, geometry, offsets, colors = self.built[gradient]
        colors = colors * torch.cat([colors.new_ones(3), opacity.reshape(1)])
        if kind == 0:
            return self.pydiffvg.LinearGradient(begin=geometry[0], end=geometry[1], offsets=offsets,
                                                stop_colors=colors)
        return self.pydiffvg.RadialGradient(center=geometry[0], radius=geometry[1], offsets=offsets,
                                            stop_colors=colors)

    def _build(self, gradient: int, path: int):
        a, b, c, d, e, f = self.transform[gradient]
        sx, sy = self.scale
        matrix = np.array([[sx * a, sx * c], [sy * b, sy * d]])  # gradient space -> output pixels
        if abs(np.linalg.det(matrix)) < 1e-12:
            raise _refuse(self.scene, path, "its gradient transform is singular")
        linear = torch.tensor(matrix, dtype=torch.float32)
        shift = torch.tensor([sx * e, sy * f], dtype=torch.float32)
        coords = self.coords[gradient]
        begin, end = self.stops[gradient], self.stops[gradient + 1]
        offsets = torch.cummax(self.offsets[begin:end], 0).values  # SVG: offsets never decrease
        offsets = (offsets + _STOP_EPS * torch.arange(end - begin)).contiguous()
        colors = self.colors[begin:end]
        if self.kind[gradient] == 0:
            # t(q) = (A^-1 (q - shift) - start) . v / |v|^2 = (q - q0) . w: again a linear gradient
            start, axis = coords[0:2], coords[2:4] - coords[0:2]
            q0 = linear @ start + shift
            w = torch.linalg.solve(linear.T, axis) / (axis * axis).sum().clamp(min=1e-12)
            q1 = q0 + w / (w * w).sum().clamp(min=1e-12)
            return 0, (q0.contiguous(), q1.contiguous()), offsets, colors
        center, radius, focal = coords[0:2], coords[2], coords[3:5]
        if float((focal - center).detach().norm()) > 1e-4 * max(float(radius.detach()), 1e-6):
            raise _refuse(self.scene, path, "its radial gradient has a focal point apart from the centre "
                                            "(pydiffvg's radial gradients have none)")
        rows = np.linalg.norm(matrix, axis=1)
        if abs(matrix[0] @ matrix[1]) > 1e-5 * rows[0] * rows[1]:
            raise _refuse(self.scene, path, "its radial gradient is a rotated or skewed ellipse after "
                                            "gradientTransform (pydiffvg's are axis-aligned)")
        radii = radius * torch.tensor(rows, dtype=torch.float32)
        return 1, ((linear @ center + shift).contiguous(), radii.contiguous()), offsets, colors


def _flatten_groups(scene: Scene) -> tuple[list[int], torch.Tensor]:
    """The paths to draw in order, and each path's opacity with the opacity of groups that draw only
    that path folded in (what SVG gives for a path that only fills or only strokes; a path with both
    gets the same approximation as a path's own opacity). pydiffvg draws a flat list of shapes, so
    other group effects (clip paths, masks, blur, opacity over several paths) are refused."""
    tree = getattr(scene, "tree", None)
    if tree is None or getattr(scene, "is_flat", True):
        return list(range(scene.num_paths)), scene.opacity
    image = next(tree.images(), None)
    if image is not None:
        name = f"image {image.id!r}" if image.id else "an image"
        raise BackendUnavailableError(f"backend='diffvg' cannot draw {name} (pydiffvg draws shapes only, no "
                                      "textures); use backend='torch'")
    pattern = next(tree.patterns(), None)
    if pattern is not None:
        raise BackendUnavailableError(f"backend='diffvg' cannot draw the pattern fill {pattern.id or ''!r} (pydiffvg "
                                      "has no tile textures); use backend='torch'")
    opacity = scene.opacity
    for group in _drawn_groups(tree):
        first = next(group.drawn_paths(), None)
        name = (f"group {group.id!r}" if group.id else
                "a group" + (f" (the one drawing {_path_name(scene, first)})" if first is not None else ""))
        effects = [kind for kind in ("clip", "mask") if getattr(group, kind) is not None]
        effects += ["filters"] * bool(group.filters) + ["blend mode"] * (group.blend != "normal")
        if effects:
            raise BackendUnavailableError(
                f"backend='diffvg' cannot draw {name}: its {' and '.join(effects)} (pydiffvg draws a flat list "
                "of shapes, without clip paths, masks or filters); use backend='torch'")
        group_opacity = scene.group_opacity[group.index]
        if not group_opacity.requires_grad and float(group_opacity) >= 1:
            continue
        paths = list(group.drawn_paths())
        if not paths:
            continue
        if len(paths) != 1:
            raise BackendUnavailableError(
                f"backend='diffvg' cannot draw {name}: its opacity applies to {len(paths)} paths drawn together "
                "(pydiffvg has no group opacity, only per-shape colour alpha); use backend='torch'")
        factor = torch.ones_like(opacity).index_put((torch.tensor(paths, device=opacity.device),),
                                                    group_opacity.to(opacity.dtype))
        opacity = opacity * factor
    return scene.drawn_paths(), opacity


def _drawn_groups(group):
    """``group`` and the groups it draws (not clip shapes or mask content), depth first."""
    yield group
    for child in group.children:
        if isinstance(child, type(group)):
            yield from _drawn_groups(child)


def _check_strokes(scene: Scene) -> None:
    stroked = (scene.has_stroke & (scene.stroke_width > 0)).cpu()
    if not bool(stroked.any()):
        return
    dash_offsets = getattr(scene, "path_dash_offsets", None)
    if dash_offsets is not None and len(getattr(scene, "dash_array", ())):
        dashed = stroked & (dash_offsets.diff().cpu() > 0)
        if bool(dashed.any()):
            raise _refuse(scene, int(torch.nonzero(dashed)[0]), "its stroke is dashed (pydiffvg has no dashes)")
    subpath_path = torch.repeat_interleave(torch.arange(scene.num_paths), scene.path_subpath_offsets.diff().cpu())
    has_open = torch.zeros(scene.num_paths, dtype=torch.bool).index_put_(
        (subpath_path[~scene.subpath_closed.cpu()],), torch.tensor(True))
    cap = stroked & has_open & (scene.line_cap.cpu() != _ROUND_CAP)
    join = stroked & (scene.line_join.cpu() != _ROUND_JOIN)
    if bool(cap.any()) or bool(join.any()):
        first = int(torch.nonzero(cap | join)[0])
        warnings.warn(f"backend='diffvg' draws round stroke caps and joins only: {int(cap.sum())} stroked paths "
                      f"with other caps and {int(join.sum())} with other joins (first: "
                      f"{_path_name(scene, first)}) are drawn with round ones", DiffvgApproximationWarning,
                      stacklevel=4)


def _check_depth(scene: Scene, width: int, height: int, groups: list[tuple[int, bool]], scale: np.ndarray,
                 stroke_scale: float) -> None:
    """pydiffvg asserts (aborting the process) when more than MAX_FRAGMENTS groups cover a sample.
    Bound the count by the groups' bounding boxes (cheap) before calling it."""
    if len(groups) <= MAX_FRAGMENTS:
        return
    points = scene.points.detach().double().cpu().numpy() * scale
    path_of_point = scene.point_path_index().cpu().numpy()
    lo = np.full((scene.num_paths, 2), np.inf)
    hi = np.full((scene.num_paths, 2), -np.inf)
    np.minimum.at(lo, path_of_point, points)
    np.maximum.at(hi, path_of_point, points)
    widths = scene.stroke_width.detach().double().cpu().numpy() * stroke_scale / 2
    counts = np.zeros((height + 1, width + 1), np.int64)
    for path, stroke in groups:
        pad = widths[path] + 1 if stroke else 1
        x0, y0 = np.clip(np.floor(lo[path] - pad), 0, [width, height]).astype(int)
        x1, y1 = np.clip(np.ceil(hi[path] + pad), 0, [width, height]).astype(int)
        if x1 > x0 and y1 > y0:
            counts[y0, x0] += 1
            counts[y0, x1] -= 1
            counts[y1, x0] -= 1
            counts[y1, x1] += 1
    depth = counts.cumsum(0).cumsum(1)
    if depth.max() > MAX_FRAGMENTS:
        # the boxes are an upper bound; count exactly with the torch renderer's rasterizer
        exact = _exact_depth(scene, width, height, groups)
        if exact > MAX_FRAGMENTS:
            raise BackendUnavailableError(
                f"backend='diffvg' cannot draw this scene: up to {exact} fills and strokes cover one pixel, and "
                f"pydiffvg aborts the process above {MAX_FRAGMENTS}; use backend='torch'")


def _exact_depth(scene: Scene, width: int, height: int, groups: list[tuple[int, bool]]) -> int:
    from .coverage import rasterize
    from .torch_backend import draw_items

    with torch.no_grad():
        scene = scene.to("cpu")
        scale = torch.tensor([width / scene.width, height / scene.height], dtype=scene.points.dtype)
        edges, items = draw_items(scene, scale)
        evenodd = torch.stack([scene.evenodd, torch.zeros_like(scene.evenodd)], 1).flatten()
        fragments = rasterize(edges, items, evenodd, width, height)
        wanted = torch.zeros(2 * scene.num_paths, dtype=torch.bool)
        wanted[torch.tensor([2 * p + s for p, s in groups])] = True
        pixels = fragments.pixel[wanted[fragments.item] & (fragments.coverage.abs() > 1e-4)]  # not rounding noise
        return int(torch.bincount(pixels, minlength=1).max())


_KAPPA = 0.5522847498  # cubic Bézier quarter circle


def _bezier_polyline(points: torch.Tensor, degrees: list[int], closed: bool) -> torch.Tensor:
    """(K, 2) points along one subpath (output pixels): each curve cut into chords of about 2 px."""
    out, at = [points[:1]], 0
    count = len(points)
    for degree in degrees:
        index = [(at + k) % count for k in range(degree + 1)]
        control = points[index]
        if degree == 1:
            out.append(control[1:])
        else:
            length = float((control[1:] - control[:-1]).detach().norm(dim=1).sum())
            chords = int(min(max(np.ceil(length / 2), 2), 64))
            t = torch.linspace(0, 1, chords + 1, dtype=points.dtype, device=points.device)[1:, None]
            if degree == 2:
                basis = torch.cat([(1 - t) ** 2, 2 * t * (1 - t), t ** 2], 1)
            else:
                basis = torch.cat([(1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t ** 2 * (1 - t), t ** 3], 1)
            out.append(basis @ control)
        at += degree
    return torch.cat(out)


def _capsules(line: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """(C, 14, 2) closed outlines (line, two quarter arcs, line, two quarter arcs) of the points
    within ``radius`` of each chord of the polyline ``line`` (K, 2): their union, filled nonzero, is
    the stroke with round caps and joins that pydiffvg draws (all wind the same way)."""
    a, b = line[:-1], line[1:]
    length = (b - a).detach().norm(dim=1)
    keep = torch.nonzero(length > 1e-6).flatten()
    a, b = a[keep], b[keep]
    d = (b - a) / (b - a).norm(dim=1, keepdim=True) * radius
    n = torch.stack([-d[:, 1], d[:, 0]], 1)
    k = _KAPPA
    outline = [a + n, b + n, b + n + k * d, b + d + k * n, b + d, b + d - k * n, b - n + k * d, b - n,
               a - n, a - n - k * d, a - d - k * n, a - d, a - d + k * n, a + n - k * d]
    return torch.stack(outline, 1).contiguous()


def _build_scene(pydiffvg, scene: Scene, width: int, height: int):
    """pydiffvg shapes and shape groups for ``scene`` at ``width`` x ``height`` (float32, CPU or
    the scene's device; pydiffvg copies what it needs)."""
    scale = np.array([width / scene.width, height / scene.height])
    stroke_scale = float(np.sqrt(scale[0] * scale[1]))
    points = scene.points.float() * torch.tensor(scale, dtype=torch.float32, device=scene.device)
    order, opacity = _flatten_groups(scene)
    opacity = opacity.float()
    fill_color, stroke_color = scene.fill_color.float(), scene.stroke_color.float()
    half_width = scene.stroke_width.float() * (stroke_scale / 2)
    gradients = _Gradients(pydiffvg, scene, scale)

    segment_offsets = scene.subpath_segment_offsets.tolist()
    point_offsets = scene.subpath_point_offsets.tolist()
    degrees = scene.segment_degrees.tolist()
    controls = (scene.segment_degrees - 1).to(torch.int32).cpu()
    capsule_controls = torch.tensor([0, 2, 2, 0, 2, 2], dtype=torch.int32)
    closed = scene.subpath_closed.tolist()
    path_subpaths = scene.path_subpath_offsets.tolist()
    has_fill, has_stroke = scene.has_fill.tolist(), (scene.has_stroke & (scene.stroke_width > 0)).tolist()
    fill_gradient, stroke_gradient = scene.fill_gradient.tolist(), scene.stroke_gradient.tolist()
    evenodd = scene.evenodd.tolist()
    no_width = torch.tensor(0.0)
    shapes, groups, drawn = [], [], []

    def paint(path: int, stroke: bool):
        gradient = (stroke_gradient if stroke else fill_gradient)[path]
        if gradient >= 0:
            return gradients.paint(gradient, path, opacity[path])
        color = (stroke_color if stroke else fill_color)[path]
        return color * torch.cat([color.new_ones(3), opacity[path:path + 1]])

    for path in order:
        for stroke in (False, True):
            if not (has_stroke if stroke else has_fill)[path]:
                continue
            # pydiffvg crashes on gradient strokes (at BachiLi/diffvg 85802a7 scene.cpp never sets their
            # derivative buffer), so those are filled instead: the union of round-capped chords
            as_fill = stroke and stroke_gradient[path] >= 0
            ids = []
            for q in range(path_subpaths[path], path_subpaths[path + 1]):
                subpath_points = points[point_offsets[q]:point_offsets[q + 1]]
                if as_fill:
                    line = _bezier_polyline(subpath_points, degrees[segment_offsets[q]:segment_offsets[q + 1]],
                                            closed[q])
                    for outline in _capsules(line, half_width[path]):
                        ids.append(len(shapes))
                        shapes.append(pydiffvg.Path(num_control_points=capsule_controls, points=outline,
                                                    is_closed=True, stroke_width=no_width))
                    continue
                count = controls[segment_offsets[q]:segment_offsets[q + 1]]
                is_closed = closed[q]
                if not stroke and not is_closed:  # SVG fills open subpaths as if closed
                    count, is_closed = torch.cat([count, count.new_zeros(1)]), True
                ids.append(len(shapes))
                shapes.append(pydiffvg.Path(num_control_points=count, points=subpath_points, is_closed=is_closed,
                                            stroke_width=half_width[path] if stroke else no_width))
            if not ids:
                continue
            color = paint(path, stroke)
            groups.append(pydiffvg.ShapeGroup(shape_ids=torch.tensor(ids, dtype=torch.int32),
                                              fill_color=None if stroke and not as_fill else color,
                                              stroke_color=color if stroke and not as_fill else None,
                                              use_even_odd_rule=bool(evenodd[path]) and not stroke))
            drawn.append((path, stroke))
    _check_depth(scene, width, height, drawn, scale, stroke_scale)
    return shapes, groups


def _draw(pydiffvg, width: int, height: int, args: list, background: torch.Tensor | None) -> torch.Tensor:
    """One pydiffvg render, (H, W, 4); ``background`` (4,) opaque premultiplied colour or None."""
    image = None
    if background is not None:
        image = background.float().cpu().reshape(1, 1, 4).expand(height, width, 4).contiguous()
        image = image.to(pydiffvg.get_device())
    try:
        return pydiffvg.RenderFunction.apply(width, height, SAMPLES, SAMPLES, SEED, image, *args)
    except RuntimeError as error:
        if "not compiled with GPU" in str(error):
            raise BackendUnavailableError(
                "this pydiffvg was built without CUDA: render on the CPU (scene.to('cpu'), --device cpu) or "
                "rebuild pydiffvg with DIFFVG_CUDA=1") from error
        raise


def render_diffvg(scene: Scene, width: int, height: int, background: torch.Tensor | None) -> torch.Tensor:
    """(H, W, 4) straight RGBA of ``scene`` drawn by pydiffvg at ``width`` x ``height`` over
    ``background`` (4,) straight RGBA or None; see the module docstring."""
    pydiffvg = _import_pydiffvg()
    dtype, device = scene.points.dtype, scene.device
    _check_strokes(scene)
    if scene.num_paths == 0:
        from .torch_backend import render_torch
        return render_torch(scene, width, height, background)
    pydiffvg.set_device(device)
    shapes, groups = _build_scene(pydiffvg, scene, width, height)
    args = pydiffvg.RenderFunction.serialize_scene(width, height, shapes, groups)
    if background is not None and float(background[3]) >= 1:
        image = _draw(pydiffvg, width, height, args, background.detach())
        return image.to(device=device, dtype=dtype)
    black = _draw(pydiffvg, width, height, args, torch.tensor([0.0, 0.0, 0.0, 1.0]))
    white = _draw(pydiffvg, width, height, args, torch.ones(4))
    premultiplied = black[..., :3].to(device=device, dtype=dtype)
    alpha = (1 - (white[..., :3] - black[..., :3]).mean(-1, keepdim=True)).to(device=device, dtype=dtype)
    if background is not None:
        premultiplied = premultiplied + background[:3] * background[3] * (1 - alpha)
        alpha = alpha + background[3] * (1 - alpha)
    alpha = alpha.clamp(0, 1)
    rgb = torch.where(alpha > 1e-6, premultiplied / alpha.clamp(min=1e-6), torch.zeros_like(premultiplied))
    return torch.cat([rgb.clamp(0, 1), alpha], -1)
