"""clipvg.samples.textures_on_grid: which textures keep a supersampled export at one sample. A pattern tile of a
whole number of output px placed at whole px, and an image resampled bicubically, draw the same at any
resolution, only finer; a tile off the pixel grid (its texture holds a whole number of texels, as in resvg),
a turned tile, a nested pattern and a nearest-texel image do not."""
from __future__ import annotations

import pytest

from clipvg.render.pattern import MAX_TILE_TEXELS
from clipvg.samples import MAX_TILE_TEXELS as SAMPLES_MAX_TILE_TEXELS
from clipvg.samples import textures_on_grid
from clipvg.svg import load_svg

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="16"><defs>{defs}</defs>{body}</svg>'
RECT = '<rect x="1.3" y="1.3" width="20" height="12" fill="url(#p)"/>'
PIXEL = ('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx'
         '0gAAAABJRU5ErkJggg==')


def _pattern(attributes: str, content: str = '<rect width="2.5" height="1.5"/>') -> str:
    return f'<pattern id="p" patternUnits="userSpaceOnUse" {attributes}>{content}</pattern>'


@pytest.mark.parametrize("attributes, scale, on_grid", [
    ('width="5" height="3"', 4.0, False),  # 20 x 12 px at whole px
    ('width="5" height="3"', 1.5, True),  # 7.5 x 4.5 px: resvg's texture holds 8 x 5 texels
    ('width="5" height="3" x="0.25"', 4.0, False),  # moved by a whole px
    ('width="5" height="3" x="0.3"', 4.0, True),  # moved by 1.2 px
    ('width="5" height="3" patternTransform="rotate(30)"', 4.0, True),
    ('width="5" height="3" patternTransform="scale(1.5)"', 4.0, False),  # 30 x 18 px
])
def test_a_pattern_is_supersampled_only_on_the_pixel_grid(attributes, scale, on_grid):
    scene = load_svg(SVG.format(defs=_pattern(attributes), body=RECT))
    assert textures_on_grid(scene.tree, scale, 2) is on_grid


def test_a_nested_pattern_and_a_huge_tile_take_one_sample():
    inner = ('<pattern id="q" patternUnits="userSpaceOnUse" width="1" height="1"><rect width="0.5" height="0.5"/>'
             '</pattern>')
    nested = _pattern('width="5" height="3"', f'<defs>{inner}</defs><rect width="5" height="3" fill="url(#q)"/>')
    assert textures_on_grid(load_svg(SVG.format(defs=nested, body=RECT)).tree, 4.0, 2)
    scene = load_svg(SVG.format(defs=_pattern('width="5" height="2.5"'), body=RECT))
    # 4096 x 2048 texels; 8192 x 4096 at 2 x 2 would pass the texel cap: that tile is drawn coarser, off the grid
    assert not textures_on_grid(scene.tree, 819.2, 1) and textures_on_grid(scene.tree, 819.2, 2)
    assert SAMPLES_MAX_TILE_TEXELS == MAX_TILE_TEXELS


@pytest.mark.parametrize("rendering, on_grid", [("auto", False), ("optimizeQuality", False), ("pixelated", True),
                                                ("optimizeSpeed", True)])
def test_an_image_is_supersampled_when_resampled_smoothly(rendering, on_grid):
    body = f'<image width="4" height="4" x="3.3" image-rendering="{rendering}" href="{PIXEL}"/>'
    scene = load_svg(SVG.format(defs="", body=body))
    assert textures_on_grid(scene.tree, 4.0, 2) is on_grid


def test_a_scene_without_textures_is_not_held_to_the_grid():
    scene = load_svg(SVG.format(defs="", body='<rect x="1.3" y="1.3" width="20" height="12" fill="#06f"/>'))
    assert not textures_on_grid(scene.tree, 3.7, 4)
