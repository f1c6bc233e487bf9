"""SVG reading (svgelements) and writing (svgwrite): ``load_svg``, ``save_svg``, ``scene_to_svg_string``."""
from .document import UnsupportedSVGWarning
from .reader import load_svg
from .writer import save_svg, scene_to_svg_string

__all__ = ["UnsupportedSVGWarning", "load_svg", "save_svg", "scene_to_svg_string"]
