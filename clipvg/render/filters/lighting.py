"""``feDiffuseLighting`` and ``feSpecularLighting`` with distant, point and spot lights: surface
normals from the input's alpha (the spec's Sobel kernels, one-sided at the borders), all pixels at
once; differentiable in the lighting colour, constants, surface scale and light position."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _derivative(a: torch.Tensor, dim: int) -> torch.Tensor:
    """Central difference along ``dim`` of (H, W) ``a`` (one-sided at both ends), not halved."""
    n = a.shape[dim]
    head = a.narrow(dim, 1, 1) - a.narrow(dim, 0, 1)
    tail = a.narrow(dim, n - 1, 1) - a.narrow(dim, n - 2, 1)
    inner = a.narrow(dim, 2, n - 2) - a.narrow(dim, 0, n - 2)
    return torch.cat([head, inner, tail], dim)


def _smooth(a: torch.Tensor, dim: int) -> torch.Tensor:
    """[1, 2, 1] along ``dim`` ([2, 1] and [1, 2] at the ends)."""
    n = a.shape[dim]
    head = 2 * a.narrow(dim, 0, 1) + a.narrow(dim, 1, 1)
    tail = a.narrow(dim, n - 2, 1) + 2 * a.narrow(dim, n - 1, 1)
    inner = a.narrow(dim, 0, n - 2) + 2 * a.narrow(dim, 1, n - 2) + a.narrow(dim, 2, n - 2)
    return torch.cat([head, inner, tail], dim)


def _factors(n: int, inner_span: float, edge_span: float, a: torch.Tensor) -> torch.Tensor:
    values = torch.full((n,), inner_span, dtype=a.dtype, device=a.device)
    values[0] = values[-1] = edge_span
    return values


def surface_normals(alpha: torch.Tensor, surface_scale: torch.Tensor) -> torch.Tensor:
    """(3, H, W) unnormalised normals (-ss fx Nx, -ss fy Ny, 1) of the alpha surface (H, W >= 3)."""
    h, w = alpha.shape
    nx = _smooth(_derivative(alpha, 1), 0)
    ny = _smooth(_derivative(alpha, 0), 1)
    span_x, span_y = _factors(w, 2, 1, alpha), _factors(h, 2, 1, alpha)
    sum_x, sum_y = _factors(w, 4, 3, alpha), _factors(h, 4, 3, alpha)
    fx = 2 / (span_x[None, :] * sum_y[:, None])
    fy = 2 / (span_y[:, None] * sum_x[None, :])
    return torch.stack([-surface_scale * fx * nx, -surface_scale * fy * ny, torch.ones_like(alpha)])


def light_vectors(light: dict, alpha: torch.Tensor, surface_scale: torch.Tensor) -> torch.Tensor:
    """(3, H, W) unit vectors from each surface point to the light. ``light``: ``type`` "distant"
    (``azimuth``, ``elevation`` degrees) or "point"/"spot" (``position`` (3,) px in the image)."""
    h, w = alpha.shape
    if light["type"] == "distant":
        azimuth, elevation = (torch.deg2rad(light[k].to(alpha)) for k in ("azimuth", "elevation"))
        vector = torch.stack([torch.cos(azimuth) * torch.cos(elevation), torch.sin(azimuth) * torch.cos(elevation),
                              torch.sin(elevation)])
        return vector[:, None, None].expand(3, h, w)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=alpha.dtype, device=alpha.device),
                            torch.arange(w, dtype=alpha.dtype, device=alpha.device), indexing="ij")
    position = light["position"].to(alpha)
    v = position[:, None, None] - torch.stack([xs, ys, surface_scale * alpha])
    length = v.norm(dim=0, keepdim=True)
    return torch.where(length > 0, v / length.clamp(min=1e-12), v)


def light_colors(light: dict, color: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """(3, H, W) light colour reaching each point (a spot light's cone and fall-off applied)."""
    if light["type"] != "spot":
        return color.to(vectors)[:, None, None].expand_as(vectors)
    position, target = light["position"].to(vectors), light["points_at"].to(vectors)
    direction = target - position
    direction = direction / direction.norm().clamp(min=1e-12) if float(direction.detach().norm()) > 0 else direction
    cos = -(vectors * direction[:, None, None]).sum(0)
    lit = cos > 0
    cone = light.get("cone")
    if cone is not None:
        lit = lit & (cos >= math.cos(math.radians(float(cone))))
    exponent = light["exponent"].to(vectors)
    factor = torch.where(lit, cos.clamp(min=1e-12) ** exponent, torch.zeros_like(cos))
    return (color.to(vectors)[:, None, None] * factor).clamp(0, 1)


def lighting(image: torch.Tensor, specular: bool, light: dict, color: torch.Tensor, surface_scale: torch.Tensor,
             constant: torch.Tensor, exponent: torch.Tensor) -> torch.Tensor:
    """(4, H, W) premultiplied lit surface of ``image``'s alpha: diffuse kd N.L (opaque) or specular
    ks (N.H)^exponent (alpha the largest channel); ``color`` (3,) the lighting colour."""
    _, h, w = image.shape
    if h < 3 or w < 3:
        return torch.zeros_like(image)
    alpha = image[3]
    surface_scale = surface_scale.to(image)
    normals = surface_normals(alpha, surface_scale)
    vectors = light_vectors(light, alpha, surface_scale)
    colors = light_colors(light, color, vectors)
    normal_length = normals.norm(dim=0)
    if specular:
        half = vectors + torch.tensor([0.0, 0.0, 1.0], dtype=image.dtype, device=image.device)[:, None, None]
        half_length = half.norm(dim=0)
        n_dot_h = (normals * half).sum(0) / normal_length / half_length.clamp(min=1e-12)
        n_dot_h = torch.where(half_length > 0, n_dot_h, torch.zeros_like(n_dot_h))
        k = constant.to(image) * n_dot_h.clamp(min=0) ** exponent.to(image)
        k = torch.where(n_dot_h > 0, k, torch.zeros_like(k)) if float(exponent.detach()) != 1 else constant.to(image) * n_dot_h
    else:
        k = constant.to(image) * (normals * vectors).sum(0) / normal_length
    rgb = (colors * k).clamp(0, 1)
    a = rgb.max(0, keepdim=True).values if specular else torch.ones_like(rgb[:1])
    return torch.cat([rgb, a])
