"""Compiled (numba) CPU passes of the renderer: the per-pixel walks that torch would spell as many whole-array
ops (sorts, scatters, segmented sums), each one loop with no temporaries.

Every kernel has a pure-torch twin beside its caller (``cull_hidden``, ``composite``, ``over``,
``unpremultiplied``, ``split_at_grid``, ``_RowPrefixSums``, ``_nonzero``), which CUDA runs and
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


def _rows(tensor: torch.Tensor, width: int) -> np.ndarray:
    """(N, width) array of a per-pixel (P, width) / (P,) or uniform (width,) / () tensor (N = P or 1)."""
    return _numpy(tensor).reshape(-1, width)


def over(color: torch.Tensor, alpha: torch.Tensor, below_color: torch.Tensor, below_alpha: torch.Tensor,
         floor: torch.Tensor | None, floor_alpha: torch.Tensor | None, floor_rgb: torch.Tensor | None, max_alpha: float
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """``composite.over`` in one pass per pixel, forward and backward (the arguments' shapes as there)."""
    if floor is None:
        floor, floor_alpha, floor_rgb = torch.zeros(0, dtype=torch.bool), color.new_zeros(()), color.new_zeros(3)
    return _Over.apply(color, alpha, below_color, below_alpha, floor, floor_alpha, floor_rgb, max_alpha)


class _Over(torch.autograd.Function):
    """Per pixel p (seen = 1 - alpha, shown = seen where the floor is, op the floor's clamped alpha):
    colour + seen * below + shown * (floor_alpha * floor_rgb - op * below), alpha likewise; the gradient of
    op is straight-through. Uniform (one-row) below/floor values get their gradient summed in float64."""

    @staticmethod
    def forward(ctx, color: torch.Tensor, alpha: torch.Tensor, below_color: torch.Tensor, below_alpha: torch.Tensor,
                floor: torch.Tensor, floor_alpha: torch.Tensor, floor_rgb: torch.Tensor, max_alpha: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = color.dtype
        arrays = (_numpy(alpha), _rows(below_color.to(dtype), 3), _rows(below_alpha.to(dtype), 1), _numpy(floor),
                  _rows(floor_alpha.to(dtype), 1), _rows(floor_rgb.to(dtype), 3))
        out_color, out_alpha = _over_forward(_numpy(color), *arrays, max_alpha)
        ctx.arrays, ctx.max_alpha = arrays, max_alpha
        ctx.shapes = [tensor.shape for tensor in (below_color, below_alpha, floor_alpha, floor_rgb)]
        return torch.from_numpy(out_color), torch.from_numpy(out_alpha)

    @staticmethod
    def backward(ctx, grad_color: torch.Tensor, grad_alpha: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        grad_color = grad_color.contiguous()
        grads = _over_backward(_numpy(grad_color), _numpy(grad_alpha.to(grad_color.dtype)), *ctx.arrays,
                               ctx.max_alpha)
        below_color, below_alpha, floor_alpha, floor_rgb = (
            torch.from_numpy(grad).to(grad_color.dtype).reshape(shape) for grad, shape in zip(grads[1:], ctx.shapes))
        return grad_color, torch.from_numpy(grads[0]), below_color, below_alpha, None, floor_alpha, floor_rgb, None


@njit(cache=True, nogil=True)
def _over_forward(color, alpha, below_color, below_alpha, floor, floor_alpha, floor_rgb, max_alpha):
    pixels = len(alpha)
    out_color = np.empty_like(color)
    out_alpha = np.empty_like(alpha)
    many_below, many_floor = len(below_alpha) > 1, len(floor_alpha) > 1
    has_floor = len(floor) > 0
    for p in range(pixels):
        b = p if many_below else 0
        seen = 1 - alpha[p]
        a = alpha[p] + seen * below_alpha[b, 0]
        for c in range(3):
            out_color[p, c] = color[p, c] + seen * below_color[b, c]
        if has_floor and floor[p]:
            f = p if many_floor else 0
            fa = floor_alpha[f, 0]
            opacity = min(fa, max_alpha)
            for c in range(3):
                out_color[p, c] += seen * (fa * floor_rgb[f, c] - opacity * below_color[b, c])
            a += seen * (opacity * (1 - below_alpha[b, 0]))
        out_alpha[p] = a
    return out_color, out_alpha


@njit(cache=True, nogil=True)
def _over_backward(grad_color, grad_alpha, alpha, below_color, below_alpha, floor, floor_alpha, floor_rgb,
                   max_alpha):
    pixels = len(alpha)
    many_below, many_floor = len(below_alpha) > 1, len(floor_alpha) > 1
    has_floor = len(floor) > 0
    g_alpha = np.empty_like(alpha)
    g_below_color = np.zeros(below_color.shape)  # float64: sums over every pixel where uniform
    g_below_alpha = np.zeros(below_alpha.shape)
    g_floor_alpha = np.zeros(floor_alpha.shape)
    g_floor_rgb = np.zeros(floor_rgb.shape)
    for p in range(pixels):
        b = p if many_below else 0
        seen = 1 - alpha[p]
        ga = grad_alpha[p]
        towards_below = grad_color[p, 0] * below_color[b, 0] + grad_color[p, 1] * below_color[b, 1] \
            + grad_color[p, 2] * below_color[b, 2]
        through = towards_below + ga * below_alpha[b, 0]  # what seen multiplies
        kept = seen  # what below_color and below_alpha are multiplied by
        if has_floor and floor[p]:
            f = p if many_floor else 0
            fa = floor_alpha[f, 0]
            opacity = min(fa, max_alpha)
            towards_floor = grad_color[p, 0] * floor_rgb[f, 0] + grad_color[p, 1] * floor_rgb[f, 1] \
                + grad_color[p, 2] * floor_rgb[f, 2]
            through += fa * towards_floor - opacity * towards_below + ga * opacity * (1 - below_alpha[b, 0])
            kept = seen - seen * opacity
            g_floor_alpha[f, 0] += seen * (towards_floor + ga * (1 - below_alpha[b, 0]) - towards_below)
            for c in range(3):
                g_floor_rgb[f, c] += seen * fa * grad_color[p, c]
        g_alpha[p] = ga - through
        for c in range(3):
            g_below_color[b, c] += kept * grad_color[p, c]
        g_below_alpha[b, 0] += kept * ga
    return g_alpha, g_below_color, g_below_alpha, g_floor_alpha, g_floor_rgb


def unpremultiplied(color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``composite.unpremultiplied`` in one pass per pixel, forward and backward."""
    return _Unpremultiplied.apply(color, alpha)


class _Unpremultiplied(torch.autograd.Function):
    @staticmethod
    def forward(ctx, color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(color, alpha)
        return torch.from_numpy(_unpremultiplied_forward(_numpy(color), _numpy(alpha.to(color.dtype))))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        color, alpha = ctx.saved_tensors
        grad_color, grad_alpha = _unpremultiplied_backward(_numpy(grad), _numpy(color), _numpy(alpha.to(color.dtype)))
        return torch.from_numpy(grad_color), torch.from_numpy(grad_alpha).to(alpha.dtype)


@njit(cache=True, nogil=True)
def _unpremultiplied_forward(color, alpha):
    straight = np.empty((len(alpha), 4), color.dtype)
    for p in range(len(alpha)):
        inverse = 1 / max(alpha[p], 1e-12) if alpha[p] > 0 else 0.0
        for c in range(3):
            straight[p, c] = min(max(color[p, c] * inverse, 0.0), 1.0)
        straight[p, 3] = min(max(alpha[p], 0.0), 1.0)
    return straight


@njit(cache=True, nogil=True)
def _unpremultiplied_backward(grad, color, alpha):
    grad_color = np.empty_like(color)
    grad_alpha = np.empty_like(alpha)
    for p in range(len(alpha)):
        inverse = 1 / max(alpha[p], 1e-12) if alpha[p] > 0 else 0.0
        seen = 0.0
        for c in range(3):
            grad_color[p, c] = grad[p, c] * inverse
            seen += grad_color[p, c] * color[p, c]
        grad_alpha[p] = grad[p, 3] - (seen * inverse if alpha[p] >= 1e-12 else 0.0)
    return grad_color, grad_alpha


def row_prefix_sums(step: torch.Tensor, fx: torch.Tensor, base: torch.Tensor, row_last: torch.Tensor, size: int
                    ) -> torch.Tensor:
    """``coverage._RowPrefixSums`` in compiled passes: the same float64 sums in the same order."""
    return _RowPrefixSums.apply(step, fx, base, row_last, size)


class _RowPrefixSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, step: torch.Tensor, fx: torch.Tensor, base: torch.Tensor, row_last: torch.Tensor, size: int
                ) -> torch.Tensor:
        ctx.save_for_backward(step, fx, base, row_last)
        return torch.from_numpy(_row_prefix_sums(_numpy(step), _numpy(fx.to(step.dtype)), _numpy(base),
                                                 _numpy(row_last), size))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        step, fx, base, row_last = ctx.saved_tensors
        grad_step, grad_fx = _row_prefix_sums_backward(_numpy(grad), _numpy(step), _numpy(fx.to(step.dtype)),
                                                       _numpy(base), _numpy(row_last))
        return torch.from_numpy(grad_step), torch.from_numpy(grad_fx).to(fx.dtype), None, None, None


@njit(cache=True, nogil=True)
def _row_prefix_sums(step, fx, base, row_last, size):
    accumulator = np.zeros(size)
    count = len(step)
    for m in range(count):
        accumulator[base[m]] += np.float64(step[m]) * (1 - np.float64(fx[m]))
    for m in range(count):
        accumulator[base[m] + 1] += np.float64(step[m]) * np.float64(fx[m])
    for m in range(count):
        accumulator[row_last[m]] += -(np.float64(step[m]) * (1 - np.float64(fx[m])))
    for m in range(count):
        accumulator[row_last[m]] += -(np.float64(step[m]) * np.float64(fx[m]))
    out = np.empty(size, step.dtype)
    running = 0.0
    for k in range(size):
        running += accumulator[k]
        out[k] = running
    return out


@njit(cache=True, nogil=True)
def _row_prefix_sums_backward(grad, step, fx, base, row_last):
    total = np.empty(len(grad))
    running = 0.0
    for k in range(len(grad)):
        running += np.float64(grad[k])
        total[k] = running
    grad_step = np.empty_like(step)
    grad_fx = np.empty_like(fx)
    for m in range(len(step)):
        row_total = total[row_last[m]]
        at_base = row_total - total[base[m]] + np.float64(grad[base[m]])
        at_next = row_total - total[base[m] + 1] + np.float64(grad[base[m] + 1])
        f = np.float64(fx[m])
        grad_step[m] = at_base * (1 - f) + at_next * f
        grad_fx[m] = np.float64(step[m]) * (at_next - at_base)
    return grad_step, grad_fx


def nonzero_coverage(value: torch.Tensor, item: torch.Tensor, pixel: torch.Tensor, orientation: torch.Tensor,
                     num_pixels: int, overlap_key: torch.Tensor, overlap_coverage: torch.Tensor) -> torch.Tensor:
    """``coverage._nonzero``'s coverage (F,) from the cells' signed areas ``value`` (F,) of items ``item``
    (F,) at ``pixel`` (F,) (ordered by item * ``num_pixels`` + pixel): |value| (the sign of the item's
    ``orientation`` (I,) where value is ~0), 1 without gradient where clearly over 1, and the exact
    ``overlap_coverage`` (K,) at the cells of keys ``overlap_key`` (K,) where the item overlaps itself."""
    return _NonzeroCoverage.apply(value, overlap_coverage, item, pixel, orientation, num_pixels, overlap_key)


class _NonzeroCoverage(torch.autograd.Function):
    @staticmethod
    def forward(ctx, value: torch.Tensor, overlap_coverage: torch.Tensor, item: torch.Tensor, pixel: torch.Tensor,
                orientation: torch.Tensor, num_pixels: int, overlap_key: torch.Tensor) -> torch.Tensor:
        coverage, slope, at = _nonzero_coverage(_numpy(value), _numpy(item), _numpy(pixel),
                                                _numpy(orientation.to(value.dtype)), num_pixels, _numpy(overlap_key),
                                                _numpy(overlap_coverage.to(value.dtype)))
        slope, at = torch.from_numpy(slope), torch.from_numpy(at)
        ctx.save_for_backward(slope, at)
        ctx.overlap_dtype = overlap_coverage.dtype
        return torch.from_numpy(coverage)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        slope, at = ctx.saved_tensors
        return grad * slope, grad.index_select(0, at).to(ctx.overlap_dtype), None, None, None, None, None


@njit(cache=True, nogil=True)
def _nonzero_coverage(value, item, pixel, orientation, num_pixels, overlap_key, overlap_coverage):
    coverage = np.empty_like(value)
    slope = np.empty_like(value)
    for f in range(len(value)):
        v = value[f]
        # a cell the item does not cover holds only the prefix sum's rounding (~1e-16), whose sign is noise
        sign = np.sign(v) if abs(v) > 1e-9 else orientation[item[f]]
        magnitude = v * sign
        over = max(magnitude - 1, 0.0)
        if over > 1e-9:
            coverage[f], slope[f] = 1, 0
        else:
            coverage[f], slope[f] = magnitude - over, sign
    at = np.empty(len(overlap_key), np.int64)
    for k in range(len(overlap_key)):
        low, high = 0, len(value)  # the first cell whose key is not below overlap_key[k]
        while low < high:
            middle = (low + high) // 2
            if item[middle] * num_pixels + pixel[middle] < overlap_key[k]:
                low = middle + 1
            else:
                high = middle
        at[k] = low
        coverage[low], slope[low] = overlap_coverage[k], 0
    return coverage, slope, at


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
        color, alpha = over(rgb, alpha, rgb[0], alpha[0], pixel == 0, alpha[0], rgb[0], 0.5)
        unpremultiplied(color, alpha)
        _over_backward(_numpy(rgb), _numpy(alpha), _numpy(alpha), _rows(rgb, 3), _rows(alpha, 1),
                       _numpy(pixel == 0), _rows(alpha, 1), _rows(rgb, 3), 0.5)
        _unpremultiplied_backward(_numpy(torch.cat([rgb, alpha[:, None]], 1)), _numpy(rgb), _numpy(alpha))
        steps = row_prefix_sums(alpha, alpha, pixel, pixel + 1, 3)
        _row_prefix_sums_backward(_numpy(steps), _numpy(alpha), _numpy(alpha), _numpy(pixel), _numpy(pixel + 1))
        nonzero_coverage(alpha, pixel, item, alpha, 2, pixel[:1], alpha[:1])
