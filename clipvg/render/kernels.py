"""Compiled (numba) CPU passes of the renderer: the per-pixel walks that torch would spell as many whole-array
ops (sorts, scatters, segmented sums), each one loop with no temporaries.

Every kernel has a pure-torch twin beside its caller (``cull_hidden``, ``composite``), which CUDA runs and
the tests compare against; ``compiled(tensor)`` says which one a tensor takes: the kernels run on CPU
tensors only, and ``COMPILED`` turns them off altogether (tests).
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit

COMPILED = True  # CPU tensors take the compiled kernels (tests turn it off to run the torch path)


def compiled(tensor: torch.Tensor) -> bool:
    """Whether work on ``tensor`` runs the compiled kernels: on the CPU, unless ``COMPILED`` is off."""
    return COMPILED and tensor.device.type == "cpu"


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


def cull_order(pixel: torch.Tensor, item: torch.Tensor, opaque: torch.Tensor, num_pixels: int
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch_backend.cull_hidden``'s discrete part: the fragments (K,) to keep, ordered by pixel (draw
    order kept within a pixel), and each pixel's second-topmost opaque item (H*W,) (-1: none), for
    fragments at ``pixel`` (F,) of ``item`` (F,) (ascending within a pixel) that are ``opaque`` (F,) bool."""
    order, second = _cull_order(_numpy(pixel), _numpy(item), _numpy(opaque), num_pixels)
    return torch.from_numpy(order), torch.from_numpy(second)


@njit(cache=True, nogil=True)
def _cull_order(pixel: np.ndarray, item: np.ndarray, opaque: np.ndarray, num_pixels: int):
    top = np.full(num_pixels, -1, np.int64)
    for f in range(len(pixel)):
        if opaque[f] and item[f] > top[pixel[f]]:
            top[pixel[f]] = item[f]
    second = np.full(num_pixels, -1, np.int64)
    for f in range(len(pixel)):
        p = pixel[f]
        if opaque[f] and second[p] < item[f] < top[p]:
            second[p] = item[f]
    start = np.zeros(num_pixels + 1, np.int64)  # a stable counting sort of the kept fragments by pixel
    for f in range(len(pixel)):
        if item[f] >= second[pixel[f]]:
            start[pixel[f] + 1] += 1
    for p in range(num_pixels):
        start[p + 1] += start[p]
    order = np.empty(start[num_pixels], np.int64)
    for f in range(len(pixel)):
        p = pixel[f]
        if item[f] >= second[p]:
            order[start[p]] = f
            start[p] += 1
    return order, second


def composite_forward(pixel: torch.Tensor, alpha: torch.Tensor, rgb: torch.Tensor, num_pixels: int, max_alpha: float
                      ) -> tuple[torch.Tensor, ...]:
    """``composite._Composite.forward``'s values in one pass over the fragments (``pixel`` (F,) ascending,
    ``alpha`` (F,), ``rgb`` (F, 3), alpha clamped to ``max_alpha``): premultiplied colour (P, 3),
    1 - alpha (P,) per pixel, and per fragment 1 - clamped alpha (F,) float64, transmittance (F,) and
    weight (F,)."""
    arrays = _composite_forward(_numpy(pixel), _numpy(alpha), _numpy(rgb.to(alpha.dtype)), num_pixels, max_alpha)
    return tuple(torch.from_numpy(array) for array in arrays)


@njit(cache=True, nogil=True)
def _composite_forward(pixel: np.ndarray, alpha: np.ndarray, rgb: np.ndarray, num_pixels: int, max_alpha: float):
    count = len(pixel)
    clear = np.empty(count, np.float64)
    transmittance = np.empty_like(alpha)
    weight = np.empty_like(alpha)
    premultiplied = np.zeros((num_pixels, 3), rgb.dtype)
    remaining = np.ones(num_pixels, alpha.dtype)
    start = 0
    while start < count:
        p = pixel[start]
        end = start
        total = 0.0
        while end < count and pixel[end] == p:
            clear[end] = 1.0 - min(np.float64(alpha[end]), max_alpha)
            total += np.log(clear[end])
            end += 1
        running = 0.0
        for f in range(start, end):
            running += np.log(clear[f])
            transmittance[f] = np.exp(total - running)
            weight[f] = alpha[f] * transmittance[f]
            for c in range(3):
                premultiplied[p, c] += weight[f] * rgb[f, c]
        remaining[p] = np.exp(total)
        start = end
    return premultiplied, remaining, clear, transmittance, weight


def composite_alpha_gradient(pixel: torch.Tensor, rgb: torch.Tensor, clear: torch.Tensor, transmittance: torch.Tensor,
                             weight: torch.Tensor, remaining: torch.Tensor, grad_premultiplied: torch.Tensor,
                             grad_alpha: torch.Tensor) -> torch.Tensor:
    """``composite._Composite.backward``'s gradient of the fragments' alpha (F,), from forward's saved values
    and the gradients of the premultiplied colour (P, 3) and alpha (P,) per pixel."""
    return torch.from_numpy(_composite_alpha_gradient(
        _numpy(pixel), _numpy(rgb), _numpy(clear), _numpy(transmittance), _numpy(weight), _numpy(remaining),
        _numpy(grad_premultiplied.to(rgb.dtype)), _numpy(grad_alpha.to(rgb.dtype))))


@njit(cache=True, nogil=True)
def _composite_alpha_gradient(pixel: np.ndarray, rgb: np.ndarray, clear: np.ndarray, transmittance: np.ndarray,
                              weight: np.ndarray, remaining: np.ndarray, grad_premultiplied: np.ndarray,
                              grad_alpha: np.ndarray):
    grad = np.empty_like(transmittance)
    below = 0.0
    for f in range(len(pixel)):
        p = pixel[f]
        if f == 0 or p != pixel[f - 1]:
            below = 0.0
        seen = rgb[f, 0] * grad_premultiplied[p, 0]
        seen += rgb[f, 1] * grad_premultiplied[p, 1]
        seen += rgb[f, 2] * grad_premultiplied[p, 2]
        hidden = np.float64(grad_alpha[p] * remaining[p])
        grad[f] = transmittance[f] * seen - (below - hidden) / clear[f]
        below += np.float64(weight[f] * seen)
    return grad


def grid_breaks(a: torch.Tensor, b: torch.Tensor, width: int, height: int) -> tuple[torch.Tensor, ...]:
    """``coverage.split_at_grid``'s discrete part: the breaks of edges ``a`` -> ``b`` (E, 2) px at the grid
    lines x = 0..W and y = 0..H, each edge's start, its crossings in order along it, its end. Returns, per
    break (B,): its edge, ``line`` (the grid line crossed, or t itself, 0 or 1, at the end points) in the
    dtype of ``a``, ``axis`` (0: a vertical line x = line, 1: a horizontal one), ``crossing`` bool (not an
    end point) and ``kind`` (0: end point, 1: x crossing, 2: y crossing), in the order of
    ``coverage._merged_order`` (its tie-breaks computed in the dtype of ``a``, as there)."""
    arrays = _grid_breaks(_numpy(a), _numpy(b), width, height)
    edge, line, kind = (torch.from_numpy(array) for array in arrays)
    return edge, line, (kind == 2).long(), kind > 0, kind


@njit(cache=True, nogil=True)
def _crossing_range(lo, hi, limit: int):
    """First grid line strictly above ``lo`` (not below 0) and the count of those strictly below ``hi``
    (not above ``limit``): ``coverage._grid_crossings`` for one edge."""
    first = max(np.floor(lo) + 1, 0.0)
    last = min(np.ceil(hi) - 1, float(limit))
    return first, max(int(last - first + 1), 0)


@njit(cache=True, nogil=True)
def _grid_breaks(a: np.ndarray, b: np.ndarray, width: int, height: int):
    edges = len(a)
    first = np.empty((edges, 2))
    count = np.empty((edges, 2), np.int64)
    total = 0
    for e in range(edges):
        for axis, limit in ((0, width), (1, height)):
            first[e, axis], count[e, axis] = _crossing_range(min(a[e, axis], b[e, axis]), max(a[e, axis], b[e, axis]),
                                                             limit)
        total += count[e, 0] + count[e, 1] + 2
    edge = np.empty(total, np.int64)
    line = np.empty(total, a.dtype)
    kind = np.zeros(total, np.int64)
    scratch = np.empty(3, a.dtype)  # every step of t and y rounded to the dtype of a, as torch computes them
    start = 0
    for e in range(edges):
        cx, cy = count[e, 0], count[e, 1]
        end = start + cx + cy + 1
        edge[start:end + 1] = e
        line[start], line[end] = 0, 1
        taken = np.zeros(cx + cy, np.bool_)
        fy = first[e, 1]
        rising = b[e, 1] > a[e, 1]
        for k in range(cx):
            rank = k if b[e, 0] > a[e, 0] else cx - 1 - k
            scratch[0] = first[e, 0] + k  # the line
            scratch[1] = scratch[0] - a[e, 0]
            scratch[2] = b[e, 0] - a[e, 0]
            scratch[1] = scratch[1] / scratch[2]  # t
            scratch[2] = b[e, 1] - a[e, 1]
            scratch[2] = scratch[1] * scratch[2]
            scratch[2] = a[e, 1] + scratch[2]  # y at the crossing
            crossed = int(np.ceil(scratch[2]) - fy) if rising else int(fy + cy - 1 - np.floor(scratch[2]))
            place = rank + min(max(crossed, 0), cy)
            taken[place] = True
            line[start + 1 + place] = scratch[0]
            kind[start + 1 + place] = 1
        place = 0
        for rank in range(cy):
            while place < cx + cy - 1 and taken[place]:  # (a tie placing two x crossings alike: no overrun)
                place += 1
            k = rank if rising else cy - 1 - rank
            line[start + 1 + place] = fy + k
            kind[start + 1 + place] = 2
            place += 1
        start = end + 1
    return edge, line, kind


def gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values.index_select(0, index)`` (B, ...) whose backward, on the CPU, sums the gradient into the rows
    in one compiled pass (torch's index_add over rows of a few values goes through a generic scatter);
    ``values`` (N, ...), ``index`` (B,) long."""
    if not compiled(values) or not values.requires_grad:
        return values.index_select(0, index)
    return _GatherRows.apply(values, index)


class _GatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.shape = values.shape
        return values.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (index,) = ctx.saved_tensors
        rows = _numpy(grad).reshape(len(index), -1)
        return torch.from_numpy(_sum_rows(_numpy(index), rows, ctx.shape[0])).reshape(ctx.shape), None


@njit(cache=True, nogil=True)
def _sum_rows(index: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    out = np.zeros((count, rows.shape[1]), rows.dtype)
    for i in range(len(index)):
        for c in range(rows.shape[1]):
            out[index[i], c] += rows[i, c]
    return out


def warm_up() -> None:
    """Load (or compile, the first time) every kernel for float32 and float64: the one-time cost of numba
    (~120 MB of memory, its code generator included) paid up front, not inside a measured render."""
    pixel, item = torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0])
    cull_order(pixel, item, torch.tensor([True, True, False]), 2)
    for dtype in (torch.float32, torch.float64):
        alpha, rgb = torch.full((3,), 0.5, dtype=dtype), torch.full((3, 3), 0.5, dtype=dtype)
        premultiplied, remaining, clear, transmittance, weight = composite_forward(pixel, alpha, rgb, 2, 0.5)
        composite_alpha_gradient(pixel, rgb, clear, transmittance, weight, remaining, premultiplied, remaining)
        grid_breaks(torch.zeros(1, 2, dtype=dtype), torch.full((1, 2), 1.5, dtype=dtype), 2, 2)
        _sum_rows(_numpy(pixel), _numpy(rgb), 2)
