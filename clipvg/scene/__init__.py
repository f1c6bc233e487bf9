"""Scene model: packed tensors for the renderer and optimizer, per-path views for users."""
from ..lazy import lazy_attributes
from .paint import (CAPS, JOINS, SPREADS, GradientStops, LinearGradient, Paint, RadialGradient, Solid,
                    Stroke)
from .path import Path, Subpath

# The packed Scene and the group tree hold torch tensors: they load on first use, so the per-path
# view types above (numpy only) can be imported without torch (the vectorizer's SVG path).
__getattr__ = lazy_attributes(__name__, {**dict.fromkeys(("Scene", "concat"), ".scene"), **dict.fromkeys(
    ("ClipPath", "Filter", "FilterPrimitive", "Group", "Mask"), ".tree")}, globals())

__all__ = ["ClipPath", "Filter", "FilterPrimitive", "Group", "Mask", "CAPS", "JOINS", "SPREADS", "GradientStops", "LinearGradient", "Paint", "Path",
           "RadialGradient", "Scene", "Solid", "Stroke", "Subpath", "concat"]
