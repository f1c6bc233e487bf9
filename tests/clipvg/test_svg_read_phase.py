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
from system_tools import require, system_font

RESVG = Path("/work/resvg-suite/crates/resvg/tests/tests")  # a fetched copy of resvg's suite, where there is one
# real files CI installs (scripts/test.sh: openclipart-svg, tango-icon-theme): patterns, images, filters, strokes
SYSTEM_FOLDERS = (Path("/usr/share/openclipart/svg"), Path("/usr/share/icons/Tango/scalable"))


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
    system_font()  # RICH's text counts among its paths
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


def _resvg_corpus() -> list[Path]:
    folders = ("filters/feGaussianBlur", "filters/filter-functions", "masking/mask", "structure/image",
               "painting/marker", "paint-servers/pattern", "structure/style")
    return [path for folder in folders for path in sorted((RESVG / folder).glob("*.svg"))[::3]]


def _system_corpus() -> list[Path]:
    """Every 200th openclipart file and every 20th Tango icon (sorted by path), about 80 files."""
    if not all(folder.is_dir() for folder in SYSTEM_FOLDERS):
        require(False, "openclipart-svg and tango-icon-theme are not installed here (CI installs them)")
    return [path for folder, step in zip(SYSTEM_FOLDERS, (200, 20)) for path in sorted(folder.rglob("*.svg"))[::step]]


@pytest.mark.parametrize("corpus", ["resvg", "system"])
def test_the_render_plan_of_a_read_svg_is_that_of_its_scene(corpus: str):
    """``clipvg render`` checks the ReadSVG before torch loads with the functions the renderer checks the
    Scene with: flatness, point count, samples and the tiles' memory agree on resvg's files (where a copy of
    its suite is here) and on real files from openclipart and Tango."""
    if corpus == "resvg" and not RESVG.is_dir():
        pytest.skip("resvg's test suite is not here")
    checked = 0
    for path in _resvg_corpus() if corpus == "resvg" else _system_corpus():
        try:
            read = read_svg(path)
        except SVGParseError:
            continue
        scene = read_svg(path).to_scene()
        assert (read.is_flat, read.num_paths) == (scene.is_flat, scene.num_paths), path
        # a stroke outlined when the Scene is built counts its shape's points until then
        assert read.num_points == len(scene.points) if not read.outlines else read.num_points < len(scene.points)
        for size in (300, 4000):
            assert drawn_samples(read, size / read.width, 2) == drawn_samples(scene, size / scene.width, 2), path
            if read.outlines:  # its edges counted as the shape stroked: at least the outline's pieces in all
                # (clipvg.crossings); two estimates of one drawing, so one path's crowding may come out a few % apart
                scale = (size / read.width, size / read.height)
                assert read.edge_load().crossings(scale, (size, size)) >= scene.edge_load().crossings(
                    scale, (size, size)), path
                assert working_bytes(read, size, size) >= 0.95 * working_bytes(scene, size, size), path
            else:
                assert working_bytes(read, size, size) == working_bytes(scene, size, size), path
        checked += 1
    assert checked >= 40


def test_a_filter_reaching_far_over_a_large_render_is_refused_from_the_read_svg():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="8192" height="8192"><filter id="f">'
           '<feGaussianBlur stdDeviation="100"/></filter><rect width="10" height="10" filter="url(#f)"/></svg>')
    read = read_svg(svg)
    with pytest.raises(ResourceLimitError, match="render_memory_bytes limit") as early:
        render_plan(read, None, None, None, True, read.num_points, lambda w, h, beside: working_bytes(read, w, h,
                                                                                                     reserved=beside))
    from clipvg.render.api import render_rgba8

    with pytest.raises(ResourceLimitError) as full:
        render_rgba8(read_svg(svg).to_scene())
    assert str(early.value) == str(full.value)
    width, _, _, samples, _ = render_plan(read, 64, None, None, True, read.num_points,  # drawn smaller it passes
                                          lambda w, h, beside: working_bytes(read, w, h, reserved=beside))
    assert (width, samples) == (64, 2)


def _svg_uri(markup: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(markup.encode()).decode()


# what the renderer's torch code draws for the reader: a stroke under a skew and under a non-uniform scale (its
# outline), a pattern stroke (the outline the pattern fills) and an SVG image (its texture), with a skewed stroke
# inside it too
INNER = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="8" fill="gold"/>'
         '<path d="M3 3 L11 15" stroke="navy" stroke-width="3" transform="skewX(20)"/></svg>')
OUTLINED = f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{{w}}" height="{{h}}"
     viewBox="0 0 64 64">
  <pattern id="p" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="2" height="4" fill="red"/></pattern>
  <path d="M6 8 Q20 2 30 14" fill="none" stroke="green" stroke-width="4" transform="skewX(30)"/>
  <ellipse cx="16" cy="40" rx="8" ry="5" fill="none" stroke="blue" stroke-width="3" transform="scale(1 1.5)"/>
  <path d="M36 6 L58 28" stroke="url(#p)" stroke-width="8"/>
  <image x="34" y="34" width="26" height="26" xlink:href="{_svg_uri(INNER)}"/>
</svg>"""


def test_outlined_strokes_and_svg_images_are_read_without_torch(tmp_path):
    """Their outlines and textures are made when the Scene is built (``clipvg.svg.pending``): the reading
    counts each outline as its stand-in path and leaves torch unloaded."""
    (tmp_path / "outlined.svg").write_text(OUTLINED.format(w=64, h=64))
    paths, images, filters, torch_loaded = _read_in_fresh_process(tmp_path / "outlined.svg")
    assert (paths, images, filters, torch_loaded) == ("7", "1", "0", "False")
    read = read_svg(tmp_path / "outlined.svg")
    assert len(read.outlines) == 3 and all(o.path.stroke is not None for o in read.outlines)
    stand_ins, points = [o.path.subpaths for o in read.outlines], read.num_points
    scene = read.to_scene()
    assert all(o.path.stroke is None and o.path.subpaths is not s for o, s in zip(read.outlines, stand_ins))
    assert len(scene.points) > points  # the outlines' polygons have more points than their shapes
    assert isinstance(next(scene.tree.images()).texture, torch.Tensor)


def test_outlined_strokes_and_svg_images_draw_as_resvg_draws_them():
    from resvg_compare import assert_like_resvg

    assert_like_resvg(OUTLINED.format(w=128, h=128), 128, min_psnr=28)


def test_a_text_with_a_skewed_stroke_keeps_its_source_from_the_made_outline():
    """A ``<text>``'s glyph signature (what the writer compares to keep the text) is taken again from the
    outline when the Scene is built, not from its stand-in."""
    from clipvg.svg.text.source import unchanged

    system_font()
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="30" font-size="24" '
           'fill="none" stroke="black" transform="skewX(-15)">Hi</text></svg>')
    read = read_svg(svg)
    assert read.outlines
    scene = read.to_scene()
    group = next(g for g in scene.tree.groups() if g.source_text is not None)
    assert unchanged(group.source_text, [scene.path(i) for i in group.drawn_paths()])


def test_a_stroke_outline_reaching_out_of_range_is_refused_while_reading():
    """Its outline, made when the Scene is built, would reach past the coordinate limit: its stand-in (shape
    number 2, after the shape itself) is refused."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><path d="M0 0 L5 5" stroke="red" '
           'stroke-width="1e9" transform="skewX(30)"/></svg>')
    with pytest.raises(SVGParseError, match="the shape number 2 has a coordinate too large"):
        read_svg(svg)


def test_a_zero_length_stroke_with_butt_caps_is_not_outlined():
    """It covers nothing: the path keeps its stroke, as under a similarity, and no stand-in is added."""
    read = read_svg('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><path d="M5 5 L5 5" stroke="red" '
                    'stroke-width="4" transform="skewX(30)"/></svg>')
    assert not read.outlines and read.num_paths == 1 and read.paths[0].stroke is not None


RENDER = """
import sys
from clipvg.cli import main
print(main(["render", sys.argv[1], "-o", "out.png"]), "torch" in sys.modules)
"""


@pytest.mark.parametrize("name, markup, message", [
    ("big.svg", OUTLINED.format(w=60000, h=60000), "render_pixels limit"),
    ("blur.svg", OUTLINED.format(w=8192, h=8192).replace(
        "</svg>", '<filter id="f"><feGaussianBlur stdDeviation="100"/></filter><rect width="9" height="9" '
                  'filter="url(#f)"/></svg>'), "render_memory_bytes limit"),
])
def test_render_refuses_an_oversized_file_with_outlines_and_svg_images_before_torch(tmp_path, name, markup, message):
    (tmp_path / name).write_text(markup)
    done = subprocess.run([sys.executable, "-c", RENDER, name], capture_output=True, text=True, check=True,
                          cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and message in done.stderr, (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out.png").exists()
