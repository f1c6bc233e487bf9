"""mix-blend-mode (all 16 modes) and isolation on groups and elements: pixels against resvg-py,
gradients through a blended group, and round trips that keep the modes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg import load_svg
from clipvg.render.filters import blend
from clipvg.scene.tree import BLEND_MODES
from clipvg.svg import scene_to_svg_string
from resvg_compare import clipvg_on_white, resvg_on_white, share_different

SIZE = 40


def document(mode: str, isolate: bool = False) -> str:
    """Translucent shapes over a gradient backdrop; a group and a lone element blended with ``mode``."""
    isolation = ' style="isolation:isolate"' if isolate else ""
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 80 80">
 <linearGradient id="lg"><stop offset="0" stop-color="#fa2"/><stop offset="1" stop-color="#26c" stop-opacity="0.7"/>
 </linearGradient>
 <rect x="4" y="4" width="72" height="50" fill="url(#lg)"/>
 <g{isolation}><rect x="30" y="30" width="44" height="44" fill="#4a8" opacity="0.8"/>
  <g style="mix-blend-mode:{mode}"><circle cx="30" cy="30" r="22" fill="#c3e" fill-opacity="0.75"/>
   <rect x="10" y="44" width="30" height="20" fill="#ee3"/></g>
  <rect x="50" y="8" width="24" height="60" fill="#3cf" fill-opacity="0.6" style="mix-blend-mode:{mode}"/></g>
</svg>"""


def resvg_pixels(svg: str) -> np.ndarray:
    """resvg's render of ``svg`` at its own size (pixel for pixel: filters work on whole pixels), on white."""
    return resvg_on_white(svg, SIZE, SIZE, zoom=1)


def different(a: np.ndarray, b: np.ndarray) -> float:
    return share_different(a, b)


@pytest.mark.parametrize("mode", BLEND_MODES)
def test_blend_modes_draw_like_resvg(mode: str) -> None:
    svg = document(mode)
    scene = load_svg(svg)
    assert different(clipvg_on_white(scene), resvg_pixels(svg)) <= 0.01
    again = load_svg(scene_to_svg_string(scene))
    assert sorted(g.blend for g in again.tree.groups()) == sorted(g.blend for g in scene.tree.groups())
    assert different(clipvg_on_white(again), clipvg_on_white(scene)) <= 0.01


def test_isolation_keeps_blending_inside_the_group() -> None:
    svg = document("difference", isolate=True)
    scene = load_svg(svg)
    assert any(g.isolate for g in scene.tree.groups())
    assert different(clipvg_on_white(scene), resvg_pixels(svg)) <= 0.01
    assert different(clipvg_on_white(scene), clipvg_on_white(load_svg(document("difference")))) > 0.05  # isolation changes the picture
    assert any(g.isolate for g in load_svg(scene_to_svg_string(scene)).tree.groups())


@pytest.mark.parametrize("mode", ["multiply", "soft-light", "color-dodge", "hue", "luminosity"])
def test_blend_gradients_match_central_differences(mode: str) -> None:
    generator = torch.Generator().manual_seed(1)
    top = torch.rand(3, 6, generator=generator, dtype=torch.float64) * 0.8 + 0.1
    top_alpha = torch.rand(6, generator=generator, dtype=torch.float64) * 0.8 + 0.1
    bottom = torch.rand(3, 6, generator=generator, dtype=torch.float64) * 0.8 + 0.1
    bottom_alpha = torch.rand(6, generator=generator, dtype=torch.float64) * 0.8 + 0.1
    top, bottom = (top * top_alpha).requires_grad_(), (bottom * bottom_alpha).requires_grad_()

    def composite(t: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        color, alpha = blend(t, top_alpha, b, bottom_alpha, mode)
        return torch.cat([color, alpha[None]])

    assert torch.autograd.gradcheck(composite, (top, bottom), eps=1e-7, atol=1e-6)
