"""Fill paints for merged regions: a flat colour, or a linear or radial gradient where it lowers
the region's squared error enough (see ``merge`` for the rank-1 colour model they come from).

A linear gradient is the model c(p) = mean + b s(p) with s linear in (x, y): two stops at the
region's extreme values of s, so no pixel of the region is clamped by the pad spread. A radial one
has s = g |p - centre|² + k: RADIAL_STOPS stops at evenly spaced radii from the region's nearest to
its farthest pixel, linear between them, approximate the quadratic. Stop colours are clipped to
[0, 1]. All geometry is in canvas pixels, like the paths.
"""
from __future__ import annotations

import numpy as np

from clipvg.scene import GradientStops, LinearGradient, Paint, RadialGradient, Solid

from .merge import Layout, centred_moments
from .pixel_sums import region_extremes

# A gradient must remove at least this share of the flat colour's squared error, and the region
# must have this many pixels.
MIN_GAIN = 0.05
MIN_PIXELS = 12
# A radial gradient must beat the linear one by this share of the flat error; its centre must lie
# within this many region radii of the region's centroid (else the circles are nearly straight).
RADIAL_MARGIN = 0.05
RADIAL_REACH = 4.0
RADIAL_STOPS = 5


def region_paints(stats: np.ndarray, layout: Layout, ridge: float, labels: np.ndarray, opaque: np.ndarray,
                  gradients: str) -> list[Paint]:
    """One paint per region of ``labels`` (H, W) (-1: none) with ``stats`` (R, width) over the
    coordinate features of ``pixel_sums`` (F = 3 keeps radial fits possible). ``opaque`` (R,) bool: regions that may take a
    gradient; the others (translucent, premultiplied RGBA channels) get a flat colour with alpha.
    ``gradients``: "none", "linear" or "radial" (linear and radial).
    """
    n, colour, square, fsum, ff, fc = layout.split(stats)
    height, width = labels.shape
    scale, size = 2.0 / max(height, width), (width, height)
    count = np.maximum(n, 1e-12)
    mean = colour / count[:, None]
    paints: list[Paint] = [_flat(m, layout.channels) for m in mean]
    if gradients == "none" or layout.features < 2 or len(stats) == 0:
        return paints
    flat_error = np.maximum(square - (colour ** 2).sum(1) / count, 0.0)
    linear = _rank_one(n, colour, fsum[:, :2], ff[:, :2, :2], fc[:, :2], ridge)
    candidates = opaque & (n >= MIN_PIXELS)
    use_linear = candidates & (linear[0] > MIN_GAIN * flat_error)
    use_radial = np.zeros(len(n), bool)
    if gradients == "radial" and layout.features >= 3:
        radial = _rank_one(n, colour, fsum, ff, fc, ridge)
        gamma = radial[2]
        curved = np.abs(gamma[:, 2]) > 1e-12
        centre = -gamma[:, :2] / np.where(curved, 2 * gamma[:, 2], 1.0)[:, None]
        centroid = fsum[:, :2] / count[:, None]
        spread = np.sqrt(np.maximum(np.trace(ff[:, :2, :2], axis1=1, axis2=2) / count - (centroid ** 2).sum(1), 1e-12))
        near = np.linalg.norm(centre - centroid, axis=1) < RADIAL_REACH * spread
        use_radial = (candidates & curved & near & (radial[0] > MIN_GAIN * flat_error)
                      & (radial[0] - linear[0] > RADIAL_MARGIN * flat_error))
    use_linear &= ~use_radial
    if use_linear.any():
        _, b, gamma, f_mean = linear
        low, high = region_extremes(labels, np.ascontiguousarray(f_mean), np.ascontiguousarray(gamma), False)
        for r in np.nonzero(use_linear & (high > low))[0]:
            paints[r] = _linear(mean[r], b[r], gamma[r], f_mean[r], low[r], high[r], scale, size)
    if use_radial.any():
        _, b, gamma, f_mean = radial
        low, high = region_extremes(labels, np.ascontiguousarray(centre), np.ascontiguousarray(centre), True)
        for r in np.nonzero(use_radial & (high > low))[0]:
            paints[r] = _radial(mean[r], b[r], gamma[r], f_mean[r], centre[r], low[r], high[r], scale, size)
    return paints


def _rank_one(n, colour, fsum, ff, fc, ridge):
    """Per region the best rank-1 gradient: (error reduction (R,), colour direction b (R, C) unit,
    feature weights gamma (R, F), feature means (R, F)); the model is mean + b (gamma . (f - mean_f))."""
    cov, cross = centred_moments(n, colour, fsum, ff, fc, ridge)
    f = cov.shape[1]
    tiny = n < f + 1
    cov = np.where(tiny[:, None, None], np.eye(f), cov)
    chol = np.linalg.cholesky(cov)
    whitened = np.linalg.solve(chol, cross)
    u, sigma, vt = np.linalg.svd(whitened, full_matrices=False)
    a, top, b = u[:, :, 0], sigma[:, 0], vt[:, 0, :]
    # gamma = sigma L^-T a: s(f) = gamma . (f - mean) then has unit colour direction b.
    gamma = np.linalg.solve(np.swapaxes(chol, 1, 2), (top[:, None] * a)[..., None])[..., 0]
    gamma = np.where(tiny[:, None], 0.0, gamma)
    reduction = np.where(tiny, 0.0, top ** 2)
    return reduction, b, gamma, fsum / np.maximum(n, 1e-12)[:, None]


def _flat(mean: np.ndarray, channels: int) -> Solid:
    """Opaque RGB mean, or premultiplied RGBA mean -> straight colour with alpha."""
    if channels == 3:
        return Solid(tuple(float(v) for v in np.clip(mean, 0, 1)) + (1.0,))
    alpha = float(np.clip(mean[3], 0, 1))
    rgb = np.clip(mean[:3] / max(alpha, 1e-12), 0, 1) if alpha > 0 else np.zeros(3)
    return Solid(tuple(float(v) for v in rgb) + (alpha,))


def _stop_colours(mean: np.ndarray, b: np.ndarray, values: np.ndarray) -> np.ndarray:
    rgb = np.clip(mean[None, :3] + values[:, None] * b[None, :3], 0.0, 1.0)
    return np.concatenate([rgb, np.ones((len(values), 1))], axis=1)


def _to_pixels(point: np.ndarray, scale: float, size: tuple[int, int]) -> tuple[float, float]:
    width, height = size
    return (float(point[0] / scale + width / 2), float(point[1] / scale + height / 2))


def _linear(mean, b, gamma, f_mean, low, high, scale, size) -> LinearGradient:
    direction = gamma[:2] / float(gamma[:2] @ gamma[:2])
    start = _to_pixels(f_mean[:2] + low * direction, scale, size)
    end = _to_pixels(f_mean[:2] + high * direction, scale, size)
    return LinearGradient(start, end, GradientStops([0.0, 1.0], _stop_colours(mean, b, np.array([low, high]))))


def _radial(mean, b, gamma, f_mean, centre, low, high, scale, size) -> RadialGradient:
    radii = np.linspace(low, high, RADIAL_STOPS)
    # gamma . f(p) = g |p - c|² - g |c|² for the centre c = -gamma_xy / 2g, so at distance d
    # s = gamma . (f(p) - f_mean) = g d² - g |c|² - gamma . f_mean.
    g = gamma[2]
    s = g * radii ** 2 - g * float(centre @ centre) - float(gamma @ f_mean)
    return RadialGradient(_to_pixels(centre, scale, size), float(high / scale),
                          GradientStops(radii / high, _stop_colours(mean, b, s)))
