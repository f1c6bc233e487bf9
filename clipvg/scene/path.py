"""Per-path view of a Scene: plain Python/numpy objects for users, never used on the hot path."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .paint import Paint, Stroke


@dataclass
class Subpath:
    """One contour.

    ``points`` (K, 2) float pixels: the start point, then for each segment its control points and end
    point (``degree`` points per segment). A closed subpath's last segment ends at the start point,
    which is not repeated. ``degrees`` (S,) ints: 1 line, 2 quadratic, 3 cubic.
    """

    points: np.ndarray
    degrees: np.ndarray
    closed: bool = True

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float32).reshape(-1, 2)
        self.degrees = np.asarray(self.degrees, dtype=np.int64).reshape(-1)
        if len(self.degrees) == 0:
            raise ValueError("a subpath needs at least one segment")
        if np.any((self.degrees < 1) | (self.degrees > 3)):
            raise ValueError("segment degrees must be 1 (line), 2 (quadratic) or 3 (cubic)")
        expected = 1 + int(self.degrees.sum()) - int(self.closed)
        if len(self.points) != expected:
            raise ValueError(
                f"subpath with degrees {self.degrees.tolist()} (closed={self.closed}) needs "
                f"{expected} points, got {len(self.points)}"
            )

    @classmethod
    def polygon(cls, points: np.ndarray, closed: bool = True) -> "Subpath":
        """A polyline/polygon through ``points`` (K, 2)."""
        points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        n_segments = len(points) if closed else len(points) - 1
        return cls(points, np.ones(n_segments, dtype=np.int64), closed)


@dataclass
class Path:
    """A compound path: subpaths filled together with ``fill_rule`` (nonzero|evenodd), then stroked.

    ``fill``/``stroke`` None means no fill / no stroke. ``opacity`` in [0, 1] multiplies both.
    ``layer`` names the group the path belongs to; ``id`` is kept through SVG round trips.
    """

    subpaths: list[Subpath]
    fill: Paint | None = None
    stroke: Stroke | None = None
    fill_rule: str = "nonzero"
    opacity: float = 1.0
    layer: str = "layer"
    id: str | None = None

    def __post_init__(self) -> None:
        if self.fill_rule not in ("nonzero", "evenodd"):
            raise ValueError(f"fill_rule must be 'nonzero' or 'evenodd', got {self.fill_rule!r}")
        if not self.subpaths:
            raise ValueError("a path needs at least one subpath")
