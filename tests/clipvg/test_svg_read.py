"""load_svg: each supported element kind, styles, paints, layers, unsupported content and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg import LinearGradient, RadialGradient, SVGParseError, Solid, load_svg, render
from clipvg.svg import UnsupportedSVGWarning
from svg_renderers import psnr, resvg_zoomed
from svg_samples import LAYERS, UNSUPPORTED, USE, VIEWPORTS, svg
from system_tools import system_font


def one_path(body: str, size: str = 'width="100" height="100"'):
    scene = load_svg(svg(body, size))
    assert scene.num_paths == 1
    return scene.path(0), scene


def cubic_samples(subpath, count: int = 9) -> np.ndarray:
    """Points along every cubic segment of ``subpath`` (all segments must be cubics)."""
    points = np.vstack([subpath.points, subpath.points[:1]])
    t = np.linspace(0, 1, count)[:, None]
    samples = []
    for k in range(len(subpath.degrees)):
        p0, p1, p2, p3 = points[3 * k:3 * k + 4]
        samples.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3)
    return np.vstack(samples)


def test_rect_corners():
    path, _ = one_path('<rect x="10" y="20" width="30" height="40"/>')
    (sub,) = path.subpaths
    assert sub.closed and sub.degrees.tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(sub.points, [[10, 20], [40, 20], [40, 60], [10, 60]])
    assert path.fill == Solid((0.0, 0.0, 0.0, 1.0)) and path.stroke is None


def test_rounded_rect_has_cubic_corners_inside_its_box():
    path, _ = one_path('<rect x="10" y="20" width="30" height="40" rx="5"/>')
    (sub,) = path.subpaths
    assert sub.degrees.tolist().count(1) == 4 and sub.degrees.tolist().count(3) == 8
    np.testing.assert_allclose(sub.points[0], [15, 20])
    assert sub.points.min(0).tolist() == [10, 20] and sub.points.max(0).tolist() == [40, 60]


def test_circle_cubics_lie_on_the_circle():
    path, _ = one_path('<circle cx="30" cy="40" r="25"/>')
    (sub,) = path.subpaths
    assert sub.closed and set(sub.degrees.tolist()) == {3}
    ends = np.vstack([sub.points[::3]])
    np.testing.assert_allclose(np.linalg.norm(ends - [30, 40], axis=1), 25, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(cubic_samples(sub) - [30, 40], axis=1), 25, atol=1e-3)


def test_ellipse_points_satisfy_the_ellipse_equation():
    path, _ = one_path('<ellipse cx="50" cy="50" rx="40" ry="10"/>')
    xy = (cubic_samples(path.subpaths[0]) - 50) / [40, 10]
    np.testing.assert_allclose(np.hypot(*xy.T), 1, atol=1e-4)


def test_line_polyline_polygon():
    scene = load_svg(svg('<line x1="1" y1="2" x2="30" y2="40" stroke="red"/>'
                         '<polyline points="0,0 10,0 10,10" fill="none" stroke="blue"/>'
                         '<polygon points="0,0 10,0 10,10"/>'))
    line, polyline, polygon = scene.paths()
    assert not line.subpaths[0].closed and line.subpaths[0].points.tolist() == [[1, 2], [30, 40]]
    assert line.stroke.paint == Solid((1.0, 0.0, 0.0, 1.0))
    assert not polyline.subpaths[0].closed and polyline.fill is None
    assert polygon.subpaths[0].closed and polygon.subpaths[0].degrees.tolist() == [1, 1, 1]


def test_path_commands_map_to_segment_degrees():
    path, _ = one_path('<path d="M0 0 H10 V10 C10 20 0 20 0 10 S -5 5 -2 2 Q-5 5 0 0 Z '
                       'm 20 20 l 10 0 t 5 5 l -15 0 z M 50 50 L 60 60"/>')
    first, second, third = path.subpaths
    assert first.closed and first.degrees.tolist() == [1, 1, 3, 3, 2]  # Z of zero length: no segment
    assert second.closed and second.degrees.tolist() == [1, 2, 1, 1]  # Z with length: a line back
    np.testing.assert_allclose(second.points[0], [20, 20])
    assert not third.closed and third.points.tolist() == [[50, 50], [60, 60]]


def test_arc_becomes_cubics_on_the_arc():
    path, _ = one_path('<path d="M0 50 A10 10 0 0 1 20 50"/>')
    (sub,) = path.subpaths
    assert set(sub.degrees.tolist()) == {3} and not sub.closed
    np.testing.assert_allclose(sub.points[[0, -1]], [[0, 50], [20, 50]], atol=1e-5)
    samples = cubic_samples(sub)
    np.testing.assert_allclose(np.linalg.norm(samples - [10, 50], axis=1), 10, atol=1e-3)
    assert samples[:, 1].min() == pytest.approx(40, abs=1e-3)  # sweep-flag 1 runs over the top


def test_nested_transforms_are_baked_and_scale_strokes():
    scene = load_svg(svg('<g transform="translate(10 20)"><g transform="scale(2 8)">'
                         '<rect width="5" height="1" fill="none" stroke="#000" stroke-width="0.5"/></g></g>'))
    path = scene.path(0)
    np.testing.assert_allclose(path.subpaths[0].points, [[10, 20], [20, 20], [20, 28], [10, 28]])
    # a non-uniform scale makes the stroke 4 px thick across horizontal sides and 1 px across vertical
    # ones: it is drawn as a filled outline (path 1) made before the transform
    assert path.stroke is None and scene.path(1).fill == Solid((0.0, 0.0, 0.0, 1.0))
    alpha = render(scene)[..., 3]
    assert float(alpha[18:22, 15].min()) == pytest.approx(1.0, abs=1e-4) and float(alpha[17, 15]) == pytest.approx(0.0)
    assert float(alpha[24, 10]) == pytest.approx(0.5, abs=1e-4) and float(alpha[24, 8]) == pytest.approx(0.0)
    uniform = one_path('<g transform="scale(3)"><rect width="5" height="1" fill="none" stroke="#000"'
                       ' stroke-width="0.5"/></g>')[0]
    assert uniform.stroke.width == pytest.approx(1.5)  # a similarity keeps the stroke


def test_a_stroke_under_a_non_uniform_scale_stays_smooth_when_zoomed():
    # the outline is flattened finer than the canvas: drawn 4x larger, its edges still follow the ellipse
    document = svg('<path d="M30 16 A14 13 0 1 1 2 16 A14 13 0 1 1 30 16 Z" fill="none" stroke="#914900"'
                   ' stroke-width="1" transform="matrix(0.94 0 0 0.98 0.9 0.3)"/>', 'width="32" height="32"')
    image = render(load_svg(document), 128, 128, background=(1, 1, 1))[..., :3].double().numpy()
    reference = resvg_zoomed(document, 32).reshape(128, 8, 128, 8, 3).mean((1, 3))
    assert psnr(image, reference) >= 45


def test_viewbox_and_units_define_the_canvas():
    path, scene = one_path('<rect x="10" y="10" width="10" height="10" stroke="#000" stroke-width="1"/>',
                           'width="200" height="100" viewBox="0 0 100 50"')
    assert (scene.width, scene.height) == (200, 100)
    np.testing.assert_allclose(path.subpaths[0].points[0], [20, 20])
    assert path.stroke.width == pytest.approx(2)
    _, scene = one_path('<rect width="1" height="1"/>', 'width="2in" height="1in"')
    assert (scene.width, scene.height) == (192, 96)


def test_use_and_symbol_are_resolved():
    scene = load_svg(USE)
    # two triangles, a rect and a circle of the pair, the symbol's rect, and the symbol viewport's clip rect
    assert scene.num_paths == 6
    first = scene.path(0)
    np.testing.assert_allclose(first.subpaths[0].points, [[4, 4], [16, 4], [10, 14]])
    assert first.id == "tri" and scene.path(1).id is None  # ids stay unique
    np.testing.assert_allclose(scene.path(4).subpaths[0].points[0], [45, 45])


def test_nested_svg_and_symbol_viewports():
    scene = load_svg(VIEWPORTS)
    nested, dot = scene.path(1), scene.path(3)  # each viewport's clip rect follows its content
    np.testing.assert_allclose(nested.subpaths[0].points, [[4, 18], [16, 18], [16, 30], [4, 30]], atol=1e-4)
    np.testing.assert_allclose(dot.subpaths[0].points.mean(0), [52, 16], atol=1e-3)  # centre of the viewport
    np.testing.assert_allclose(dot.fill.rgba, [0x33 / 255, 0x88 / 255, 0xcc / 255, 1], rtol=1e-6)


def test_css_classes_ids_and_style_attributes():
    scene = load_svg(svg('<style>.warm { fill: #ff0000; stroke: #00ff00 } rect.cool { fill: #0000ff }'
                         ' #special { fill-opacity: 0.25 }</style>'
                         '<rect class="warm" width="5" height="5"/><rect class="cool" width="5" height="5"/>'
                         '<circle id="special" class="warm" r="3" style="fill: #ffffff"/>'))
    warm, cool, special = scene.paths()
    assert warm.fill == Solid((1.0, 0.0, 0.0, 1.0)) and warm.stroke.paint == Solid((0.0, 1.0, 0.0, 1.0))
    assert cool.fill == Solid((0.0, 0.0, 1.0, 1.0))
    assert special.fill == Solid((1.0, 1.0, 1.0, 0.25))


def test_colour_alpha_and_opacities_multiply():
    # group opacities stay on their (isolated) groups; a shape with fill and stroke gets its own group
    scene = load_svg(svg('<g opacity="0.5"><g style="opacity: 50%">'
                         '<rect width="5" height="5" fill="rgba(255, 0, 0, 0.5)" fill-opacity="0.5"'
                         ' opacity="0.8" stroke="blue" stroke-opacity="0.4"/></g></g>'))
    path = scene.path(0)
    opacities = [float(scene.group_opacity[g.index]) for g in scene.tree.groups()]
    assert path.opacity * np.prod(opacities) == pytest.approx(0.2)
    assert sorted(opacities)[:3] == pytest.approx([0.5, 0.5, 0.8])
    assert path.fill.rgba[3] == pytest.approx(0.25, abs=1e-2) and path.stroke.paint.rgba[3] == pytest.approx(0.4)


def test_single_paint_shape_opacity_stays_on_the_path():
    scene = load_svg(svg('<g opacity="0.5"><rect width="5" height="5" fill="red" opacity="0.8"/></g>'))
    assert scene.path(0).opacity == pytest.approx(0.4) and scene.is_flat


def test_fill_rule_and_stroke_style():
    path, _ = one_path('<path d="M0 0 L9 0 L9 9 Z M2 2 L5 2 L5 5 Z" fill-rule="evenodd" stroke="#000"'
                       ' stroke-width="3" stroke-linecap="round" stroke-linejoin="bevel" stroke-miterlimit="7"/>')
    assert path.fill_rule == "evenodd" and len(path.subpaths) == 2
    assert (path.stroke.width, path.stroke.cap, path.stroke.join, path.stroke.miter_limit) == (3, "round", "bevel", 7)


def test_bounding_box_gradient_becomes_pixel_coordinates():
    path, _ = one_path('<defs><linearGradient id="g" spreadMethod="reflect"><stop offset="0" stop-color="red"/>'
                       '<stop offset="100%" stop-color="blue" stop-opacity="0.5"/></linearGradient></defs>'
                       '<rect x="10" y="20" width="30" height="30" fill="url(#g)" fill-opacity="0.5"/>')
    fill = path.fill
    assert isinstance(fill, LinearGradient) and fill.spread == "reflect"
    np.testing.assert_allclose([fill.start, fill.end], [[10, 20], [40, 20]], atol=1e-5)
    np.testing.assert_allclose(fill.transform, [1, 0, 0, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(fill.stops.offsets, [0, 1])
    np.testing.assert_allclose(fill.stops.colors, [[1, 0, 0, 0.5], [0, 0, 1, 0.25]])


def apply(matrix, point):
    a, b, c, d, e, f = matrix
    return np.array([a * point[0] + c * point[1] + e, b * point[0] + d * point[1] + f])


def test_radial_gradient_with_transform_href_and_group_transform():
    path, _ = one_path('<defs><radialGradient id="base" cx="0.5" cy="0.5" r="0.5" fx="0.25" fy="0.5">'
                       '<stop offset="0" stop-color="white"/><stop offset="1" stop-color="black"/></radialGradient>'
                       '<radialGradient id="g" xlink:href="#base" gradientTransform="translate(0.5 0)"/></defs>'
                       '<g transform="translate(100 0)"><rect x="0" y="0" width="40" height="10" fill="url(#g)"/></g>',
                       'width="200" height="100"')
    fill = path.fill
    assert isinstance(fill, RadialGradient) and len(fill.stops.offsets) == 2
    # the centre (0.5, 0.5) of the bounding box, moved by half its width, then by the group
    np.testing.assert_allclose(apply(fill.transform, fill.center), [100 + 20 + 20, 5], atol=1e-4)
    np.testing.assert_allclose(apply(fill.transform, fill.focal), [100 + 10 + 20, 5], atol=1e-4)


def test_user_space_gradient_keeps_coordinates_and_transform():
    path, _ = one_path('<linearGradient id="g" gradientUnits="userSpaceOnUse" x1="5" y1="6" x2="50%" y2="7"'
                       ' gradientTransform="matrix(1 2 3 4 5 6)"><stop stop-color="red"/><stop offset="1"/>'
                       '</linearGradient><rect width="50" height="50" fill="url(#g)"/>')
    assert path.fill.start == (5, 6) and path.fill.end == (50, 7)
    np.testing.assert_allclose(path.fill.transform, [1, 2, 3, 4, 5, 6])


def test_layers_ids_and_default_layer():
    scene = load_svg(LAYERS)
    assert scene.layer_names == ["layer", "Round 1", "plain", "Empty"]
    assert [p.layer for p in scene.paths()] == ["layer", "Round 1", "Round 1", "plain"]
    assert scene.path_ids == ["loose", "r1", "r2", "c1"]
    np.testing.assert_allclose(scene.path(2).subpaths[0].points[0], [14, 24])


def test_hidden_elements_are_skipped():
    scene = load_svg(svg('<rect width="5" height="5" display="none"/><rect width="5" height="5" visibility="hidden"/>'
                         '<g style="display:none"><rect width="5" height="5"/></g><rect width="1" height="1"/>'))
    assert scene.num_paths == 1


def test_unsupported_elements_warn_once_with_counts_and_the_rest_loads():
    system_font()  # the sample's <text> is drawn (not skipped) where a font is installed
    with pytest.warns(UnsupportedSVGWarning) as record:
        scene = load_svg(UNSUPPORTED)
    assert len(record) == 1
    message = str(record[0].message)
    (kind,) = record[0].message.counts  # the corrupt <image> is skipped, named with the reason
    assert "1 x image (" in message and kind.startswith("image (") and "not a PNG" in kind
    for drawn_now in ("clipPath", "mask", "pattern", "text"):
        assert drawn_now not in message
    by_id = {pid: i for i, pid in enumerate(scene.path_ids)}
    patterned, clipped = scene.path(by_id["patterned"]), scene.path(by_id["clipped"])
    assert patterned.fill is None and patterned.stroke is not None  # the pattern is drawn below it
    (pattern,) = scene.tree.patterns()
    assert scene.path(pattern.path).subpaths[0].points.tolist() == patterned.subpaths[0].points.tolist()
    np.testing.assert_allclose(clipped.fill.rgba, [0x65 / 255, 0x43 / 255, 0x21 / 255, 1.0], rtol=1e-6)
    clip_groups = [g for g in scene.tree.groups() if g.clip is not None]
    assert len(clip_groups) == 1 and by_id["clipped"] in clip_groups[0].children


def test_dashes_are_read_in_canvas_pixels():
    scene = load_svg(svg('<g transform="scale(2)"><line x2="10" stroke="#000" stroke-dasharray="2 1 0.5"'
                         ' stroke-dashoffset="1"/></g>'))
    stroke = scene.path(0).stroke
    assert stroke.dashes == pytest.approx((4, 2, 1, 4, 2, 1)) and stroke.dash_offset == pytest.approx(2)


@pytest.mark.parametrize("text, message", [
    ("<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
    ("<html></html>", "not <svg>"),
    ("", "empty"),
    ("   \n", "empty"),
])
def test_bad_documents_raise_svg_parse_error(tmp_path, text, message):
    file = tmp_path / "bad.svg"
    file.write_text(text)
    with pytest.raises(SVGParseError, match=message):
        load_svg(file)
    if text.strip():
        with pytest.raises(SVGParseError, match=message):
            load_svg(text)


def test_missing_file_raises_svg_parse_error(tmp_path):
    with pytest.raises(SVGParseError, match="not found"):
        load_svg(tmp_path / "nope.svg")
    with pytest.raises(SVGParseError, match="not found"):
        load_svg(str(tmp_path / "nope.svg"))


def test_document_without_shapes_is_an_empty_scene():
    scene = load_svg(svg("", 'width="10" height="20"'))
    assert scene.num_paths == 0 and (scene.width, scene.height) == (10, 20)


def test_file_path_and_device(tmp_path):
    file = tmp_path / "a.svg"
    file.write_text(svg('<rect width="5" height="5"/>'))
    scene = load_svg(str(file), device="cpu")
    assert scene.points.device == torch.device("cpu") and scene.num_paths == 1


def test_reading_a_large_path_runs_no_garbage_collection(monkeypatch):
    # a collection mid-read walks every object of the process (torch's too): 0.3 s now and then for such a file,
    # which could take a refusal of its outline's points over 1 s
    import gc

    from clipvg.svg import reader

    points = " ".join(f"{i % 97} {(i * 7) % 89}" for i in range(20_000))
    markup = svg(f'<path d="M{points}" fill="none" stroke="red" transform="skewX(20)"/>')
    collections: list[bool] = []  # per collection started: whether the collector was on
    collector_on_while_building: list[bool] = []

    def build_tree(*args, **kwargs):
        collector_on_while_building.append(gc.isenabled())
        return real_build_tree(*args, **kwargs)

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(gc.isenabled())

    real_build_tree = reader.build_tree
    monkeypatch.setattr(reader, "build_tree", build_tree)  # where svgelements parses the path data
    gc.callbacks.append(record)
    try:
        read = reader.read_svg(markup)
    finally:
        gc.callbacks.remove(record)
    assert collector_on_while_building == [False] and gc.isenabled()
    # none while paused; at most the one that fell due in the pause, run as it ends (Python 3.12 runs it in the
    # caller's frame, 3.11 inside the pause's __exit__); 20 000 points unpaused start dozens
    assert collections.count(False) == 0 and collections.count(True) <= 1, collections
    assert len(read.outlines) == 1  # the skewed stroke, outlined when the Scene is built
