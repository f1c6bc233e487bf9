"""Torch-free checks of a command's input files (and outpaint's margins), run before the reader, the vectorizer
and the editor load torch (seconds of start-up), so that a broken or oversized input is refused at once.

Each check is the one the full reader runs, on the same code and with the same error: an SVG goes through
the reader's torch-free reading phase (``clipvg.svg.reader.read_svg``: the XML within the element-nesting and
point-count limits, entity tricks refused by expat, the canvas size, every shape's coordinates after its
transforms ...); a raster is opened and decoded by Pillow within the megapixels limit
(``vectorize.image_io.load_image``). The SVG's canvas is also held to the limits of an edit, which renders it
with gradients (``check_edit_canvas``: the CLI's editing commands, batch jobs and serve's SVG uploads; ``clipvg
render`` holds it to a render's). What was read is handed on (``JobReads``): the job builds its Scene from the
``ReadSVG`` or vectorizes the ``ReadRaster``'s pixels, builds its region from the mask's pixels, and never reads or
decodes a file again. What passes here may still be refused after reading, never the other way round.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .crossings import check_edit
from .limits import resource_limits, using

if TYPE_CHECKING:
    import numpy as np

    from .edit.spec import JobSpec
    from .svg.reader import ReadSVG

SVG_SUFFIXES = (".svg", ".svgz")
"""File name endings read as SVG; any other input is a raster (PNG, JPEG, ...)."""


@dataclass
class ReadRaster:
    """A raster file decoded by ``check_raster``: its ``name`` and ``pixels``, (H, W, 4) float32 straight RGBA in
    [0, 1] as ``vectorize.image_io.load_image`` returns them (16 bytes a pixel), until ``take`` hands them on."""

    name: str
    pixels: np.ndarray | None

    def take(self) -> np.ndarray:
        """The pixels, no longer held here (a job vectorizes them once and edits for minutes: it should not keep
        the photo alive). Taken twice, the second time decodes the file again."""
        pixels, self.pixels = self.pixels, None
        if pixels is None:
            from vectorize.image_io import load_image

            pixels = load_image(self.name)
        return pixels

    def drop(self) -> None:
        """Let the pixels go unused (a job that continues from its checkpoint)."""
        self.pixels = None


@dataclass
class JobReads:
    """What ``check_job_inputs`` read of an edit job's files: its ``input`` (an SVG read or a photo decoded; None
    when the job has no input file) and its region ``mask`` decoded (None when it has none). Hand it to the job
    (``clipvg.edit.job.run_job``'s ``read``): it builds its Scene and its region from them."""

    input: ReadSVG | ReadRaster | None = None
    mask: ReadRaster | None = None

    def drop(self) -> None:
        """Let the decoded pixels go unused (a job that continues from its checkpoint, which holds its scene and
        the paths its region touches)."""
        for read in (self.input, self.mask):
            if isinstance(read, ReadRaster):
                read.drop()


def check_input(path: str | os.PathLike) -> ReadSVG | ReadRaster:
    """``check_svg`` for an SVG file name (``SVG_SUFFIXES``), else ``check_raster``; returns what it read."""
    if Path(path).suffix.lower() in SVG_SUFFIXES:
        return check_svg(path)
    return check_raster(path)


def check_job_inputs(spec: JobSpec) -> JobReads:
    """``check_input`` on an edit job's input file (if it has one) and ``check_raster`` on its region mask, under
    the job's limits (the reader's too, as when the job reads), an SVG's canvas by ``check_edit_canvas``. Returns
    what was read (``JobReads``): hand it to the job (``clipvg.edit.job.run_job``'s ``read``), which then builds
    its Scene (an SVG's, or a raster's pixels vectorized) and its region mask without reading a file again."""
    with using(spec.limits):
        read = None if spec.input is None else check_input(spec.input)
        if read is not None and not isinstance(read, ReadRaster):
            check_edit_canvas(read, f"{spec.input}, edited at its canvas size")
        mask = None if spec.subset.mask is None else check_raster(spec.subset.mask)
    return JobReads(read, mask)


def check_edit_canvas(read: ReadSVG, what: str) -> None:
    """ResourceLimitError naming ``what`` when the canvas of the SVG ``read``, which an edit renders with
    gradients, is over the render size limits in force or over their memory estimate already without paths and
    CLIP views (its edges' pieces beyond the pixels counted: ``clipvg.crossings``)."""
    check_edit(resource_limits(), read, 0, 0, 0, what)


def check_svg(path: str | os.PathLike) -> ReadSVG:
    """What the reader refuses in the SVG file at ``path`` (SVGParseError: it cannot be read, is not well-formed
    SVG, nests elements or holds path points over the limits, declares a canvas the reader refuses, has a
    coordinate out of range ...), refused by the reader's own torch-free reading phase. Returns what it read
    (``ReadSVG.to_scene`` makes the Scene without reading the file again)."""
    from .svg.reader import read_svg

    return read_svg(path)


def check_raster(path: str | os.PathLike) -> ReadRaster:
    """ImageInputError when the image file at ``path`` is missing, cannot be decoded, or is over the
    megapixels limit; else its decoded pixels (``ReadRaster``: hand them to the vectorizer rather than the file)."""
    from vectorize.image_io import load_image

    return ReadRaster(os.fspath(path), load_image(path))


def check_margins(margins: dict[str, float], prefix: str = "") -> None:
    """ResourceLimitError naming ``prefix + side`` when an outpaint margin (px) exceeds the outpaint_margin limit."""
    limits = resource_limits()
    for side, value in margins.items():
        limits.check("outpaint_margin", value, f"the margin {prefix}{side} in pixels")
