"""The reader's reading phase (``clipvg.svg.reader.read_svg``) runs without torch, so what it refuses is refused
before torch loads; ``ReadSVG.to_scene`` then builds the Scene that ``load_svg`` returns, tensors made from the
read values bit for bit; the render plan of ``clipvg.tiling`` reads a ReadSVG as it reads that Scene."""
from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from clipvg.errors import ResourceLimitError, SVGParseError
from clipvg.render.filters.color import hue_rotate_matrix, luminance_to_alpha_matrix, saturate_matrix
from clipvg.scene.tree import tree_to_data
from clipvg.svg.reader import read_svg
from clipvg.tiling import drawn_samples, render_plan, working_bytes

RESVG = Path("/work/resvg-suite/crates/resvg/tests/tests")


def _png_uri() -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (4, 6, 4), dtype=np.uint8)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# paths, groups (layers), a gradient, a filter of several primitives, a CSS filter function, a mask, a clip path,
# an image, a marker and text
RICH = f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="120">
  <defs>
    <linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient>
    <filter id="f"><feGaussianBlur stdDeviation="3 1e300"/><feColorMatrix type="hueRotate" values="30"/>
      <feComponentTransfer><feFuncR type="table" tableValues="0 0.5 1"/></feComponentTransfer>
      <feConvolveMatrix kernelMatrix="1 0 0 0 1 0 0 0 1"/><feColorMatrix type="luminanceToAlpha"/>
      <feOffset dx="2"/></filter>
    <mask id="m"><rect width="100" height="100" fill="white"/></mask>
    <clipPath id="c"><circle cx="40" cy="40" r="30"/></clipPath>
    <marker id="k" markerWidth="4" markerHeight="4"><rect width="2" height="2"/></marker>
  </defs>
  <g id="shapes"><rect x="10" y="10" width="50" height="40" fill="url(#g)" filter="url(#f)"/>
    <circle cx="80" cy="40" r="20" fill="green" mask="url(#m)" style="filter: saturate(0.5) brightness(0.2)"/>
    <path d="M5 5 L50 60 L90 10" stroke="black" fill="none" marker-mid="url(#k)" clip-path="url(#c)"/></g>
  <image x="100" y="10" width="20" height="20" xlink:href="{_png_uri()}"/>
  <text x="10" y="100" font-size="20">Hello</text>
</svg>"""

READ_ONLY = """
import sys, warnings
from clipvg.svg.reader import read_svg
warnings.simplefilter("ignore")
try:
    read = read_svg(sys.argv[1])
    print(len(read.paths), len(list(read.tree.images())), sum(len(g.filters) for g in read.tree.groups()))
except Exception as error:
    print(type(error).__name__)
print("torch" in sys.modules)
"""


def _read_in_fresh_process(path: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", READ_ONLY, str(path)], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_reading_an_svg_with_every_kind_of_content_does_not_load_torch(tmp_path):
    (tmp_path / "rich.svg").write_text(RICH)
    paths, images, filters, torch_loaded = _read_in_fresh_process(tmp_path / "rich.svg")
    assert int(paths) >= 8 and images == "1" and filters == "3" and torch_loaded == "False"


def test_a_coordinate_out_of_range_is_refused_before_an_outline_loads_torch(tmp_path):
    """A stroke under a skew is outlined by the torch renderer while reading; a shape read before it that the
    reader refuses is refused first, without torch."""
    (tmp_path / "far.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
                                      '<path d="M0 0 L1e300 5 Z"/>'
                                      '<path d="M0 0 L5 5" stroke="black" transform="skewX(30)"/></svg>')
    assert _read_in_fresh_process(tmp_path / "far.svg") == ["SVGParseError", "False"]
    with pytest.raises(SVGParseError, match="the shape number 1 has a coordinate too large"):
        read_svg(tmp_path / "far.svg")


def test_the_scene_holds_the_read_values_as_the_tensors_it_held_before():
    """Filter parameters read as float32 arrays become the tensors ``torch.tensor(..., float32)`` made (1e300
    is inf in both); colour matrices made with the Scene are those of ``clipvg.render.filters.color``."""
    scene = read_svg(RICH).to_scene()
    params = [p.params for g in scene.tree.groups() for f in g.filters for p in f.primitives]
    blur, hue, transfer, kernel, luminance, offset = params[:6]
    assert torch.equal(blur["std"], torch.tensor([3.0, 1e300], dtype=torch.float32))
    assert torch.equal(hue["matrix"], hue_rotate_matrix(torch.tensor(30.0)))
    assert torch.equal(transfer["functions"][0]["values"], torch.tensor([0.0, 0.5, 1.0]))
    assert kernel["kernel"].shape == (3, 3) and torch.equal(luminance["matrix"], luminance_to_alpha_matrix())
    assert torch.equal(offset["offset"], torch.tensor([2.0, 0.0]))
    saturate, brightness = params[6:8]
    assert torch.equal(saturate["matrix"], saturate_matrix(torch.tensor(0.5)))
    functions = brightness["functions"]  # one slope shared by the three colour channels stays one tensor
    assert functions[0]["slope"] is functions[1]["slope"] is functions[2]["slope"] and functions[3] is None
    assert all(isinstance(image.texture, torch.Tensor) and image.texture.dtype == torch.float32
               for image in scene.tree.images())
    assert all(isinstance(t, torch.Tensor) for g in scene.tree.groups() for f in g.filters for t in f.tensors())


def _corpus() -> list[Path]:
    folders = ("filters/feGaussianBlur", "filters/filter-functions", "masking/mask", "structure/image",
               "painting/marker", "paint-servers/pattern", "structure/style")
    return [path for folder in folders for path in sorted((RESVG / folder).glob("*.svg"))[::3]]


@pytest.mark.skipif(not RESVG.is_dir(), reason="resvg's test suite is not here")
def test_the_render_plan_of_a_read_svg_is_that_of_its_scene():
    """``clipvg render`` checks the ReadSVG before torch loads with the functions the renderer checks the
    Scene with: flatness, point count, samples and the tiles' memory agree on resvg's files."""
    checked = 0
    for path in _corpus():
        try:
            read = read_svg(path)
        except SVGParseError:
            continue
        scene = read_svg(path).to_scene()
        assert (read.is_flat, read.num_points, read.num_paths) == (scene.is_flat, len(scene.points),
                                                                  scene.num_paths), path
        for size in (300, 4000):
            assert drawn_samples(read, size / read.width, 2) == drawn_samples(scene, size / scene.width, 2), path
            assert working_bytes(read, size, size) == working_bytes(scene, size, size), path
        checked += 1
    assert checked >= 40


def test_a_filter_reaching_far_over_a_large_render_is_refused_from_the_read_svg():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="8192" height="8192"><filter id="f">'
           '<feGaussianBlur stdDeviation="100"/></filter><rect width="10" height="10" filter="url(#f)"/></svg>')
    read = read_svg(svg)
    with pytest.raises(ResourceLimitError, match="render_memory_bytes limit") as early:
        render_plan(read, None, None, None, True, read.num_points, lambda w, h: working_bytes(read, w, h))
    from clipvg.render.api import render_rgba8

    with pytest.raises(ResourceLimitError) as full:
        render_rgba8(read_svg(svg).to_scene())
    assert str(early.value) == str(full.value)
    width, _, _, samples = render_plan(read, 64, None, None, True, read.num_points,
                                       lambda w, h: working_bytes(read, w, h))  # drawn smaller it passes
    assert (width, samples) == (64, 2)
