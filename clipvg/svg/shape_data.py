"""A shape's geometry, whichever parser read it: path data set aside from svgelements (``path_data``) is read
with numpy; everything else is svgelements' segments."""
from __future__ import annotations

from svgelements import Path as SVGPath, PathSegment, Shape

from .geometry import Contour, to_contours
from .path_data import SET_ASIDE, parse_path_data


def shape_contours(shape: Shape) -> list[Contour]:
    """The contours of ``shape`` in its own user space (``geometry.to_contours``)."""
    data = shape.values.get(SET_ASIDE)
    parsed = None if data is None else parse_path_data(data)
    return parsed.contours if parsed is not None else to_contours(shape_segments(shape))


def shape_segments(shape: Shape) -> list[PathSegment]:
    """svgelements' segments of ``shape`` in its own user space (set-aside path data parsed by svgelements here:
    markers and text paths walk segments)."""
    data = shape.values.get(SET_ASIDE)
    return list((shape if data is None else SVGPath(data)).segments(transformed=False))


def shape_bbox(shape: Shape) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of ``shape``'s geometry in its own user space, or None (empty, or svgelements fails)."""
    data = shape.values.get(SET_ASIDE)
    parsed = None if data is None else parse_path_data(data)
    if parsed is not None:
        return parsed.bbox()
    try:
        return (shape if data is None else SVGPath(data)).bbox(transformed=False)
    except Exception:  # svgelements fails on some degenerate shapes
        return None
