"""Paint descriptions for the per-path view: solid colours and gradients.

Colours are straight (not premultiplied) sRGB RGBA in [0, 1]. Gradient geometry is in canvas
pixels (SVG ``userSpaceOnUse``), mapped by ``transform`` (SVG matrix ``a b c d e f``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
SPREADS = ("pad", "reflect", "repeat")


@dataclass
class Solid:
    """A flat colour, ``rgba`` straight RGBA in [0, 1]."""

    rgba: tuple[float, float, float, float]


@dataclass
class GradientStops:
    """Colour stops: ``offsets`` (T,) in [0, 1] non-decreasing, ``colors`` (T, 4) straight RGBA."""

    offsets: np.ndarray
    colors: np.ndarray

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.float32).reshape(-1)
        self.colors = np.asarray(self.colors, dtype=np.float32).reshape(-1, 4)
        if len(self.offsets) == 0 or len(self.offsets) != len(self.colors):
            raise ValueError("a gradient needs at least one stop and one colour per stop")

    @classmethod
    def of_arrays(cls, offsets: np.ndarray, colors: np.ndarray) -> GradientStops:
        """Stops of ``offsets`` (T,) and ``colors`` (T, 4) float32 arrays already of those shapes (T >= 1),
        taken as they are: without ``__post_init__``'s conversions and checks (a microsecond each, for the
        vectorizer's hundreds of gradients)."""
        stops = object.__new__(cls)
        stops.offsets, stops.colors = offsets, colors
        return stops


@dataclass
class LinearGradient:
    """Linear gradient from ``start`` to ``end`` (pixels, before ``transform``)."""

    start: tuple[float, float]
    end: tuple[float, float]
    stops: GradientStops
    transform: tuple[float, ...] = IDENTITY
    spread: str = "pad"


@dataclass
class RadialGradient:
    """Radial gradient: circle ``center``/``radius`` with focal point ``focal`` (pixels, before ``transform``)."""

    center: tuple[float, float]
    radius: float
    stops: GradientStops
    focal: tuple[float, float] | None = None
    transform: tuple[float, ...] = IDENTITY
    spread: str = "pad"


Paint = Solid | LinearGradient | RadialGradient


@dataclass
class Stroke:
    """Stroke style. ``width`` in pixels; cap butt|round|square; join miter|round|bevel.

    ``dashes`` (SVG ``stroke-dasharray``, pixels) alternate dash and gap lengths (an odd count is
    repeated once, as SVG says); ``dash_offset`` (pixels) shifts the pattern's start along the path.
    None or all zeros: a solid stroke.
    """

    paint: Paint
    width: float = 1.0
    cap: str = "butt"
    join: str = "miter"
    miter_limit: float = 4.0
    dashes: tuple[float, ...] | None = None
    dash_offset: float = 0.0

    def __post_init__(self) -> None:
        if self.dashes is not None:
            dashes = tuple(float(d) for d in self.dashes)
            if any(d < 0 for d in dashes) or not any(d > 0 for d in dashes):
                dashes = None  # SVG: negative values or a zero sum draw a solid stroke
            elif len(dashes) % 2:
                dashes = dashes * 2
            self.dashes = dashes


CAPS = ("butt", "round", "square")
JOINS = ("miter", "round", "bevel")


def gradient_kind(paint: Paint) -> int:
    """0 for linear, 1 for radial; raises for a solid."""
    if isinstance(paint, LinearGradient):
        return 0
    if isinstance(paint, RadialGradient):
        return 1
    raise TypeError(f"not a gradient: {paint!r}")


__all__ = [
    "CAPS", "IDENTITY", "JOINS", "SPREADS", "GradientStops", "LinearGradient", "Paint",
    "RadialGradient", "Solid", "Stroke", "gradient_kind",
]
