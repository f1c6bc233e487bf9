"""The reader's bound on a stroke outline's points (clipvg.svg.outline_bound) against the outliner itself
(clipvg.render.outline.stroke_outline): never under it on random paths, widths, transforms, joins, caps and
dashes, and within a few times it on real strokes."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from clipvg.render import dash, geometry, stroke as stroke_module
from clipvg.render.outline import stroke_outline
from clipvg.scene import CAPS, JOINS, Solid, Stroke, Subpath
from clipvg.svg import outline_bound
from clipvg.svg.outline_bound import outline_point_bound


def outline_points(subpaths: list[Subpath], stroke: Stroke) -> int:
    return sum(len(loop) for loop in stroke_outline(subpaths, stroke))


def test_the_constants_are_the_renderers():
    assert (outline_bound.FLATTEN_TOLERANCE, outline_bound.MAX_PIECES_PER_SEGMENT, outline_bound.MIN_LENGTH,
            outline_bound.SAME_POINT, outline_bound.MAX_DASH_PIECES) == (
        geometry.FLATTEN_TOLERANCE, geometry.MAX_PIECES_PER_SEGMENT, stroke_module._MIN_LENGTH, geometry._SAME_POINT,
        dash.MAX_DASH_PIECES)


coordinate = st.floats(-60, 60, allow_nan=False).map(lambda v: round(v, 2))
# near-repeated points (hooks, cusps, zero-length edges) are drawn often: they are where the count is delicate
near = st.tuples(st.sampled_from([0.0, 0.0, 1e-4, 0.01, 0.3]), st.sampled_from([0.0, 1e-4, 0.02]))


@st.composite
def subpath(draw) -> Subpath:
    degrees = draw(st.lists(st.sampled_from([1, 1, 2, 3, 3]), min_size=1, max_size=6))
    closed = draw(st.booleans())
    count = 1 + sum(degrees) - int(closed)
    points = [(draw(coordinate), draw(coordinate))]
    for _ in range(count - 1):
        if draw(st.integers(0, 4)) == 0:  # a point on (or next to) the last one
            dx, dy = draw(near)
            points.append((points[-1][0] + dx, points[-1][1] + dy))
        else:
            points.append((draw(coordinate), draw(coordinate)))
    return Subpath(np.array(points), np.array(degrees), closed)


@st.composite
def stroked(draw) -> tuple[list[Subpath], Stroke]:
    subpaths = draw(st.lists(subpath(), min_size=1, max_size=3))
    a, b, c, d = (draw(st.floats(-3, 3, allow_nan=False)) for _ in range(4))
    matrix = np.array([[a, b], [c, d]]) if abs(a * d - b * c) > 1e-3 else np.eye(2)
    fine = draw(st.sampled_from([1.0, 8.0, 24.0]))
    subpaths = [Subpath(s.points @ matrix.T * fine, s.degrees, s.closed) for s in subpaths]
    dashes = draw(st.one_of(st.none(), st.lists(st.floats(0, 20).map(lambda v: round(v, 1)), min_size=1,
                                                max_size=4).map(tuple)))
    width = draw(st.sampled_from([0.1, 1.0, 3.0, 12.0, 40.0])) * fine
    return subpaths, Stroke(Solid((0, 0, 0, 1)), width, draw(st.sampled_from(CAPS)), draw(st.sampled_from(JOINS)),
                            draw(st.sampled_from([1.0, 4.0, 30.0])), None if dashes is None else
                            tuple(v * fine for v in dashes), draw(st.floats(-10, 10)) * fine)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stroked())
def test_the_bound_is_never_under_the_outlines_point_count(case):
    subpaths, stroke = case
    assert outline_point_bound(subpaths, stroke) >= outline_points(subpaths, stroke)


def test_a_path_too_long_to_evaluate_is_bounded_by_its_pieces(monkeypatch):
    """Past MAX_EVALUATED_EDGES every joint is taken at its most: a larger bound, still over the count."""
    circle = Subpath(np.array([[0, 0], [50, -30], [100, 30], [150, 0], [100, 60], [50, 60]]), np.array([3, 3]), True)
    stroke = Stroke(Solid((0, 0, 0, 1)), 16.0, "round", "round")
    evaluated = outline_point_bound([circle], stroke)
    monkeypatch.setattr(outline_bound, "MAX_EVALUATED_EDGES", 1)
    assert outline_point_bound([circle], stroke) > evaluated >= outline_points([circle], stroke)


@pytest.mark.parametrize("join, cap, dashes", [("miter", "butt", None), ("round", "round", None),
                                               ("bevel", "square", (30.0, 12.0)), ("round", "round", (0.0, 24.0))])
def test_the_bound_is_a_few_times_the_count_on_a_curvy_stroke(join, cap, dashes):
    """A stroke 2 px wide outlined 8x fine (the reader's oversampling) along a wavy line of cubics. Dashed, each
    dash's two end joints are taken at their most (a cut piece may be too short for a direction): looser."""
    x = np.arange(0, 400, 10.0)
    points = np.stack([x, 40 * np.sin(x / 23)], 1)[: 1 + 3 * 13]
    wave = Subpath(points * 8, np.full(13, 3), False)
    stroke = Stroke(Solid((0, 0, 0, 1)), 16.0, cap, join, 4.0, dashes)
    count = outline_points([wave], stroke)
    assert count <= outline_point_bound([wave], stroke) <= (3 if dashes is None else 10) * count


def test_nothing_drawn_is_bounded_by_zero():
    line = Subpath(np.array([[0, 0], [10, 0]]), np.array([1]), False)
    far = Subpath(np.array([[0, 0], [1e10, 0]]), np.array([1]), False)
    assert outline_point_bound([line], Stroke(Solid((0, 0, 0, 1)), 0.0)) == 0
    assert outline_point_bound([far], Stroke(Solid((0, 0, 0, 1)), 2.0)) == 0 == outline_points([far], Stroke(
        Solid((0, 0, 0, 1)), 2.0))


def test_a_segment_on_the_edge_of_one_more_piece_is_bounded_for_either_flattening(monkeypatch):
    """A cubic scaled so that its flattening needs 57.00002 pieces (58), which float32 rounding could make 57:
    the bound covers the outline flattened either way (the tolerance nudged by 2e-6 makes the renderer take 57)."""
    base = np.array([[0, 0], [40, 90], [120, -30], [160, 40], [160, 120]], float)
    scale = (57 * (1 + 3e-7) / 56.627146749282645) ** 2  # the cubic's pieces at scale 1 before rounding up
    curve = Subpath(base * scale, np.array([3, 1]), False)
    stroke = Stroke(Solid((0, 0, 0, 1)), 60.0, "round", "round")
    bound = outline_point_bound([curve], stroke)
    assert outline_bound._Segments.of([curve]).borderline[0]
    finer = outline_points([curve], stroke)
    monkeypatch.setattr(geometry, "FLATTEN_TOLERANCE", geometry.FLATTEN_TOLERANCE * (1 + 2e-6))
    coarser = outline_points([curve], stroke)
    assert finer != coarser and bound >= max(finer, coarser)
