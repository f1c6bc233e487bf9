import numpy as np

from vectorize.pieces import cut_pieces


def _one(points: np.ndarray, closed: bool):
    points = np.asarray(points, np.float64)
    return cut_pieces(points, np.array([0, len(points)]), np.array([closed]))


def test_triangle_is_cut_at_its_three_oblique_corners_kept_exactly():
    vertices = np.array([[0.0, 0.0], [40.0, 10.0], [12.0, 36.0]])  # no side along an axis
    side = 12
    points = np.concatenate([vertices[k] + np.linspace(0, 1, side, endpoint=False)[:, None]
                             * (vertices[(k + 1) % 3] - vertices[k]) for k in range(3)])
    smooth, indices, offsets, chain, start, left, right = _one(points, True)
    assert start.tolist() == [0, side, 2 * side]
    assert chain.tolist() == [0, 0, 0]
    np.testing.assert_array_equal(smooth[[0, side, 2 * side]], vertices)
    # each piece runs from one corner to the next, the last back round to the first
    assert indices[offsets[1:] - 1].tolist() == [side, 2 * side, 0]
    # at a corner the tangents follow the sides (forwards from its start, backwards from its end)
    for k in range(3):
        along = vertices[(k + 1) % 3] - vertices[k]
        np.testing.assert_allclose(left[k], along / np.linalg.norm(along), atol=0.05)
        np.testing.assert_allclose(right[k], -along / np.linalg.norm(along), atol=0.05)


def test_staircase_stays_one_smooth_piece_on_its_diagonal():
    steps = np.array([[1.0, 0.0], [0.0, 1.0]] * 10)
    points = np.concatenate([[[0.0, 0.0]], np.cumsum(steps, axis=0)])
    smooth, indices, offsets, chain, start, left, right = _one(points, False)
    assert offsets.tolist() == [0, len(points)]  # no corner: ends only
    np.testing.assert_array_equal(smooth[[0, -1]], points[[0, -1]])
    inner = smooth[1:-1]  # [1, 2, 1] / 4 of alternate steps: on the line y = x - 1/2 or y = x + 1/2
    assert np.all(np.abs(np.abs(inner[:, 1] - inner[:, 0]) - 0.5) < 1e-12)


def test_smooth_loop_is_cut_in_two_with_centred_tangents_along_travel():
    count = 40
    angle = np.linspace(0, 2 * np.pi, count, endpoint=False)
    points = 30 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    smooth, indices, offsets, chain, start, left, right = _one(points, True)
    assert start.tolist() == [0, count // 2]
    travel = np.stack([-np.sin(angle), np.cos(angle)], axis=1)
    np.testing.assert_allclose(left, travel[[0, count // 2]], atol=1e-9)
    np.testing.assert_allclose(right, -travel[[count // 2, 0]], atol=1e-9)
    # away from the cuts every point is pulled inwards by the smoothing
    assert np.all(np.linalg.norm(smooth[1:count // 2], axis=1) < 30)


def test_thin_line_ends_are_corners_of_short_runs_turning_the_same_way():
    # the outline of a 1 x 6 pixel block, clockwise on screen: the short ends (runs of one step)
    # turn the same way at both their turns, so all four are corners
    outline = [(x, 0) for x in range(6)] + [(6, 0), (6, 1)] + [(x, 1) for x in range(5, 0, -1)] + [(0, 1)]
    points = np.array(outline, np.float64)
    smooth, indices, offsets, chain, start, left, right = _one(points, True)
    corners = points[start]
    assert sorted(map(tuple, corners.tolist())) == [(0, 0), (0, 1), (6, 0), (6, 1)]
