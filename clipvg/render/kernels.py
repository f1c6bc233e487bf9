"""Compiled CPU passes of the renderer: the per-pixel walks that torch would spell as many whole-array ops
(sorts, scatters, segmented sums), each one numba loop (clipvg.render.loops) with no temporaries, and the
torch-facing wrappers and autograd Functions around them.

Every kernel has a pure-torch twin beside its caller (``cull_hidden``, ``composite``, ``over``,
``unpremultiplied``, ``split_at_grid``, ``_RowPrefixSums``, ``_nonzero``, ``_covered_steps``), which CUDA runs and
the tests compare against; ``compiled(tensor)`` says which one a tensor takes: the kernels run on CPU tensors of
``MIN_ELEMENTS`` or more, and ``COMPILED`` turns them off altogether (tests).
"""
from __future__ import annotations

import types

import numpy as np
import torch

COMPILED = True  # CPU tensors take the compiled kernels (tests turn it off to run the torch path)
# Elements below which a step stays in torch: as fast there, and a tiny render (up to about 32 x 32 px) need
# not load numba (~1 s and ~120 MB once per process). The tests set it to 0.
MIN_ELEMENTS = 1 << 12


def compiled(tensor: torch.Tensor) -> bool:
    """Whether work on ``tensor`` runs the compiled kernels: on the CPU, for ``MIN_ELEMENTS`` or more,
    unless ``COMPILED`` is off."""
    return COMPILED and tensor.device.type == "cpu" and tensor.numel() >= MIN_ELEMENTS


def _loops() -> types.ModuleType:
    """clipvg.render.loops, imported (numba with it) on first use."""
    from . import loops
    return loops


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().contiguous().numpy()


def cull_order(pixel: torch.Tensor, item: torch.Tensor, opaque: torch.Tensor, num_pixels: int
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch_backend.cull_hidden``'s discrete part: the fragments (K,) to keep, ordered by pixel (draw
    order kept within a pixel), and each pixel's second-topmost opaque item (H*W,) (-1: none), for
    fragments at ``pixel`` (F,) of ``item`` (F,) (ascending within a pixel) that are ``opaque`` (F,) bool."""
    order, second = _loops().cull_order(_numpy(pixel), _numpy(item), _numpy(opaque), num_pixels)
    return torch.from_numpy(order), torch.from_numpy(second)


def composite_forward(pixel: torch.Tensor, alpha: torch.Tensor, rgb: torch.Tensor, num_pixels: int, max_alpha: float
                      ) -> tuple[torch.Tensor, ...]:
    """``composite._Composite.forward``'s values in one pass over the fragments (``pixel`` (F,) ascending,
    ``alpha`` (F,), ``rgb`` (F, 3), alpha clamped to ``max_alpha``): premultiplied colour (P, 3),
    1 - alpha (P,) per pixel, and per fragment 1 - clamped alpha (F,) float64, transmittance (F,) and
    weight (F,)."""
    arrays = _loops().composite_forward(_numpy(pixel), _numpy(alpha), _numpy(rgb.to(alpha.dtype)), num_pixels,
                                        max_alpha)
    return tuple(torch.from_numpy(array) for array in arrays)


def composite_gradients(pixel: torch.Tensor, rgb: torch.Tensor, clear: torch.Tensor, transmittance: torch.Tensor,
                        weight: torch.Tensor, remaining: torch.Tensor, grad_premultiplied: torch.Tensor,
                        grad_alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``composite._Composite.backward``'s gradients of the fragments' alpha (F,) and colour (F, 3), from
    forward's saved values and the gradients of the premultiplied colour (P, 3) and alpha (P,) per pixel."""
    grad_a, grad_rgb = _loops().composite_gradients(
        _numpy(pixel), _numpy(rgb), _numpy(clear), _numpy(transmittance), _numpy(weight), _numpy(remaining),
        _numpy(grad_premultiplied.to(rgb.dtype)), _numpy(grad_alpha.to(rgb.dtype)))
    return torch.from_numpy(grad_a), torch.from_numpy(grad_rgb)


def grid_breaks(a: torch.Tensor, b: torch.Tensor, width: int, height: int) -> tuple[torch.Tensor, ...]:
    """``coverage.split_at_grid``'s discrete part: the breaks of edges ``a`` -> ``b`` (E, 2) px at the grid
    lines x = 0..W and y = 0..H, each edge's start, its crossings in order along it, its end. Returns, per
    break (B,): its edge, ``line`` (the grid line crossed, or t itself, 0 or 1, at the end points) in the
    dtype of ``a``, ``axis`` (0: a vertical line x = line, 1: a horizontal one), ``crossing`` bool (not an
    end point) and ``kind`` (0: end point, 1: x crossing, 2: y crossing), in the order of
    ``coverage._merged_order`` (its tie-breaks computed in the dtype of ``a``, as there)."""
    arrays = _loops().grid_breaks(_numpy(a), _numpy(b), width, height)
    edge, line, kind = (torch.from_numpy(array) for array in arrays)
    return edge, line, (kind == 2).long(), kind > 0, kind


def gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values.index_select(0, index)`` (B, ...) whose backward, on the CPU, sums the gradient into the rows
    in one compiled pass (torch's index_add over rows of a few values goes through a generic scatter);
    ``values`` (N, ...), ``index`` (B,) long."""
    if not compiled(index) or not values.requires_grad:
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
        return torch.from_numpy(_loops().sum_rows(_numpy(index), rows, ctx.shape[0])).reshape(ctx.shape), None


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
        inputs = (alpha, below_color.to(dtype), below_alpha.to(dtype), floor, floor_alpha.to(dtype),
                  floor_rgb.to(dtype))
        out_color, out_alpha = _loops().over_forward(_numpy(color), *_over_arrays(*inputs), max_alpha)
        ctx.save_for_backward(*inputs)  # saved, not kept as arrays: checkpointed chunks recompute them
        ctx.max_alpha = max_alpha
        ctx.shapes = [tensor.shape for tensor in (below_color, below_alpha, floor_alpha, floor_rgb)]
        return torch.from_numpy(out_color), torch.from_numpy(out_alpha)

    @staticmethod
    def backward(ctx, grad_color: torch.Tensor, grad_alpha: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        grad_color = grad_color.contiguous()
        grads = _loops().over_backward(_numpy(grad_color), _numpy(grad_alpha.to(grad_color.dtype)),
                                       *_over_arrays(*ctx.saved_tensors), ctx.max_alpha)
        below_color, below_alpha, floor_alpha, floor_rgb = (
            torch.from_numpy(grad).to(grad_color.dtype).reshape(shape) for grad, shape in zip(grads[1:], ctx.shapes))
        return grad_color, torch.from_numpy(grads[0]), below_color, below_alpha, None, floor_alpha, floor_rgb, None


def _over_arrays(alpha: torch.Tensor, below_color: torch.Tensor, below_alpha: torch.Tensor, floor: torch.Tensor,
                 floor_alpha: torch.Tensor, floor_rgb: torch.Tensor) -> tuple[np.ndarray, ...]:
    """``loops.over_forward``'s arrays after the colour: alpha (P,), below (N, 3) and (N, 1), floor (P,) or
    (0,), floor alpha (N, 1) and colour (N, 3), N = P or 1 (uniform)."""
    return (_numpy(alpha), _rows(below_color, 3), _rows(below_alpha, 1), _numpy(floor), _rows(floor_alpha, 1),
            _rows(floor_rgb, 3))


def unpremultiplied(color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``composite.unpremultiplied`` in one pass per pixel, forward and backward."""
    return _Unpremultiplied.apply(color, alpha)


class _Unpremultiplied(torch.autograd.Function):
    @staticmethod
    def forward(ctx, color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(color, alpha)
        return torch.from_numpy(_loops().unpremultiplied_forward(_numpy(color), _numpy(alpha.to(color.dtype))))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        color, alpha = ctx.saved_tensors
        grad_color, grad_alpha = _loops().unpremultiplied_backward(_numpy(grad), _numpy(color),
                                                                   _numpy(alpha.to(color.dtype)))
        return torch.from_numpy(grad_color), torch.from_numpy(grad_alpha).to(alpha.dtype)


def row_prefix_sums(step: torch.Tensor, fx: torch.Tensor, base: torch.Tensor, row_last: torch.Tensor, size: int
                    ) -> torch.Tensor:
    """``coverage._RowPrefixSums`` in compiled passes: the same float64 sums in the same order."""
    return _RowPrefixSums.apply(step, fx, base, row_last, size)


class _RowPrefixSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, step: torch.Tensor, fx: torch.Tensor, base: torch.Tensor, row_last: torch.Tensor, size: int
                ) -> torch.Tensor:
        ctx.save_for_backward(step, fx, base, row_last)
        return torch.from_numpy(_loops().row_prefix_sums(_numpy(step), _numpy(fx.to(step.dtype)), _numpy(base),
                                                 _numpy(row_last), size))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        step, fx, base, row_last = ctx.saved_tensors
        grad_step, grad_fx = _loops().row_prefix_sums_backward(_numpy(grad), _numpy(step), _numpy(fx.to(step.dtype)),
                                                       _numpy(base), _numpy(row_last))
        return torch.from_numpy(grad_step), torch.from_numpy(grad_fx).to(fx.dtype), None, None, None


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
        coverage, slope, at = _loops().nonzero_coverage(_numpy(value), _numpy(item), _numpy(pixel),
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


def covered_steps(x: torch.Tensor, col: torch.Tensor, pair_band: torch.Tensor, direction: torch.Tensor,
                  entering: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``self_overlap._covered_steps``: each crossing's step (Q,) and each band's winding change (B,), the
    crossings sorted within their bands in one pass (a counting sort by band, then each band's few by x)."""
    step, total = _loops().covered_steps(_numpy(x), _numpy(col.to(x.dtype)), _numpy(pair_band), _numpy(direction),
                                         _numpy(entering))
    return torch.from_numpy(step).to(x.dtype), torch.from_numpy(total)


def warm_up() -> None:
    """Load (or compile, the first time) every kernel for float32 and float64: the one-time cost of numba
    (~120 MB of memory, its code generator included) paid up front, not inside a measured render."""
    pixel, item = torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0])
    cull_order(pixel, item, torch.tensor([True, True, False]), 2)
    for dtype in (torch.float32, torch.float64):
        alpha, rgb = torch.full((3,), 0.5, dtype=dtype), torch.full((3, 3), 0.5, dtype=dtype)
        premultiplied, remaining, clear, transmittance, weight = composite_forward(pixel, alpha, rgb, 2, 0.5)
        composite_gradients(pixel, rgb, clear, transmittance, weight, remaining, premultiplied, remaining)
        grid_breaks(torch.zeros(1, 2, dtype=dtype), torch.full((1, 2), 1.5, dtype=dtype), 2, 2)
        _loops().sum_rows(_numpy(pixel), _numpy(rgb), 2)
        color, alpha = over(rgb, alpha, rgb[0], alpha[0], pixel == 0, alpha[0], rgb[0], 0.5)
        unpremultiplied(color, alpha)
        _loops().over_backward(_numpy(rgb), _numpy(alpha), _numpy(alpha), _rows(rgb, 3), _rows(alpha, 1),
                               _numpy(pixel == 0), _rows(alpha, 1), _rows(rgb, 3), 0.5)
        _loops().unpremultiplied_backward(_numpy(torch.cat([rgb, alpha[:, None]], 1)), _numpy(rgb), _numpy(alpha))
        steps = row_prefix_sums(alpha, alpha, pixel, pixel + 1, 3)
        _loops().row_prefix_sums_backward(_numpy(steps), _numpy(alpha), _numpy(alpha), _numpy(pixel),
                                          _numpy(pixel + 1))
        nonzero_coverage(alpha, pixel, item, alpha, 2, pixel[:1], alpha[:1])
        covered_steps(alpha, alpha[:2], pixel, item * 2 - 1, pixel[:2])
