"""Torch-free checks of a command's input files (and outpaint's margins), run before the reader, the vectorizer
and the editor load torch (seconds of start-up), so that a broken or oversized input is refused at once.

Each check is the one the full reader runs, on the same code and with the same error: an SVG is read,
parsed as XML within the element-nesting and point-count limits (``clipvg.svg.document.parse_xml``; entity
tricks are refused by expat) and its declared canvas size checked (``check_canvas``); a raster is opened and
decoded by Pillow within the megapixels limit (``vectorize.image_io.load_image``). A declared canvas is
also held to the render size limits (``check_job_inputs``; ``clipvg render`` likewise). What passes here may
still be refused after reading, never the other way round.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .limits import resource_limits
from .svg.document import check_canvas, parse_xml, read_source
from .svg.units import ABSOLUTE, parse_length

if TYPE_CHECKING:
    from .edit.spec import JobSpec

SVG_SUFFIXES = (".svg", ".svgz")
"""File name endings read as SVG; any other input is a raster (PNG, JPEG, ...)."""


def check_input(path: str | os.PathLike) -> tuple[float, float] | None:
    """``check_svg`` for an SVG file name (``SVG_SUFFIXES``; its declared canvas is returned), else
    ``check_raster`` (None)."""
    if Path(path).suffix.lower() in SVG_SUFFIXES:
        return check_svg(path)
    check_raster(path)
    return None


def check_job_inputs(spec: JobSpec) -> None:
    """``check_input`` on an edit job's input file (if it has one) and ``check_raster`` on its region mask;
    ResourceLimitError when an SVG's declared canvas, which the edit renders with gradients, is over the
    job's render size limits or its memory estimate already without paths and CLIP views."""
    if spec.input is not None:
        canvas = check_input(spec.input)
        if canvas is not None:
            spec.limits.check_job(*canvas, 0, 0, 0, f"{spec.input}, edited at its canvas size")
    if spec.subset.mask is not None:
        check_raster(spec.subset.mask)


def check_svg(path: str | os.PathLike) -> tuple[float, float] | None:
    """SVGParseError when the SVG file at ``path`` cannot be read, is not well-formed SVG, nests elements or
    holds path points over the limits, or declares a canvas the reader refuses. Returns the canvas (px) the
    reader will give it, where its width and height declare it (None where the reader finds it elsewhere)."""
    data, name = read_source(path)
    root = parse_xml(data, name)
    width, height = (_declared_size(root.get(axis)) for axis in ("width", "height"))
    if width is None or height is None:
        return None
    check_canvas(width, height, name)
    return width, height


def check_raster(path: str | os.PathLike) -> None:
    """ImageInputError when the image file at ``path`` is missing, cannot be decoded, or is over the
    megapixels limit (the decoded pixels are dropped: the vectorizer reads the file again)."""
    from vectorize.image_io import load_image

    load_image(path)


def check_margins(margins: dict[str, float], prefix: str = "") -> None:
    """ResourceLimitError naming ``prefix + side`` when an outpaint margin (px) exceeds the outpaint_margin limit."""
    limits = resource_limits()
    for side, value in margins.items():
        limits.check("outpaint_margin", value, f"the margin {prefix}{side} in pixels")


def _declared_size(text: str | None) -> float | None:
    """The reader's canvas width or height (px) for the root ``<svg>``'s ``text``: the length in absolute units;
    0.0 for a value that is no length ("nan", "auto": svgelements reads 0); None where the reader's canvas
    comes from elsewhere: a missing or relative size (the viewBox, the content), one at most 0 (the root is
    disabled and the size dropped)."""
    if text is None:
        return None
    parsed = parse_length(text)
    if parsed is None:
        return 0.0
    return parsed[0] * ABSOLUTE[parsed[1]] if parsed[1] in ABSOLUTE and parsed[0] > 0 else None
