"""Nonzero coverage where a path overlaps itself inside a pixel: the area where the winding is
nonzero, not the signed area (which counts a same-direction overlap twice and cancels opposite
windings). Exact references: the same region drawn as simple polygons (whose signed area is exact);
random self-intersecting polygons against a supersampled winding; gradients against central finite
differences. Every test runs twice: on the torch path (which CUDA runs) and on the compiled CPU kernels
(``kernels.covered_steps`` sweeps the bands' crossings)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from clipvg.render import coverage, kernels, self_overlap
from clipvg.render.coverage import rasterize
from winding_reference import sampled_winding


@pytest.fixture(autouse=True, params=["torch", "compiled"])
def kernel_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The torch path, or the compiled kernels for every size (they start at ``MIN_ELEMENTS`` otherwise)."""
    monkeypatch.setattr(kernels, "COMPILED", request.param == "compiled")
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)
    return request.param


def nonzero_image(polygons: list[torch.Tensor], size: int) -> torch.Tensor:
    """(size, size) nonzero coverage of one item made of the closed ``polygons`` (K_i, 2)."""
    edges = torch.cat([torch.stack([p, p.roll(-1, 0)], 1) for p in polygons])
    fragments = rasterize(edges, torch.zeros(len(edges), dtype=torch.long), torch.tensor([False]), size, size)
    image = torch.zeros(size * size, dtype=edges.dtype).index_put((fragments.pixel,), fragments.coverage)
    return image.reshape(size, size)


def circle(cx: float, cy: float, r: float, n: int = 180) -> torch.Tensor:
    angle = torch.linspace(0, 2 * math.pi, n + 1, dtype=torch.float64)[:-1]
    return torch.stack([cx + r * torch.cos(angle), cy + r * torch.sin(angle)], 1)


def star(cx: float, cy: float, r: float, inner: float | None = None) -> torch.Tensor:
    """The pentagram {5/2} through 5 points on a circle, or (``inner`` radius given) its simple
    10-gon outline, whose inner corners lie at r cos 72 / cos 36."""
    if inner is None:
        angles = [-math.pi / 2 + 4 * math.pi * k / 5 for k in range(5)]
        radii = [r] * 5
    else:
        angles = [-math.pi / 2 + math.pi * k / 5 for k in range(10)]
        radii = [r if k % 2 == 0 else inner for k in range(10)]
    return torch.tensor([[cx + q * math.cos(a), cy + q * math.sin(a)] for q, a in zip(radii, angles)],
                        dtype=torch.float64)


def star_outline(cx: float, cy: float, r: float) -> torch.Tensor:
    return star(cx, cy, r, r * math.cos(2 * math.pi / 5) / math.cos(math.pi / 5))


def crossing(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """The point where lines ab and cd meet."""
    u, v = b - a, d - c
    t = ((c - a)[0] * v[1] - (c - a)[1] * v[0]) / (u[0] * v[1] - u[1] * v[0])
    return a + t * u


CORNER_TRIANGLE = torch.tensor([[3.0, 3.5], [21.0, 12.5], [6.3, 22.2]], dtype=torch.float64)
BOW_TIE = torch.tensor([[2.3, 8.1], [29.6, 11.2], [29.4, 8.3], [2.2, 11.4]], dtype=torch.float64)


def bow_tie_triangles() -> list[torch.Tensor]:
    """The two opposite-wound triangles the bow tie A-B-C-D (AB crosses CD) is made of."""
    a, b, c, d = BOW_TIE
    x = crossing(a, b, c, d)
    return [torch.stack([a, x, d]), torch.stack([x, b, c])]


@pytest.mark.parametrize("outer,inner,size", [(20.0, 19.7, 48), (20.0, 19.9, 48), (10.0, 9.8, 24), (6.0, 5.6, 16)])
def test_thin_same_direction_ring_covers_its_outer_disc(outer: float, inner: float, size: int) -> None:
    """Winding 2 in the ring: the old signed area gave up to +0.4 per pixel there."""
    c = size / 2 + 0.3
    ring = nonzero_image([circle(c, c - 0.6, outer), circle(c, c - 0.6, inner)], size)
    disc = nonzero_image([circle(c, c - 0.6, outer)], size)
    torch.testing.assert_close(ring, disc, atol=1e-9, rtol=0)


def test_doubly_wound_square_covers_its_edge_pixels_once() -> None:
    square = torch.tensor([[2.5, 2.25], [8.3, 2.25], [8.3, 8.7], [2.5, 8.7]], dtype=torch.float64)
    twice = nonzero_image([square, square], 12)
    torch.testing.assert_close(twice, nonzero_image([square], 12), atol=1e-12, rtol=0)
    assert twice[2, 2].item() == pytest.approx(0.5 * 0.75, abs=1e-12)


@pytest.mark.parametrize("r,size", [(12.0, 32), (1.3, 8), (0.6, 4)])
def test_pentagram_fills_its_outline(r: float, size: int) -> None:
    """The centre pentagon winds twice; hairline stars (r of about one pixel) overlap inside pixels."""
    c = size / 2 + 0.17
    image = nonzero_image([star(c, c - 0.31, r)], size)
    torch.testing.assert_close(image, nonzero_image([star_outline(c, c - 0.31, r)], size), atol=1e-9, rtol=0)


def test_bow_tie_covers_both_opposite_lobes() -> None:
    """Opposite windings (+1 and -1) share the pixels along a shallow crossing; they must not cancel."""
    image = nonzero_image([BOW_TIE], 32)
    left, right = (nonzero_image([t], 32) for t in bow_tie_triangles())
    torch.testing.assert_close(image, left + right, atol=1e-9, rtol=0)


def test_nearly_coinciding_circles_match_supersampled_winding() -> None:
    circles = [circle(12.3, 11.9, 9.0), circle(12.36, 11.93, 9.0)]
    image = nonzero_image(circles, 24).numpy()
    reference = supersampled_nonzero(circles, 24)
    # the reference samples at 1/16 px: an edge crossing a pixel leaves it a few % off
    assert np.abs(image - reference).max() < 0.04
    assert float(image.max()) <= 1.0


def test_crowded_pixels_of_a_starburst_stay_within_the_band_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 hairline spokes crossing in one pixel: 60 pieces there, more than EXACT_PIECES, so it is cut
    at sampled bands (exact in x) instead of at its hundreds of crossings; against the exact cut."""
    centre = torch.tensor([8.37, 7.61], dtype=torch.float64)
    spokes = []
    for k in range(30):
        angle = math.pi * k / 30 + 0.013
        d = torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)
        n = torch.stack([-d[1], d[0]]) * 0.01
        spokes.append(torch.stack([centre - 7 * d - n, centre + 7 * d - n, centre + 7 * d + n, centre - 7 * d + n]))
    sampled = nonzero_image(spokes, 16)
    monkeypatch.setattr(self_overlap, "EXACT_PIECES", 1000)
    exact = nonzero_image(spokes, 16)
    assert 0 < (sampled - exact).abs().max() < 2e-3
    assert np.abs(exact.numpy() - supersampled_nonzero(spokes, 16, k=32)).max() < 0.02


def supersampled_nonzero(polygons: list[torch.Tensor], size: int, k: int = 16) -> np.ndarray:
    """(size, size) fraction of the k x k sample points per pixel with a nonzero winding number."""
    return (sampled_winding(polygons, size, k) != 0).mean((1, 3))


coordinate = st.floats(-1.0, 13.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=9), min_size=1, max_size=3),
       st.sampled_from([1e9, 4.0, 1.0]))
def test_random_self_intersecting_polygons_match_supersampled_winding(raw: list, grid: float) -> None:
    """Any loops, crossings and nestings; ``grid`` snaps vertices to pixel fractions (on grid lines)."""
    polygons = [torch.tensor(np.round(np.array(p) * grid) / grid, dtype=torch.float64) for p in raw]
    image = nonzero_image(polygons, 12).numpy()
    reference = supersampled_nonzero(polygons, 12, k=32)
    assert np.abs(image - reference).max() < 0.08  # sampling: 1/32 per edge crossing a pixel, a few edges
    perimeter = sum(float((p - p.roll(-1, 0)).norm(dim=1).sum()) for p in polygons)
    assert abs(image.sum() - reference.sum()) <= perimeter / 32  # at most half a sample row along every edge


def weighted_loss(make: callable, size: int, dtype: torch.dtype) -> callable:
    weights = torch.rand(size, size, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    return lambda value: (nonzero_image([p.to(dtype) for p in make(value)], size).double() * weights).sum()


CASES = {
    # two nearly coinciding same-direction circles (the second pokes out of the first by about 0.1 px):
    # the second's radius and shift
    "circles": (lambda v: [circle(16.3, 15.8, 10.0), circle(16.3 + v[1], 15.8 + 0.5 * v[1], 9.8 + v[0])], [0.0, 0.3], 32),
    # pentagram: one point moved
    "pentagram": (lambda v: [star(16.2, 15.7, 12.0) + torch.stack([torch.stack([v[0], v[1]]),
                                                                   *[torch.zeros(2, dtype=torch.float64)] * 4])],
                  [0.013, -0.021], 32),
    # bow tie: the crossing's end point moved
    "bow_tie": (lambda v: [BOW_TIE + torch.stack([torch.zeros(2, dtype=torch.float64), torch.stack([v[0], v[1]]),
                                                  *[torch.zeros(2, dtype=torch.float64)] * 2])], [0.011, 0.007], 32),
    # hairline star, about two pixels across
    "hairline_star": (lambda v: [star(4.2, 4.6, 1.3) + v], [0.0, 0.0], 8),
    # two same-direction triangles 0.3 px apart; the first's side of slope 1/2 passes through the pixel
    # corners (4, 4), (6, 5) ... (20, 12) until its first vertex moves
    "side_through_corners": (lambda v: [CORNER_TRIANGLE + torch.cat([v[None], torch.zeros(2, 2, dtype=v.dtype)]),
                                        CORNER_TRIANGLE + torch.tensor([0.3, 0.1], dtype=v.dtype)], [0.0, 0.0], 32),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-6), (torch.float32, 2e-3)])
def test_self_overlap_gradient_matches_central_differences(case: str, dtype: torch.dtype, tolerance: float) -> None:
    """float64 against central differences at rtol 1e-6; float32 (points rounded to float32) at 2e-3."""
    make, start, size = CASES[case]
    value = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    grad = torch.autograd.grad(weighted_loss(make, size, dtype)(value), value)[0]
    reference = weighted_loss(make, size, torch.float64)
    eps = 1e-5
    with torch.no_grad():
        fd = torch.stack([(reference(value + eps * e) - reference(value - eps * e)) / (2 * eps)
                          for e in torch.eye(2, dtype=torch.float64)])
    assert fd.abs().max() > 0.1  # the parameters move coverage
    torch.testing.assert_close(grad, fd, rtol=tolerance, atol=tolerance * float(fd.abs().max()))


def banded_reference(polygons: list[torch.Tensor], size: int) -> np.ndarray:
    """(size, size) nonzero coverage by the midpoint rule on SAMPLED_BANDS rows a pixel, each row
    sampled at 1024 points a pixel: what ``_banded_coverage`` computes exactly in x."""
    winding = sampled_winding(polygons, size, self_overlap.SAMPLED_BANDS, 1024)
    return (winding != 0).mean((1, 3))


def zigzag_in_one_pixel(teeth: int) -> torch.Tensor:
    """(2 * teeth + 2, 2) a comb inside pixel (5, 3) of 10 x 8: 2 * teeth + 2 pieces in that one cell,
    crossing each other (its teeth lean back over the previous ones)."""
    left, top = 5.07, 3.05
    x = left + 0.86 * torch.arange(teeth, dtype=torch.float64) / teeth
    tips = torch.stack([x + 0.08, torch.full_like(x, top + 0.9)], 1)
    roots = torch.stack([x, torch.full_like(x, top + 0.1)], 1)
    comb = torch.stack([roots, tips], 1).flatten(0, 1)
    return torch.cat([comb, torch.tensor([[left + 0.93, top + 0.92], [left, top + 0.93]], dtype=torch.float64)])


def test_cells_past_the_work_budget_take_the_midpoint_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell of ~1500 pieces (1500^2 pairs > CUT_PAIRS) is not cut at its end points (about 2.3 M pairs,
    a quadratic blow-up) but drawn on SAMPLED_BANDS bands: it matches the banded reference, and the
    cells around it stay exact."""
    comb = zigzag_in_one_pixel(750)
    assert len(comb) ** 2 > self_overlap.CUT_PAIRS
    banded = []
    original = self_overlap._banded_coverage
    monkeypatch.setattr(self_overlap, "_banded_coverage",
                        lambda seg, owner, *rest: banded.append(len(seg)) or original(seg, owner, *rest))
    image = nonzero_image([comb], 10).numpy()
    assert len(banded) == 1 and banded[0] ** 2 > self_overlap.CUT_PAIRS  # the comb's cell alone
    assert np.abs(image - banded_reference([comb], 10)).max() < 0.01
    assert 0.05 < image[3, 5] < 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=9), min_size=1, max_size=3))
def test_midpoint_rule_matches_banded_sampling(raw: list) -> None:
    """Every flagged cell sent to ``_banded_coverage`` (no work budget): there, the exact length where
    the winding is nonzero at each band's middle, against rows of 1024 samples at the same heights;
    the other cells as the exact render draws them."""
    polygons = [torch.tensor(np.round(np.array(p) * 4) / 4, dtype=torch.float64) for p in raw]
    flagged = []

    def recording(points, item, cell, width, height):
        cells = self_overlap.flag_cells(points, item, cell, width, height)
        flagged.append(cells.fragment_keys(item, cell, width, height))
        return cells

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coverage, "flag_cells", recording)
        exact = nonzero_image(polygons, 12).numpy().ravel()
        patch.setattr(self_overlap, "CUT_PAIRS", 0)
        banded = nonzero_image(polygons, 12).numpy().ravel()
    pixels = flagged[0].numpy() if flagged else np.zeros(0, dtype=np.int64)  # (none when nothing is drawn)
    other = np.setdiff1d(np.arange(144), pixels)
    np.testing.assert_array_equal(banded[other], exact[other])
    assert np.abs(banded[pixels] - banded_reference(polygons, 12).ravel()[pixels]).max(initial=0) < 0.01


@pytest.mark.parametrize("case", ["pentagram", "bow_tie", "hairline_star"])
def test_midpoint_rule_gradient_matches_central_differences(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(self_overlap, "CUT_PAIRS", 0)
    make, start, size = CASES[case]
    value = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    loss = weighted_loss(make, size, torch.float64)
    grad = torch.autograd.grad(loss(value), value)[0]
    eps = 1e-6
    with torch.no_grad():
        fd = torch.stack([(loss(value + eps * e) - loss(value - eps * e)) / (2 * eps)
                          for e in torch.eye(2, dtype=torch.float64)])
    assert fd.abs().max() > 0.1
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-6 * float(fd.abs().max()))
