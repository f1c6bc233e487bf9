"""A shape's geometry, whichever parser read it: path data set aside from svgelements (``path_data``) is read
with numpy; everything else is svgelements' segments."""
from __future__ import annotations

from svgelements import Path as SVGPath, PathSegment, Shape

from .geometry import Contour, to_contours
from .path_data import SET_ASIDE, PathData, parse_path_data


def _set_aside(shape: Shape) -> tuple[str | None, PathData | None]:
    """``shape``'s path data set aside from svgelements (None: none) and its parse (None: none, or left to
    svgelements)."""
    data = shape.values.get(SET_ASIDE)
    return data, None if data is None else parse_path_data(data)


def shape_contours(shape: Shape) -> list[Contour]:
    """The contours of ``shape`` in its own user space (``geometry.to_contours``)."""
    parsed = _set_aside(shape)[1]
    return parsed.contours if parsed is not None else to_contours(shape_segments(shape))


def _svgelements_shape(shape: Shape, data: str | None) -> Shape:
    """``shape``, or for its set-aside path ``data`` that data parsed by svgelements."""
    return shape if data is None else SVGPath(data)


def shape_segments(shape: Shape) -> list[PathSegment]:
    """svgelements' segments of ``shape`` in its own user space (set-aside path data parsed by svgelements here:
    markers walk segments)."""
    return list(_svgelements_shape(shape, shape.values.get(SET_ASIDE)).segments(transformed=False))


def shape_bbox(shape: Shape) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of ``shape``'s geometry in its own user space, or None (empty, or svgelements fails)."""
    data, parsed = _set_aside(shape)
    if parsed is not None:
        return parsed.bbox()
    try:
        return _svgelements_shape(shape, data).bbox(transformed=False)
    except Exception:  # svgelements fails on some degenerate shapes
        return None
