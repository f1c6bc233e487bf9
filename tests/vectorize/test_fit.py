import numpy as np
from hypothesis import given, settings, strategies as st
from scipy.spatial import cKDTree

from vectorize.fit import fit_polyline, fit_polylines


def sample(curve: np.ndarray, spacing: float = 0.01) -> np.ndarray:
    """Points along the cubic pieces of a (3 S + 1, 2) control-point array, at most ``spacing`` px apart:
    a piece's speed is at most 3x its control polygon's length, so that many samples per unit of it do."""
    pieces = []
    for i in range(0, len(curve) - 1, 3):
        segment = curve[i:i + 4]
        count = 2 + int(3 * np.linalg.norm(np.diff(segment, axis=0), axis=1).sum() / spacing)
        u = np.linspace(0, 1, count)[:, None]
        pieces.append(np.concatenate([(1 - u) ** 3, 3 * u * (1 - u) ** 2, 3 * u * u * (1 - u), u ** 3], axis=1) @ segment)
    return np.concatenate(pieces)


def distance_to(curve: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Each point's distance to the curve (within half the sample spacing)."""
    return cKDTree(sample(curve)).query(points)[0]


def test_straight_line_is_one_cubic_with_exact_ends():
    points = np.stack([np.arange(20.0), np.full(20, 3.0)], axis=1)
    curve = fit_polyline(points, closed=False, tolerance=0.5)
    assert curve.shape == (4, 2)
    np.testing.assert_allclose(curve[[0, -1]], points[[0, -1]])
    np.testing.assert_allclose(curve[:, 1], 3.0)


def test_rectangle_keeps_its_corners_exactly():
    side = np.arange(12.0)
    loop = np.concatenate([np.stack([side, 0 * side], 1), np.stack([0 * side + 12, side], 1),
                           np.stack([12 - side, 0 * side + 12], 1), np.stack([0 * side, 12 - side], 1)])
    curve = fit_polyline(loop, closed=True, tolerance=0.3)
    assert len(curve) == 13  # four segments, closed
    ends = {tuple(p) for p in curve[::3]}
    assert {(0.0, 0.0), (12.0, 0.0), (12.0, 12.0), (0.0, 12.0)} <= ends
    on_edge = np.isclose(curve, 0).any(1) | np.isclose(curve, 12).any(1)
    assert on_edge.all() and (curve >= 0).all() and (curve <= 12).all()


def test_batch_equals_one_by_one():
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    circle = np.stack([20 + 9 * np.cos(t), 20 + 9 * np.sin(t)], 1)
    zigzag = np.stack([np.arange(30.0), (np.arange(30) // 5 % 2) * 4.0], 1)
    packed = fit_polylines(np.concatenate([circle, zigzag]), np.array([0, 60, 90]), np.array([True, False]), 0.4)
    np.testing.assert_allclose(packed[0], fit_polyline(circle, True, 0.4))
    np.testing.assert_allclose(packed[1], fit_polyline(zigzag, False, 0.4))
    np.testing.assert_allclose(packed[0][0], packed[0][-1])


@settings(max_examples=40, deadline=None)
@given(radius=st.floats(6, 80), turn=st.floats(0.3, 5.5), wobble=st.floats(0, 3), phase=st.floats(0, 6.3),
       tolerance=st.floats(0.2, 2.0), count=st.integers(12, 200))
def test_fitted_curve_stays_within_tolerance_of_smooth_polylines(radius, turn, wobble, phase, tolerance, count):
    t = np.linspace(0, turn, count)
    r = radius + wobble * np.sin(3 * t + phase)
    points = np.stack([r * np.cos(t + phase), r * np.sin(t + phase)], 1)
    curve = fit_polyline(points, closed=False, tolerance=tolerance)
    np.testing.assert_allclose(curve[[0, -1]], points[[0, -1]], atol=1e-9)
    # Points are smoothed once ([1, 2, 1] / 4) before fitting: allow for how far that moved them.
    slack = 0.25 * np.linalg.norm(np.diff(points, 2, axis=0), axis=1).max() + 0.01
    assert distance_to(curve, points).max() <= tolerance + slack


def test_smooth_float_arc_is_a_few_cubics_not_one_per_segment():
    """A smooth polyline with float coordinates has no pixel-boundary steps: its points turn the same
    way between one-point runs, which the step rule once took for block ends (99 cubics for 99 segments)."""
    t = np.linspace(0, np.pi, 100)
    arc = np.stack([50 * np.cos(t), 50 * np.sin(t)], 1)
    for tolerance, most in ((0.2, 4), (1.0, 2)):
        controls = fit_polyline(arc, False, tolerance)
        assert (len(controls) - 1) // 3 <= most
        np.testing.assert_allclose(controls[[0, -1]], arc[[0, -1]], atol=1e-9)
        assert distance_to(controls, arc).max() <= tolerance + 0.01
