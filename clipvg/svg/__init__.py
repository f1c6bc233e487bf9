"""SVG reading (svgelements) and writing (svgwrite): ``load_svg``, ``save_svg``, ``scene_to_svg_string``.

The names load on first use, so ``clipvg.svg.path_writer`` (the torch-free writer of path lists) can be
imported without the reader and the Scene's torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"UnsupportedSVGWarning": ".document", "load_svg": ".reader", "save_svg": ".writer",
         "scene_to_svg_string": ".writer"}

__all__ = ["UnsupportedSVGWarning", "load_svg", "save_svg", "scene_to_svg_string"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
