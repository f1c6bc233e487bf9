"""Stroke outlines: the edges the renderer fills for a stroke, and ``stroke_outline``'s loops of them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg import Path, Scene, Solid, Stroke, Subpath, render
from clipvg.render import stroke_outline
from clipvg.render.torch_backend import draw_items

STYLES = [("butt", "miter", None), ("round", "round", None), ("square", "bevel", None), ("round", "miter", (7.0, 3.0)),
          ("square", "round", (5.0, 2.0, 1.0, 2.0))]
# an open polyline with a sharp and a shallow corner, then a cubic and a quadratic (smooth inside)
POINTS = np.array([[6.3, 8.2], [30.4, 9.1], [12.2, 20.6], [20.1, 36.3], [40.2, 28.4], [52.7, 50.1],
                   [44.5, 58.9], [30.2, 56.3]])
DEGREES = [1, 1, 3, 2]


def stroked(cap: str, join: str, dashes: tuple[float, ...] | None, width: float = 3.3) -> Scene:
    subpath = Subpath(POINTS, DEGREES, closed=False)
    style = Stroke(Solid((0.0, 0.0, 0.0, 1.0)), width, cap=cap, join=join, dashes=dashes)
    return Scene.from_paths([Path([subpath], stroke=style)], 64, 64)


@pytest.mark.parametrize("cap, join, dashes", STYLES)
def test_outline_loops_filled_draw_the_stroke(cap: str, join: str, dashes: tuple[float, ...] | None) -> None:
    # the loops are closed walks over the edges the renderer fills: filled with nonzero they cover the
    # same pixels as the stroke, to rounding
    scene = stroked(cap, join, dashes)
    loops = stroke_outline(scene.path(0).subpaths, scene.path(0).stroke)
    assert all(len(loop) >= 3 for loop in loops)
    fill = Scene.from_paths([Path([Subpath(loop, [1] * len(loop), closed=True) for loop in loops],
                                  fill=Solid((0.0, 0.0, 0.0, 1.0)))], 64, 64)
    torch.testing.assert_close(render(fill)[..., 3], render(scene)[..., 3], atol=2e-5, rtol=0)


def test_pieces_drop_the_edges_they_share() -> None:
    # a smooth cubic with butt caps: its quads meet on the bisectors inside the curve and the edges
    # there cancel, so one loop is left: the two long sides and the two caps
    curve = Subpath(np.array([[8.3, 40.1], [20.2, 2.4], [44.6, 62.3], [56.1, 20.7]]), [3], closed=False)
    scene = Scene.from_paths([Path([curve], stroke=Stroke(Solid((0.0, 0.0, 0.0, 1.0)), 4.0))], 64, 64)
    with torch.no_grad():
        edges, items = draw_items(scene, torch.ones(2))
    edges = edges[items == 1]
    flattened = (len(edges) - 2) // 2
    assert flattened > 8 and len(edges) == 2 * flattened + 2
    loops = stroke_outline([curve], scene.path(0).stroke)
    assert len(loops) == 1 and len(loops[0]) == len(edges)


@pytest.mark.parametrize("cap, join, dashes", STYLES)
def test_stroke_point_gradient_matches_central_differences(cap: str, join: str, dashes: tuple[float, ...] | None) -> None:
    # float64, every point off the pixel grid; the shared edges the outline leaves out cancel in the
    # gradient as they do in the value. Tolerance as in test_render_gradients (half of it): near the
    # join into the cubic the analytic derivative is 2e-4 off (the same before those edges were left out)
    scene = stroked(cap, join, dashes)
    for name in ("points", "stroke_color", "stroke_width", "fill_color", "opacity", "miter_limit", "dash_array",
                 "dash_offset"):
        setattr(scene, name, getattr(scene, name).double())
    weights = torch.rand(64, 64, generator=torch.Generator().manual_seed(2), dtype=torch.float64)

    def loss(points: torch.Tensor) -> torch.Tensor:
        scene.points = points
        return (render(scene)[..., 3] * weights).sum()

    points = scene.points.detach().clone().requires_grad_(True)
    grad, = torch.autograd.grad(loss(points), points)
    eps = 1e-6
    numeric = torch.zeros_like(grad)
    with torch.no_grad():
        for k in range(len(points)):
            for axis in range(2):
                step = torch.zeros_like(points)
                step[k, axis] = eps
                numeric[k, axis] = (loss(points + step) - loss(points - step)) / (2 * eps)
    torch.testing.assert_close(grad, numeric, rtol=1e-3, atol=1e-3 * numeric.abs().max().item())


def test_outline_loops_keep_a_folds_hole() -> None:
    # a stroke folding back on itself (test_svg_stroke_joins.HOOK): some loops run the other way, and
    # filled together with nonzero they leave the hole the renderer (and browsers) leave
    from clipvg import load_svg
    from test_svg_stroke_joins import HOOK

    scene = load_svg(HOOK.format(size=64, view="6 198 10 10"))
    loops = stroke_outline(scene.path(0).subpaths, scene.path(0).stroke)
    fill = Scene.from_paths([Path([Subpath(loop, [1] * len(loop), closed=True) for loop in loops],
                                  fill=Solid((0.0, 0.0, 0.0, 1.0)))], scene.width, scene.height)
    drawn, filled = render(scene)[..., 3], render(fill)[..., 3]
    torch.testing.assert_close(filled, drawn, atol=2e-5, rtol=0)
    assert float(drawn[34, 35]) == 0.0 and float(drawn[34, 24]) > 0.999  # in the hole; in the stroke beside it
