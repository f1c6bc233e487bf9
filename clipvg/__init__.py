"""clipvg: text-guided editing of pictures in the vector domain (CLIPVG, AAAI 2023).

Public API: ``load_svg``, ``save_svg``, ``render``, ``Scene`` and the per-path view types.
"""
from .errors import BackendUnavailableError, ClipvgError, InvalidInputError, SVGParseError
from .render import render
from .scene import (GradientStops, LinearGradient, Path, RadialGradient, Scene, Solid, Stroke, Subpath,
                    concat)
from .svg import load_svg, save_svg

__all__ = [
    "BackendUnavailableError", "ClipvgError", "GradientStops", "InvalidInputError", "LinearGradient",
    "Path", "RadialGradient", "SVGParseError", "Scene", "Solid", "Stroke", "Subpath", "concat",
    "load_svg", "render", "save_svg",
]
__version__ = "0.1.0"
