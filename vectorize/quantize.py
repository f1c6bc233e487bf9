"""Colour quantization: k-means in CIELAB (plus alpha), seeded, fitted on a pixel subsample."""
from __future__ import annotations

import warnings

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.ndimage import gaussian_filter
from skimage.color import rgb2lab

from .image_io import premultiply, unpremultiply

# One unit of alpha weighs as much as this many CIELAB units (L spans 0..100).
ALPHA_WEIGHT = 100.0
SAMPLE_SIZE = 20000


def quantize(image: np.ndarray, colors: int, mask: np.ndarray | None = None, seed: int = 0,
             denoise: float = 1.2) -> np.ndarray:
    """Cluster the pixels of ``image`` (H, W, 4) straight RGBA into at most ``colors`` clusters.

    Images with at most ``colors`` distinct colours keep them exactly. Otherwise the clustering
    sees the image blurred by a Gaussian of ``denoise`` pixels (0: off), which keeps texture and
    noise from breaking flat areas into speckles. Returns (H, W) int32 cluster indices;
    pixels outside ``mask`` (H, W) bool, default all, get -1. Fully transparent pixels should be
    excluded by the caller through ``mask``.
    """
    if colors < 1:
        raise ValueError(f"a round needs at least 1 colour, got {colors}")
    height, width = image.shape[:2]
    labels = np.full((height, width), -1, dtype=np.int32)
    selected = np.ones((height, width), bool) if mask is None else mask
    if not selected.any():
        return labels
    exact = _palette(image[selected], colors)
    if exact is not None:
        labels[selected] = exact
        return labels
    features = _features(_blur(image, denoise)[selected])
    rng = np.random.default_rng(seed)
    sample = features if len(features) <= SAMPLE_SIZE else features[rng.choice(len(features), SAMPLE_SIZE, replace=False)]
    k = min(colors, len(np.unique(sample, axis=0)))
    with warnings.catch_warnings():  # an emptied cluster keeps its centre and simply goes unused
        warnings.filterwarnings("ignore", "One of the clusters is empty")
        centers, _ = kmeans2(sample, k, iter=20, minit="++", seed=rng)
    labels[selected] = _nearest(features, centers)
    return labels


def _palette(pixels: np.ndarray, colors: int) -> np.ndarray | None:
    """(N,) exact colour indices of ``pixels`` (N, 4) when they hold at most ``colors`` distinct
    colours (flat-colour art is then reproduced exactly, without blur or k-means), else None."""
    head = np.unique(pixels[:SAMPLE_SIZE], axis=0)
    if len(head) > colors:
        return None
    unique, inverse = np.unique(pixels, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int32) if len(unique) <= colors else None


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of (H, W, 4) straight RGBA, done on premultiplied colour so transparent
    pixels do not bleed into their neighbours."""
    if sigma <= 0:
        return image
    return unpremultiply(gaussian_filter(premultiply(image), (sigma, sigma, 0)))


def _features(rgba: np.ndarray) -> np.ndarray:
    """(N, 4) straight RGBA -> (N, 4) float64 [L, a, b, ALPHA_WEIGHT * alpha]."""
    lab = rgb2lab(rgba[None, :, :3].astype(np.float64))[0]
    return np.concatenate([lab, ALPHA_WEIGHT * rgba[:, 3:].astype(np.float64)], axis=1)


def _nearest(features: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(N,) index of the nearest of ``centers`` (K, D) for each feature row (N, D), in chunks."""
    out = np.empty(len(features), dtype=np.int32)
    sq_centers = (centers ** 2).sum(1)
    for start in range(0, len(features), 65536):
        chunk = features[start:start + 65536]
        distance = sq_centers[None, :] - 2.0 * chunk @ centers.T
        out[start:start + 65536] = distance.argmin(1)
    return out
