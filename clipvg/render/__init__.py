"""Differentiable rendering of a Scene to an (H, W, 4) straight-RGBA float image.

The package is callable: ``clipvg.render(scene, ...)`` is ``clipvg.render.render(scene, ...)``.
Beside drawing, the renderer's geometry is public for the editor, inpainting and the SVG reader:
``path_outlines`` (flattened outlines), ``pixels_covered`` (pixels each path covers) and
``stroke_outline`` (a stroke as closed loops).
"""
from ..callable_module import make_callable
from .api import WHITE, path_outlines, pixels_covered, render, render_on_white
from .outline import stroke_outline

__all__ = ["WHITE", "path_outlines", "pixels_covered", "render", "render_on_white", "stroke_outline"]


make_callable(__name__, "render")
