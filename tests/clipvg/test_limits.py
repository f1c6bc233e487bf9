"""Resource limits: one typed set, read from the environment, checked before large allocations."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from clipvg.errors import ResourceLimitError, SVGParseError
from clipvg.limits import ResourceLimits, describe, env_name, exported, flag, job_bytes, names, resource_limits, using
from clipvg.svg.point_count import count_points, point_bounds
from clipvg.svg import load_svg
from vectorize import ImageInputError, load_image

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">{}</svg>'


def test_environment_overrides_defaults_and_bad_settings_are_refused():
    assert resource_limits({}) == ResourceLimits()
    limits = resource_limits({"CLIPVG_MAX_MEGAPIXELS": "2.5", "CLIPVG_MAX_PATHS": "7"})
    assert limits.megapixels == 2.5 and limits.paths == 7 and isinstance(limits.paths, int)
    for bad in ("-1", "nan", "lots"):
        with pytest.raises(ResourceLimitError, match="CLIPVG_MAX_PATHS"):
            resource_limits({"CLIPVG_MAX_PATHS": bad})


def test_check_names_the_limit_and_its_setting_and_refuses_nan():
    limits = ResourceLimits(paths=10)
    limits.check("paths", 10, "x")
    with pytest.raises(ResourceLimitError, match=r"x is 11, over the paths limit of 10.*CLIPVG_MAX_PATHS=N"):
        limits.check("paths", 11, "x")
    with pytest.raises(ResourceLimitError):
        limits.check("paths", float("nan"), "x")


def test_job_estimate_refuses_a_huge_canvas_before_allocating():
    limits = ResourceLimits()
    limits.check_job(512, 512, 10_000, 8, 32, "job")
    assert job_bytes(512, 512, 10_000, 8) < 2 << 30  # a usual edit fits in 2 GB
    with pytest.raises(ResourceLimitError, match="render_pixels"):
        limits.check_job(60000, 60000, 10, 1, 1, "job")
    with pytest.raises(ResourceLimitError, match="memory_bytes.*CLIPVG_MAX_MEMORY_BYTES"):
        limits.check_job(7000, 7000, 10, 1, 1, "job")


def test_image_over_the_megapixel_limit_is_refused_from_its_header(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((1000, 1500, 3), np.uint8)).save(path)
    assert load_image(path).shape == (1000, 1500, 4)
    monkeypatch.setenv("CLIPVG_MAX_MEGAPIXELS", "1")
    with pytest.raises(ImageInputError, match=r"1500x1000.*megapixels limit of 1.*CLIPVG_MAX_MEGAPIXELS"):
        load_image(path)
    for source in (Image.open(path), np.zeros((1000, 1500, 3), np.uint8)):  # the Python API's other inputs
        with pytest.raises(ImageInputError, match="megapixels limit"):
            load_image(source)


def test_decompression_bomb_is_an_image_input_error(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    Image.fromarray(np.zeros((300, 300), np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # 90 000 px > 2 x the limit: Pillow raises
    with pytest.raises(ImageInputError, match="megapixels limit"):
        load_image(path)


def test_deep_nesting_is_a_parse_error_naming_the_depth_limit():
    def nested(depth: int) -> str:
        return SVG.format("<g>" * depth + '<rect width="5" height="5"/>' + "</g>" * depth)

    assert load_svg(nested(200)).num_paths == 1
    with pytest.raises(SVGParseError, match="group_depth limit.*CLIPVG_MAX_GROUP_DEPTH"):
        load_svg(nested(1200))


def test_path_point_limits(monkeypatch):
    markup = SVG.format('<path id="p" d="M0 0' + " L1 1" * 500 + '"/>')
    assert load_svg(markup).num_paths == 1
    monkeypatch.setenv("CLIPVG_MAX_POINTS_PER_PATH", "400")
    with pytest.raises(SVGParseError, match=r"<path id=.p.> is at least 501, over the points_per_path limit"):
        load_svg(markup)
    monkeypatch.setenv("CLIPVG_MAX_POINTS_PER_PATH", "1000")
    monkeypatch.setenv("CLIPVG_MAX_POINTS", "800")
    with pytest.raises(SVGParseError, match="all path data is at least 1,002, over the points limit"):
        load_svg(SVG.format(markup[markup.index("<path"):markup.index("</svg>")] * 2))


@pytest.mark.parametrize("size", ['width="1e309" height="100"', 'width="nan" height="5"'])
def test_overflowing_canvas_sizes_are_parse_errors(size):
    with pytest.raises(SVGParseError):
        load_svg(f'<svg xmlns="http://www.w3.org/2000/svg" {size}><path d="M0 0L10 10L0 10z"/></svg>')


@pytest.mark.parametrize("box", ["0 0 1e309 100", "-45 47 nan", "1 2 3", "0 0 1.5.5 9"])
def test_a_malformed_viewbox_is_ignored_as_browsers_do(box):
    scene = load_svg(f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30" viewBox="{box}">'
                     '<path d="M0 0L10 10L0 10z"/></svg>')
    assert (scene.width, scene.height) == (40, 30) and scene.path(0).subpaths[0].points.max() == 10


def test_overflowing_path_coordinates_are_parse_errors():
    with pytest.raises(SVGParseError, match="shape id='p' has a coordinate too large"):
        load_svg(SVG.format('<path id="p" d="M0 0L1e309 5L0 5z"/>'))


def test_render_size_is_checked_before_allocating():
    from clipvg.render import render

    scene = load_svg(SVG.format('<rect width="5" height="5"/>'))
    assert render(scene, 40).shape == (40, 40, 4)
    with pytest.raises(ResourceLimitError, match="render_pixels limit"):
        render(scene, 60000)  # 43 GB of float32 RGBA if allocated


def test_a_thin_canvas_drawn_wide_is_refused_by_its_long_side():
    """0.5 x 5251 px drawn 48 px wide is 48 x 504 096 px: under render_pixels and the memory estimate,
    but 2.4 GB and 23-32 s to draw; render_side refuses it before anything is allocated."""
    from clipvg.render import render

    scene = load_svg('<svg xmlns="http://www.w3.org/2000/svg" width="0.5" height="5251"><rect width="0.5" height="5251"/></svg>')
    with pytest.raises(ResourceLimitError, match="longer side of the render size 48x504096 in pixels is 504,096, over "
                                                 "the render_side limit of 16,384; reduce it, or raise the limit with "
                                                 "--max-render-side N"):
        render(scene, 48)
    assert render(scene, 1).shape == (10502, 1, 4)  # one pixel wide fits


def test_an_svg_root_in_another_namespace_is_a_parse_error():
    with pytest.raises(SVGParseError, match="namespace 'http://www.w3.org/1e38/svg'"):
        load_svg('<svg xmlns="http://www.w3.org/1e38/svg" width="9" height="9"><rect width="5" height="5"/></svg>')


@pytest.mark.parametrize("data", ["M1 2L3,4", "M1-2l.5.5 1e-5 2E+3", "M-1 -2 10.5,20.3z", "1ee2 3", "e . - 1", ""])
def test_point_bounds_hold_the_exact_count(data):
    least, most = point_bounds(data)
    assert least <= count_points(data) <= most


def test_compact_path_data_is_counted_exactly_past_the_lower_bound(monkeypatch):
    data = "M0 0" + "l1-1" * 500  # one run of number characters per segment: the lower bound is 250
    assert point_bounds(data)[0] < 400 < point_bounds(data)[1]
    compact = SVG.format(f'<path d="{data}"/>')
    monkeypatch.setenv("CLIPVG_MAX_POINTS_PER_PATH", "400")
    with pytest.raises(SVGParseError, match="<path> is 501, over the points_per_path limit"):
        load_svg(compact)


def test_using_sets_the_limits_in_force_and_restores_them(monkeypatch):
    monkeypatch.setenv("CLIPVG_MAX_PATHS", "7")
    assert resource_limits().paths == 7
    with using(ResourceLimits(paths=3)) as limits:
        assert resource_limits() is limits
    assert resource_limits().paths == 7


def test_exported_limits_are_the_environment_of_the_block_only(monkeypatch):
    monkeypatch.setenv("CLIPVG_MAX_PATHS", "7")
    monkeypatch.delenv("CLIPVG_MAX_POINTS", raising=False)
    with exported(ResourceLimits(paths=3, points=9)):
        assert resource_limits({**os.environ}).paths == 3 and os.environ["CLIPVG_MAX_POINTS"] == "9"
    assert os.environ["CLIPVG_MAX_PATHS"] == "7" and "CLIPVG_MAX_POINTS" not in os.environ


def test_every_limit_has_a_flag_a_setting_and_help():
    for name in names():
        assert flag(name) == "--max-" + name.replace("_", "-") and env_name(name) == "CLIPVG_MAX_" + name.upper()
        assert describe(name).startswith("limit on ") and env_name(name) in describe(name)
    with pytest.raises(ResourceLimitError, match="--max-paths='0' is not a positive whole number"):
        ResourceLimits().with_values({"paths": "0"}, flag)
    assert ResourceLimits().with_values({"megapixels": "2.5", "paths": None}).megapixels == 2.5


BLURRED = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><filter id="f" x="-1" y="-1" width="3" '
           'height="3"><feGaussianBlur stdDeviation="{std}"/></filter><g filter="url(#f)"><rect x="3" y="4" '
           'width="50" height="40" fill="red"/></g></svg>')


def test_a_render_without_gradients_is_held_to_render_memory_bytes():
    """A preview or export is drawn in tiles, each with margins as wide as its filters reach: a blur reaching
    a third of an 8192 px render makes tiles that would take ~5 GB, which render_memory_bytes (2 GiB) refuses
    before drawing, naming the flag; a small blur at the same size fits, and a raised limit lets it through."""
    import clipvg.render.api as api
    from clipvg.render.api import render_rgba8

    huge = load_svg(BLURRED.format(std=40))
    with pytest.raises(ResourceLimitError, match="over the render_memory_bytes limit.*--max-render-memory-bytes"):
        render_rgba8(huge, 8192, 8192)
    small = load_svg(BLURRED.format(std=0.5))
    api._prepare(small, 8192, 8192, None, "auto", None, small.edge_load, export=True)  # no error
    with using(ResourceLimits(render_memory_bytes=16 << 30)):
        api._prepare(huge, 8192, 8192, None, "auto", None, huge.edge_load, export=True)
