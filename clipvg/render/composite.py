"""Source-over compositing of coverage fragments, in item order, per pixel."""
from __future__ import annotations

import torch

from . import kernels

_MAX_ALPHA = 1 - 1e-6  # keeps log(1 - alpha) finite; lets 1e-6 of what is below through


def composite(pixel: torch.Tensor, alpha: torch.Tensor, rgb: torch.Tensor, num_pixels: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite fragments bottom to top.

    ``pixel`` (F,) pixel indices in ascending order, the fragments of a pixel in draw order (bottom
    first); ``alpha`` (F,) in [0, 1]; ``rgb`` (F, 3) straight colour. Returns premultiplied colour
    (num_pixels, 3) and alpha (num_pixels,), both differentiable.
    """
    return _Composite.apply(pixel, alpha, rgb, num_pixels)


class _Composite(torch.autograd.Function):
    """``composite`` with its gradient written out: fragment i of pixel p has weight
    w_i = a_i T_i, T_i the transmittance exp(sum of log(1 - a_j)) of the fragments above it, and

        d/dc_i = w_i g_p,    d/da_i = T_i (c_i . g_p) - (B_i - (1 - A_p) gA_p) / (1 - a_i),

    g_p / gA_p the gradients of pixel p's premultiplied colour / alpha A_p, B_i the sum of
    w_k (c_k . g_p) over the fragments k below i. The 1 - a_i there uses a_i clamped to 1 - 1e-6
    (a straight-through clamp: the gradient of an opaque fragment's alpha still sees what it hides).
    """

    @staticmethod
    def forward(ctx, pixel: torch.Tensor, alpha: torch.Tensor, rgb: torch.Tensor, num_pixels: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.compiled = kernels.compiled(alpha)  # backward takes the same path
        if ctx.compiled:
            premultiplied, remaining, clear, transmittance, weight = kernels.composite_forward(
                pixel, alpha, rgb, num_pixels, _MAX_ALPHA)
            ctx.save_for_backward(pixel, rgb, clear, transmittance, weight, remaining)
            return premultiplied, 1 - remaining
        clear = 1 - alpha.clamp(max=_MAX_ALPHA).double()
        log_clear = torch.log(clear)
        total_log = log_clear.new_zeros(num_pixels).index_add_(0, pixel, log_clear)
        above = total_log.index_select(0, pixel) - _running_sums(log_clear, pixel, total_log)
        transmittance = torch.exp(above).to(alpha.dtype)
        weight = alpha * transmittance
        premultiplied = rgb.new_zeros(num_pixels, 3).index_add_(0, pixel, weight[:, None] * rgb)
        remaining = torch.exp(total_log).to(alpha.dtype)  # 1 - A per pixel
        ctx.save_for_backward(pixel, rgb, clear, transmittance, weight, remaining)
        return premultiplied, 1 - remaining

    @staticmethod
    def backward(ctx, grad_premultiplied: torch.Tensor, grad_alpha: torch.Tensor
                 ) -> tuple[None, torch.Tensor | None, torch.Tensor | None, None]:
        pixel, rgb, clear, transmittance, weight, remaining = ctx.saved_tensors
        if ctx.compiled:
            grad_a, grad_rgb = kernels.composite_gradients(pixel, rgb, clear, transmittance, weight, remaining,
                                                           grad_premultiplied, grad_alpha)
            return None, grad_a, grad_rgb, None
        grad_color = grad_premultiplied.index_select(0, pixel)  # (F, 3)
        grad_rgb = weight[:, None] * grad_color if ctx.needs_input_grad[2] else None
        if not ctx.needs_input_grad[1]:
            return None, None, grad_rgb, None
        seen = (rgb * grad_color).sum(1)  # c_i . g_p
        seen_weighted = (weight * seen).double()
        totals = seen_weighted.new_zeros(len(remaining)).index_add_(0, pixel, seen_weighted)
        below = _running_sums(seen_weighted, pixel, totals) - seen_weighted  # B_i
        hidden = (grad_alpha * remaining).index_select(0, pixel).double()  # (1 - A_p) gA_p
        grad_a = transmittance * seen - ((below - hidden) / clear).to(seen.dtype)
        return None, grad_a, grad_rgb, None


def over(color: torch.Tensor, alpha: torch.Tensor, below_color: torch.Tensor, below_alpha: torch.Tensor,
         floor: torch.Tensor | None = None, floor_alpha: torch.Tensor | None = None,
         floor_rgb: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Premultiplied colour (P, 3) and alpha (P,) of composited fragments (``color`` (P, 3), ``alpha``
    (P,), from ``composite``) over a floor layer over what is below (premultiplied ``below_color``
    (P, 3) or (3,), ``below_alpha`` (P,) or ()). The floor covers the pixels ``floor`` (P,) bool
    with alpha ``floor_alpha`` and straight colour ``floor_rgb``, (P,) and (P, 3) or () and (3,) for
    all pixels: as ``composite`` would give it as the bottom fragment of those pixels (an opaque one
    lets 1e-6 of what is below through; the gradient of its alpha is straight-through)."""
    if kernels.compiled(color):
        return kernels.over(color, alpha, below_color, below_alpha, floor, floor_alpha, floor_rgb, _MAX_ALPHA)
    seen = 1 - alpha  # what shows through the fragments
    color, alpha = color.addcmul(seen[:, None], below_color), alpha.addcmul(seen, below_alpha)
    if floor is None:
        return color, alpha
    # the floor adds what it paints and takes what it hides of what is below (multiplications by a
    # 0/1 mask: torch.where on broadcast colours is several times slower)
    opacity = floor_alpha - (floor_alpha - floor_alpha.clamp(max=_MAX_ALPHA)).detach()
    shown = seen * floor.to(seen.dtype)
    change = floor_alpha[..., None] * floor_rgb - opacity[..., None] * below_color
    return color.addcmul_(shown[:, None], change), alpha.addcmul_(shown, opacity * (1 - below_alpha))


def _running_sums(values: torch.Tensor, pixel: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    """(F,) sum of ``values`` (F,) over each fragment and those before it in its pixel (``pixel`` (F,)
    ascending; ``totals`` the sums per pixel). The running sum restarts at every pixel, so that its
    rounding stays that of one pixel's sum (an opaque fragment divides it by 1e-6), not of all the
    pixels before it."""
    previous = torch.cat([pixel[:1], pixel[:-1]])
    restarted = values - torch.where(pixel != previous, totals.index_select(0, previous), torch.zeros_like(values))
    return torch.cumsum(restarted, 0)


def unpremultiplied(color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """(P, 4) straight RGBA in [0, 1] from premultiplied ``color`` (P, 3) and ``alpha`` (P,); colour 0
    where alpha is 0. The clamp to [0, 1] is straight-through: rounding can leave 1 + 1e-7, and the
    gradient must not die at colours of 0 or 1."""
    if kernels.compiled(color):
        return kernels.unpremultiplied(color, alpha)
    return _Unpremultiplied.apply(color, alpha)


class _Unpremultiplied(torch.autograd.Function):
    """``unpremultiplied``, its gradient in one pass: d/dcolor = g / alpha, d/dalpha = g_alpha -
    (g . color) / alpha^2 (the latter where alpha >= 1e-12, as the clamp that guards the division)."""

    @staticmethod
    def forward(ctx, color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        inverse = torch.where(alpha > 0, alpha.clamp(min=1e-12).reciprocal_(), 0.0)
        ctx.save_for_backward(color, alpha, inverse)
        straight = color.new_empty(len(color), 4)  # written in place: no cat of a product
        torch.mul(color, inverse[:, None], out=straight[:, :3])
        straight[:, 3] = alpha
        return straight.clamp_(0, 1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        color, alpha, inverse = ctx.saved_tensors
        grad_color = grad[:, :3] * inverse[:, None]
        divided = torch.where(alpha >= 1e-12, inverse, 0.0)
        return grad_color, grad[:, 3] - (grad_color * color).sum(1) * divided
