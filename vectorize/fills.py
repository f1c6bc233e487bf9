"""Fill paints for merged regions: a flat colour, or a linear or radial gradient where it lowers
the region's squared error enough (see ``merge`` for the rank-1 colour model they come from).

A linear gradient is the model c(p) = mean + b s(p) with s linear in (x, y): two stops at the
region's extreme values of s, so no pixel of the region is clamped by the pad spread. A radial one
has s = g |p - centre|² + k: RADIAL_STOPS stops at evenly spaced radii from the region's nearest to
its farthest pixel, linear between them, approximate the quadratic. Stop colours are clipped to
[0, 1]. All geometry is in canvas pixels, like the paths.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from clipvg.scene import GradientStops, LinearGradient, Paint, RadialGradient, Solid

from .merge import Layout
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
JACOBI_SWEEPS = 16  # a 3 x 3 eigenproblem converges in 4-6


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


@njit(cache=True, nogil=True)
def _rank_one_fits(n, colour, fsum, ff, fc, ridge):
    """``_rank_one``'s (reduction (K,), b (K, C), gamma (K, F)) of every region given (n (K,), colour
    (K, C), fsum (K, F), ff (K, F, F), fc (K, F, C), F <= 3), compiled, one region at a time: the
    centred moments (sums over pixels; ``ridge`` per pixel on the covariance's diagonal), the Cholesky factor L of the covariance, the
    whitened cross covariance W = L^-1 cross (F, C), its top singular value s and vectors a (F,),
    b (C,) from the top eigenpair of W W^T (Jacobi rotations), gamma = s L^-T a. Regions under F + 1
    pixels (or with a covariance that is not positive definite) get zeros."""
    count, f = fsum.shape
    channels = colour.shape[1]
    reduction, b, gamma = np.zeros(count), np.zeros((count, channels)), np.zeros((count, f))
    chol, w, m, vectors = np.empty((f, f)), np.empty((f, channels)), np.empty((f, f)), np.empty((f, f))
    for r in range(count):
        if n[r] < f + 1:
            continue
        total = max(n[r], 1e-12)
        for i in range(f):
            for j in range(f):
                chol[i, j] = ff[r, i, j] - fsum[r, i] * fsum[r, j] / total
            chol[i, i] += ridge * n[r]
            for c in range(channels):
                w[i, c] = fc[r, i, c] - fsum[r, i] * colour[r, c] / total
        if not _cholesky(chol):
            continue
        for c in range(channels):  # W = L^-1 cross, column by column
            for i in range(f):
                value = w[i, c]
                for k in range(i):
                    value -= chol[i, k] * w[k, c]
                w[i, c] = value / chol[i, i]
        for i in range(f):
            for j in range(f):
                value = 0.0
                for c in range(channels):
                    value += w[i, c] * w[j, c]
                m[i, j] = value
        top = _top_eigen(m, vectors)
        sigma = math.sqrt(max(m[top, top], 0.0))
        if sigma <= 0.0:
            continue
        reduction[r] = sigma * sigma
        for c in range(channels):
            value = 0.0
            for i in range(f):
                value += w[i, c] * vectors[i, top]
            b[r, c] = value / sigma
        for i in range(f - 1, -1, -1):  # gamma = L^-T (sigma a)
            value = sigma * vectors[i, top]
            for k in range(i + 1, f):
                value -= chol[k, i] * gamma[r, k]
            gamma[r, i] = value / chol[i, i]
    return reduction, b, gamma


@njit(cache=True, nogil=True)
def _cholesky(a) -> bool:
    """The lower Cholesky factor of the symmetric ``a`` (F, F), in place (its lower triangle); False
    when ``a`` is not positive definite."""
    f = a.shape[0]
    for i in range(f):
        for j in range(i + 1):
            value = a[i, j]
            for k in range(j):
                value -= a[i, k] * a[j, k]
            if i == j:
                if not value > 0.0:
                    return False
                a[i, i] = math.sqrt(value)
            else:
                a[i, j] = value / a[j, j]
    return True


@njit(cache=True, nogil=True)
def _top_eigen(m, vectors) -> int:
    """Diagonalise the symmetric ``m`` (F, F) in place by cyclic Jacobi rotations, its eigenvectors
    in the columns of ``vectors`` (F, F); returns the index of the largest eigenvalue (``m[i, i]``)."""
    f = m.shape[0]
    for i in range(f):
        for j in range(f):
            vectors[i, j] = 1.0 if i == j else 0.0
    for _ in range(JACOBI_SWEEPS):
        off = scale = 0.0
        for i in range(f):
            scale += m[i, i] * m[i, i]
            for j in range(i + 1, f):
                off += m[i, j] * m[i, j]
        if off <= 1e-32 * scale:
            break
        for p in range(f - 1):
            for q in range(p + 1, f):
                if m[p, q] == 0.0:
                    continue
                theta = (m[q, q] - m[p, p]) / (2.0 * m[p, q])
                t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                t = t if theta >= 0.0 else -t
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(f):
                    kp, kq = m[k, p], m[k, q]
                    m[k, p], m[k, q] = c * kp - s * kq, s * kp + c * kq
                for k in range(f):
                    pk, qk = m[p, k], m[q, k]
                    m[p, k], m[q, k] = c * pk - s * qk, s * pk + c * qk
                for k in range(f):
                    kp, kq = vectors[k, p], vectors[k, q]
                    vectors[k, p], vectors[k, q] = c * kp - s * kq, s * kp + c * kq
    top = 0
    for i in range(1, f):
        if m[i, i] > m[top, top]:
            top = i
    return top


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
