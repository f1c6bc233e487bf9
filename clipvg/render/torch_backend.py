"""The default backend: pure-PyTorch exact-area rasterization of fills and strokes, CPU or CUDA."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.utils.checkpoint

from ..ragged import group_min_max, owners
from ..scene import Scene
from . import kernels
from .composite import composite, over, unpremultiplied
from .coverage import Fragments, rasterize
from .dash import dash_polylines
from .geometry import closing_edges, flatten
from .paint import fragment_colors, item_paint
from .stroke import stroke_edges


def draw_items(scene: Scene, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Edges (E, 2, 2) in output pixels of every draw item, and their item ids (E,).

    Path k draws item 2k (its fill) then item 2k + 1 (its stroke); each item is a closed edge soup.
    """
    points = scene.points * scale
    subpath_path = owners(scene.path_subpath_offsets)
    lines = flatten(scene, points)
    line_path = subpath_path.index_select(0, lines.subpath)

    filled = torch.nonzero(scene.has_fill.index_select(0, line_path)).flatten()
    close, close_subpath = closing_edges(scene, points)
    close_filled = scene.has_fill[subpath_path[close_subpath]]
    parts = [lines.edges.index_select(0, filled), close[close_filled]]
    items = [2 * line_path.index_select(0, filled), 2 * subpath_path[close_subpath][close_filled]]

    half_width = scene.stroke_width[subpath_path] * torch.sqrt(scale[0] * scale[1]) / 2
    stroked = (scene.has_stroke & (scene.stroke_width.detach() > 0)).index_select(0, line_path)
    if stroked.any():
        subset = lines.subset(stroked)
        owner, closed = None, scene.subpath_closed
        if len(scene.dash_array):  # dashed strokes: each dash becomes an open subpath (clipvg.render.dash)
            subset, owner, closed = dash_polylines(scene, subset, subpath_path, torch.sqrt(scale[0] * scale[1]))
            half_width = half_width[owner]
        stroke_path = subpath_path if owner is None else subpath_path[owner]
        edges, subpath = stroke_edges(subset, half_width, scene.line_join[stroke_path],
                                      scene.line_cap[stroke_path], scene.miter_limit[stroke_path], closed)
        parts.append(edges)
        items.append(2 * stroke_path[subpath] + 1)
    return torch.cat(parts), torch.cat(items)


def cull_hidden(fragments: Fragments, item_alpha: torch.Tensor, num_pixels: int) -> Fragments:
    """Drop fragments below the second-topmost opaque fragment of their pixel, and order the rest by
    pixel, draw order kept within a pixel (what ``composite`` takes).

    What lies there shows through by at most 1e-12 (two layers clamped at 1 - 1e-6), and keeping
    the fragments directly below the topmost opaque one keeps the gradient of its alpha exact.
    ``item_alpha`` (I,) is each item's uniform alpha, or 0 where it varies (gradients). The floor's
    pixels under two opaque fragments go too.
    """
    with torch.no_grad():
        pixel, item = fragments.pixel, fragments.item
        opaque = (fragments.coverage >= 1 - 1e-6) & (item_alpha.index_select(0, item) >= 1)
        if kernels.compiled(pixel):
            order, second = kernels.cull_order(pixel, item, opaque, num_pixels)
        else:
            order, second = _cull_order(pixel, item, opaque, num_pixels)
        floor = None if fragments.floor is None else fragments.floor & (second < 0)
    return replace(fragments, pixel=pixel.index_select(0, order), item=item.index_select(0, order),
                   coverage=fragments.coverage.index_select(0, order), floor=floor)


def _cull_order(pixel: torch.Tensor, item: torch.Tensor, opaque: torch.Tensor, num_pixels: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``kernels.cull_order`` in torch (CUDA): the fragments (K,) to keep, ordered by pixel, and each
    pixel's second-topmost opaque item (H*W,) (-1: none). Called under ``cull_hidden``'s no_grad."""
    none = torch.full((num_pixels,), -1, device=pixel.device)
    top = none.scatter_reduce(0, pixel, torch.where(opaque, item, -1), "amax")
    below_top = opaque & (item < top.index_select(0, pixel))
    second = none.scatter_reduce(0, pixel, torch.where(below_top, item, -1), "amax")
    keep = torch.nonzero(item >= second.index_select(0, pixel)).flatten()
    key = pixel.index_select(0, keep)
    key = key.to(torch.int32) if num_pixels < 2 ** 31 else key  # sorts twice as fast
    return keep.index_select(0, torch.sort(key, stable=True).indices), second


DENSE_FLOOR = True  # the lowest item's inside drawn as a dense layer, not as fragments (tests turn it off)
CHUNK_PIXELS = 1 << 22  # bounding-box pixels rasterized at once; bounds memory for big scenes


def _chunk_bounds(edges: torch.Tensor, items: torch.Tensor, num_items: int, width: int, height: int
                  ) -> list[int]:
    """Item indices [b0 = 0, b1, ..., num_items] cutting the draw order into chunks of about
    CHUNK_PIXELS bounding-box pixels each."""
    with torch.no_grad():
        x, y = edges[..., 0].detach(), edges[..., 1].detach()
        owner = items[:, None].expand(-1, 2).flatten()
        x0, x1 = group_min_max(x.flatten(), owner, num_items)
        y0, y1 = group_min_max(y.flatten(), owner, num_items)
        box_w = (x1.clamp(0, width) - x0.clamp(0, width)).clamp(min=0) + 2
        box_h = (y1.clamp(0, height) - y0.clamp(0, height)).clamp(min=0) + 1
        cost = torch.where(x1 >= x0, box_w * box_h, torch.zeros_like(x0)).double()  # empty: max < min
        chunk = ((torch.cumsum(cost, 0) - cost) // CHUNK_PIXELS).long()
        starts = torch.nonzero(torch.diff(chunk, prepend=chunk[:1] - 1)).flatten()
    return starts.tolist() + [num_items]


@dataclass
class ItemTables:
    """Per draw item (I = 2N): ``colors`` (I, 4) and ``gradients`` (I,) from ``item_paint``,
    ``evenodd`` (I,) fill rule, ``solid_alpha`` (I,) uniform alpha (0 where a gradient varies it)."""

    colors: torch.Tensor
    gradients: torch.Tensor
    evenodd: torch.Tensor
    solid_alpha: torch.Tensor

    @classmethod
    def of(cls, scene: Scene) -> "ItemTables":
        colors, gradients = item_paint(scene)
        colors = colors.to(scene.points.dtype)  # float64 points (gradient checks) with float32 colours
        evenodd = torch.stack([scene.evenodd, torch.zeros_like(scene.evenodd)], 1).flatten()
        solid_alpha = torch.where(gradients < 0, colors[:, 3], torch.zeros_like(colors[:, 3])).detach()
        return cls(colors, gradients, evenodd, solid_alpha)


def _draw_chunk(scene: Scene, tables: ItemTables, edges: torch.Tensor, items: torch.Tensor, below_color: torch.Tensor,
                below_alpha: torch.Tensor, scale: torch.Tensor, width: int, height: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour (H*W, 3) and alpha (H*W,) of the items drawn by ``edges``/``items`` over
    ``below_color`` (H*W, 3) or (3,) and ``below_alpha`` (H*W,) or (): the fragments composited
    over the floor (the lowest item's inside, drawn densely) over what is below."""
    fragments = rasterize(edges, items, tables.evenodd, width, height, floor=DENSE_FLOOR)
    fragments = cull_hidden(fragments, tables.solid_alpha, width * height)
    rgb, alpha = fragment_colors(scene, tables.colors, tables.gradients, fragments.item, fragments.pixel, width, scale)
    color, coverage = composite(fragments.pixel, fragments.coverage * alpha, rgb, width * height)
    if fragments.floor is None:
        return over(color, coverage, below_color, below_alpha)
    rgb, alpha = _paint_everywhere(scene, tables, fragments.floor_item, width, height, scale)
    return over(color, coverage, below_color, below_alpha, fragments.floor, alpha, rgb)


def _paint_everywhere(scene: Scene, tables: ItemTables, item: int, width: int, height: int, scale: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight colour and alpha of draw ``item`` at every pixel: (3,) and () for a solid colour,
    (H*W, 3) and (H*W,) for a gradient."""
    if int(tables.gradients[item]) < 0:
        return tables.colors[item, :3], tables.colors[item, 3]
    pixel = torch.arange(width * height, device=scale.device)
    return fragment_colors(scene, tables.colors, tables.gradients, torch.full_like(pixel, item), pixel, width, scale)


def render_torch(scene: Scene, width: int, height: int, background: torch.Tensor | None,
                 drawn: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """(H, W, 4) straight RGBA of ``scene`` drawn at ``width`` x ``height`` over ``background`` (4,); ``drawn``:
    its ``draw_items`` at that size when made already (a tile's share of a banded render's, ``clipvg.render.bands``).

    Items are drawn in chunks of bounded size composited bottom to top; when gradients are needed
    and there are several chunks, each chunk is recomputed in backward instead of stored.
    """
    device = scene.device
    scale = torch.tensor([width / scene.width, height / scene.height], dtype=scene.points.dtype, device=device)
    edges, items = draw_items(scene, scale) if drawn is None else drawn
    order = torch.argsort(items, stable=True)
    edges, items = edges.index_select(0, order), items.index_select(0, order)
    num_pixels = width * height
    premultiplied, coverage = scale.new_zeros(3), scale.new_zeros(())  # the same for every pixel until drawn on
    if background is not None:
        premultiplied, coverage = (background[:3] * background[3]).to(scale.dtype), background[3].to(scale.dtype)
    if not len(items):  # nothing drawn (no paths, or none visible): every pixel is the background
        return unpremultiplied(premultiplied[None], coverage[None]).expand(num_pixels, 4).reshape(height, width, 4
                                                                                                 ).contiguous()
    tables = ItemTables.of(scene)
    bounds = _chunk_bounds(edges, items, 2 * scene.num_paths, width, height)
    cuts = torch.searchsorted(items, torch.tensor(bounds, device=device)).tolist()
    recompute = torch.is_grad_enabled() and len(bounds) > 2
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        if hi == lo:
            continue
        draw = lambda e, color, alpha, i=items[lo:hi]: _draw_chunk(scene, tables, e, i, color, alpha, scale, width,
                                                                   height)
        if recompute:
            premultiplied, coverage = torch.utils.checkpoint.checkpoint(draw, edges[lo:hi], premultiplied, coverage,
                                                                        use_reentrant=False)
        else:
            premultiplied, coverage = draw(edges[lo:hi], premultiplied, coverage)
    return unpremultiplied(premultiplied, coverage).reshape(height, width, 4)
