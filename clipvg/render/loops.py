"""The numba loops behind clipvg.render.kernels (imported on first use: a small render, which stays in torch,
never loads numba). Each takes and returns numpy arrays; see the wrapper of the same name in kernels.py."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def cull_order(pixel: np.ndarray, item: np.ndarray, opaque: np.ndarray, num_pixels: int):
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


@njit(cache=True, nogil=True)
def composite_forward(pixel: np.ndarray, alpha: np.ndarray, rgb: np.ndarray, num_pixels: int, max_alpha: float):
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


@njit(cache=True, nogil=True)
def composite_gradients(pixel: np.ndarray, rgb: np.ndarray, clear: np.ndarray, transmittance: np.ndarray,
                        weight: np.ndarray, remaining: np.ndarray, grad_premultiplied: np.ndarray,
                        grad_alpha: np.ndarray):
    grad = np.empty_like(transmittance)
    grad_rgb = np.empty_like(rgb)
    below = 0.0
    for f in range(len(pixel)):
        p = pixel[f]
        if f == 0 or p != pixel[f - 1]:
            below = 0.0
        for c in range(3):
            grad_rgb[f, c] = weight[f] * grad_premultiplied[p, c]
        seen = rgb[f, 0] * grad_premultiplied[p, 0]
        seen += rgb[f, 1] * grad_premultiplied[p, 1]
        seen += rgb[f, 2] * grad_premultiplied[p, 2]
        hidden = np.float64(grad_alpha[p] * remaining[p])
        grad[f] = transmittance[f] * seen - (below - hidden) / clear[f]
        below += np.float64(weight[f] * seen)
    return grad, grad_rgb


@njit(cache=True, nogil=True)
def crossing_range(lo, hi, limit: int):
    """First grid line strictly above ``lo`` (not below 0) and the count of those strictly below ``hi``
    (not above ``limit``): ``coverage._grid_crossings`` for one edge."""
    first = max(np.floor(lo) + 1, 0.0)
    last = min(np.ceil(hi) - 1, float(limit))
    return first, max(int(last - first + 1), 0)


@njit(cache=True, nogil=True)
def grid_breaks(a: np.ndarray, b: np.ndarray, width: int, height: int):
    edges = len(a)
    first = np.empty((edges, 2))
    count = np.empty((edges, 2), np.int64)
    total = 0
    for e in range(edges):
        for axis, limit in ((0, width), (1, height)):
            first[e, axis], count[e, axis] = crossing_range(min(a[e, axis], b[e, axis]), max(a[e, axis], b[e, axis]),
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


@njit(cache=True, nogil=True)
def sum_rows(index: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    out = np.zeros((count, rows.shape[1]), rows.dtype)
    for i in range(len(index)):
        for c in range(rows.shape[1]):
            out[index[i], c] += rows[i, c]
    return out


@njit(cache=True, nogil=True)
def over_forward(color, alpha, below_color, below_alpha, floor, floor_alpha, floor_rgb, max_alpha):
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
def over_backward(grad_color, grad_alpha, alpha, below_color, below_alpha, floor, floor_alpha, floor_rgb,
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


@njit(cache=True, nogil=True)
def unpremultiplied_forward(color, alpha):
    straight = np.empty((len(alpha), 4), color.dtype)
    for p in range(len(alpha)):
        inverse = 1 / max(alpha[p], 1e-12) if alpha[p] > 0 else 0.0
        for c in range(3):
            straight[p, c] = min(max(color[p, c] * inverse, 0.0), 1.0)
        straight[p, 3] = min(max(alpha[p], 0.0), 1.0)
    return straight


@njit(cache=True, nogil=True)
def unpremultiplied_backward(grad, color, alpha):
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


@njit(cache=True, nogil=True)
def row_prefix_sums(step, fx, base, row_last, size):
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
def row_prefix_sums_backward(grad, step, fx, base, row_last):
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


@njit(cache=True, nogil=True)
def nonzero_coverage(value, item, pixel, orientation, num_pixels, overlap_key, overlap_coverage):
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


@njit(cache=True, nogil=True)
def covered_steps(x, col, pair_band, direction, entering):
    bands = len(entering)
    start = np.zeros(bands + 1, np.int64)  # a counting sort of the crossings by band
    for q in range(len(x)):
        start[pair_band[q] + 1] += 1
    for k in range(bands):
        start[k + 1] += start[k]
    order = np.empty(len(x), np.int64)
    fill = start[:-1].copy()
    for q in range(len(x)):
        order[fill[pair_band[q]]] = q
        fill[pair_band[q]] += 1
    key = np.empty(len(x), np.float64)
    for q in range(len(x)):
        key[q] = min(max(x[q] - col[pair_band[q]], 0.0), 1.0)
    step = np.empty(len(x), np.float64)
    total = np.empty(bands, np.int64)
    for k in range(bands):
        low, high = start[k], start[k + 1]
        if high - low > 32:
            run = order[low:high].copy()
            order[low:high] = run[np.argsort(key[run], kind="mergesort")]
        else:
            for i in range(low + 1, high):  # insertion sort by key
                q = order[i]
                j = i - 1
                while j >= low and key[order[j]] > key[q]:
                    order[j + 1] = order[j]
                    j -= 1
                order[j + 1] = q
        running = entering[k]
        for i in range(low, high):
            q = order[i]
            before = running
            running += direction[q]
            step[q] = (before != 0) - (running != 0)
        total[k] = running - entering[k]
    return step, total
