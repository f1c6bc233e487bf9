"""Renders without gradients drawn in tiles (clipvg.render.bands) equal the one-shot render, take far
less memory on a tall canvas and on a wide one with filters, and are estimated by their tile."""
from __future__ import annotations

import base64
import io
import json
import resource
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import clipvg.render.bands as bands
import clipvg.tiling as tiling
from clipvg.errors import ResourceLimitError
from clipvg.limits import FLAT_PIXEL_BYTES, TREE_PIXEL_BYTES, ResourceLimits, job_bytes
from clipvg.render import render
from clipvg.render.api import _drawer, _working_bytes
from clipvg.svg import load_svg
from clipvg.scene import Scene

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="300">{}</svg>'


def _png_uri() -> str:
    rng = np.random.default_rng(3)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SCENES = {
    "flat": '<rect x="5" y="7.3" width="100" height="280" fill="#c33"/>'
            '<circle cx="60" cy="150" r="50.5" fill="blue" stroke="black" stroke-width="7"/>'
            '<path d="M10 10 L110 290 L30 200Z" fill="green" fill-opacity="0.5" stroke="#0a0" stroke-width="3"'
            ' stroke-linejoin="miter" stroke-miterlimit="10"/>',
    "gradients": '<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="red"/>'
                 '<stop offset="1" stop-color="blue"/></linearGradient><radialGradient id="r" cx="60" cy="200" r="40"'
                 ' gradientUnits="userSpaceOnUse" spreadMethod="reflect"><stop offset="0" stop-color="yellow"/>'
                 '<stop offset="1" stop-color="purple" stop-opacity="0.4"/></radialGradient></defs>'
                 '<rect x="5" y="7" width="100" height="280" fill="url(#g)"/>'
                 '<circle cx="60" cy="150" r="80" fill="url(#r)" stroke="url(#g)" stroke-width="5"/>',
    "groups": '<defs><clipPath id="c"><circle cx="60" cy="140" r="70"/></clipPath><mask id="m">'
              '<rect x="0" y="50" width="120" height="200" fill="white"/><circle cx="60" cy="150" r="30"/></mask>'
              '</defs><rect width="120" height="300" fill="#eee"/><g opacity="0.6" clip-path="url(#c)">'
              '<rect x="10" y="20" width="100" height="250" fill="red"/>'
              '<rect x="30" y="60" width="50" height="150" fill="blue" opacity="0.5"/></g>'
              '<g mask="url(#m)" style="mix-blend-mode:multiply"><rect width="120" height="300" fill="orange"/></g>',
    "filters": '<defs><filter id="f"><feGaussianBlur stdDeviation="6"/><feOffset dx="3" dy="9"/></filter>'
               '<filter id="d" x="0" y="0.2" width="1" height="0.5"><feMorphology operator="dilate" radius="3"/>'
               '<feColorMatrix type="saturate" values="0.3"/></filter><filter id="t"><feTurbulence baseFrequency="0.05"'
               ' numOctaves="2"/><feDiffuseLighting><fePointLight x="60" y="100" z="30"/></feDiffuseLighting>'
               '<feComposite in2="SourceGraphic" operator="in"/></filter></defs>'
               '<rect x="20" y="30" width="60" height="200" fill="green" filter="url(#f)"/>'
               '<g filter="url(#d)"><circle cx="60" cy="150" r="40" fill="purple"/></g>'
               '<circle cx="70" cy="220" r="45" fill="black" filter="url(#t)"/>',
    "images": '<defs><pattern id="p" width="10" height="13" patternUnits="userSpaceOnUse">'
              '<circle cx="5" cy="5" r="4" fill="red"/></pattern></defs>'
              '<rect x="5" y="5" width="110" height="290" fill="url(#p)"/>'
              f'<image x="10" y="40.5" width="80" height="200" preserveAspectRatio="none" href="{_png_uri()}"/>',
}


def _one_shot(scene: Scene, width: int, height: int) -> torch.Tensor:
    white = torch.ones(4, dtype=scene.points.dtype)
    return _drawer(scene)(scene, width, height, white)


def _small_tiles(monkeypatch, cols: int, rows: int) -> None:
    """Draw every render in tiles of ``cols`` x ``rows`` px (with the scene's filter margins)."""
    def plan(scene: Scene, width: int, height: int, reserved: float = 0, load=None) -> bands.TilePlan | None:
        margin = bands.tile_margins(scene, width, height)
        return None if margin is None else bands.TilePlan(cols, rows, margin)
    monkeypatch.setattr(bands, "plan_for", plan)


@pytest.mark.parametrize("name", sorted(SCENES))
@pytest.mark.parametrize("cols", [120, 37])
def test_tiles_equal_the_one_shot_render(name, cols, monkeypatch):
    _small_tiles(monkeypatch, cols, 41)  # bands of whole rows, and tiles with a cut last column and row
    scene = load_svg(SVG.format(SCENES[name]))
    double = scene._map(lambda t: t.double() if t.is_floating_point() else t)
    with torch.no_grad():
        assert bands.render_rows(scene, 120, 300, None) is not None  # drawn in tiles
        # float64 at another scale: equal to rounding; float32 at the natural size: to float32 sums
        for subject, width, height, atol in ((double, 97, 251, 1e-6), (scene, 120, 300, 1e-4)):
            tiled = render(subject, width, height, background=(1.0, 1.0, 1.0))
            assert tiled.shape == (height, width, 4) and tiled.dtype == subject.points.dtype
            torch.testing.assert_close(tiled, _one_shot(subject, width, height), rtol=0, atol=atol)


def test_a_flat_scene_is_outlined_once_for_all_its_tiles(monkeypatch):
    """A stroke's outline is made once at the render's scale, not again for each of its 8 x 3 tiles; each tile
    draws only the edges reaching its rows (none of the 60 zigzag lines reaches the empty bottom band)."""
    from clipvg.render import torch_backend
    _small_tiles(monkeypatch, 50, 41)
    points = " ".join(f"{(i * 37) % 110 + 5} {(i * 53) % 240 + 5}" for i in range(60))
    scene = load_svg(SVG.format(f'<path d="M{points}" fill="none" stroke="black" stroke-width="3"/>'))
    outlines, tile_edges = [], []
    draw_items, render_torch = torch_backend.draw_items, torch_backend.render_torch

    def counted_render(scene, width, height, background, drawn=None):
        if drawn is not None:
            tile_edges.append(len(drawn[0]))
        return render_torch(scene, width, height, background, drawn)
    monkeypatch.setattr(torch_backend, "draw_items", lambda *a: outlines.append(1) or draw_items(*a))
    monkeypatch.setattr(torch_backend, "render_torch", counted_render)
    with torch.no_grad():
        tiled = render(scene, background=(1.0, 1.0, 1.0))
    assert len(outlines) == 1 and len(tile_edges) == 3 * 8 and tile_edges[-1] == 0 < min(tile_edges[:3])
    torch.testing.assert_close(tiled, _one_shot(scene, 120, 300), rtol=0, atol=1e-4)


def test_the_tile_budget_picks_bands_or_squares(monkeypatch):
    monkeypatch.setattr(tiling, "TILE_BYTES", 120 * 37 * TREE_PIXEL_BYTES)
    scene = load_svg(SVG.format(SCENES["filters"]))
    margin = bands.tile_margins(scene, 120, 300)
    assert margin is not None and margin[0] > 0 and margin[1] > 9  # the blur, offset and dilation reach
    plan = bands.plan_for(scene, 120, 300)
    assert plan is not None and plan.cols < 120 and plan.rows < 300 and plan.margin == margin
    assert plan.cols >= max(margin) and plan.rows >= margin[1]  # no tile smaller than its margins
    assert bands.tile_plan(8192, 8192, (0, 0), 1 << 20) == bands.TilePlan(8192, 128, (0, 0))  # whole rows
    square = bands.tile_plan(8192, 8192, (50, 50), 1 << 20)
    assert square == bands.TilePlan(924, 924, (50, 50)) and square.drawn_pixels(8192, 8192) == 1 << 20
    assert bands.tile_plan(256, 8192, (5, 5), 1 << 20) == bands.TilePlan(256, 4086, (0, 5))
    tall_reach = bands.tile_plan(8192, 8192, (10, 900), 1 << 20)  # inside 900 px: margins over the budget
    assert tall_reach == bands.TilePlan(900, 900, (10, 900)) and tall_reach.drawn_pixels(8192, 8192) == 920 * 2700


def test_renders_needing_gradients_or_filters_reading_the_whole_region_are_drawn_whole(monkeypatch):
    monkeypatch.setattr(tiling, "TILE_BYTES", 120 * 37 * FLAT_PIXEL_BYTES)
    monkeypatch.setattr(tiling, "_crowding", lambda *args: 0.0)  # tiles this small: the pieces' bound is loose
    scene = load_svg(SVG.format(SCENES["flat"]))
    assert _working_bytes(scene, 120, 300, "auto", scene.edge_load) == 120 * 37 * FLAT_PIXEL_BYTES
    assert _working_bytes(scene, 120, 300, "diffvg", scene.edge_load) == 120 * 300 * FLAT_PIXEL_BYTES
    scene.points.requires_grad_(True)
    assert bands.needs_gradient(scene) and _working_bytes(scene, 120, 300, "auto", scene.edge_load) is None
    with torch.no_grad():
        assert not bands.needs_gradient(scene)
    tiled = load_svg(SVG.format('<filter id="t"><feFlood flood-color="red" width="10" height="10" result="a"/>'
                                '<feTile in="a"/></filter><rect width="50" height="50" filter="url(#t)"/>'))
    assert bands.tile_margins(tiled, 120, 300) is None and bands.plan_for(tiled, 120, 300) is None
    assert _working_bytes(tiled, 120, 300, "auto", tiled.edge_load) == 120 * 300 * TREE_PIXEL_BYTES


def test_a_tiled_render_is_estimated_by_its_tile_and_one_with_gradients_is_refused():
    limits = ResourceLimits()
    scene = load_svg(_wide_svg(8192, 8192))
    working = bands.working_bytes(scene, 8192, 8192)
    assert working <= 1.6 * tiling.TILE_BYTES  # the largest tile with its margins, and its band
    limits.check_job(8192, 8192, 100_000, 1000, 0, "render", working=working)
    assert job_bytes(8192, 8192, 100_000, 0, working) < job_bytes(8192, 8192, 100_000, 0) / 20
    with pytest.raises(ResourceLimitError, match="memory_bytes"):
        limits.check_job(8192, 8192, 100_000, 1000, 0, "render")


def test_a_render_with_gradients_over_the_memory_limit_is_refused_before_drawing():
    scene = load_svg(_wide_svg(512, 512))
    scene.points.requires_grad_(True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ResourceLimitError, match="memory_bytes"):
        render(scene, 8192, 8192)  # 67 MP at 2900 B/px: 180 GB estimated
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 64 << 20


def _wide_svg(width: int, height: int) -> str:
    """Groups with a clip path, a mask, a blend mode and a blurred drop shadow over a ``width`` x
    ``height`` px canvas (a 256 x 64 px view)."""
    shapes = "".join(f'<circle cx="{8 * k + 4}" cy="{20 + 3 * (k % 9)}" r="{6 + k % 7}" fill="#{k % 7}{k % 5}a"/>'
                     for k in range(32))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 256 64"><defs>'
            '<clipPath id="c"><ellipse cx="128" cy="32" rx="120" ry="28"/></clipPath><mask id="m"><rect width="256"'
            ' height="64" fill="white"/><circle cx="60" cy="30" r="20"/></mask><filter id="s"><feDropShadow dx="1"'
            ' dy="1" stdDeviation="0.5"/></filter></defs><rect width="256" height="64" fill="#eee"/>'
            f'<g clip-path="url(#c)" opacity="0.8">{shapes}</g><g mask="url(#m)" style="mix-blend-mode:multiply"'
            f' filter="url(#s)">{shapes}</g></svg>')


_PEAK = """
import json, resource, sys, torch
import clipvg.tiling as tiling
from clipvg.render import kernels
from clipvg.render.api import _drawer, render
from clipvg.svg import load_svg
tiling.TILE_BYTES = 1 << 17 << 8  # 128 K px of a flat scene, 25 K px of a tree
kernels.warm_up()  # numba's one-time load (~120 MB) is neither way of drawing
scene = load_svg(sys.argv[1])
width, height = scene.width, scene.height
torch.set_num_threads(1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    if sys.argv[2] == "tiles":
        render(scene)
    else:
        _drawer(scene)(scene, int(width), int(height), None)
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024))
"""


def _peaks(svg: str) -> dict[str, float]:
    """Peak bytes above the loaded scene of a render of ``svg`` in tiles and in one piece."""
    return {mode: json.loads(subprocess.run([sys.executable, "-c", _PEAK, svg, mode], capture_output=True, text=True,
                                            check=True).stdout) for mode in ("tiles", "whole")}


def test_a_tiled_render_of_a_tall_canvas_takes_far_less_memory():
    shapes = "".join(f'<circle cx="{10 + 7 * (k % 30)}" cy="{40 * k + 20}" r="{25 + k % 13}" fill="#{k % 7}{k % 5}a"'
                     f' stroke="black" stroke-width="3"/>' for k in range(200))
    peak = _peaks(f'<svg xmlns="http://www.w3.org/2000/svg" width="256" height="8192"><rect width="256"'
                  f' height="8192" fill="#ddd"/>{shapes}</svg>')
    output = 256 * 8192 * 16  # the float32 RGBA result both hold
    assert peak["tiles"] < output + (peak["whole"] - output) / 4, peak


def test_a_tiled_render_of_a_wide_tree_with_filters_takes_far_less_memory():
    peak = _peaks(_wide_svg(4096, 256))  # tiles of whole rows would be 6 rows and 2 x 10 margin rows
    output = 4096 * 256 * (16 + 16)  # the float32 RGBA result and one band of tiles
    assert peak["tiles"] < output + (peak["whole"] - output) / 4, peak
