"""A stroke's outline as closed polygons (the pieces the renderer fills with nonzero to draw it)."""
from __future__ import annotations

import numpy as np
import torch

from ..limits import MAX_COORDINATE
from ..scene import Path, Scene, Solid, Stroke, Subpath


def stroke_outline(subpaths: list[Subpath], stroke: Stroke) -> list[np.ndarray]:
    """Closed loops (each (K, 2) float64, in the subpaths' own coordinates) whose nonzero union is
    the stroke of ``subpaths`` with ``stroke`` (flattened as the renderer flattens at scale 1)."""
    from .torch_backend import draw_items

    if not all((np.abs(s.points) <= MAX_COORDINATE).all() for s in subpaths):
        return []  # NaN or absurdly far: nothing drawable (the reader refuses such shapes with its own error)
    scene = Scene.from_paths([Path(subpaths, stroke=Stroke(Solid((0.0, 0.0, 0.0, 1.0)), stroke.width, stroke.cap,
                                                           stroke.join, stroke.miter_limit, stroke.dashes,
                                                           stroke.dash_offset))], 1.0, 1.0, device="cpu")
    with torch.no_grad():
        edges, items = draw_items(scene, torch.ones(2))
    edges = edges[items == 1].double().numpy().reshape(-1, 4).tolist()
    loops: list[list[tuple]] = []
    current: list[tuple] = []
    direction = 0  # +1: each edge starts where the last ended; -1: each ends where the last started (flipped)

    def near(p: tuple, q: tuple) -> bool:
        return abs(p[0] - q[0]) <= 1e-9 and abs(p[1] - q[1]) <= 1e-9

    for x0, y0, x1, y1 in edges:  # every piece is a closed run of consecutive (maybe flipped) edges
        a, b = (x0, y0), (x1, y1)
        if current:
            if direction >= 0 and near(a, current[-1][1]):
                direction = 1
            elif direction <= 0 and near(b, current[-1][0]):
                direction = -1
            else:
                loops.append((direction, current))
                current, direction = [], 0
        current.append((a, b))
        closes = near(b, current[0][0]) if direction > 0 else near(a, current[0][1])
        if len(current) >= 3 and closes:
            loops.append((direction, current))
            current, direction = [], 0
    if current:
        loops.append((direction, current))
    polygons = []
    for direction, loop in loops:
        if len(loop) >= 3:
            starts = [edge[0] for edge in loop]
            polygons.append(np.array(starts if direction > 0 else starts[::-1]))
    return polygons
