"""Exact-area coverage: areas, partial pixels, fill rules, clipping; property tests with hypothesis."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from clipvg.render.coverage import rasterize


def coverage_image(polygons: list[np.ndarray], width: int, height: int, evenodd: bool = False) -> torch.Tensor:
    """(H, W) coverage of one item made of closed polygons (K_i, 2)."""
    edges = torch.cat([torch.stack([torch.as_tensor(p, dtype=torch.float64),
                                    torch.as_tensor(np.roll(p, -1, 0), dtype=torch.float64)], 1) for p in polygons])
    fragments = rasterize(edges, torch.zeros(len(edges), dtype=torch.long), torch.tensor([evenodd]), width, height)
    image = torch.zeros(height * width, dtype=torch.float64)
    image[fragments.pixel] = fragments.coverage
    return image.reshape(height, width)


def shoelace(p: np.ndarray) -> float:
    q = np.roll(p, -1, 0)
    return 0.5 * abs(float(np.sum(p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1])))


def test_half_pixel_square_has_exact_partial_coverage() -> None:
    image = coverage_image([np.array([[2.5, 2.25], [7.5, 2.25], [7.5, 7.5], [2.5, 7.5]])], 10, 10)
    assert image[2, 2].item() == 0.5 * 0.75
    assert image[2, 3].item() == 0.75
    assert image[4, 4].item() == 1.0
    assert image[7, 7].item() == 0.25
    assert image[0].sum().item() == 0 and image[:, 8:].sum().item() == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 30.5), st.floats(0.5, 20.5)), min_size=3, max_size=12))
def test_total_coverage_of_star_shaped_polygon_is_its_area(raw: list[tuple[float, float]]) -> None:
    points = np.array(raw)
    centre = points.mean(0)
    order = np.argsort(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0]))
    polygon = points[order]  # star-shaped around the centroid: simple, any orientation works
    image = coverage_image([polygon], 32, 22)
    assert abs(image.sum().item() - shoelace(polygon)) < 1e-6 * max(1.0, shoelace(polygon))
    assert float(image.max()) <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3), st.integers(1, 4), st.integers(1, 4))
def test_integer_translation_moves_the_image(x: float, y: float, dx: int, dy: int) -> None:
    triangle = np.array([[4.3 + x, 3.1 + y], [11.7 + x, 5.2 + y], [6.6 + x, 12.9 + y]])
    moved = triangle + np.array([dx, dy])
    a = coverage_image([triangle], 24, 24)
    b = coverage_image([moved], 24, 24)
    torch.testing.assert_close(b[dy:, dx:], a[:24 - dy, :24 - dx], atol=1e-9, rtol=0)


def test_nonzero_and_evenodd_on_doubly_wound_square() -> None:
    square = np.array([[2.0, 2.0], [8.0, 2.0], [8.0, 8.0], [2.0, 8.0]])
    nonzero = coverage_image([square, square], 10, 10)
    evenodd = coverage_image([square, square], 10, 10, evenodd=True)
    assert nonzero[4, 4].item() == 1.0 and evenodd[4, 4].item() == 0.0


def test_opposite_hole_cuts_under_both_rules() -> None:
    outer = np.array([[1.0, 1.0], [9.0, 1.0], [9.0, 9.0], [1.0, 9.0]])
    hole = np.array([[3.0, 3.0], [3.0, 7.0], [7.0, 7.0], [7.0, 3.0]])
    for rule in (False, True):
        image = coverage_image([outer, hole], 10, 10, evenodd=rule)
        assert image[5, 5].item() == 0.0 and image[2, 2].item() == 1.0
        assert abs(image.sum().item() - (64 - 16)) < 1e-9


def test_polygon_far_outside_the_canvas_is_clipped_exactly() -> None:
    huge = np.array([[-1e5, -1e5], [1e5, -1e5], [1e5, 5.5], [-1e5, 5.5]])
    image = coverage_image([huge], 8, 8)
    assert torch.all(image[:5] == 1) and torch.all(image[5] == 0.5) and torch.all(image[6:] == 0)
