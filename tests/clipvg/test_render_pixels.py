"""Renderer pixels against resvg on hand-written SVGs: PSNR >= 40 dB each.

resvg anti-aliases with a coarse supersampling grid, so at 1x it is itself about 34-50 dB away from
the exact box-filtered image. We compare (a) our 1x render with resvg rendered at 8x and
box-filtered down (a near-exact reference), and (b) our 4x render with resvg at 4x.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import resvg_py
from PIL import Image

import clipvg
from render_samples import RENDER_SAMPLES
from svg_renderers import psnr
from svg_samples import FAITHFUL

SAMPLES = {**FAITHFUL, **RENDER_SAMPLES}


def resvg_rgba(svg: str, zoom: int) -> np.ndarray:
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255


def on_white(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., :3] * rgba[..., 3:] + 1 - rgba[..., 3:]


def box_filter(image: np.ndarray, k: int) -> np.ndarray:
    h, w = image.shape[0] // k, image.shape[1] // k
    return image.reshape(h, k, w, k, -1).mean((1, 3))


def ours(svg: str, zoom: int, background=(1.0, 1.0, 1.0)) -> np.ndarray:
    scene = clipvg.load_svg(svg)
    width, height = round(scene.width) * zoom, round(scene.height) * zoom
    return clipvg.render(scene, width, height, background=background).numpy().astype(np.float64)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_matches_supersampled_resvg(name: str) -> None:
    # Premultiplied colour is what a box filter averages; compositing on white then filtering is the same.
    reference = box_filter(on_white(resvg_rgba(SAMPLES[name], 8)), 8)
    assert psnr(ours(SAMPLES[name], 1)[..., :3], reference) >= 40


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_matches_resvg_at_4x(name: str) -> None:
    assert psnr(ours(SAMPLES[name], 4)[..., :3], on_white(resvg_rgba(SAMPLES[name], 4))) >= 40


@pytest.mark.parametrize("name", ["shapes", "opacity_stack", "radial_spread", "huge"])
def test_transparent_background_alpha_matches(name: str) -> None:
    reference = resvg_rgba(SAMPLES[name], 8)
    alpha = box_filter(reference[..., 3:], 8)[..., 0]
    image = ours(SAMPLES[name], 1, background=None)
    assert psnr(image[..., 3], alpha) >= 40
    premultiplied = box_filter(reference[..., :3] * reference[..., 3:], 8)
    assert psnr(image[..., :3] * image[..., 3:], premultiplied) >= 40


def test_fill_rules_differ_where_they_should() -> None:
    image = ours(RENDER_SAMPLES["fill_rules"], 1)
    # centre of the nonzero star is filled, centre of the evenodd star is not
    assert image[17, 16, 1] < 0.1 and image[17, 48, 1] > 0.9
    # a same-direction inner square under nonzero stays filled; a reversed one makes a hole
    assert image[48, 16, 0] < 0.1 and image[48, 48, 0] > 0.9
