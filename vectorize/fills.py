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
    paints: list[Paint] = _flat(mean, layout.channels)
    if gradients == "none" or layout.features < 2 or len(stats) == 0:
        return paints
    flat_error = np.maximum(square - (colour ** 2).sum(1) / count, 0.0)
    candidates = opaque & (n >= MIN_PIXELS)
    rows = np.nonzero(candidates)[0]  # only these are fitted (each region's fit is its own)
    linear = _rank_one(rows, n, colour, fsum[:, :2], ff[:, :2, :2], fc[:, :2], ridge)
    use_linear = candidates & (linear[0] > MIN_GAIN * flat_error)
    use_radial = np.zeros(len(n), bool)
    if gradients == "radial" and layout.features >= 3:
        radial = _rank_one(rows, n, colour, fsum, ff, fc, ridge)
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
        chosen = np.nonzero(use_linear & (high > low))[0]
        for r, paint in zip(chosen.tolist(), _linear(mean[chosen], b[chosen], gamma[chosen], f_mean[chosen],
                                                     low[chosen], high[chosen], scale, size)):
            paints[r] = paint
    if use_radial.any():
        _, b, gamma, f_mean = radial
        low, high = region_extremes(labels, np.ascontiguousarray(centre), np.ascontiguousarray(centre), True)
        chosen = np.nonzero(use_radial & (high > low))[0]
        for r, paint in zip(chosen.tolist(), _radial(mean[chosen], b[chosen], gamma[chosen], f_mean[chosen],
                                                     centre[chosen], low[chosen], high[chosen], scale, size)):
            paints[r] = paint
    return paints


def _rank_one(rows, n, colour, fsum, ff, fc, ridge):
    """Per region the best rank-1 gradient: (error reduction (R,), colour direction b (R, C) unit,
    feature weights gamma (R, F), feature means (R, F)); the model is mean + b (gamma . (f - mean_f)).
    Fitted for the regions ``rows`` (K,) only: the others get no reduction, b and gamma 0."""
    reduction, b, gamma = np.zeros(len(n)), np.zeros(colour.shape), np.zeros(fsum.shape)
    reduction[rows], b[rows], gamma[rows] = _rank_one_fits(n[rows], colour[rows], fsum[rows], ff[rows], fc[rows], ridge)
    return reduction, b, gamma, fsum / np.maximum(n, 1e-12)[:, None]


def _rank_one_fits(n, colour, fsum, ff, fc, ridge):
    """``_rank_one``'s (reduction, b, gamma) of every region given."""
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
    return reduction, b, gamma


def _flat(mean: np.ndarray, channels: int) -> list[Solid]:
    """One flat paint per row of ``mean`` (R, C): opaque RGB means, or premultiplied RGBA means ->
    straight colours with alpha."""
    if channels == 3:
        return [Solid((r, g, b, 1.0)) for r, g, b in np.clip(mean, 0, 1).tolist()]
    alpha = np.clip(mean[:, 3], 0, 1)
    rgb = np.where((alpha > 0)[:, None], np.clip(mean[:, :3] / np.maximum(alpha, 1e-12)[:, None], 0, 1), 0.0)
    return [Solid((r, g, b, a)) for (r, g, b), a in zip(rgb.tolist(), alpha.tolist())]


def _stop_colours(mean: np.ndarray, b: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(R, T, 4) opaque stop colours mean + value b, clipped, of R regions' ``mean``, ``b`` (R, C) at
    ``values`` (R, T)."""
    rgb = np.clip(mean[:, None, :3] + values[:, :, None] * b[:, None, :3], 0.0, 1.0)
    return np.concatenate([rgb, np.ones(rgb.shape[:2] + (1,))], axis=2).astype(np.float32)


def _to_pixels(point: np.ndarray, scale: float, size: tuple[int, int]) -> list[tuple[float, float]]:
    """Feature-space points (R, 2) as canvas pixel (x, y) tuples."""
    width, height = size
    return [(x, y) for x, y in (point / scale + np.array([width / 2, height / 2])).tolist()]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(R,) row-wise dot products of ``a``, ``b`` (R, K), each as ``a[r] @ b[r]`` computes it."""
    return np.matmul(a[:, None, :], b[:, :, None])[:, 0, 0]


def _linear(mean, b, gamma, f_mean, low, high, scale, size) -> list[LinearGradient]:
    """Linear gradients of R regions (all arguments (R, ...) rows, see ``_rank_one``) between their
    extreme values ``low``, ``high`` (R,) of the model's scalar."""
    direction = gamma[:, :2] / _dot(gamma[:, :2], gamma[:, :2])[:, None]
    starts = _to_pixels(f_mean[:, :2] + low[:, None] * direction, scale, size)
    ends = _to_pixels(f_mean[:, :2] + high[:, None] * direction, scale, size)
    colours = _stop_colours(mean, b, np.stack([low, high], axis=1))
    offsets = np.array([0.0, 1.0], np.float32)
    return [LinearGradient(start, end, GradientStops.of_arrays(offsets, colour))
            for start, end, colour in zip(starts, ends, colours)]


def _radial(mean, b, gamma, f_mean, centre, low, high, scale, size) -> list[RadialGradient]:
    """Radial gradients of R regions around ``centre`` (R, 2), RADIAL_STOPS stops from radius
    ``low`` to ``high`` (R,) (see ``_linear``)."""
    radii = np.linspace(low, high, RADIAL_STOPS, axis=1)
    # gamma . f(p) = g |p - c|² - g |c|² for the centre c = -gamma_xy / 2g, so at distance d
    # s = gamma . (f(p) - f_mean) = g d² - g |c|² - gamma . f_mean.
    g = gamma[:, 2:3]
    s = g * radii ** 2 - g * _dot(centre, centre)[:, None] - _dot(gamma, f_mean)[:, None]
    colours = _stop_colours(mean, b, s)
    offsets = (radii / high[:, None]).astype(np.float32)
    return [RadialGradient(point, radius, GradientStops.of_arrays(offset, colour))
            for point, radius, offset, colour in zip(_to_pixels(centre, scale, size), (high / scale).tolist(),
                                                     offsets, colours)]
