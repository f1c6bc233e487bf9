"""resvg (resvg-py) as the reference for SVG pixel tests: 4x supersampled and box-filtered, on white."""
from __future__ import annotations

import io
import warnings

import numpy as np
import resvg_py
from PIL import Image

from clipvg import load_svg, render
from svg_renderers import psnr


def resvg_on_white(svg: str, width: int, height: int, zoom: int = 4, resources_dir: str | None = None) -> np.ndarray:
    """(height, width, 3) float64: resvg's render of ``svg`` at ``zoom`` x, averaged down, on white."""
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom, resources_dir=resources_dir))
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255
    on_white = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    return on_white.reshape(height, zoom, width, zoom, 3).mean((1, 3))


def clipvg_on_white(scene) -> np.ndarray:
    """(H, W, 3) float64: clipvg's render of ``scene`` at its canvas size, on white."""
    return render(scene, background=(1, 1, 1))[..., :3].detach().double().numpy()


def share_different(a: np.ndarray, b: np.ndarray, tolerance: float = 16 / 255) -> float:
    """The share of pixels of two (H, W, 3) images where a channel differs by more than ``tolerance``
    (the conformance rule counts a file as drawn alike when under 1 %)."""
    return float((np.abs(a - b).max(-1) > tolerance).mean())


def assert_like_resvg(svg: str, size: int, min_psnr: float = 30, resources_dir: str | None = None, source=None):
    """Load ``svg`` (or ``source``, a file) with every warning an error, check its render against
    resvg's (``size`` px square) by PSNR, and return the Scene."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_svg(svg if source is None else source)
    assert psnr(clipvg_on_white(scene), resvg_on_white(svg, size, size, resources_dir=resources_dir)) >= min_psnr
    return scene
