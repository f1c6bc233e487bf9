"""SVG reading (svgelements) and writing (svgwrite): ``load_svg``, ``save_svg``, ``scene_to_svg_string``.

The names load on first use, so ``clipvg.svg.path_writer`` (the torch-free writer of path lists) can be
imported without the reader and the Scene's torch.
"""
from ..lazy import lazy_attributes

__all__ = ["UnsupportedSVGWarning", "load_svg", "save_svg", "scene_to_svg_string"]
__getattr__ = lazy_attributes(__name__, {"UnsupportedSVGWarning": ".document", "load_svg": ".reader",
                                         "save_svg": ".writer", "scene_to_svg_string": ".writer"}, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
