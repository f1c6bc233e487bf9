"""Markers, paint-order and context-fill/context-stroke: vertex angles, placement, and pixels against
resvg (marker-start/mid/end, orient, markerUnits, viewBox, refX/refY, overflow, the marker shorthand)."""
from __future__ import annotations


import numpy as np
import pytest
from svgelements import Path as SVGPath

from clipvg import load_svg
from clipvg.svg import scene_to_svg_string
from clipvg.svg.markers import paint_order, vertices
from resvg_compare import assert_like_resvg, clipvg_on_white, resvg_on_white
from svg_renderers import psnr

ARROW = ('<marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" orient="{orient}"{extra}><path d="M0 0 L10 5 L0 10 Z" fill="#c00"/><circle cx="5" cy="5" r="6" '
         'fill="none" stroke="#0a0"/></marker>')

SIZE = ' markerWidth="6" markerHeight="6"'


def document(body: str, size: int = 64) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">{body}</svg>'


def angles(d: str) -> list[tuple[str, float, float, float]]:
    return [(v.kind, round(v.x, 6), round(v.y, 6), round(v.angle, 6) % 360) for v in vertices(list(SVGPath(d)))]


def test_vertices_and_auto_angles_on_lines():
    assert angles("M0 0 L10 0 L10 10") == [("marker-start", 0, 0, 0), ("marker-mid", 10, 0, 45),
                                           ("marker-end", 10, 10, 90)]


def test_closed_subpath_ends_at_its_start_and_close_has_no_mid():
    found = angles("M0 0 H10 V10 Z")
    assert [k for k, *_ in found] == ["marker-start", "marker-mid", "marker-mid", "marker-end"]
    assert found[-1][1:3] == (0, 0) and found[-1][3] == pytest.approx(225)  # along the closing line


def test_curve_directions_use_control_points_and_skip_zero_arms():
    found = angles("M0 0 C0 0 10 10 10 0")  # the first arm has zero length: the next control point counts
    assert found[0][3] == pytest.approx(45) and found[-1][3] == pytest.approx(270)


def test_second_subpath_start_is_a_mid_marker():
    found = angles("M0 0 L10 0 M20 0 L20 10")
    assert [k for k, *_ in found] == ["marker-start", "marker-mid", "marker-mid", "marker-end"]
    assert found[2][1:] == (20, 0, 90)


@pytest.mark.parametrize("value, order", [
    (None, ["fill", "stroke", "markers"]), ("normal", ["fill", "stroke", "markers"]),
    ("stroke", ["stroke", "fill", "markers"]), ("markers fill", ["markers", "fill", "stroke"]),
    ("stroke stroke", ["fill", "stroke", "markers"]), ("fill bogus", ["fill", "stroke", "markers"]),
])
def test_paint_order_parsing(value, order):
    assert paint_order(value) == order


CASES = {
    "auto_path": ('<path d="M8 40 L24 12 Q40 50 56 20" fill="none" stroke="#000" stroke-width="2" '
                  'marker-start="url(#arrow)" marker-mid="url(#arrow)" marker-end="url(#arrow)"/>', "auto", SIZE),
    "reverse_polyline": ('<polyline points="8,8 30,20 56,8 40,56" fill="none" stroke="#555" stroke-width="1.5" '
                         'marker-start="url(#arrow)" marker-end="url(#arrow)"/>', "auto-start-reverse", SIZE),
    "angle_user_space": ('<line x1="10" y1="50" x2="54" y2="14" stroke="#000" marker-start="url(#arrow)" '
                         'marker-end="url(#arrow)"/>', "30", ' markerUnits="userSpaceOnUse" markerWidth="14" '
                         'markerHeight="14"'),
    "overflow_visible_polygon": ('<polygon points="12,12 52,16 40,52" fill="#ddd" stroke="#000" stroke-width="2" '
                                 'marker-mid="url(#arrow)"/>', "auto", SIZE + ' overflow="visible"'),
    "overflow_inherit_from_root": ('<path d="M12 12 L52 16 L40 52" fill="none" stroke="#000" stroke-width="2" '
                                   'marker-mid="url(#arrow)"/>', "auto", SIZE + ' overflow="inherit"'),
    "css_shorthand": ('<path style="marker:url(#arrow)" d="M10 10 C30 0 50 30 54 54" fill="none" stroke="#000" '
                      'stroke-width="2"/>', "auto", SIZE),
    "paint_order": ('<path d="M10 30 L32 10 L54 30" fill="#fc0" stroke="#039" stroke-width="8" '
                    'paint-order="markers stroke" marker-mid="url(#arrow)"/>', "auto", SIZE),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_markers_draw_like_resvg(name):
    shape, orient, extra = CASES[name]
    assert_like_resvg(document(ARROW.format(orient=orient, extra=extra) + shape), 64)


def test_the_marker_attribute_is_not_a_property():
    svg = document(ARROW.format(orient="auto", extra=SIZE) + '<path marker="url(#arrow)" d="M10 10 L50 50" stroke="#000"/>')
    assert load_svg(svg).num_paths == 1


CONTEXT = document(
    '<marker id="dot" markerWidth="4" markerHeight="4" refX="2" refY="2">'
    '<circle cx="2" cy="2" r="1.5" fill="context-stroke" stroke="context-fill" stroke-width="0.5"/></marker>'
    '<path id="shape" d="M8 8 L56 8 L32 40" fill="#6a6" stroke="#a33" stroke-width="3" marker-start="url(#dot)" '
    'marker-mid="url(#dot)" marker-end="url(#dot)"/>'
    '<defs><g id="icon"><rect width="10" height="10" fill="context-stroke" stroke="context-fill"/></g></defs>'
    '<use href="#icon" x="12" y="46" fill="#36c" stroke="#c63"/><use href="#icon" x="40" y="46"/>')


def test_context_paints_in_markers_and_use_like_resvg():
    assert_like_resvg(CONTEXT, 64)


def test_round_trip_keeps_markers_as_paths(tmp_path):
    shape, orient, extra = CASES["auto_path"]
    svg = document(ARROW.format(orient=orient, extra=extra) + shape)
    written = scene_to_svg_string(load_svg(svg))
    again = load_svg(written)
    np.testing.assert_allclose(clipvg_on_white(again), clipvg_on_white(load_svg(svg)), atol=2e-3)
    assert psnr(resvg_on_white(written, 64, 64), resvg_on_white(svg, 64, 64)) >= 35


USE_GRADIENT = document(
    '<linearGradient id="lg"><stop offset="0" stop-color="#fff"/><stop offset="0.5" stop-color="#c00"/>'
    '<stop offset="1" stop-color="#060"/></linearGradient>'
    '<defs><g id="pair"><rect x="8" y="8" width="20" height="40" fill="context-fill" stroke="context-stroke"/>'
    '<circle cx="44" cy="28" r="12" fill="context-stroke" stroke="context-fill" stroke-width="3"/></g></defs>'
    '<use href="#pair" fill="url(#lg)" stroke="#36c" transform="rotate(10 32 32)"/>')


def test_context_paint_servers_in_use_are_laid_out_in_the_use_space():
    assert_like_resvg(USE_GRADIENT, 64)


PATTERN_STROKE = document(
    '<pattern id="dots" patternUnits="userSpaceOnUse" width="8" height="8"><circle cx="4" cy="4" r="3" fill="#c30"/>'
    '</pattern><defs><path id="zig" d="M8 12 L32 40 L56 12" fill="none" stroke="context-stroke" stroke-width="10"/>'
    '</defs><use href="#zig" stroke="url(#dots)"/><rect x="8" y="46" width="48" height="12" fill="none" '
    'stroke="url(#dots)" stroke-width="6" paint-order="stroke fill"/>')


def test_pattern_strokes_are_tiles_clipped_to_the_stroke_outline():
    assert_like_resvg(PATTERN_STROKE, 64)


@pytest.mark.parametrize("radius, clipped", [(1.5, False), (3, True)])
def test_marker_viewport_clip_only_when_the_content_reaches_out(radius, clipped):
    svg = document(f'<marker id="m" markerWidth="4" markerHeight="4" refX="2" refY="2"><circle cx="2" cy="2" '
                   f'r="{radius}"/></marker><path d="M8 8 L56 8 L32 40" fill="none" stroke="#000" marker-mid="url(#m)" '
                   'marker-end="url(#m)"/>')
    scene = assert_like_resvg(svg, 64)
    assert sum(g.clip is not None for g in scene.tree.groups()) == (2 if clipped else 0)
