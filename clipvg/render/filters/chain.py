"""Running a ``Filter`` (``clipvg.scene.tree``) on a group's off-screen image, as resvg does: the
source cut to the filter region (whole pixels), each primitive on its inputs in its colour space,
its result cut to its subregion, the last result back in sRGB and placed on an empty canvas."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ...scene.tree import Filter, FilterPrimitive, Group
from ..blur import gaussian_blur
from . import color, compositing, lighting, spatial
from .box_blur import BOX_BLUR_STD, MAX_BOX_STD, box_blur
from .turbulence import turbulence

Box = tuple[int, int, int, int]  # x, y, width, height in output px
DrawContent = Callable[[Group], torch.Tensor]  # a group's premultiplied (4, H, W) canvas image


@dataclass
class _Result:
    image: torch.Tensor  # (4, h, w) premultiplied, the filter region
    linear: bool  # linear-light values (else sRGB)
    box: Box  # where it has data, in region px
    origin: tuple[int, int] | None = None  # the corner of its subregion before the region cut it (None: box's)


@dataclass
class _Context:
    source: torch.Tensor  # (4, h, w) premultiplied sRGB, the filter region of the group's image
    region: Box  # the filter region in output px
    scale: tuple[float, float]  # output px per canvas px
    draw: DrawContent
    results: dict[str, _Result]
    last: _Result | None = None
    open_sides: tuple[bool, bool, bool, bool] = (False,) * 4  # left, top, right, bottom: the region goes on
    #                                                          past the image there (the canvas or tile cut it)


def int_box(rect: tuple[float, float, float, float], scale: tuple[float, float]) -> Box:
    """A canvas-px rect in whole output px (resvg's ``to_int_rect``: floored origin, ceiled size)."""
    x, y, w, h = rect[0] * scale[0], rect[1] * scale[1], rect[2] * scale[0], rect[3] * scale[1]
    return math.floor(x), math.floor(y), max(1, math.ceil(w)), max(1, math.ceil(h))


def _intersect(a: Box, b: Box) -> Box | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def apply_filter(filter: Filter, image: torch.Tensor, scale: tuple[float, float], draw: DrawContent) -> torch.Tensor:
    """``image`` (4, H, W) premultiplied sRGB filtered by ``filter`` (canvas px, drawn at ``scale``
    output px per canvas px); ``draw`` renders an ``feImage``'s content. Transparent when the region
    misses the canvas or the filter has no primitive."""
    _, height, width = image.shape
    canvas = (0, 0, width, height)
    whole = canvas if filter.region is None else int_box(filter.region, scale)
    region = _intersect(whole, canvas)
    out = torch.zeros_like(image)
    if region is None or not filter.primitives:
        return out
    x, y, w, h = region
    open_sides = (whole[0] < x, whole[1] < y, whole[0] + whole[2] > x + w, whole[1] + whole[3] > y + h)
    context = _Context(image[:, y:y + h, x:x + w], region, scale, draw, {}, open_sides=open_sides)
    for primitive in filter.primitives:
        result = _run(primitive, context)
        context.results[primitive.result] = context.last = result
    result = context.last.image if not context.last.linear else color.to_srgb(context.last.image)
    out[:, y:y + h, x:x + w] = result
    return out


def _input(name: str, context: _Context) -> _Result:
    full = (0, 0, context.region[2], context.region[3])
    if name in context.results:
        return context.results[name]
    if name == "SourceAlpha":
        alpha = context.source[3:]
        return _Result(torch.cat([torch.zeros_like(context.source[:3]), alpha]), False, full)
    return _Result(context.source, False, full)


def _space(result: _Result, linear: bool) -> torch.Tensor:
    """The result's image in linear light (``linear``) or sRGB."""
    if result.linear == linear:
        return result.image
    return color.to_linear(result.image) if linear else color.to_srgb(result.image)


def _subregion(primitive: FilterPrimitive, context: _Context) -> tuple[Box, tuple[int, int] | None]:
    """The primitive's subregion in region px, cut to the region, and its corner before the cut."""
    full = (0, 0, context.region[2], context.region[3])
    if primitive.subregion is None:
        return full, None
    x, y, w, h = int_box(primitive.subregion, context.scale)
    origin = (x - context.region[0], y - context.region[1])
    local = _intersect((*origin, w, h), full)
    return (local, origin) if local is not None else ((0, 0, 0, 0), None)


def _run(primitive: FilterPrimitive, context: _Context) -> _Result:
    inputs = [_input(name, context) for name in primitive.inputs]
    box, origin = _subregion(primitive, context)
    if primitive.kind == "feOffset":
        source = inputs[0]
        shift = _scaled(primitive.params["offset"], context.scale)
        image = spatial.offset(source.image, shift[0], shift[1])
        if primitive.inputs[0] in context.results:  # resvg: not cut, its data box from a named input
            return _Result(image, source.linear, source.box, source.origin)
        return _Result(image, source.linear, box, origin)
    image, linear = RUNNERS[primitive.kind](primitive, inputs, context, box)
    x, y, w, h = box
    if (x, y, w, h) != (0, 0, context.region[2], context.region[3]):
        keep = torch.zeros_like(image[:1])
        keep[:, y:y + h, x:x + w] = 1
        image = image * keep
    return _Result(image, linear, box, origin)


def _scaled(values: torch.Tensor, scale: tuple[float, float]) -> torch.Tensor:
    """(2,) canvas px -> output px."""
    return values * torch.tensor(scale, dtype=values.dtype, device=values.device)


def _blur(image: torch.Tensor, std: torch.Tensor, c: _Context) -> torch.Tensor:
    """``image`` (4, h, w), the filter region, blurred by ``std`` (2,) canvas px: as resvg, a Gaussian
    up to BOX_BLUR_STD output px on both axes, box passes cut to the region above (``box_blur``; not cut
    where the canvas or a tile cut the region: what lies past it is missing, not outside); over
    MAX_BOX_STD, the Gaussian again (cut at blur.MAX_RADIUS: a haze, whose reach tiles can hold)."""
    std = _scaled(std, c.scale)
    if not BOX_BLUR_STD < max(std.detach().tolist()) <= MAX_BOX_STD:
        return gaussian_blur(image, std[0], std[1])
    return box_blur(image, std[0], std[1], c.open_sides)


def _converted(inputs: list[_Result], linear: bool) -> list[torch.Tensor]:
    return [_space(i, linear) for i in inputs]


def _gaussian_blur(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    (image,) = _converted(inputs, p.linear_rgb)
    return _blur(image, p.params["std"].to(image), c), p.linear_rgb


def _drop_shadow(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    (image,) = _converted(inputs, p.linear_rgb)
    alpha = _blur(image, p.params["std"].to(image), c)[3:]
    tint = p.params["color"].to(image)
    rgb = tint[:3, None, None].expand(3, *alpha.shape[1:])
    rgb = color.srgb_to_linear(rgb) if p.linear_rgb else rgb
    shadow = torch.cat([rgb * alpha * tint[3], alpha * tint[3]])
    shift = _scaled(p.params["offset"], c.scale)
    shadow = spatial.offset(shadow, shift[0], shift[1])
    return compositing.porter_duff(image, shadow, "over"), p.linear_rgb


def _flood(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    tint = p.params["color"].to(c.source)
    return color.flood(tint, c.source.shape[1], c.source.shape[2]), False


def _color_matrix(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    (image,) = _converted(inputs, p.linear_rgb)
    return color.color_matrix(image, p.params["matrix"].to(image)), p.linear_rgb


def _component_transfer(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    (image,) = _converted(inputs, p.linear_rgb)
    return color.component_transfer(image, p.params["functions"]), p.linear_rgb


def _composite(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    top, bottom = _converted(inputs, p.linear_rgb)
    if p.params.get("operator") == "arithmetic":
        return compositing.arithmetic(top, bottom, p.params["k"]), p.linear_rgb
    return compositing.porter_duff(top, bottom, p.params.get("operator", "over")), p.linear_rgb


def _merge(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    out = torch.zeros_like(c.source)
    for layer in _converted(inputs, p.linear_rgb):
        out = compositing.porter_duff(layer, out, "over")
    return out, p.linear_rgb


def _blend(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    top, bottom = _converted(inputs, p.linear_rgb)
    return compositing.blend_images(top, bottom, p.params.get("mode", "normal")), p.linear_rgb


def _morphology(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    (image,) = _converted(inputs, p.linear_rgb)
    rx, ry = (float(v) for v in _scaled(p.params["radius"].detach().cpu(), c.scale))
    return spatial.morphology(image, p.params.get("operator", "erode"), rx, ry), p.linear_rgb


def _convolve(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    (image,) = _converted(inputs, p.linear_rgb)
    q = p.params
    return spatial.convolve(image, q["kernel"], tuple(q["target"]), q["divisor"], q["bias"], q["edge_mode"],
                            bool(q["preserve_alpha"])), p.linear_rgb


def _displacement(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    image, displacement = _converted(inputs, p.linear_rgb)
    scale = p.params["scale"].to(image)
    factor = (scale * c.scale[0], scale * c.scale[1])
    return spatial.displacement_map(image, displacement, factor, p.params["x_channel"], p.params["y_channel"]), \
        p.linear_rgb


def _tile(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    return spatial.tile(inputs[0].image, inputs[0].box, inputs[0].origin), False


def _turbulence(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    q = p.params
    a, d, e, f = q["transform"].detach().tolist()
    sx, sy = a * c.scale[0], d * c.scale[1]
    _, h, w = c.source.shape
    if abs(sx) < 1e-12 or abs(sy) < 1e-12:
        return torch.zeros_like(c.source), p.linear_rgb
    origin = (c.region[0] - e * c.scale[0], c.region[1] - f * c.scale[1])
    frequency = tuple(q["base_frequency"].detach().tolist())
    image = turbulence(h, w, origin, (sx, sy), frequency, int(q["octaves"]), int(q["seed"]), bool(q["stitch"]),
                       q["type"] == "fractalNoise", c.source.dtype, c.source.device)
    return image, p.linear_rgb


def _lighting(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    q = p.params
    light = dict(q["light"])
    if "position" in light:
        sx, sy = c.scale
        origin = torch.tensor([c.region[0], c.region[1], 0.0], dtype=light["position"].dtype)
        factor = torch.tensor([sx, sy, math.hypot(sx, sy) / math.sqrt(2)], dtype=light["position"].dtype)
        for key in ("position", "points_at"):
            if key in light:
                light[key] = light[key] * factor.to(light[key]) - origin.to(light[key])
    image = lighting.lighting(inputs[0].image, p.kind == "feSpecularLighting", light, q["color"], q["surface_scale"],
                              q["constant"], q.get("exponent", torch.tensor(1.0)))
    return image, p.linear_rgb


def _image(p: FilterPrimitive, inputs: list[_Result], c: _Context, box: Box):
    """``feImage``: its content (a referenced element or a picture, placed by the reader), drawn."""
    if p.content is None:
        return torch.zeros_like(c.source), False
    x, y, w, h = c.region
    return c.draw(p.content)[:, y:y + h, x:x + w], False


RUNNERS = {
    "feGaussianBlur": _gaussian_blur, "feDropShadow": _drop_shadow, "feFlood": _flood,
    "feColorMatrix": _color_matrix, "feComponentTransfer": _component_transfer, "feComposite": _composite,
    "feMerge": _merge, "feBlend": _blend, "feMorphology": _morphology, "feConvolveMatrix": _convolve,
    "feDisplacementMap": _displacement, "feTile": _tile, "feTurbulence": _turbulence,
    "feDiffuseLighting": _lighting, "feSpecularLighting": _lighting, "feImage": _image,
}
PRIMITIVES = ("feOffset", *RUNNERS)
