"""Synthetic captioned images: one coloured shape on a white background, drawn in batched torch."""

from __future__ import annotations

import math

import torch

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.10, 0.10),
    "green": (0.10, 0.70, 0.15),
    "blue": (0.10, 0.25, 0.90),
    "yellow": (0.95, 0.85, 0.10),
    "purple": (0.55, 0.15, 0.70),
    "orange": (1.00, 0.55, 0.00),
    "black": (0.08, 0.08, 0.08),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "cross")


def caption(colour: str, shape: str) -> str:
    """The canonical caption, e.g. "a red circle on a white background"."""
    return f"a {colour} {shape} on a white background"


def all_captions() -> list[str]:
    """Canonical captions of every (colour, shape) class; class index = colour * len(SHAPES) + shape."""
    return [caption(c, s) for c in COLOURS for s in SHAPES]


def _signed_distance(shape: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Approximate signed distance (< 0 inside) of each shape kind to the points (dx, dy) from its centre.

    shape: `(B,)` indices into SHAPES; dx, dy: `(B, S, S)`; r: `(B, 1, 1)` outer radius; same units as dx.
    """
    circle = torch.hypot(dx, dy) - r
    square = torch.maximum(dx.abs(), dy.abs()) - 0.85 * r
    # equilateral triangle pointing up, circumradius r: three half-planes at inradius r / 2
    edges = [dx * math.cos(a) + dy * math.sin(a) for a in (math.pi / 2, math.pi * 7 / 6, math.pi * 11 / 6)]
    triangle = torch.stack(edges).amax(dim=0) - r / 2
    bar = 0.3 * r
    cross = torch.minimum(
        torch.maximum(dx.abs() - r, dy.abs() - bar), torch.maximum(dx.abs() - bar, dy.abs() - r)
    )
    kinds = torch.stack([circle, square, triangle, cross])  # (4, B, S, S) in SHAPES order
    return kinds.gather(0, shape.view(1, -1, 1, 1).expand(1, *dx.shape)).squeeze(0)


def draw_shapes(
    colour: torch.Tensor, shape: torch.Tensor, size: int, generator: torch.Generator | None = None,
    jitter: float = 0.06,
) -> torch.Tensor:
    """Draw one anti-aliased shape per image at a random place and scale -> `(B, 3, size, size)` in [0, 1].

    colour, shape: `(B,)` indices into COLOURS and SHAPES; jitter: max per-channel colour perturbation.
    """
    n = colour.shape[0]

    def rand(*dims: int) -> torch.Tensor:
        return torch.rand(*dims, generator=generator)

    r = (0.12 + 0.33 * rand(n)).view(n, 1, 1)  # outer radius, fraction of the image side
    # centres keep at least half of the outer radius inside the image
    cx = (0.5 + (rand(n) - 0.5) * (1.0 - r.view(n))).view(n, 1, 1)
    cy = (0.5 + (rand(n) - 0.5) * (1.0 - r.view(n))).view(n, 1, 1)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    dx, dy = torch.broadcast_tensors(coords.view(1, 1, -1) - cx, coords.view(1, -1, 1) - cy)
    dist = _signed_distance(shape, dx, dy, r)
    coverage = (0.5 - dist * size).clamp(0.0, 1.0).unsqueeze(1)  # (B, 1, S, S), one-pixel soft edge
    rgb = torch.tensor(list(COLOURS.values()))[colour] + (rand(n, 3) * 2 - 1) * jitter
    rgb = rgb.clamp(0.0, 1.0).view(n, 3, 1, 1)
    return 1.0 - coverage * (1.0 - rgb)


def sample_batch(n: int, size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images `(n, 3, size, size)` and their class indices `(n,)` (see `all_captions`)."""
    colour = torch.randint(len(COLOURS), (n,), generator=generator)
    shape = torch.randint(len(SHAPES), (n,), generator=generator)
    return draw_shapes(colour, shape, size, generator), colour * len(SHAPES) + shape
