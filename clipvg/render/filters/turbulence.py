"""``feTurbulence``: the SVG specification's reference Perlin noise (its lattice from the spec's
seeded random generator), turbulence or fractal sum over octaves, optional tile stitching, computed
for all pixels at once in float64 on the image's device."""
from __future__ import annotations

import functools
import math

import torch

RAND_M, RAND_A, RAND_Q, RAND_R = 2147483647, 16807, 127773, 2836
B_SIZE = 0x100
PERLIN_N = 0x1000
MAX_OCTAVES = 64  # past ~53 + log2(x) doublings a sample point has no fraction left and its noise is exactly 0, so
# more octaves add nothing (numOctaves="1000000000" looped for ever)


def _random(seed: int) -> int:
    result = RAND_A * (seed % RAND_Q) - RAND_R * (seed // RAND_Q)
    return result + RAND_M if result <= 0 else result


@functools.lru_cache(maxsize=16)
def lattice(seed: int) -> tuple[list[int], list[list[tuple[float, float]]]]:
    """The spec's ``init(seed)``: lattice selector (2 * 256 + 2,) and gradients (4, 514, 2)."""
    if seed <= 0:
        seed = (-seed) % (RAND_M - 1) + 1
    seed = min(seed, RAND_M - 1)
    selector = list(range(B_SIZE)) + [0] * (B_SIZE + 2)
    gradient = [[(0.0, 0.0)] * (2 * B_SIZE + 2) for _ in range(4)]
    for k in range(4):
        for i in range(B_SIZE):
            pair = []
            for _ in range(2):
                seed = _random(seed)
                pair.append(((seed % (2 * B_SIZE)) - B_SIZE) / B_SIZE)
            norm = (pair[0] ** 2 + pair[1] ** 2) ** 0.5
            gradient[k][i] = (pair[0] / norm, pair[1] / norm) if norm else (0.0, 0.0)
    for i in range(B_SIZE - 1, 0, -1):
        k = selector[i]
        seed = _random(seed)
        j = seed % B_SIZE
        selector[i], selector[j] = selector[j], k
    for i in range(B_SIZE + 2):
        selector[B_SIZE + i] = selector[i]
        for k in range(4):
            gradient[k][B_SIZE + i] = gradient[k][i]
    return selector, gradient


def _trunc_int(t: torch.Tensor) -> torch.Tensor:
    return torch.trunc(t).long()


def turbulence(height: int, width: int, origin: tuple[float, float], scale: tuple[float, float],
               base_frequency: tuple[float, float], octaves: int, seed: int, stitch: bool, fractal: bool,
               dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(4, H, W) premultiplied noise image. Pixel (x, y) samples the noise at user-space point
    ((x + origin_x) / scale_x, (y + origin_y) / scale_y), as resvg does."""
    selector_list, gradient_list = lattice(int(seed))
    selector = torch.tensor(selector_list, device=device)
    gradient = torch.tensor(gradient_list, dtype=torch.float64, device=device)  # (4, 514, 2)
    f64 = torch.float64
    ys, xs = torch.meshgrid(torch.arange(height, dtype=f64, device=device),
                            torch.arange(width, dtype=f64, device=device), indexing="ij")
    px, py = (xs + origin[0]) / scale[0], (ys + origin[1]) / scale[1]
    fx, fy = float(base_frequency[0]), float(base_frequency[1])
    wrap = None
    if stitch:
        def snap(f: float, size: int) -> float:
            """The frequency nearest ``f`` that fits a whole number of cells in ``size`` px."""
            if f == 0:
                return f
            lo, hi = math.floor(size * f) / size, math.ceil(size * f) / size
            return lo if lo > 0 and f / lo < hi / f else hi

        fx, fy = snap(fx, width), snap(fy, height)
        sw, sh = int(width * fx + 0.5), int(height * fy + 0.5)
        wrap = [sw, sh, _trunc_int(xs * fx + PERLIN_N + sw), _trunc_int(ys * fy + PERLIN_N + sh)]
    x, y = px * fx, py * fy
    total = torch.zeros(4, height, width, dtype=f64, device=device)
    ratio = 1.0
    for _ in range(min(int(octaves), MAX_OCTAVES)):
        noise = _noise2(x, y, selector, gradient, wrap)
        total = total + (noise if fractal else noise.abs()) / ratio
        x, y, ratio = x * 2, y * 2, ratio * 2
        if wrap is not None:
            wrap = [wrap[0] * 2, wrap[1] * 2, 2 * wrap[2] - PERLIN_N, 2 * wrap[3] - PERLIN_N]
    value = (total * 255 + 255) / 2 if fractal else total * 255
    value = torch.floor(value.clamp(0, 255) + 0.5) / 255
    return torch.cat([value[:3] * value[3:], value[3:]]).to(dtype)


def _noise2(x: torch.Tensor, y: torch.Tensor, selector: torch.Tensor, gradient: torch.Tensor,
            wrap: list | None) -> torch.Tensor:
    """(4, H, W) spec ``noise2`` of each colour channel at (x, y)."""
    tx, ty = x + PERLIN_N, y + PERLIN_N
    bx0, by0 = _trunc_int(tx), _trunc_int(ty)
    bx1, by1 = bx0 + 1, by0 + 1
    rx0, ry0 = tx - torch.trunc(tx), ty - torch.trunc(ty)
    rx1, ry1 = rx0 - 1, ry0 - 1
    if wrap is not None:
        width, height, wrap_x, wrap_y = wrap
        bx0 = torch.where(bx0 >= wrap_x, bx0 - width, bx0)
        bx1 = torch.where(bx1 >= wrap_x, bx1 - width, bx1)
        by0 = torch.where(by0 >= wrap_y, by0 - height, by0)
        by1 = torch.where(by1 >= wrap_y, by1 - height, by1)
    bx0, bx1, by0, by1 = bx0 & 0xFF, bx1 & 0xFF, by0 & 0xFF, by1 & 0xFF
    i, j = selector[bx0], selector[bx1]
    b00, b10, b01, b11 = selector[i + by0], selector[j + by0], selector[i + by1], selector[j + by1]
    sx = rx0 * rx0 * (3 - 2 * rx0)
    sy = ry0 * ry0 * (3 - 2 * ry0)

    def dot(b: torch.Tensor, rx: torch.Tensor, ry: torch.Tensor) -> torch.Tensor:
        g = gradient[:, b]  # (4, H, W, 2)
        return rx * g[..., 0] + ry * g[..., 1]

    a = dot(b00, rx0, ry0) + sx * (dot(b10, rx1, ry0) - dot(b00, rx0, ry0))
    b = dot(b01, rx0, ry1) + sx * (dot(b11, rx1, ry1) - dot(b01, rx0, ry1))
    return a + sy * (b - a)
