"""Writing rendered images to disk (atomically)."""
from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from PIL import Image

from .atomic import write_bytes_atomic

if TYPE_CHECKING:
    from .scene import Scene


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(H, W, C) float in [0, 1] -> (H, W, C) uint8, rounded."""
    return (image.detach().clamp(0, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)


def save_png(image: torch.Tensor | np.ndarray, path: str | os.PathLike, inputs: tuple[str | os.PathLike, ...] = ()
             ) -> None:
    """Write an (H, W, 3|4) image, float in [0, 1] (straight RGBA) or uint8, as PNG, atomically."""
    buffer = io.BytesIO()
    Image.fromarray(image if isinstance(image, np.ndarray) else to_uint8(image)).save(buffer, format="PNG")
    write_bytes_atomic(path, buffer.getvalue(), inputs)


def save_render_png(scene: Scene, path: str | os.PathLike, background: Sequence[float] | None = None,
                    inputs: tuple[str | os.PathLike, ...] = (), samples: int | None = None) -> None:
    """Render ``scene`` at its canvas size without gradients (``clipvg.render.api.render_rgba8``), ``samples``
    per pixel along each axis (None: ``clipvg.samples.export_samples``' default for its size), on
    ``background`` (RGB in [0, 1]) or transparent, and write it as PNG, atomically."""
    from .render.api import render_rgba8
    save_png(render_rgba8(scene, background=background, samples=samples), path, inputs)
