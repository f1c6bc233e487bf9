"""load -> save -> load gives the same Scene tensors, within the printed precision."""
from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clipvg import (GradientStops, LinearGradient, Path, RadialGradient, Scene, Solid, Stroke, Subpath, load_svg,
                    save_svg)
from clipvg.scene import CAPS, JOINS, SPREADS
from clipvg.svg import scene_to_svg_string
from svg_samples import FAITHFUL
from test_svg_write import sample_scene

EXACT = ("segment_degrees", "subpath_segment_offsets", "subpath_point_offsets", "subpath_closed",
         "path_subpath_offsets", "has_fill", "has_stroke", "fill_gradient", "stroke_gradient", "evenodd",
         "line_cap", "line_join", "gradient_kind", "gradient_spread", "gradient_stop_offsets", "path_layer")
CLOSE = ("points", "stroke_width", "opacity", "miter_limit", "gradient_coords", "gradient_transform",
         "stop_offsets")
COLORS = ("fill_color", "stroke_color", "stop_colors")
HEX_STEP = 0.5 / 255 + 1e-6  # colours are written as 8-bit hex


def assert_scenes_close(a: Scene, b: Scene, atol: float = 2e-4) -> None:
    assert (a.width, a.height) == pytest.approx((b.width, b.height), abs=atol)
    assert a.layer_names == b.layer_names and a.path_ids == b.path_ids
    for name in EXACT:
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    for name in CLOSE:
        torch.testing.assert_close(getattr(a, name), getattr(b, name), atol=atol, rtol=0, msg=name)
    for name in COLORS:
        x, y = getattr(a, name), getattr(b, name)
        torch.testing.assert_close(x[:, :3], y[:, :3], atol=HEX_STEP, rtol=0, msg=name)
        torch.testing.assert_close(x[:, 3], y[:, 3], atol=atol, rtol=0, msg=name)


def fold_opacity(scene: Scene) -> Scene:
    """``scene`` with the opacity of paths that have both a fill and a stroke moved into their paints'
    alpha: clipvg fades fill and stroke separately, which SVG writes as fill- and stroke-opacity (SVG's
    ``opacity`` would fade them as a group)."""
    paths = []
    for path in scene.paths():
        if path.fill is not None and path.stroke is not None and path.opacity != 1:
            for paint in (path.fill, path.stroke.paint):
                if isinstance(paint, Solid):
                    paint.rgba = (*paint.rgba[:3], paint.rgba[3] * path.opacity)
                else:
                    paint.stops.colors[:, 3] *= path.opacity
            path.opacity = 1.0
        paths.append(path)
    return Scene.from_paths(paths, scene.width, scene.height, scene.layer_names)


def round_trip(scene: Scene) -> Scene:
    return load_svg(scene_to_svg_string(scene))


@pytest.mark.parametrize("name", sorted(FAITHFUL))
def test_samples_round_trip(name):
    scene = load_svg(FAITHFUL[name])
    assert_scenes_close(round_trip(scene), scene)


def test_file_round_trip_with_repeated_layer_runs(tmp_path):
    scene = sample_scene()
    save_svg(scene, tmp_path / "a.svg")
    assert_scenes_close(load_svg(tmp_path / "a.svg"), scene)


# ---------------------------------------------------------------------- random scenes
coordinate = st.floats(-50, 300, allow_nan=False).map(lambda v: round(v, 3))
unit = st.floats(0, 1)
colors = st.tuples(unit, unit, unit, unit)


@st.composite
def subpaths(draw) -> Subpath:
    degrees = draw(st.lists(st.integers(1, 3), min_size=1, max_size=5))
    closed = draw(st.booleans())
    count = 1 + sum(degrees) - closed
    points = draw(st.lists(st.tuples(coordinate, coordinate), min_size=count, max_size=count))
    return Subpath(points, degrees, closed)


@st.composite
def gradients(draw) -> LinearGradient | RadialGradient:
    n = draw(st.integers(2, 4))
    stops = GradientStops(sorted(draw(st.lists(unit, min_size=n, max_size=n))),
                          draw(st.lists(colors, min_size=n, max_size=n)))
    transform = draw(st.sampled_from([(1.0, 0.0, 0.0, 1.0, 0.0, 0.0)]) | st.tuples(
        *[st.floats(-3, 3).map(lambda v: round(v, 3))] * 4, coordinate, coordinate).filter(
        lambda m: abs(m[0] * m[3] - m[1] * m[2]) > 1e-3))  # a singular gradientTransform is ignored on reading
    spread = draw(st.sampled_from(SPREADS))
    start, end = draw(st.tuples(coordinate, coordinate)), draw(st.tuples(coordinate, coordinate))
    if draw(st.booleans()) and start != end:
        return LinearGradient(start, end, stops, transform, spread)
    return RadialGradient(start, draw(st.floats(0.5, 200)), stops, end, transform, spread)


paints = st.one_of(colors.map(Solid), gradients())
strokes = st.builds(Stroke, paints, width=st.floats(0.01, 20), cap=st.sampled_from(CAPS),
                    join=st.sampled_from(JOINS), miter_limit=st.floats(1, 20))
layer_names = st.lists(st.text("abcXYZ 019-_é", min_size=1, max_size=6), min_size=1, max_size=4, unique=True)
ids = st.none() | st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)


@st.composite
def scenes(draw) -> Scene:
    layers = draw(layer_names)
    paths = draw(st.lists(st.builds(
        Path, st.lists(subpaths(), min_size=1, max_size=3), fill=st.none() | paints,
        stroke=st.none() | strokes, fill_rule=st.sampled_from(["nonzero", "evenodd"]), opacity=unit,
        layer=st.sampled_from(layers), id=ids), max_size=6))
    used_ids = [p.id for p in paths if p.id]
    if len(set(used_ids)) != len(used_ids):  # ids are unique in an SVG document
        for path in paths:
            path.id = None
    paths.sort(key=lambda p: layers.index(p.layer))  # one run per layer, stacked in layer order
    return Scene.from_paths(paths, draw(st.floats(1, 400)), draw(st.floats(1, 400)), layers)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_random_scenes_round_trip(scene):
    assert_scenes_close(round_trip(scene), fold_opacity(scene))
