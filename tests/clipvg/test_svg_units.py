"""Length units and colours of SVG attributes: parsed values (with properties over random inputs)
and drawings compared with resvg where resvg supports the unit."""
from __future__ import annotations

import base64
import colorsys
import gzip
import re
import warnings

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from hypothesis import given, strategies as st

from clipvg import load_svg, render
from clipvg.svg import UnsupportedSVGWarning
from clipvg.svg.colors import color_text, normalize_paint, parse_color
from clipvg.svg.units import ABSOLUTE, LengthContext, font_size, parse_length, to_user
from svg_renderers import psnr, resvg_supersampled
from svg_samples import svg
from system_tools import system_font

CONTEXT = LengthContext(font_size=20.0, root_font_size=10.0, viewport=(200.0, 100.0), window=(400.0, 300.0))


def rect_box(body: str, size: str = 'width="200" height="100"') -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the first path's points."""
    points = load_svg(svg(body, size)).path(0).subpaths[0].points
    return (*points.min(0).tolist(), *points.max(0).tolist())


@given(st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: round(v, 3)), st.sampled_from(sorted(ABSOLUTE)))
def test_absolute_units_scale_by_their_factor(value: float, unit: str) -> None:
    assert to_user(f"{value}{unit.upper() if unit == 'q' else unit}", CONTEXT) == pytest.approx(value * ABSOLUTE[unit])


@given(st.floats(0, 1e3, allow_nan=False).map(lambda v: round(v, 3)), st.sampled_from(["x", "y", "d"]))
def test_percentages_refer_to_their_axis(value: float, axis: str) -> None:
    reference = {"x": 200.0, "y": 100.0, "d": np.sqrt((200.0 ** 2 + 100.0 ** 2) / 2)}[axis]
    assert to_user(f"{value}%", CONTEXT, axis) == pytest.approx(value / 100 * reference)


@pytest.mark.parametrize("text, expected", [
    ("2em", 40.0), ("2ex", 20.0), ("3rem", 30.0), ("10vw", 40.0), ("10vh", 30.0),
    ("10vmin", 30.0), ("10vmax", 40.0), ("40Q", 96 / 2.54), ("1in", 96.0), (" 7 ", 7.0),
])
def test_relative_units(text: str, expected: float) -> None:
    assert to_user(text, CONTEXT) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "px", "1e", "44mmx", "inherit", "1 2"])
def test_invalid_lengths_are_none(text: str) -> None:
    assert parse_length(text) is None or to_user(text, CONTEXT) is None


def test_font_size_keywords_and_relative_sizes() -> None:
    assert font_size("150%", CONTEXT) == pytest.approx(30.0)
    assert font_size("2em", CONTEXT) == pytest.approx(40.0)
    assert font_size("larger", CONTEXT) == pytest.approx(24.0)
    assert font_size("medium", CONTEXT) == pytest.approx(12.0)
    assert font_size("-3", CONTEXT) == pytest.approx(20.0)  # negative: invalid, inherited


def test_em_ex_and_percent_draw_like_resvg() -> None:
    body = ('<g font-size="10"><rect x="1em" y="1ex" width="8em" height="50%" rx="1ex" fill="#208040"/>'
            '<circle cx="75%" cy="50%" r="10%" fill="#c04020" stroke="#000" stroke-width="1%"/></g>')
    document = svg(body, 'width="64" height="32" viewBox="0 0 128 64"')
    scene = load_svg(document)
    image = render(scene, background=(1, 1, 1))[..., :3].double().numpy()
    assert psnr(image, resvg_supersampled(document, 64, 32)) >= 40


def face_measures(family: str) -> tuple[float, float, float, float]:
    """(advance of "0", ascent, descent, line gap) in em of the file fontconfig gives for ``family``,
    read with fontTools (hhea metrics: the face must not ask for its typo metrics)."""
    with TTFont(system_font(family), fontNumber=0) as font:
        upem = font["head"].unitsPerEm
        assert not font["OS/2"].fsSelection & (1 << 7)
        advance = font["hmtx"][font.getBestCmap()[ord("0")]][0]
        hhea = font["hhea"]
        return advance / upem, hhea.ascent / upem, -hhea.descent / upem, hhea.lineGap / upem


def test_css3_units_follow_browsers() -> None:
    # resvg leaves these unsupported; browsers resolve them against the root's font size and viewport,
    # ch as the advance of "0" in the first available face
    zero = face_measures("DejaVu Sans")[0]
    assert rect_box('<rect x="1rem" y="5vh" width="10vw" height="2ch" fill="red"/>',
                    'width="200" height="100" font-size="10" font-family="DejaVu Sans"'
                    ) == pytest.approx((10, 5, 30, 5 + 20 * zero), abs=1e-4)


def test_viewport_units_are_named_as_taken_of_the_svgs_own_size() -> None:
    # a browser takes vw/vh of its window, which a file does not know: the picture depends on the viewer
    with pytest.warns(UnsupportedSVGWarning, match="vw/vh/vi/vb/vmin/vmax .taken of the SVG's own size"):
        scene = load_svg(svg('<rect x="5vw" y="5vh" width="30vmin" height="30vmax" fill="green"/>',
                             'width="200" height="100"'))
    points = scene.path(0).subpaths[0].points
    assert (*points.min(0).tolist(), *points.max(0).tolist()) == pytest.approx((10, 5, 40, 65))


def svgz_data_uri_spelling_a_viewport_length() -> str:
    """A base64 data URI of a gzipped SVG (a green 10 x 10 square) whose base64 text holds a digit and a
    viewport unit before a non-word character, as resvg's structure/image/embedded-svgz does ("63VW/")."""
    for serial in range(100_000):
        image = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" '
                 f'fill="#0a0"/><!--{serial}--></svg>')
        text = base64.b64encode(gzip.compress(image.encode(), mtime=0)).decode()
        if re.search(r"\d(?:vw|vh|vi|vb|vmin|vmax)[+/=]", text, re.IGNORECASE):
            return f"data:image/svg+xml;base64,{text}"
    raise AssertionError("no base64 text spells a viewport length")


def test_a_data_uri_and_ids_are_not_read_as_viewport_lengths() -> None:
    # only lengths count: an id or base64 text ending in "5vw" drew as resvg draws it, yet warned
    document = svg(f'<image id="icon5vw" x="2" y="2" width="28" height="28" '
                   f'href="{svgz_data_uri_spelling_a_viewport_length()}"/>', 'width="32" height="32"')
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsupportedSVGWarning)
        scene = load_svg(document)
    image = render(scene, background=(1, 1, 1))[..., :3].double().numpy()
    assert psnr(image, resvg_supersampled(document, 32, 32)) >= 40


@pytest.mark.parametrize("size", [32.0, 13.0])
def test_ch_and_lh_come_from_the_face_as_in_chromium(size: float) -> None:
    # lh is line-height: normal: ascent + descent + line gap, each rounded to whole px as Chromium lays
    # them out (resvg's shapes/rect/lh-values and ch-values now draw as Chromium draws them)
    zero, ascent, descent, gap = face_measures("DejaVu Sans")
    context = LengthContext(font_size=size, families=("DejaVu Sans",))
    assert to_user("1ch", context) == pytest.approx(zero * size)
    assert to_user("2lh", context) == pytest.approx(2 * (round(ascent * size) + round(descent * size)
                                                         + round(gap * size)))
    root = LengthContext(font_size=5.0, root_font_size=size, root_families=("DejaVu Sans",))
    assert to_user("1rlh", root) == pytest.approx(to_user("1lh", context))


def test_font_relative_units_follow_the_cascaded_font_size() -> None:
    body = '<style>g { font-size: 8px }</style><g><rect x="1em" y="0" width="2em" height="1em" fill="red"/></g>'
    assert rect_box(body) == pytest.approx((8, 0, 24, 8))


def test_shape_rules_of_svg2() -> None:
    scene = load_svg(svg('<ellipse cx="50" cy="50" ry="20" fill="red"/><rect width="-5" height="9"/>'
                         '<circle cx="5" cy="5" r="-1"/>'))
    assert scene.num_paths == 1  # the ellipse, with rx = ry (auto); negative sizes draw nothing
    points = scene.path(0).subpaths[0].points
    assert points.max(0) - points.min(0) == pytest.approx([40, 40], abs=1e-3)


@pytest.mark.parametrize("size", ['width="40"', 'height="40"', 'width="auto" height="40"', 'width="4mmx" height="9"',
                                  'width="0" height="40"'])
def test_a_rect_without_a_width_or_height_draws_nothing(size: str) -> None:
    # SVG 2: a missing width/height is auto, 0 for a rect (svgelements would take 100 %); an
    # feImage showing such a rect shows nothing too
    document = svg(f'<filter id="f"><feImage href="#r"/></filter><rect id="r" x="4" y="4" {size} fill="red"/>'
                   '<rect x="8" y="8" width="30" height="30" fill="blue" filter="url(#f)"/>'
                   '<rect x="10" y="10" width="20" height="20" fill="green"/>')
    scene = load_svg(document)
    drawn = render(scene, background=(1, 1, 1))[..., :3].detach().double().numpy()
    assert psnr(drawn, resvg_supersampled(document, 64, 64)) >= 40
    assert not ((drawn[..., 0] > 0.5) & (drawn[..., 1:] < 0.5).all(-1)).any()  # no red anywhere, as resvg


channel = st.integers(0, 255)


@given(channel, channel, channel)
def test_rgb_forms_agree(r: int, g: int, b: int) -> None:
    expected = (r / 255, g / 255, b / 255, 1.0)
    assert parse_color(f"rgb({r}, {g}, {b})") == pytest.approx(expected)
    assert parse_color(f"RGB({r} {g} {b})") == pytest.approx(expected)
    assert parse_color(f"#{r:02x}{g:02X}{b:02x}") == pytest.approx(expected)
    assert parse_color(f"rgb({r / 2.55}%, {g / 2.55}%, {b / 2.55}%)") == pytest.approx(expected)
    assert parse_color(color_text(expected)) == pytest.approx(expected)


@given(st.floats(-720, 720, allow_nan=False), st.floats(0, 100), st.floats(0, 100))
def test_hsl_matches_colorsys(h: float, s: float, lightness: float) -> None:
    expected = colorsys.hls_to_rgb((h % 360) / 360, lightness / 100, s / 100)
    assert parse_color(f"hsl({h}, {s}%, {lightness}%)")[:3] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("text, expected", [
    ("transparent", (0, 0, 0, 0)), ("RebeccaPurple", (0x66 / 255, 0x33 / 255, 0x99 / 255, 1)),
    ("#0f08", (0, 1, 0, 0x88 / 255)), ("rgba(0, 128, 0, 1.5)", (0, 128 / 255, 0, 1)),
    ("rgb(-10%, 50%, 120%)", (0, 0.5, 1, 1)), ("hsla(120, 100%, 25%, 0.5)", (0, 0.5, 0, 0.5)),
    ("#", None), ("#qqq", None), ("qwe13212", None), ("rgba(0, 50%, 0, 0.5)", None),
    ("red icc-color(acmecmyk, 0.11, 0.48, 0.83, 0.00)", None), ("currentColor", None),
])
def test_colour_edge_cases(text: str, expected) -> None:
    got = parse_color(text)
    assert got == (None if expected is None else pytest.approx(expected))


def test_paint_values_are_normalized_or_dropped() -> None:
    assert normalize_paint("url(#a) rgb(0 128 0)") == "url(#a) #008000"
    assert normalize_paint("url(#a)") == "url(#a)"
    assert normalize_paint("none") == "none" and normalize_paint("context-stroke") == "context-stroke"
    assert normalize_paint("#zz0000") is None and normalize_paint("none", is_paint=False) is None


def test_invalid_fill_falls_back_to_the_inherited_value() -> None:
    scene = load_svg(svg('<g fill="#00ff00"><rect width="5" height="5" fill="#nothex"/></g>'))
    assert scene.path(0).fill.rgba == pytest.approx((0, 1, 0, 1))
