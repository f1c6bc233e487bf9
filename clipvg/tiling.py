"""How a render without gradients is cut into tiles, and the memory its drawing takes: torch-free, so that a
render whose estimate is over the limits is refused before torch loads (``clipvg render`` checks the SVG's
``clipvg.svg.reader.ReadSVG`` with the same functions the renderer checks its Scene with).

``scene`` below is a Scene or a ReadSVG: what is used is its ``width``, ``height`` (canvas px), ``tree`` (the
group tree, its filter parameters as tensors or float32 arrays) and ``is_flat``. The drawing itself is
``clipvg.render.bands``.

A tile draws with at most ``TILE_BYTES``, and with no more than the render_memory_bytes limit leaves beside what
lives while the tiles are drawn (``reserved_bytes``: the runtime, the scene and the result being filled, e.g. the
float API's 1 GiB float32 RGBA at 8192 x 8192 px), so that the whole render's estimate keeps to that limit; a
render whose smallest tile does not fit is refused (``render_plan``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple, Protocol

from .crossings import EdgeLoad, crowding_bytes, with_pieces
from .errors import InvalidInputError, ResourceLimitError
from .limits import FLAT_PIXEL_BYTES, OUTPUT_PIXEL_BYTES, POINT_BYTES, TREE_PIXEL_BYTES, resource_limits
from .samples import export_samples, textures_on_grid
from .scene.tree import ClipPath, FilterPrimitive, Group, Pattern

TILE_BYTES = 512 << 20  # working memory of one tile drawn without gradients (margins included), at most
# Resident bytes of a process that has rendered, beside any render's own: torch with its libraries (605 MB) and
# numba's compiled loops (858-888 MB in all after a flat and a tree render at 256 px, measured; 2 CPUs, torch 2.14)
RUNTIME_BYTES = 900 << 20
RGBA8_PIXEL_BYTES = 4  # an export's result: (H, W, 4) uint8
# What a tree's tiles grow the heap by beside TREE_PIXEL_BYTES per drawn px: clipvg.limits' 129 K, 258 K and 516 K
# px tiles (270, 511 and 886 MB) fit 64 MB + 1592 B/px; 5658 tiles of 53 K px (the float API's groups scene at 8192
# px, 2b2af19) peaked 174 MB over the runtime, the result and the band, where 2100 B/px gave 112 MB
TREE_TILES_BYTES = 64 << 20
# The blur's bounds, here (torch-free) so that tiles and estimates see the ones the renderer draws with
# (clipvg.render.blur, clipvg.render.filters.box_blur import them):
MAX_BLUR_RADIUS = 512  # px: Gaussian kernels wider than this are cut (a blur that wide is a flat haze anyway)
BOX_BLUR_STD = 2.0  # px: over this (either axis) resvg blurs in box passes, else with one IIR Gaussian
BOX_PASSES = 5
MAX_BOX_STD = 128.0  # px: a wider blur (a haze over ~500 px) is the Gaussian cut at MAX_BLUR_RADIUS, which tiles can reach
Reach = tuple[float, float]  # output px along x and along y
# primitives whose result scales with the render: they read their inputs within a distance in user units
_SCALABLE = {"feFlood", "feColorMatrix", "feComponentTransfer", "feComposite", "feMerge", "feBlend", "feOffset",
             "feGaussianBlur", "feDropShadow"}
# primitives that only recolour or combine pixels in place (reach 0)
_IN_PLACE = {"feFlood", "feColorMatrix", "feComponentTransfer", "feComposite", "feMerge", "feBlend", "feImage"}


class Drawable(Protocol):
    """What the tile plan reads of a Scene or a ReadSVG."""

    width: float
    height: float
    tree: Group | None

    @property
    def is_flat(self) -> bool: ...

    @property
    def num_paths(self) -> int: ...

    def edge_load(self) -> EdgeLoad: ...


def _primitive_reach(primitive: FilterPrimitive, scale: tuple[float, float]) -> Reach | None:
    """How many output px away (along x, along y) ``primitive`` reads its inputs, at ``scale`` output
    px per canvas px; None when its result depends on the whole filter region."""
    kind, q = primitive.kind, primitive.params
    if kind in _IN_PLACE:
        return 0.0, 0.0
    if kind == "feTurbulence":
        return None if q.get("stitch") else (0.0, 0.0)
    if kind == "feConvolveMatrix":  # kernel (rows, cols)
        return None if q.get("edge_mode") == "wrap" else (float(q["kernel"].shape[1]), float(q["kernel"].shape[0]))
    if kind in ("feDiffuseLighting", "feSpecularLighting"):
        return 2.0, 2.0
    reach = []
    for axis, s in enumerate(scale):
        if kind in ("feGaussianBlur", "feDropShadow"):
            blur = _blur_reach(abs(float(q["std"][axis])) * s, max(abs(float(v)) * f for v, f in zip(q["std"], scale)))
            reach.append(blur + (abs(float(q["offset"][axis])) * s + 1 if kind == "feDropShadow" else 0))
        elif kind == "feOffset":
            reach.append(abs(float(q["offset"][axis])) * s + 1)
        elif kind == "feMorphology":
            reach.append(math.ceil(abs(float(q["radius"][axis])) * s) + 1)
        elif kind == "feDisplacementMap":
            reach.append(abs(float(q["scale"])) * s / 2 + 1)
        else:
            return None  # feTile and anything new
    return reach[0], reach[1]


def _blur_reach(std: float, widest: float) -> float:
    """Output px a blur of ``std`` output px reads along one axis (``widest``: its largest std over both
    axes). Over BOX_BLUR_STD it runs as BOX_PASSES boxes (clipvg.render.filters.box_blur) whose widths w_k
    square-sum to at most 12 std² + 8, each reading w_k / 2 + 1.5 px: in all at most the bound below
    (up to MAX_BOX_STD; over it, the cut Gaussian again)."""
    if not BOX_BLUR_STD < widest <= MAX_BOX_STD:
        return min(math.ceil(3 * std), MAX_BLUR_RADIUS) + 1
    return math.ceil(0.5 * math.sqrt(BOX_PASSES * (12 * std * std + 8))) + 8


def _group_reach(group: Group, scale: tuple[float, float]) -> Reach | None:
    """How many output px away (along x, along y) what ``group`` draws on the canvas depends on: its
    filters' reach plus the farthest reach among the groups inside it (mask and feImage contents
    included; pattern tiles are drawn on canvases of their own); None when a filter reads its whole
    region."""
    inner = [child for child in group.children if isinstance(child, Group)]
    inner += [group.mask.content] if group.mask is not None else []
    primitives = [p for f in group.filters for p in f.primitives]
    inner += [p.content for p in primitives if p.content is not None]
    reaches = [_group_reach(child, scale) for child in inner] + [_primitive_reach(p, scale) for p in primitives]
    if any(reach is None for reach in reaches):
        return None
    return tuple(sum(r[axis] for r in reaches[len(inner):]) + max((r[axis] for r in reaches[:len(inner)]), default=0.0)
                 for axis in (0, 1))


def tile_margins(scene: Drawable, width: int, height: int) -> tuple[int, int] | None:
    """Extra output px (along x, along y) a tile of ``scene`` drawn at ``width`` x ``height`` needs
    on each side for its filters to see what they read; None when the scene cannot be tiled."""
    if scene.tree is None:
        return 0, 0
    if pattern_paths(scene.tree) & set(scene.tree.drawn_paths()):
        return None  # a path drawn both in tile px and on the canvas: one shift cannot serve both
    reach = _group_reach(scene.tree, (width / scene.width, height / scene.height))
    return None if reach is None else (math.ceil(reach[0]), math.ceil(reach[1]))


@dataclass(frozen=True)
class TilePlan:
    """How a render is drawn: tiles of ``cols`` x ``rows`` output px (the last of a row or column
    smaller) with ``margin`` (x, y) extra px on each side that does not touch the render's edge."""

    cols: int
    rows: int
    margin: tuple[int, int]

    def drawn_pixels(self, width: int, height: int) -> int:
        """Pixels of the largest tile drawn (margins included) in a ``width`` x ``height`` render."""
        (mx, my), cols, rows = self.margin, self.cols, self.rows
        return min(width, cols + 2 * mx) * min(height, rows + 2 * my)


def _pixel_bytes(scene: Drawable) -> int:
    """Measured peak bytes per drawn pixel without gradients: a flat scene's or a tree's."""
    return FLAT_PIXEL_BYTES if scene.is_flat else TREE_PIXEL_BYTES


def reserved_bytes(width: int, height: int, points: int, result_pixel_bytes: int) -> int:
    """Bytes that live beside the tiles of a render without gradients: the runtime (``RUNTIME_BYTES``), the
    scene's ``points`` (``clipvg.limits.POINT_BYTES`` each, as ``job_bytes`` counts them) and the ``width`` x
    ``height`` px result the tiles are put into, ``result_pixel_bytes`` per px (float32 RGBA:
    ``OUTPUT_PIXEL_BYTES``, an export's uint8: ``RGBA8_PIXEL_BYTES``)."""
    return RUNTIME_BYTES + points * POINT_BYTES + width * height * result_pixel_bytes


def _room(reserved: float) -> float:
    """Bytes the render_memory_bytes limit in force leaves to the drawing beside ``reserved`` bytes (may be
    negative)."""
    return resource_limits().render_memory_bytes - reserved


def _tiles_bytes(scene: Drawable) -> int:
    """Bytes the tiles of ``scene`` grow the heap by beside their bytes per pixel (``TREE_TILES_BYTES`` for a tree)."""
    return 0 if scene.is_flat else TREE_TILES_BYTES


def tile_budget(scene: Drawable, reserved: float = 0) -> int:
    """Pixels one tile of ``scene`` may draw (margins included): ``TILE_BYTES``, or the bytes the
    render_memory_bytes limit leaves beside ``reserved`` bytes (``reserved_bytes``) and the tiles' heap growth
    (``TREE_TILES_BYTES``) when fewer, over the measured peak bytes per drawn pixel of a flat scene or of a tree."""
    return max(0, int(min(TILE_BYTES, _room(reserved) - _tiles_bytes(scene)) // _pixel_bytes(scene)))


def tile_plan(width: int, height: int, margin: tuple[int, int], pixels: int) -> TilePlan:
    """Tiles for a ``width`` x ``height`` render whose filters reach ``margin`` (x, y) px, each
    drawing about ``pixels`` px with its margins: whole rows when a band of them fits (no x margin
    then), else squares; a tile's inside is never smaller than its margins (they would dominate)."""
    mx, my = margin
    band = pixels // width - 2 * my
    if band >= max(1, my):
        return TilePlan(width, min(height, band), (0, my))
    side = max(1, math.isqrt(pixels) - 2 * max(mx, my), mx, my)
    cols = min(width, side)
    rows = min(height, max(1, pixels // (cols + 2 * mx) - 2 * my, my))
    return TilePlan(cols, rows, (mx if cols < width else 0, my))


def plan_for(scene: Drawable, width: int, height: int, reserved: float = 0, load: EdgeLoad | None = None
             ) -> TilePlan | None:
    """The tiles a render of ``scene`` at ``width`` x ``height`` without gradients is drawn in, beside
    ``reserved`` bytes (``reserved_bytes``: the runtime, the scene, the result), or None when it is drawn in
    one piece (it fits in one tile, its edges' crossings included, or cannot be tiled). A row of narrower tiles
    is put together in a band whose bytes come out of the room too. With too little room the plan is the
    smallest tile ``tile_plan`` makes (``render_plan`` refuses it). ``load``: ``scene.edge_load()``, when
    already made."""
    load = scene.edge_load() if load is None else load
    pixels = tile_budget(scene, reserved)
    whole = width * height * _pixel_bytes(scene) + _crowding(load, width, height, None, scene)
    if width * height <= pixels and whole <= pixels * _pixel_bytes(scene):
        return None
    margin = tile_margins(scene, width, height)
    if margin is None:
        return None
    plan = tile_plan(width, height, margin, pixels)
    over = _plan_bytes(scene, plan, width, height, load) - _room(reserved)
    if over > 0:
        smallest = tile_plan(width, height, margin, 0)
        if _plan_bytes(scene, smallest, width, height, load) > _room(reserved):
            return smallest  # even the smallest tile does not fit: no need to search
    while over > 0 and pixels > 0:  # crowded edges shrink more slowly than the pixels: at most halve each time
        pixels = max(pixels - math.ceil(over / _pixel_bytes(scene)), pixels // 2)
        plan = tile_plan(width, height, margin, pixels)
        over = _plan_bytes(scene, plan, width, height, load) - _room(reserved)
    return None if plan.cols >= width and plan.rows >= height else plan


def _crowding(load: EdgeLoad, width: int, height: int, plan: TilePlan | None, scene: Drawable) -> float:
    """Bytes beyond the per-pixel figures that the edges of ``scene`` drawn at ``width`` x ``height`` take
    (``clipvg.crossings``): over the whole render, or over the largest tile of ``plan`` (the paths reaching its
    band of rows)."""
    scale = (width / scene.width, height / scene.height)
    if plan is None:
        return crowding_bytes(load.excess(scale, (width, height)))
    return crowding_bytes(load.most_excess_in_bands(scale, (width, height), plan.rows, plan.margin[1],
                                                    plan.drawn_pixels(width, height)))


def _plan_bytes(scene: Drawable, plan: TilePlan, width: int, height: int, load: EdgeLoad) -> float:
    """Estimated peak bytes of drawing a ``width`` x ``height`` render of ``scene`` in ``plan``'s tiles: the
    largest tile (margins included) at the measured bytes per pixel, its edges' crossings beyond those
    (``_crowding``), the tiles' heap growth (``_tiles_bytes``) and the band a row of narrower tiles is put
    together in."""
    band = 0 if plan.cols >= width else plan.rows * width * OUTPUT_PIXEL_BYTES
    return (plan.drawn_pixels(width, height) * _pixel_bytes(scene) + _crowding(load, width, height, plan, scene)
            + _tiles_bytes(scene) + band)


def _clip_paths(clip: ClipPath | None) -> Iterator[int]:
    if clip is not None:
        yield from clip.paths
        for part in clip.parts:
            yield from _clip_paths(part)
        yield from _clip_paths(clip.clip)


def pattern_paths(tree: Group) -> set[int]:
    """Scene paths that only pattern tiles draw (their points are in tile px)."""
    found: set[int] = set()
    for group in tree.groups():
        for pattern in (child for child in group.children if isinstance(child, Pattern)):
            for inner in pattern.content.groups():
                found.update(child for child in inner.children if isinstance(child, int))
                found.update(child.path for child in inner.children if isinstance(child, Pattern))
                found.update(_clip_paths(inner.clip))
    return found


def working_bytes(scene: Drawable, width: int, height: int, tiled: bool = True, reserved: float = 0,
                  load: EdgeLoad | None = None) -> float:
    """Estimated peak bytes the drawing of a ``width`` x ``height`` render of ``scene`` takes without
    gradients beside ``reserved`` bytes (``plan_for``): its tiles' (``_plan_bytes``); the whole render's at the
    measured bytes per pixel when it is drawn in one piece (``tiled`` False, or ``plan_for`` None); each with
    what its edges' crossings take beyond those (``_crowding``). ``load``: ``scene.edge_load()``, when already
    made."""
    load = scene.edge_load() if load is None else load
    plan = plan_for(scene, width, height, reserved, load) if tiled else None
    if plan is None:
        return width * height * _pixel_bytes(scene) + _crowding(load, width, height, None, scene)
    return _plan_bytes(scene, plan, width, height, load)


def drawn_samples(scene: Drawable, scale: float, samples: int) -> int:
    """The samples per axis a render of ``scene`` at ``scale`` output px per canvas px (the larger axis)
    is drawn with: ``samples``, or 1 when the scene draws a texture on the pixel grid (``textures_on_grid``),
    when a filter primitive of it works on the pixel grid (an feOffset by a fraction of an output px too), or when a blur drawn at ``samples`` x the scale would reach past
    ``clipvg.render.blur.MAX_RADIUS`` px (it is cut there)."""
    if samples == 1 or scene.tree is None:
        return samples
    if textures_on_grid(scene.tree, scale, samples):
        return 1
    for primitive in (p for group in scene.tree.groups() for f in group.filters for p in f.primitives):
        if primitive.kind not in _SCALABLE:
            return 1
        if primitive.kind == "feOffset" and any(not float(v * scale).is_integer() for v in primitive.params["offset"]):
            return 1  # an offset off the pixel grid is cut to whole output px, as resvg draws it
        if "std" in primitive.params:
            reach = 3 * max(abs(float(std)) for std in primitive.params["std"]) * scale * samples
            if math.ceil(reach) > MAX_BLUR_RADIUS:
                return 1
    return samples


class RenderPlan(NamedTuple):
    """A checked render (``render_plan``): its output ``width`` x ``height`` px, the peak bytes its drawing takes
    (``working``; None when it records gradients), the ``samples`` per axis it is drawn with and the bytes that
    live beside its drawing (``reserved``)."""

    width: int
    height: int
    working: float | None
    samples: int
    reserved: int


def render_plan(scene: Drawable, width: int | None, height: int | None, samples: int | None, export: bool,
                points: int, working: Callable[[int, int, float], float | None],
                result_pixel_bytes: int = OUTPUT_PIXEL_BYTES, load: Callable[[], EdgeLoad] | None = None) -> RenderPlan:
    """A render's output size (``width``, ``height`` px: the canvas's, or the other side kept in proportion
    where one is None), the peak bytes its drawing takes (``working(drawn width, drawn height, reserved)``: None
    when it records gradients), the samples per axis it is drawn with (``drawn_samples`` of ``samples``; for an
    ``export``, None is ``export_samples``' default for its size) and the bytes that live beside its drawing
    (``reserved_bytes``: the result is an export's uint8 RGBA, else ``result_pixel_bytes`` per px), checked
    against the resource limits (``points``: the scene's control points); a render without gradients also
    with those bytes beside it against render_memory_bytes. Raises InvalidInputError for a size under 1 x 1 px,
    ResourceLimitError for one over the limits (naming the pieces its edges are cut into: ``load()``, the scene's
    ``edge_load`` by default)."""
    if width is None and height is None:
        width, height = round(scene.width), round(scene.height)
    elif height is None:
        height = round(width * scene.height / scene.width)
    elif width is None:
        width = round(height * scene.width / scene.height)
    if width < 1 or height < 1:
        raise InvalidInputError(f"render size must be at least 1 x 1 pixels, got {width} x {height}")
    width, height = int(width), int(height)
    if export:
        samples = export_samples(width, height, samples)
    samples = drawn_samples(scene, max(width / scene.width, height / scene.height), samples)
    reserved = reserved_bytes(width, height, points, RGBA8_PIXEL_BYTES if export else result_pixel_bytes)
    drawn = working(width * samples, height * samples, reserved)
    what = "render (width/height, --width)"
    limits = resource_limits()
    try:
        limits.check_job(width, height, points, scene.num_paths, 0, what, working=drawn, samples=samples)
        if drawn is not None:
            limits.check("render_memory_bytes", reserved + drawn, f"{what}: the estimated peak memory in bytes of "
                         "this render without gradients with its result and the runtime beside its tiles")
    except ResourceLimitError as refused:
        scale = (width * samples / scene.width, height * samples / scene.height)
        raise with_pieces(refused, (load or scene.edge_load)(), scale, (width * samples, height * samples)) from None
    return RenderPlan(width, height, drawn, samples, reserved)
