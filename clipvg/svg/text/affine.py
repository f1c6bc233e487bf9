"""2-D affine maps as (3, 3) float64 matrices acting on column vectors (x, y, 1)."""
from __future__ import annotations

from math import cos, radians, sin

import numpy as np

Matrix = np.ndarray


def translate(x: float, y: float) -> Matrix:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def scale(sx: float, sy: float | None = None) -> Matrix:
    return np.diag([sx, sx if sy is None else sy, 1.0])


def rotate(degrees: float, cx: float = 0.0, cy: float = 0.0) -> Matrix:
    """Rotation by ``degrees`` (clockwise on screen, y down) about (cx, cy)."""
    c, s = cos(radians(degrees)), sin(radians(degrees))
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return translate(cx, cy) @ turn @ translate(-cx, -cy)


def apply(matrix: Matrix, points) -> np.ndarray:
    """``points`` (N, 2) mapped by ``matrix``."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return xy @ matrix[:2, :2].T + matrix[:2, 2]
