"""Compositing of premultiplied images: Porter-Duff operators (``feComposite``, ``feMerge``), the
arithmetic operator, and the 16 blend modes of CSS ``mix-blend-mode`` / ``feBlend``.

Colour tensors carry their channels first: colour (3, ...) and alpha (...) premultiplied.
"""
from __future__ import annotations

import torch

OPERATORS = ("over", "in", "out", "atop", "xor", "arithmetic")
LUMA = (0.3, 0.59, 0.11)  # the compositing spec's Lum() weights


def porter_duff(top: torch.Tensor, bottom: torch.Tensor, operator: str) -> torch.Tensor:
    """``top`` (in) composited with ``bottom`` (in2), both premultiplied (4, H, W), by ``operator``
    (over, in, out, atop, xor)."""
    a, b = top[3:], bottom[3:]
    if operator == "in":
        return top * b
    if operator == "out":
        return top * (1 - b)
    if operator == "atop":
        return top * b + bottom * (1 - a)
    if operator == "xor":
        return top * (1 - b) + bottom * (1 - a)
    return top + bottom * (1 - a)


def arithmetic(top: torch.Tensor, bottom: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``operator="arithmetic"``: k1*i1*i2 + k2*i1 + k3*i2 + k4 on premultiplied values, ``k`` (4,);
    alpha clamped to [0, 1] and colour to [0, alpha]."""
    k = k.to(top)
    out = k[0] * top * bottom + k[1] * top + k[2] * bottom + k[3]
    alpha = out[3:].clamp(0, 1)
    color = torch.minimum(out[:3].clamp(min=0), alpha)
    return torch.cat([color, alpha]) * (alpha > 0)


def _lum(c: torch.Tensor) -> torch.Tensor:
    w = torch.tensor(LUMA, dtype=c.dtype, device=c.device).reshape(3, *([1] * (c.dim() - 1)))
    return (c * w).sum(0, keepdim=True)


def _set_lum(c: torch.Tensor, lum: torch.Tensor) -> torch.Tensor:
    """SetLum then ClipColor as tiny-skia (resvg) draws them: the low clip only when every channel is
    negative (it tests the largest), the high clip as the spec, then negative channels cut to 0."""
    c = c + (lum - _lum(c))
    l = _lum(c)
    low, high = c.min(0, keepdim=True).values, c.max(0, keepdim=True).values
    c = torch.where(high >= 0, c, l + (c - l) * l / (l - low).clamp(min=1e-12))
    c = torch.where(high > 1, l + (c - l) * (1 - l) / (high - l).clamp(min=1e-12), c)
    return c.clamp(min=0)


def _sat(c: torch.Tensor) -> torch.Tensor:
    return c.max(0, keepdim=True).values - c.min(0, keepdim=True).values


def _set_sat(c: torch.Tensor, sat: torch.Tensor) -> torch.Tensor:
    low, high = c.min(0, keepdim=True).values, c.max(0, keepdim=True).values
    span = high - low
    return torch.where(span > 0, (c - low) * sat / span.clamp(min=1e-12), torch.zeros_like(c))


def _soft_light(b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    d = torch.where(b <= 0.25, ((16 * b - 12) * b + 4) * b, b.clamp(min=1e-12).sqrt())
    return torch.where(s <= 0.5, b - (1 - 2 * s) * b * (1 - b), b + (2 * s - 1) * (d - b))


def _hard_light(b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return torch.where(s <= 0.5, b * 2 * s, b + (2 * s - 1) - b * (2 * s - 1))


def _dodge(b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.where(s >= 1, torch.ones_like(b), (b / (1 - s).clamp(min=1e-12)).clamp(max=1))
    return torch.where(b <= 0, torch.zeros_like(b), out)


def _burn(b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = torch.where(s <= 0, torch.zeros_like(b), 1 - ((1 - b) / s.clamp(min=1e-12)).clamp(max=1))
    return torch.where(b >= 1, torch.ones_like(b), out)


_MIX = {
    "multiply": lambda b, s: b * s,
    "screen": lambda b, s: b + s - b * s,
    "overlay": lambda b, s: _hard_light(s, b),
    "darken": torch.minimum,
    "lighten": torch.maximum,
    "color-dodge": _dodge,
    "color-burn": _burn,
    "hard-light": _hard_light,
    "soft-light": _soft_light,
    "difference": lambda b, s: (b - s).abs(),
    "exclusion": lambda b, s: b + s - 2 * b * s,
    "hue": lambda b, s: _set_lum(_set_sat(s, _sat(b)), _lum(b)),
    "saturation": lambda b, s: _set_lum(_set_sat(b, _sat(s)), _lum(b)),
    "color": lambda b, s: _set_lum(s, _lum(b)),
    "luminosity": lambda b, s: _set_lum(b, _lum(s)),
}


def blend(top_color: torch.Tensor, top_alpha: torch.Tensor, bottom_color: torch.Tensor, bottom_alpha: torch.Tensor,
          mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``top`` drawn on ``bottom`` with blend ``mode`` (premultiplied colour (3, ...), alpha (...)):
    (1 - ab) Cs + (1 - as) Cb + as ab B(cb, cs), alpha as + ab - as ab. "normal" is source-over."""
    alpha = top_alpha + bottom_alpha * (1 - top_alpha)
    if mode == "normal" or mode not in _MIX:
        return top_color + bottom_color * (1 - top_alpha), alpha

    def straight(color: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return torch.where(a > 0, color / a.clamp(min=1e-12), torch.zeros_like(color)).clamp(0, 1)

    s, b = straight(top_color, top_alpha), straight(bottom_color, bottom_alpha)
    mixed = _MIX[mode](b, s)
    color = (1 - bottom_alpha) * top_color + (1 - top_alpha) * bottom_color + top_alpha * bottom_alpha * mixed
    return color, alpha


def blend_images(top: torch.Tensor, bottom: torch.Tensor, mode: str) -> torch.Tensor:
    """``feBlend``: premultiplied (4, H, W) ``top`` (in) blended onto ``bottom`` (in2) with ``mode``."""
    color, alpha = blend(top[:3], top[3], bottom[:3], bottom[3], mode)
    return torch.cat([color, alpha[None]])
