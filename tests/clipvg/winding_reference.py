"""Point-sampled winding numbers: the reference for coverage tests of self-overlapping paths."""
from __future__ import annotations

import numpy as np
import torch


def sampled_winding(polygons: list[torch.Tensor], size: int, k: int, k_x: int | None = None) -> np.ndarray:
    """(size, k, size, k_x) long winding number of the closed ``polygons`` (K_i, 2) at k rows of
    ``k_x`` (default k) points per pixel of a size x size canvas (pixel row, sample row, pixel column,
    sample column), at the middles of equal bands each way."""
    k_x = k if k_x is None else k_x
    x, y = np.meshgrid((np.arange(size * k_x) + 0.5) / k_x, (np.arange(size * k) + 0.5) / k)
    winding = np.zeros(x.shape, dtype=np.int64)
    for polygon in polygons:
        p = polygon.detach().numpy()
        for (x0, y0), (x1, y1) in zip(p, np.roll(p, -1, 0)):
            if y0 == y1:
                continue
            spans = (np.minimum(y0, y1) <= y) & (y < np.maximum(y0, y1))
            winding += np.where(spans & (x < x0 + (y - y0) * (x1 - x0) / (y1 - y0)), int(np.sign(y1 - y0)), 0)
    return winding.reshape(size, k, size, k_x)
