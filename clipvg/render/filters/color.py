"""Colour filter primitives on premultiplied RGBA images (4, H, W): colour spaces (sRGB <-> linear
RGB), ``feColorMatrix``, ``feComponentTransfer`` and ``feFlood``."""
from __future__ import annotations

import torch

LUMINANCE_TO_ALPHA = (0.2125, 0.7154, 0.0721)


def unpremultiply(rgba: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(3, H, W) straight colour in [0, 1] and (1, H, W) alpha of a premultiplied (4, H, W) image."""
    alpha = rgba[3:]
    color = torch.where(alpha > 0, rgba[:3] / alpha.clamp(min=1e-12), torch.zeros_like(rgba[:3]))
    return color.clamp(0, 1), alpha


def premultiply(color: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """(4, H, W) premultiplied from straight (3, H, W) colour and (1, H, W) alpha."""
    return torch.cat([color * alpha, alpha])


def srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    """Straight sRGB values in [0, 1] -> linear light."""
    return torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055).clamp(min=1e-12) ** 2.4)


def linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """Straight linear-light values in [0, 1] -> sRGB."""
    return torch.where(c <= 0.0031308, c * 12.92, 1.055 * c.clamp(min=1e-12) ** (1 / 2.4) - 0.055)


def to_linear(rgba: torch.Tensor) -> torch.Tensor:
    """Premultiplied sRGB (4, H, W) -> premultiplied linear RGB."""
    color, alpha = unpremultiply(rgba)
    return premultiply(srgb_to_linear(color), alpha)


def to_srgb(rgba: torch.Tensor) -> torch.Tensor:
    """Premultiplied linear RGB (4, H, W) -> premultiplied sRGB."""
    color, alpha = unpremultiply(rgba)
    return premultiply(linear_to_srgb(color), alpha)


def color_matrix(rgba: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """``feColorMatrix``: straight (R, G, B, A, 1) of each pixel times ``matrix`` (4, 5), clamped to [0, 1]."""
    color, alpha = unpremultiply(rgba)
    straight = torch.cat([color, alpha])
    out = torch.einsum("ij,jhw->ihw", matrix[:, :4], straight) + matrix[:, 4, None, None]
    out = out.clamp(0, 1)
    return premultiply(out[:3], out[3:])


def saturate_matrix(amount: torch.Tensor) -> torch.Tensor:
    """(4, 5) matrix of ``type="saturate"`` (``amount`` a 0-dim tensor; 0 grey, 1 unchanged)."""
    s = amount
    one, zero = torch.ones_like(s), torch.zeros_like(s)
    rows = [[0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s]]
    return _rgb_matrix(rows, one, zero)


def hue_rotate_matrix(degrees: torch.Tensor) -> torch.Tensor:
    """(4, 5) matrix of ``type="hueRotate"`` (``degrees`` a 0-dim tensor)."""
    angle = torch.deg2rad(degrees)
    c, s = torch.cos(angle), torch.sin(angle)
    rows = [[0.213 + 0.787 * c - 0.213 * s, 0.715 - 0.715 * c - 0.715 * s, 0.072 - 0.072 * c + 0.928 * s],
            [0.213 - 0.213 * c + 0.143 * s, 0.715 + 0.285 * c + 0.140 * s, 0.072 - 0.072 * c - 0.283 * s],
            [0.213 - 0.213 * c - 0.787 * s, 0.715 - 0.715 * c + 0.715 * s, 0.072 + 0.928 * c + 0.072 * s]]
    return _rgb_matrix(rows, torch.ones_like(c), torch.zeros_like(c))


def luminance_to_alpha_matrix(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(4, 5) matrix of ``type="luminanceToAlpha"``: black, with the luminance as alpha."""
    matrix = torch.zeros(4, 5, dtype=dtype)
    matrix[3, :3] = torch.tensor(LUMINANCE_TO_ALPHA, dtype=dtype)
    return matrix


def _rgb_matrix(rows: list[list[torch.Tensor]], one: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
    full = [r + [zero, zero] for r in rows] + [[zero, zero, zero, one, zero]]
    return torch.stack([torch.stack(r) for r in full])


def transfer(c: torch.Tensor, function: dict | None) -> torch.Tensor:
    """One ``feFuncX`` on straight values ``c`` in [0, 1]: ``function`` None (identity) or a dict with
    ``type`` ("identity", "table", "discrete", "linear", "gamma") and its tensors (``values`` (n,),
    ``slope``/``intercept``, ``amplitude``/``exponent``/``offset``)."""
    kind = None if function is None else function["type"]
    if kind in ("table", "discrete") and len(function["values"]) == 0:
        kind = None
    if kind is None or kind == "identity":
        return c
    if kind == "table":
        values = function["values"].to(c)
        n = len(values) - 1
        if n == 0:
            out = values[0].expand_as(c)
        else:
            k = (c * n).floor().clamp(0, n - 1).long()
            out = values[k] + (c * n - k) * (values[k + 1] - values[k])
    elif kind == "discrete":
        values = function["values"].to(c)
        k = (c * len(values)).floor().clamp(0, len(values) - 1).long()
        out = values[k]
    elif kind == "linear":
        out = function["slope"].to(c) * c + function["intercept"].to(c)
    else:  # gamma
        out = function["amplitude"].to(c) * c.clamp(min=1e-12) ** function["exponent"].to(c) + function["offset"].to(c)
    return out.clamp(0, 1)


def component_transfer(rgba: torch.Tensor, functions: list[dict | None]) -> torch.Tensor:
    """``feComponentTransfer``: ``functions`` (R, G, B, A) each applied to straight values."""
    color, alpha = unpremultiply(rgba)
    straight = torch.cat([color, alpha])
    out = torch.stack([transfer(straight[i], functions[i]) for i in range(4)])
    return premultiply(out[:3], out[3:])


def flood(color: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``feFlood``: (4, H, W) premultiplied of the straight RGBA ``color`` (4,)."""
    premultiplied = torch.cat([color[:3] * color[3], color[3:]])
    return premultiplied[:, None, None].expand(4, height, width)
