"""Renderer exactness where an area-averaged or one-sided scheme is wrong: thin even-odd rings
(analytic area, 16x16-supersampled reference), gradients against central finite differences."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg import Path, Scene, Solid, Stroke, Subpath, load_svg, render
from clipvg.render.coverage import rasterize
from clipvg.render.torch_backend import draw_items
from render_samples import STROKE_STYLES
from winding_reference import sampled_winding


def circle(cx: float, cy: float, r: torch.Tensor | float, n: int = 360) -> torch.Tensor:
    """(n, 2) float64 polygon on a circle (same orientation for every call)."""
    angle = torch.linspace(0, 2 * np.pi, n + 1, dtype=torch.float64)[:-1]
    r = torch.as_tensor(r, dtype=torch.float64)
    return torch.stack([cx + r * torch.cos(angle), cy + r * torch.sin(angle)], 1)


def polygon_area(p: torch.Tensor) -> float:
    q = p.roll(-1, 0)
    return 0.5 * abs(float((p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]).sum()))


def evenodd_image(polygons: list[torch.Tensor], size: int) -> torch.Tensor:
    """(size, size) even-odd coverage of one item made of the closed ``polygons`` (K_i, 2)."""
    edges = torch.cat([torch.stack([p, p.roll(-1, 0)], 1) for p in polygons])
    fragments = rasterize(edges, torch.zeros(len(edges), dtype=torch.long), torch.tensor([True]), size, size)
    image = torch.zeros(size * size, dtype=edges.dtype).index_put((fragments.pixel,), fragments.coverage)
    return image.reshape(size, size)


def supersampled_evenodd(polygons: list[torch.Tensor], size: int, k: int = 16) -> np.ndarray:
    """(size, size) fraction of the k x k sample points per pixel inside an odd number of loops."""
    return (sampled_winding(polygons, size, k) % 2 != 0).mean((1, 3))


@pytest.mark.parametrize("outer,inner,size", [(20.0, 19.7, 64), (20.0, 19.9, 64), (10.0, 9.8, 32)])
def test_thin_evenodd_ring_covers_its_exact_area(outer: float, inner: float, size: int) -> None:
    """Area-averaged winding gave +80 %, +398 %, +152 % here; sub-scanlines leave < 0.5 %."""
    c = size / 2 + 0.3
    ring = [circle(c, c - 0.6, outer), circle(c, c - 0.6, inner)]
    exact = polygon_area(ring[0]) - polygon_area(ring[1])
    image = evenodd_image(ring, size)
    assert abs(image.sum().item() / exact - 1) < 5e-3
    assert float(image.max()) <= 1.0 and float(image.min()) >= 0.0


def test_thin_evenodd_ring_matches_supersampled_pixels() -> None:
    ring = [circle(12.3, 11.9, 10.0), circle(12.3, 11.9, 9.8)]
    image = evenodd_image(ring, 24).numpy()
    reference = supersampled_evenodd(ring, 24)
    # the reference samples x and y at 1/16 px, the renderer y only (x is exact): a few % per pixel
    assert np.abs(image - reference).max() < 0.05
    assert abs(image.sum() - reference.sum()) < 0.01 * reference.sum()


def test_thin_evenodd_ring_gradient_matches_central_differences() -> None:
    weights = torch.rand(32, 32, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def loss(inner: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        ring = [circle(16.3, 15.8, 10.0), circle(16.3, 15.8, inner) + torch.stack([shift, 0.5 * shift])]
        return (evenodd_image(ring, 32) * weights).sum()

    for inner0, shift0 in ((9.8, 0.0), (9.7, 0.04)):
        inner = torch.tensor(inner0, dtype=torch.float64, requires_grad=True)
        shift = torch.tensor(shift0, dtype=torch.float64, requires_grad=True)
        grad = torch.autograd.grad(loss(inner, shift), [inner, shift])
        eps = 1e-4
        with torch.no_grad():
            fd_inner = (loss(inner + eps, shift) - loss(inner - eps, shift)) / (2 * eps)
            fd_shift = (loss(inner, shift + eps) - loss(inner, shift - eps)) / (2 * eps)
        torch.testing.assert_close(grad[0], fd_inner, rtol=1e-3, atol=1e-6)
        torch.testing.assert_close(grad[1], fd_shift, rtol=1e-3, atol=1e-6)


def stroke_point_gradient(points: list[list[float]], degrees: list[int], dtype: torch.dtype,
                          cap: str = "butt", size: int = 32) -> torch.Tensor:
    """(P, 2) float64 gradient of a fixed random weighting of the render of one open stroke."""
    scene = Scene.from_paths([Path([Subpath(np.array(points), degrees, closed=False)],
                                   stroke=Stroke(Solid((0.1, 0.2, 0.7, 1.0)), width=3.1, cap=cap))], size, size)
    for name in ("points", "stroke_color", "stroke_width", "fill_color", "opacity", "miter_limit"):
        setattr(scene, name, getattr(scene, name).to(dtype))
    scene.points.requires_grad_(True)
    weights = torch.rand(size, size, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(dtype)
    (render(scene) * weights).sum().backward()
    return scene.points.grad.double()


def test_float32_gradient_of_tangent_line_curve_join_matches_float64() -> None:
    """The line's end and the cubic's start share a tangent; float32 was off by 21 % of the largest
    component (rounding in the coverage sums), now within 1 %."""
    points = [[4.2, 16.3], [13.7, 16.3], [19.9, 16.3], [25.1, 11.2], [27.6, 4.4]]
    g64 = stroke_point_gradient(points, [1, 3], torch.float64)
    g32 = stroke_point_gradient(points, [1, 3], torch.float32)
    assert (g32 - g64).abs().max() < 0.01 * g64.abs().max()


def weighted_coverage(scene: Scene, weights: torch.Tensor) -> torch.Tensor:
    """Sum of the draw items' nonzero coverage (no paint, no compositing) times ``weights`` (H, W)."""
    height, width = weights.shape
    edges, items = draw_items(scene, torch.ones(2, dtype=weights.dtype))
    fragments = rasterize(edges, items, torch.zeros(2, dtype=torch.bool), width, height)
    image = weights.new_zeros(height * width).index_put((fragments.pixel,), fragments.coverage.to(weights.dtype),
                                                        accumulate=True)
    return (image.reshape(height, width) * weights).sum()


def stroke_scene(points: torch.Tensor) -> Scene:
    """An open polyline through ``points`` (K, 2), butt caps, 3.1 px wide, on 32 x 32, in points' dtype."""
    scene = Scene.from_paths([Path([Subpath(points.detach().double().numpy(), [1] * (len(points) - 1), closed=False)],
                                   stroke=Stroke(Solid((0.0, 0.0, 0.0, 1.0)), width=3.1))], 32, 32)
    scene.stroke_width = scene.stroke_width.to(points.dtype)
    scene.points = points
    return scene


def fill_scene(points: torch.Tensor) -> Scene:
    """A closed polygon through ``points`` (K, 2), filled, on 32 x 32, in points' dtype."""
    scene = Scene.from_paths([Path([Subpath(points.detach().double().numpy(), [1] * len(points), closed=True)],
                                   fill=Solid((0.0, 0.0, 0.0, 1.0)))], 32, 32)
    scene.points = points
    return scene


# Each case puts one point's coordinate exactly on a pixel line, where coverage has a kink; the point
# gradient must be the mean of the two one-sided derivatives (the central one), which central finite
# differences measure. ``point`` is the point moved, ``axis`` its coordinate (0: x, 1: y).
KINK_CASES = {
    # a horizontal stroke whose butt cap edge is the vertical line x = 20
    "cap edge on a vertical line": (stroke_scene, [[4.3, 16.2], [20.0, 16.2]], 1, 0),
    # a vertical stroke whose butt cap edge is the horizontal line y = 20
    "cap edge on a horizontal line": (stroke_scene, [[16.2, 4.3], [16.2, 20.0]], 1, 1),
    # a corner of a fill on y = 20 between a slanted side and a side lying on that line
    "slanted corner on a horizontal line": (fill_scene, [[4.3, 5.2], [14.7, 5.2], [20.7, 20.0], [4.3, 20.0]], 2, 1),
    # a corner of a fill on x = 21 between a slanted side and a side lying on that line
    "slanted corner on a vertical line": (fill_scene, [[4.3, 5.2], [15.3, 5.2], [21.0, 12.0], [21.0, 20.0],
                                                       [4.3, 20.0]], 2, 0),
    # a corner of a fill on y = 20 between a vertical side and a side lying on that line
    "fill corner on a horizontal line": (fill_scene, [[4.3, 5.2], [20.7, 5.2], [20.7, 20.0], [4.3, 20.0]], 2, 1),
    # the same corner moved along x, on the vertical line x = 21
    "fill corner on a vertical line": (fill_scene, [[4.3, 5.2], [21.0, 5.2], [21.0, 20.0], [4.3, 20.0]], 2, 0),
    # butt cap edges through the pixel corners (14, 6) and (24, 14) (integer end points of a slanted
    # stroke): the edge's x and y crossings coincide there
    "cap edge through a pixel corner, x": (stroke_scene, [[14.0, 6.0], [24.0, 14.0]], 0, 0),
    "cap edge through a pixel corner, y": (stroke_scene, [[14.0, 6.0], [24.0, 14.0]], 0, 1),
    "far cap edge through a pixel corner": (stroke_scene, [[14.0, 6.0], [24.0, 14.0]], 1, 0),
    # a fill side of slope 2 through the pixel corners (4, 5), (5, 7), ... (9, 15)
    "fill side through pixel corners, y": (fill_scene, [[3.5, 4.0], [9.5, 16.0], [20.3, 16.4], [19.7, 3.2]], 0, 1),
    "fill side through pixel corners, x": (fill_scene, [[3.5, 4.0], [9.5, 16.0], [20.3, 16.4], [19.7, 3.2]], 1, 0),
}


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-6), (torch.float32, 1e-4)])
@pytest.mark.parametrize("case", list(KINK_CASES))
def test_point_on_a_pixel_line_has_the_central_gradient(case: str, dtype: torch.dtype, tolerance: float) -> None:
    """The point gradient of weighted coverage against central finite differences (float64, step 1e-6)
    on both sides of the kink; relative tolerance 1e-6 in float64 and 1e-4 in float32. The one-sided
    gradients were 0.919 for 1.162 (vertical cap edge), 2.144 for 2.072 (horizontal cap edge), off by
    1.22 of 2.71 (slanted corner) and 9.87 of 4.30 (fill corner on a horizontal line); through a pixel
    corner the piece between the coinciding crossings went to a cell of neither side."""
    make, coordinates, point, axis = KINK_CASES[case]
    weights = torch.rand(32, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    points = torch.tensor(coordinates, dtype=dtype, requires_grad=True)
    analytic = torch.autograd.grad(weighted_coverage(make(points), weights.to(dtype)), points)[0]
    eps = 1e-6
    step = torch.zeros(len(coordinates), 2, dtype=torch.float64)
    step[point, axis] = eps
    base = torch.tensor(coordinates, dtype=torch.float64)
    with torch.no_grad():
        numeric = (weighted_coverage(make(base + step), weights)
                   - weighted_coverage(make(base - step), weights)) / (2 * eps)
    assert abs(float(analytic[point, axis]) - float(numeric)) <= tolerance * max(1.0, abs(float(numeric)))


@pytest.mark.parametrize("shift,tolerance", [(0.0, 1e-6), (0.1234, 1e-5)])
def test_stroke_styles_point_gradients_match_central_differences(shift: float, tolerance: float) -> None:
    """Every point coordinate of the stroke styles sample (64 px, integer coordinates: joins, caps and
    sides through pixel corners), float64 coverage of all its items against central differences (step
    1e-6). At native scale 14 of 34 were wrong (-674 for -5.3 at M34 6); shifted by 0.1234 px (off the
    grid) it is a plain smooth case, which also once raised in the self-overlap pass."""
    scene = load_svg(STROKE_STYLES)
    scene.stroke_width, scene.miter_limit = scene.stroke_width.double(), scene.miter_limit.double()
    base = scene.points.double() + shift
    weights = torch.rand(64 * 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def loss(points: torch.Tensor) -> torch.Tensor:
        scene.points = points
        edges, items = draw_items(scene, torch.ones(2, dtype=torch.float64))
        fragments = rasterize(edges, items, torch.zeros(int(items.max()) + 1, dtype=torch.bool), 64, 64)
        return (weights.index_select(0, fragments.pixel) * fragments.coverage * (1 + fragments.item)).sum()

    points = base.clone().requires_grad_(True)
    analytic = torch.autograd.grad(loss(points), points)[0]
    eps = 1e-6
    with torch.no_grad():
        numeric = torch.stack([(loss(base + eps * step) - loss(base - eps * step)) / (2 * eps)
                               for step in torch.eye(base.numel(), dtype=torch.float64).reshape(-1, *base.shape)])
    torch.testing.assert_close(analytic.flatten(), numeric, rtol=tolerance, atol=tolerance)


@pytest.mark.xfail(strict=True, reason="flattening count ceil(sqrt(0.75 |c0 - 2 c1 + c2| / 0.05)) in "
                   "render/geometry.flatten is exactly 20 for this quadratic and a 1e-12 px move makes it 21 "
                   "(not the coverage: the edges change along the whole curve); geometry.py is not this fix's file")
def test_round_capped_quadratic_is_continuous_in_its_points() -> None:
    """M10 10 Q30 50 50 10, round caps, 5 px wide, 64 px, float64: moving the first point by 1e-12 px
    changes the weighted coverage by less than 1e-9 (it jumped by 0.038)."""
    scene = load_svg('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><path d="M10 10 Q30 50 50 10" '
                     'stroke="black" stroke-width="5" stroke-linecap="round" fill="none"/></svg>')
    scene.stroke_width = scene.stroke_width.double()
    base = scene.points.double()
    weights = torch.rand(64, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    values = []
    for shift in (0.0, -1e-12, 1e-12):
        moved = base.clone()
        moved[0, 1] += shift
        scene.points = moved
        values.append(float(weighted_coverage(scene, weights)))
    assert max(values) - min(values) < 1e-9


@pytest.mark.parametrize("coordinates", [[[8, 22], [13, 7], [2, 8], [4, 3], [13, 14], [13, 17]],
                                         [[5, 1], [2, 22], [16, 22], [10, 21], [10, 15], [21, 18]]])
def test_full_cells_keep_their_gradient_whichever_way_their_sum_rounds(coordinates: list[list[int]]) -> None:
    """Integer vertices on row lines: a fully covered cell's sum is 1 up to rounding, on either side,
    and carries the central derivative of those vertices; its gradient was cut where the sum rounded
    above 1, so the result hung on the rounding of the row's prefix sum. All point gradients against
    central differences (1e-5: the step of 1e-6 straddles kinks)."""
    weights = torch.rand(32, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    points = torch.tensor(coordinates, dtype=torch.float64, requires_grad=True)
    analytic = torch.autograd.grad(weighted_coverage(fill_scene(points), weights), points)[0]
    eps = 1e-6
    numeric = torch.zeros_like(analytic)
    for k in range(numeric.numel()):
        step = torch.zeros(numeric.numel(), dtype=torch.float64)
        step[k] = eps
        step = step.view_as(numeric)
        with torch.no_grad():
            numeric.view(-1)[k] = (weighted_coverage(fill_scene(points.detach() + step), weights)
                                   - weighted_coverage(fill_scene(points.detach() - step), weights)) / (2 * eps)
    torch.testing.assert_close(analytic, numeric, rtol=1e-5, atol=1e-5)
