"""Renderer gradients against central finite differences (float64, small scenes)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg import GradientStops, LinearGradient, Path, RadialGradient, Scene, Solid, Stroke, Subpath, render

FLOAT_FIELDS = ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "miter_limit",
                "gradient_coords", "gradient_transform", "stop_offsets", "stop_colors")


def small_scene() -> Scene:
    stops = GradientStops([0.0, 0.45, 1.0], [[0.9, 0.1, 0.1, 0.97], [0.2, 0.8, 0.3, 0.9], [0.1, 0.2, 0.9, 0.95]])
    # offsets away from 0 and 1: padded pixels sit exactly at t = 0 or 1, a kink of the colour
    inner_stops = GradientStops([0.1, 0.5, 0.9], [[1, 1, 0.2, 0.9], [0.2, 0.5, 0.5, 0.8], [0.3, 0.1, 0.6, 0.95]])
    paths = [
        Path([Subpath(np.array([[3.3, 4.1], [14.2, 1.7], [22.6, 9.8], [19.1, 20.4], [6.2, 17.3]]), [3, 1, 1])],
             fill=Solid((0.8, 0.4, 0.2, 0.85))),
        Path([Subpath.polygon([[10.4, 8.2], [27.7, 12.9], [15.3, 27.1]])],
             fill=LinearGradient((9.0, 9.0), (26.0, 24.0), stops), opacity=0.9),
        Path([Subpath(np.array([[2.6, 27.4], [12.3, 13.1], [29.2, 25.6]]), [2], closed=False)],
             stroke=Stroke(Solid((0.1, 0.3, 0.7, 0.8)), width=2.7, cap="round", join="round")),
        Path([Subpath.polygon([[18.3, 2.2], [29.4, 3.1], [28.2, 10.6]])],
             fill=RadialGradient((24.0, 5.0), 6.5, inner_stops, focal=(22.5, 4.5)), opacity=0.95,
             stroke=Stroke(Solid((0.0, 0.0, 0.0, 0.6)), width=1.3, join="miter")),
    ]
    scene = Scene.from_paths(paths, 32, 32)
    for name in FLOAT_FIELDS:
        setattr(scene, name, getattr(scene, name).double())
    return scene


def axis_aligned_scene() -> Scene:
    """Horizontal and vertical edges (pixel-traced vectorizations are full of them)."""
    paths = [Path([Subpath.polygon([[4.3, 5.2], [20.6, 5.2], [20.6, 17.7], [4.3, 17.7]])], fill=Solid((0.9, 0.2, 0.1, 0.9))),
             Path([Subpath.polygon([[11.35, 9.3], [27.3, 9.3], [27.3, 26.2], [11.35, 26.2]])],
                  stroke=Stroke(Solid((0.1, 0.2, 0.8, 0.9)), width=2.2, join="miter"))]
    scene = Scene.from_paths(paths, 32, 32)
    for name in FLOAT_FIELDS:
        setattr(scene, name, getattr(scene, name).double())
    return scene


def objective(scene: Scene, weights: torch.Tensor) -> torch.Tensor:
    return (render(scene, background=(1.0, 1.0, 1.0)) * weights).sum()


@pytest.mark.parametrize("make_scene, field", [
    *[(small_scene, f) for f in ("points", "fill_color", "stroke_color", "stroke_width", "opacity",
                                 "gradient_coords", "stop_colors", "stop_offsets")],
    (axis_aligned_scene, "points"), (axis_aligned_scene, "stroke_width")])
def test_gradient_matches_central_differences(make_scene, field: str) -> None:
    scene = make_scene()
    weights = torch.rand(32, 32, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    tensor = getattr(scene, field)
    tensor.requires_grad_(True)
    objective(scene, weights).backward()
    analytic = tensor.grad.flatten().clone()
    numeric = torch.zeros_like(analytic)
    eps = 1e-5
    flat = tensor.data.view(-1)
    with torch.no_grad():
        for k in range(len(flat)):
            original = flat[k].item()
            flat[k] = original + eps
            plus = objective(scene, weights)
            flat[k] = original - eps
            minus = objective(scene, weights)
            flat[k] = original
            numeric[k] = (plus - minus) / (2 * eps)
    assert analytic.abs().max() > 1e-3, "the objective should depend on this field"
    torch.testing.assert_close(analytic, numeric, rtol=2e-3, atol=2e-3 * numeric.abs().max().item())


def test_gradients_reach_points_of_every_path() -> None:
    scene = Scene.from_paths(small_scene().paths(), 32, 32)
    points, colors, _stroke_colors, _stops = scene.parameters(points=True, colors=True)
    render(scene, background=(1, 1, 1))[..., :3].mean().backward()
    per_path = torch.zeros(scene.num_paths, dtype=torch.float64).index_add(
        0, scene.point_path_index(), points.grad.abs().sum(1).double())
    assert bool((per_path > 0).all())
    solid_fill = scene.has_fill & (scene.fill_gradient < 0)
    assert bool((colors.grad[solid_fill].abs().sum(1) > 0).all())


def test_opaque_alpha_gradient_sees_what_it_hides() -> None:
    """At alpha = 1 (the usual start of an edit) the gradient equals the one-sided difference."""
    under = Path([Subpath.polygon([[0, 0], [16, 0], [16, 16], [0, 16]])], fill=Solid((0.0, 0.0, 1.0, 1.0)))
    over = Path([Subpath.polygon([[4, 4], [12, 4], [12, 12], [4, 12]])], fill=Solid((1.0, 0.0, 0.0, 1.0)))
    scene = Scene.from_paths([under, over], 16, 16)
    scene.fill_color = scene.fill_color.double()
    scene.points = scene.points.double()
    scene.fill_color.requires_grad_(True)
    render(scene)[..., 2].sum().backward()
    with torch.no_grad():
        scene.fill_color[1, 3] = 1 - 1e-2
        lowered = render(scene)[..., 2].sum()
        scene.fill_color[1, 3] = 1.0
        full = render(scene)[..., 2].sum()
    one_sided = ((full - lowered) / 1e-2).item()
    assert one_sided < -60  # lowering the red square's alpha reveals 64 px of blue
    assert scene.fill_color.grad[1, 3].item() == pytest.approx(one_sided, rel=1e-3)


def test_edges_on_pixel_boundaries_and_saturated_colours_keep_their_gradient() -> None:
    """Pixel-traced vectorizations put edges on integer coordinates, and clamping puts colours at
    exactly 0 or 1: neither may freeze a parameter (a zero gradient would never move again)."""
    square = Path([Subpath.polygon([[5, 5], [20, 5], [20, 20], [5, 20]])], fill=Solid((1.0, 0.0, 1.0, 1.0)))
    scene = Scene.from_paths([square], 32, 32)
    points, colors = scene.parameters(points=True, colors=True)[:2]
    weights = torch.rand(32, 32, 4, generator=torch.Generator().manual_seed(0))
    (render(scene, background=(0.5, 0.5, 0.5)) * weights).sum().backward()
    assert bool((points.grad.abs() > 0.5).all()), points.grad
    assert bool((colors.grad[0, :3].abs() > 1).all()), colors.grad


def test_float32_gradients_of_a_vectorized_photo_match_float64() -> None:
    """On a real scene (long prefix sums over ~10^5 cells and fragments), float32 rendering keeps its
    gradients: the prefix sums and their backward run in float64, and no row's rounding leaks into
    the rows after it. Moved off the pixel grid, where gradients are one-sided."""
    import skimage.data
    import vectorize

    scene = vectorize.vectorize(skimage.data.astronaut()[::4, ::4], rounds=(10, 30))
    scene.points = scene.points + torch.tensor([0.37, 0.21])
    grads = {}
    for dtype in (torch.float32, torch.float64):
        copy = scene.clone()
        for name in FLOAT_FIELDS:
            setattr(copy, name, getattr(copy, name).to(dtype))
        params = copy.parameters(points=True, colors=True)
        image = render(copy, background=(1.0, 1.0, 1.0))[..., :3]
        weights = torch.sin(torch.arange(image.numel(), dtype=dtype)).reshape(image.shape)
        (image * weights).sum().backward()
        grads[dtype] = [p.grad.double() for p in params]
    for single, double in zip(grads[torch.float32], grads[torch.float64]):
        assert (single - double).norm() <= 1e-3 * double.norm()
