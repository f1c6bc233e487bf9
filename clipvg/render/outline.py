"""A stroke's outline as closed polygons (the pieces the renderer fills with nonzero to draw it)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from ..limits import MAX_COORDINATE
from ..scene import Path, Scene, Solid, Stroke, Subpath


def stroke_outline(subpaths: list[Subpath], stroke: Stroke) -> list[np.ndarray]:
    """Closed loops (each (K, 2) float64, in the subpaths' own coordinates) that, filled together with
    nonzero, draw the stroke of ``subpaths`` with ``stroke`` (flattened as the renderer flattens at scale 1;
    where a curve folds, some loops run the other way and take area away, as in the browsers' outline)."""
    from .torch_backend import draw_items

    if not all((np.abs(s.points) <= MAX_COORDINATE).all() for s in subpaths):
        return []  # NaN or absurdly far: nothing drawable (the reader refuses such shapes with its own error)
    scene = Scene.from_paths([Path(subpaths, stroke=Stroke(Solid((0.0, 0.0, 0.0, 1.0)), stroke.width, stroke.cap,
                                                           stroke.join, stroke.miter_limit, stroke.dashes,
                                                           stroke.dash_offset))], 1.0, 1.0, device="cpu")
    with torch.no_grad():
        edges, items = draw_items(scene, torch.ones(2))
    return _loops(edges[items == 1].double().numpy().reshape(-1, 4).tolist())


def _loops(edges: list[list[float]]) -> list[np.ndarray]:
    """Closed loops (each (K, 2)) of an edge soup ``edges`` (x0, y0, x1, y1) in which every point is
    left as often as it is reached: from each unused edge, follow unused edges, each starting where the
    last ended, until the walk is back at its start."""
    leaving: dict[tuple[float, float], list[int]] = defaultdict(list)
    for k, (x0, y0, _, _) in enumerate(edges):
        leaving[(x0, y0)].append(k)
    used = [False] * len(edges)
    polygons = []
    for first in range(len(edges)):
        start, points, k = (edges[first][0], edges[first][1]), [], first
        while k is not None and not used[k]:
            used[k] = True
            x0, y0, x1, y1 = edges[k]
            points.append((x0, y0))
            k = None if (x1, y1) == start else next((m for m in leaving[(x1, y1)] if not used[m]), None)
        if len(points) >= 3:
            polygons.append(np.array(points))
    return polygons
