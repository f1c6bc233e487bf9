"""Scene model: packed tensors for the renderer and optimizer, per-path views for users."""
from .paint import (CAPS, JOINS, SPREADS, GradientStops, LinearGradient, Paint, RadialGradient, Solid,
                    Stroke)
from .path import Path, Subpath

# The packed Scene and the group tree hold torch tensors: they load on first use, so the per-path
# view types above (numpy only) can be imported without torch (the vectorizer's SVG path).
_LAZY = {**dict.fromkeys(("Scene", "concat"), ".scene"),
         **dict.fromkeys(("ClipPath", "Filter", "FilterPrimitive", "Group", "Mask"), ".tree")}


def __getattr__(name: str):
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = ["ClipPath", "Filter", "FilterPrimitive", "Group", "Mask", "CAPS", "JOINS", "SPREADS", "GradientStops", "LinearGradient", "Paint", "Path",
           "RadialGradient", "Scene", "Solid", "Stroke", "Subpath", "concat"]
