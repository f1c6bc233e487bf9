"""The tile plan of a render without gradients budgets its tiles from what the render_memory_bytes limit leaves
beside the runtime, the scene and the result it returns (clipvg.tiling), refuses a render whose smallest tile
does not fit, and draws the same pixels tiled as in one piece (to float32 rounding)."""
from __future__ import annotations

import pytest
import torch

import clipvg.render.bands as bands
import clipvg.tiling as tiling
from clipvg.errors import ResourceLimitError
from clipvg.limits import (FLAT_PIXEL_BYTES, GIB, OUTPUT_PIXEL_BYTES, POINT_BYTES, TREE_PIXEL_BYTES, ResourceLimits,
                           using)
from clipvg.render import render
from clipvg.render.api import _drawer, _prepare
from clipvg.svg import load_svg
from clipvg.svg.reader import ReadSVG, read_svg

BLOBS = "".join(f'<circle cx="{37 * k % 256}" cy="{53 * k % 256}" r="{6 + k % 13}" fill="#{k % 7}{k % 5}a"/>'
                for k in range(64))
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 256 256">{body}</svg>'
FLAT = SVG.format(size="{size}", body=BLOBS)
SHADOW = ('<filter id="s"><feDropShadow dx="{dx}" dy="{dx}" stdDeviation="{std}"/></filter>'
          '<g filter="url(#s)" opacity="0.8">' + BLOBS + '</g>')
BLURRED = SVG.format(size="{size}", body=SHADOW.format(dx=0.2, std=0.1))  # reaches 29 output px at 8192 px


def _render_plan(read: ReadSVG, export: bool) -> tuple[int, int, float | None, int, int]:
    """``render_plan`` of ``read`` at its canvas size with one sample, as ``clipvg render`` checks it (``export``:
    a uint8 result; else float32)."""
    return tiling.render_plan(read, None, None, 1, export, read.num_points,
                              lambda w, h, beside: tiling.working_bytes(read, w, h, True, beside))


@pytest.mark.parametrize("svg", [FLAT, BLURRED])
def test_the_tiles_of_a_float_result_fit_in_what_the_limit_leaves_beside_it(svg):
    read = read_svg(svg.format(size=8192))
    float32 = tiling.reserved_bytes(8192, 8192, read.num_points, OUTPUT_PIXEL_BYTES)
    assert float32 == tiling.RUNTIME_BYTES + read.num_points * POINT_BYTES + GIB
    rgba8 = tiling.reserved_bytes(8192, 8192, read.num_points, tiling.RGBA8_PIXEL_BYTES)
    room = ResourceLimits().render_memory_bytes - float32
    assert 0 < room < tiling.TILE_BYTES  # the float result leaves less than a whole tile's bytes
    working = tiling.working_bytes(read, 8192, 8192, reserved=float32)
    assert 0.9 * room < working <= room  # its band included; not far under the room
    small, large = tiling.plan_for(read, 8192, 8192, float32), tiling.plan_for(read, 8192, 8192, rgba8)
    assert small.drawn_pixels(8192, 8192) < large.drawn_pixels(8192, 8192)
    assert large == tiling.plan_for(read, 8192, 8192)  # an export's uint8 result leaves a whole tile's bytes
    heap = 0 if read.is_flat else tiling.TREE_TILES_BYTES  # a tree's tiles grow the heap
    assert tiling.working_bytes(read, 8192, 8192, reserved=rgba8) <= tiling.TILE_BYTES + heap + large.rows * 8192 * 16
    assert _render_plan(read, export=False) == (8192, 8192, working, 1, float32)


def test_a_render_whose_smallest_tile_does_not_fit_beside_its_result_is_refused():
    """The smallest tile ``tile_plan`` makes is as wide as its margins: a wider shadow's does not fit beside a
    float32 result of 8192 x 8192 px, but beside an export's uint8 one; a float64 result alone leaves no room."""
    wide = read_svg(SVG.format(size=8192, body=SHADOW.format(dx=1, std=0.5)))  # reaches 104 output px
    assert _render_plan(wide, export=True)[:2] == (8192, 8192)
    with pytest.raises(ResourceLimitError, match="render_memory_bytes limit") as refused:
        _render_plan(wide, export=False)
    assert "--max-render-memory-bytes" in str(refused.value) and "CLIPVG_MAX_RENDER_MEMORY_BYTES" in str(refused.value)
    assert refused.value.limit == "render_memory_bytes"
    scene = load_svg(BLURRED.format(size=8192))
    double = scene._map(lambda t: t.double() if t.is_floating_point() else t)  # a 2 GiB float64 result
    with torch.no_grad():
        _prepare(scene, None, None, None, "auto", 1, scene.edge_load)  # float32: its tiles fit
        with pytest.raises(ResourceLimitError, match="render_memory_bytes limit"):
            render(double)
        with using(ResourceLimits(render_memory_bytes=4 * GIB)):
            _prepare(double, None, None, None, "auto", 1, double.edge_load)  # the limit raised: the result and its tiles fit


@pytest.mark.parametrize("svg", [FLAT, BLURRED])
def test_a_float_render_tiled_beside_its_result_equals_the_one_piece_render(svg, monkeypatch):
    monkeypatch.setattr(tiling, "RUNTIME_BYTES", 0)
    scene = load_svg(svg.format(size=256))
    beside = tiling.reserved_bytes(256, 256, len(scene.points), OUTPUT_PIXEL_BYTES)
    asked = []
    plan_for = bands.plan_for
    monkeypatch.setattr(bands, "plan_for", lambda *args: asked.append(args[3]) or plan_for(*args))
    with torch.no_grad():
        whole = _drawer(scene)(scene, 256, 256, None)  # one piece
        pixel_bytes, heap = (FLAT_PIXEL_BYTES, 0) if scene.is_flat else (TREE_PIXEL_BYTES, tiling.TREE_TILES_BYTES)
        with using(ResourceLimits(render_memory_bytes=beside + heap + 256 * 40 * pixel_bytes)):  # about 40 rows
            plan = tiling.plan_for(scene, 256, 256, beside)
            tiled = render(scene)
    assert plan is not None and plan.rows < 64 and asked == [beside]  # drawn in the tiles planned beside it
    torch.testing.assert_close(tiled, whole, rtol=0, atol=2e-4)  # shifted float32 coordinates: float32 sums
