"""clipvg: text-guided editing of pictures in the vector domain (CLIPVG, AAAI 2023).

Public API: ``load_svg``, ``save_svg``, ``render``, ``Scene`` and the per-path view types, and the
editor: ``edit``, ``Editor``, ``EditResult``. ``clipvg.edit`` is the editor's package and can be
called: ``clipvg.edit(source, prompt=...)`` is ``clipvg.edit.edit(source, prompt=...)``.
"""
from .errors import BackendUnavailableError, ClipvgError, InvalidInputError, SVGParseError
from .render import render
from .scene import (GradientStops, LinearGradient, Path, RadialGradient, Scene, Solid, Stroke, Subpath,
                    concat)
from .svg import load_svg, save_svg
from . import edit  # callable module: clipvg.edit(source, prompt=...) runs an edit
from .edit import EditResult, Editor

__all__ = [
    "BackendUnavailableError", "ClipvgError", "EditResult", "Editor", "GradientStops", "InvalidInputError",
    "LinearGradient", "Path", "RadialGradient", "SVGParseError", "Scene", "Solid", "Stroke", "Subpath",
    "concat", "edit", "load_svg", "render", "save_svg",
]
__version__ = "0.1.0"
