"""Synthetic and downscaled photo test images for the vectorizer tests, as (H, W, 4) straight RGBA."""
from __future__ import annotations

import numpy as np
from skimage import data

from vectorize.image_io import load_image, resize_long_side


def flat_shapes() -> np.ndarray:
    """(64, 96, 4) opaque flat colours: rectangles, an L-shape, a square ring with a hole, a pixel
    checkerboard patch (saddle junctions) and a one-pixel line."""
    image = np.zeros((64, 96, 3), np.uint8)
    image[:] = (230, 220, 200)
    image[4:30, 4:40] = (200, 30, 30)
    image[10:20, 12:30] = (20, 60, 200)
    image[36:60, 6:14] = (30, 160, 60)
    image[52:60, 6:40] = (30, 160, 60)
    image[8:56, 50:90] = (250, 200, 0)
    image[20:44, 62:78] = (230, 220, 200)
    image[40:48, 20:28][::2, ::2] = (0, 0, 0)
    image[40:48, 20:28][1::2, 1::2] = (0, 0, 0)
    image[32:34, 4:46] = (90, 0, 120)
    return load_image(image)


def ring(size: int = 48, transparent: bool = True) -> np.ndarray:
    """(size, size, 4) a red square ring; inside and outside transparent (or white when opaque)."""
    image = np.zeros((size, size, 4), np.float32)
    if not transparent:
        image[:] = (1, 1, 1, 1)
    q = size // 4
    image[q:3 * q, q:3 * q] = (0.8, 0.1, 0.1, 1.0)
    image[q + 6:3 * q - 6, q + 6:3 * q - 6] = 0.0 if transparent else 1.0
    return image


def photo(name: str, size: int = 128) -> np.ndarray:
    """A skimage.data photo downscaled so its long side is ``size`` pixels."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return resize_long_side(load_image(getattr(data, name)()), size)


def linear_ramp(height: int = 48, width: int = 64) -> np.ndarray:
    """(H, W, 4) opaque: a diagonal colour ramp (one direction for all channels) with a dark disc."""
    y, x = np.mgrid[0:height, 0:width] + 0.5
    t = (0.8 * x + 0.6 * y) / (0.8 * width + 0.6 * height)
    image = np.stack([0.1 + 0.8 * t, 0.3 + 0.5 * t, 0.9 - 0.7 * t], axis=-1)
    disc = (x - 0.3 * width) ** 2 + (y - 0.5 * height) ** 2 < (0.18 * height) ** 2
    image[disc] = (0.1, 0.1, 0.15)
    return load_image(np.round(image * 255).astype(np.uint8))


def radial_glow(size: int = 64) -> np.ndarray:
    """(size, size, 4) opaque: light falling off with the distance from an off-centre point."""
    y, x = np.mgrid[0:size, 0:size] + 0.5
    r = np.hypot(x - 0.4 * size, y - 0.45 * size) / size
    image = np.clip(np.array([0.95, 0.85, 0.6]) - r[..., None] * np.array([0.9, 0.8, 0.5]), 0, 1)
    return load_image(np.round(image * 255).astype(np.uint8))
