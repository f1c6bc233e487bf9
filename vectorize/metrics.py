"""How well a Scene reproduces its source image."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clipvg.scene import Scene


def on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite (H, W, 4) straight RGBA over white -> (H, W, 3)."""
    alpha = rgba[..., 3:]
    return rgba[..., :3] * alpha + (1.0 - alpha)


def render_rgba(scene: Scene) -> np.ndarray:
    """Render ``scene`` at its canvas size with a transparent background -> (H, W, 4) float32 numpy."""
    import torch

    from clipvg.render import render

    with torch.no_grad():
        return render(scene).cpu().numpy()


def psnr(scene: Scene, image: np.ndarray) -> float:
    """PSNR in dB of ``scene`` rendered against ``image`` (H, W, 4) straight RGBA of the canvas size,
    both composited on white (so transparency counts), over RGB in [0, 1]. ``inf`` when identical."""
    return raster_psnr(render_rgba(scene), image)


def raster_psnr(rgba: np.ndarray, image: np.ndarray) -> float:
    """PSNR in dB of ``rgba`` against ``image``, both (H, W, 4) straight RGBA in [0, 1], composited on
    white, over RGB. ``inf`` when identical."""
    error = np.mean((on_white(rgba) - on_white(image)) ** 2)
    return float("inf") if error == 0 else float(10.0 * np.log10(1.0 / error))
