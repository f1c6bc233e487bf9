"""The dense floor (the lowest item's inside drawn as one layer, not as fragments) against the
general path in which every covered pixel is a fragment: pixels and gradients equal in float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import clipvg.render.coverage as coverage
import clipvg.render.torch_backend as torch_backend
from clipvg import GradientStops, LinearGradient, Path, Scene, Solid, Stroke, Subpath, render
from clipvg.render.coverage import rasterize
from test_render_gradients import FLOAT_FIELDS

SIZE = 40
GRADIENT_FIELDS = ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "gradient_coords", "stop_colors")


def _blob(rng: np.random.Generator) -> Subpath:
    centre = rng.uniform(4, SIZE - 4, 2)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 5))
    radii = rng.uniform(2, 12, 5)
    return Subpath.polygon(centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None])


def _bottom(kind: str) -> Path:
    # past the canvas by 1 px: a corner exactly on the canvas's border is where the gradient of the renderer's
    # clamp to the canvas is a choice (torch 2.11 and 2.14 choose differently, and the two paths did under 2.11)
    full = Subpath.polygon([[-1, -1], [SIZE + 1, -1], [SIZE + 1, SIZE + 1], [-1, SIZE + 1]])
    if kind == "solid":
        return Path([full], fill=Solid((0.95, 0.9, 0.8, 1.0)))
    if kind == "translucent":
        return Path([full], fill=Solid((0.2, 0.5, 0.7, 0.6)), opacity=0.9)
    if kind == "evenodd":  # a frame: the canvas less an off-grid hole, which shows what is below
        hole = Subpath.polygon([[9.3, 11.7], [30.6, 8.2], [27.4, 31.1], [12.2, 28.9]])
        return Path([full, hole], fill=Solid((0.3, 0.6, 0.2, 1.0)), fill_rule="evenodd")
    if kind == "inset":  # off the pixel grid, with a stroke of its own above its fill
        return Path([Subpath.polygon([[2.4, 3.7], [37.2, 1.9], [38.6, 36.3], [1.7, 38.8]])],
                    fill=Solid((0.9, 0.3, 0.3, 1.0)), stroke=Stroke(Solid((0.1, 0.1, 0.4, 0.8)), width=1.7))
    stops = GradientStops([0.1, 0.6, 0.95], [[0.9, 0.2, 0.1, 1.0], [0.2, 0.8, 0.3, 0.7], [0.1, 0.2, 0.9, 1.0]])
    return Path([full], fill=LinearGradient((3.0, 5.0), (34.0, 29.0), stops))


def _scene(kind: str, seed: int) -> Scene:
    rng = np.random.default_rng(seed)
    paths = [_bottom(kind)]
    for k in range(6):
        alpha = 1.0 if k % 2 else rng.uniform(0.4, 0.9)
        stroke = Stroke(Solid((*rng.uniform(0, 1, 3), 1.0)), width=rng.uniform(0.6, 3)) if k % 3 == 0 else None
        paths.append(Path([_blob(rng)], fill=Solid((*rng.uniform(0, 1, 3), alpha)), stroke=stroke,
                          fill_rule="evenodd" if k == 4 else "nonzero"))
    scene = Scene.from_paths(paths, SIZE, SIZE)
    for name in FLOAT_FIELDS:
        setattr(scene, name, getattr(scene, name).double())
    return scene


def _render_and_gradients(kind: str, seed: int, dense: bool, monkeypatch: pytest.MonkeyPatch
                          ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    monkeypatch.setattr(torch_backend, "DENSE_FLOOR", dense)
    # seed 0: the floor summed over the cells its pieces touch only; 1: over its whole rows
    monkeypatch.setattr(coverage, "FLOOR_SPLIT", 0 if seed == 0 else 10 ** 9)
    if seed == 1:  # chunks of a few paths, each with its own floor over the chunks below, recomputed in backward
        monkeypatch.setattr(torch_backend, "CHUNK_PIXELS", 600)
    scene = _scene(kind, seed)
    tensors = [getattr(scene, name).requires_grad_(True) for name in GRADIENT_FIELDS]
    image = render(scene, background=(1.0, 1.0, 1.0))
    weights = torch.rand(image.shape, generator=torch.Generator().manual_seed(seed), dtype=image.dtype)
    (image * weights).sum().backward()
    return image.detach(), [tensor.grad for tensor in tensors]


@pytest.mark.parametrize("kind", ["solid", "translucent", "evenodd", "inset", "gradient"])
@pytest.mark.parametrize("seed", [0, 1])  # 1: in chunks
def test_dense_floor_equals_fragments(kind: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    image, gradients = _render_and_gradients(kind, seed, True, monkeypatch)
    reference, reference_gradients = _render_and_gradients(kind, seed, False, monkeypatch)
    torch.testing.assert_close(image, reference, rtol=0, atol=1e-9)
    for name, gradient, expected in zip(GRADIENT_FIELDS, gradients, reference_gradients):
        if expected is None:  # a field the scene does not use (no gradient paint)
            assert gradient is None or not gradient.any(), name
            continue
        assert expected.abs().max() > 1e-3 or name == "gradient_coords" and kind != "gradient", name
        # 1e-8 of the largest: the general path's own error is ~5e-9 there (its per-pixel running sums
        # carry ~1e-16 of rounding from pixel to pixel, which an opaque fragment's alpha gradient
        # divides by 1e-6); points agree to 1e-9
        tolerance = (1e-9 if name == "points" else 1e-8) * max(1.0, expected.abs().max().item())
        torch.testing.assert_close(gradient, expected, rtol=0, atol=tolerance, msg=lambda message: f"{name}: {message}")


@pytest.mark.parametrize("split", [0, 10 ** 9])  # summed over the touched cells only / over whole rows
def test_floor_is_the_untouched_inside_of_the_lowest_item(split: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A canvas-sized square under a smaller one: its inside, less the cells its side edges touch
    (columns 0 and 1 right of its left edge, and column W - 1, where its right edge on the canvas
    border has a half for the central derivative), is the floor and no fragment; the square above is
    all fragments, as without the floor."""
    monkeypatch.setattr(coverage, "FLOOR_SPLIT", split)
    width, height = 12, 9
    square = torch.tensor([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]], dtype=torch.float64)
    small = torch.tensor([[3.5, 2.5], [7.5, 2.5], [7.5, 6.5], [3.5, 6.5]], dtype=torch.float64)
    edges = torch.cat([torch.stack([loop, loop.roll(-1, 0)], 1) for loop in (square, small)])
    items = torch.tensor([0] * 4 + [1] * 4)
    fragments = rasterize(edges, items, torch.zeros(2, dtype=torch.bool), width, height, floor=True)
    floor = fragments.floor.view(height, width)
    assert fragments.floor_item == 0
    assert floor[:, 2:-1].all() and not floor[:, :2].any() and not floor[:, -1].any()
    assert not floor.flatten()[fragments.pixel[fragments.item == 0]].any()
    assert int((fragments.item == 0).sum()) == 3 * height
    everything = rasterize(edges, items, torch.zeros(2, dtype=torch.bool), width, height)
    assert fragments.floor is not None and everything.floor is None
    torch.testing.assert_close(fragments.coverage[fragments.item == 1], everything.coverage[everything.item == 1])


@pytest.mark.parametrize("split", [0, 10 ** 9])
def test_even_odd_floor_keeps_cells_a_horizontal_edge_cuts(split: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """An even-odd item's cell that no sub-scanline crossing touches can still be cut by a horizontal
    edge lying between two sub-scanlines (Papirus' vkaudiosaver logo: whole runs of row 71 came out as
    floor, covered, where 3 of 16 sub-scanlines are inside): such cells stay fragments with their share,
    and the floor holds only cells every sub-scanline covers."""
    monkeypatch.setattr(coverage, "FLOOR_SPLIT", split)
    width, height = 12, 9
    # a notched shape: the top edge at y = 3.8 runs level across the row, under a roof at y = 1.0
    loop = torch.tensor([[1.0, 1.0], [11.0, 1.0], [11.0, 8.0], [1.0, 8.0], [1.0, 5.0], [9.3, 5.0], [9.3, 3.8],
                         [1.0, 3.8]], dtype=torch.float64)
    edges = torch.stack([loop, loop.roll(-1, 0)], 1)
    items, evenodd = torch.zeros(len(loop), dtype=torch.long), torch.ones(1, dtype=torch.bool)
    fragments = rasterize(edges, items, evenodd, width, height, floor=True)
    everything = rasterize(edges, items, evenodd, width, height)
    coverage_map = torch.zeros(width * height, dtype=torch.float64)
    coverage_map[fragments.pixel] = fragments.coverage
    coverage_map[fragments.floor] = 1.0
    expected = torch.zeros(width * height, dtype=torch.float64)
    expected[everything.pixel] = everything.coverage
    torch.testing.assert_close(coverage_map, expected, rtol=0, atol=1e-12)
    assert 0 < expected.view(height, width)[3, 4] < 1 and fragments.floor.view(height, width)[1, 4]
