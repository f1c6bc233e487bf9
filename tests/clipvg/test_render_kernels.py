"""The compiled CPU kernels (clipvg.render.kernels) against the torch path that CUDA runs: pixels and
gradients of whole renders (filled, stroked, even-odd, gradient, translucent; one chunk and several) in
float64 and float32, and each kernel's values on random fragments."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
import torch

import clipvg.render.coverage as coverage
import clipvg.render.kernels as kernels
import clipvg.render.self_overlap as self_overlap
import clipvg.render.torch_backend as torch_backend
import test_render_dense_floor as dense_floor
from clipvg import Scene
from clipvg.render.composite import composite
from test_render_dense_floor import GRADIENT_FIELDS, _scene
from test_render_gradients import FLOAT_FIELDS


def _scene_in(dtype: torch.dtype) -> Callable[[str, int], Scene]:
    def scene(kind: str, seed: int) -> Scene:
        drawn = _scene(kind, seed)
        for name in FLOAT_FIELDS:
            setattr(drawn, name, getattr(drawn, name).to(dtype))
        return drawn
    return scene


def _render_and_gradients(kind: str, seed: int, dtype: torch.dtype, compiled: bool, monkeypatch: pytest.MonkeyPatch
                          ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """test_render_dense_floor's render of scene ``kind`` (with the floor; seed 1: in chunks, recomputed in
    backward) in ``dtype``, by the kernels or by the torch path."""
    monkeypatch.setattr(kernels, "COMPILED", compiled)
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(dense_floor, "_scene", _scene_in(dtype))
    return dense_floor._render_and_gradients(kind, seed, True, monkeypatch)


@pytest.mark.parametrize("kind", ["solid", "translucent", "evenodd", "inset", "gradient"])
@pytest.mark.parametrize("seed", [0, 1])  # 1: in chunks
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_compiled_render_equals_torch_path(kind: str, seed: int, dtype: torch.dtype,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    image, gradients = _render_and_gradients(kind, seed, dtype, True, monkeypatch)
    reference, reference_gradients = _render_and_gradients(kind, seed, dtype, False, monkeypatch)
    # float64: the kernels sum each pixel's fragments alone, the torch path in running sums over the
    # canvas (~1e-16 carried from pixel to pixel, divided by 1e-6 under an opaque fragment: over the 1600
    # pixels ~4e-9 as a random walk, 1.3e-9 seen on one CPU where 1e-9 was allowed); float32: a few units
    # of its last place
    pixel_tolerance, gradient_tolerance = (1e-12, 1e-8) if dtype == torch.float64 else (1e-6, 1e-5)
    torch.testing.assert_close(image, reference, rtol=0, atol=pixel_tolerance)
    for name, gradient, expected in zip(GRADIENT_FIELDS, gradients, reference_gradients):
        if expected is None:
            assert gradient is None or not gradient.any(), name
            continue
        assert expected.abs().max() > 1e-3 or name == "gradient_coords" and kind != "gradient", name
        tolerance = gradient_tolerance * max(1.0, expected.abs().max().item())
        torch.testing.assert_close(gradient, expected, rtol=0, atol=tolerance, msg=lambda message: f"{name}: {message}")


def _fragments(seed: int, num_pixels: int = 300, count: int = 2000) -> tuple[torch.Tensor, ...]:
    """Random fragments sorted by pixel then item: pixel (F,), item (F,), alpha (F,) float64 with
    some opaque, rgb (F, 3)."""
    generator = torch.Generator().manual_seed(seed)
    pixel = torch.randint(0, num_pixels, (count,), generator=generator)
    item = torch.randint(0, 40, (count,), generator=generator)
    order = torch.argsort(pixel * 100 + item)
    alpha = torch.rand(count, generator=generator, dtype=torch.float64)
    alpha = torch.where(torch.rand(count, generator=generator) < 0.3, torch.ones_like(alpha), alpha)
    return pixel[order], item[order], alpha, torch.rand(count, 3, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(3))
def test_cull_order_equals_torch(seed: int) -> None:
    pixel, item, alpha, _ = _fragments(seed)
    opaque = alpha >= 1
    order, second = kernels.cull_order(pixel, item, opaque, 310)
    expected_order, expected_second = torch_backend._cull_order(pixel, item, opaque, 310)
    assert torch.equal(order, expected_order) and torch.equal(second, expected_second)
    assert (second >= 0).any() and len(order) < len(pixel)  # something is culled


@pytest.mark.parametrize("seed", range(3))
def test_composite_kernels_equal_torch(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pixel, _, alpha, rgb = _fragments(seed)
    grad_color = torch.rand(310, 3, generator=torch.Generator().manual_seed(seed + 10), dtype=torch.float64)
    results = []
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "COMPILED", compiled)
        a, c = alpha.clone().requires_grad_(True), rgb.clone().requires_grad_(True)
        color, coverage_ = composite(pixel, a, c, 310)
        ((color * grad_color).sum() + (coverage_ * grad_color[:, 0]).sum()).backward()
        results.append((color.detach(), coverage_.detach(), a.grad, c.grad))
    # 1e-8 of the largest: the torch path's running sums carry ~1e-16 from pixel to pixel, which an opaque
    # fragment's alpha gradient divides by 1e-6 (as in test_render_dense_floor)
    for value, expected in zip(*results):
        torch.testing.assert_close(value, expected, rtol=0, atol=1e-8 * max(1.0, expected.abs().max().item()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_grid_breaks_equal_torch(dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch) -> None:
    """The breaks at the grid, in order along each edge, and split_at_grid's pieces: the same as the torch
    path's, bit for bit, for edges off the grid and snapped to half pixels (on grid lines, through pixel
    corners, axis-aligned, of length 0), partly outside a 12 x 10 canvas."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)
    generator = torch.Generator().manual_seed(0)
    random = torch.rand(400, 2, 2, generator=generator, dtype=torch.float64) * 16 - 2
    edges = torch.cat([random, torch.round(random * 2) / 2]).to(dtype)
    a, b = edges.unbind(1)
    edge, line, axis, crossing, kind = kernels.grid_breaks(a, b, 12, 10)
    t, expected_edge, expected_vertex, expected_kind = coverage._ordered_breaks(a, b, 12, 10)
    assert torch.equal(edge, expected_edge) and torch.equal(kind, expected_kind)
    assert torch.equal(kind == 0, expected_vertex)
    assert torch.equal(coverage._break_parameter(a[edge], b[edge], line, axis, crossing), t)
    item = torch.arange(len(edges)) // 7
    pieces = coverage.split_at_grid(edges, item, 12, 10)
    monkeypatch.setattr(kernels, "COMPILED", False)
    for value, expected in zip(pieces, coverage.split_at_grid(edges, item, 12, 10)):
        assert torch.equal(value, expected)
    assert pieces[4].any()  # some edges pass through pixel corners


@pytest.mark.parametrize("per_band", [5, 60])  # 60: past the kernel's insertion sort, its merge sort
def test_covered_steps_equal_torch(per_band: int) -> None:
    """Each crossing's step and each band's winding change: the same as the torch sweep's, for crossings in
    shuffled order, with windings entering at -2..2, many at equal x, some on the cell's sides."""
    generator = torch.Generator().manual_seed(per_band)
    bands = 300
    pair_band = torch.randperm(bands * per_band, generator=generator) % bands
    col = torch.randint(0, 40, (bands,), generator=generator).double()
    offset = torch.randint(0, 11, (len(pair_band),), generator=generator).double() / 10  # tenths: ties
    x = col.index_select(0, pair_band) + offset
    direction = torch.where(torch.rand(len(pair_band), generator=generator) < 0.5, -1, 1)
    entering = torch.randint(-2, 3, (bands,), generator=generator)
    step, total = kernels.covered_steps(x, col, pair_band, direction, entering)
    expected_step, expected_total = self_overlap._covered_steps(x, col, pair_band, direction, entering)
    assert torch.equal(total, expected_total)
    # tied crossings may be swept in either order: their steps then differ, never the length they cover
    spans = torch.zeros(bands, dtype=torch.float64).index_add(0, pair_band, x * step)
    expected = torch.zeros(bands, dtype=torch.float64).index_add(0, pair_band, x * expected_step)
    torch.testing.assert_close(spans, expected, rtol=0, atol=1e-12)
    assert (step != 0).any() and (step == expected_step).float().mean() > 0.5


def test_a_tiny_render_stays_in_torch_and_a_large_one_takes_the_kernels() -> None:
    """numba (~1 s and ~120 MB to load) is imported only when a render is large enough to use it."""
    script = """
import sys
from clipvg import load_svg, render
svg = '<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{0}"><circle cx="9" cy="9" r="7" fill="red"/></svg>'
render(load_svg(svg.format(24)), samples=1)
print('numba' in sys.modules)
render(load_svg(svg.format(256)), samples=1)
print('numba' in sys.modules)
"""
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["False", "True"]
